/**
 * The run signals WebSocket the official 1.x client opens for every run: accepted (RFC 6455
 * handshake) with a bearer token, nothing pending (the first frame back is the pong to our ping),
 * closed on request; refused without a token or for an unknown run; a plain GET is Spring's 400.
 */
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import type { Duplex } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNeptuneEmulator } from './index.ts';
import type { NeptuneEmulator } from './types.ts';
import { session } from './test-client.ts';

let emu: NeptuneEmulator;
let s: Awaited<ReturnType<typeof session>>;
let projectId: string;
let runId: string;
beforeAll(async () => {
  emu = await startNeptuneEmulator();
  s = await session(emu);
  projectId = (await s.createProject('signals')).id;
  runId = (await s.createRun(projectId, 'sig')).id;
});
afterAll(async () => { await emu.close(); });

function open(path: string, token?: string): Promise<{ status: number; accept?: string; socket?: Duplex; key: string }> {
  const key = randomBytes(16).toString('base64');
  return new Promise((resolve, reject) => {
    const req = request(`${emu.url}${path}`, {
      headers: {
        connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': key,
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
    });
    req.on('upgrade', (res, socket) => resolve({ status: res.statusCode ?? 0, accept: res.headers['sec-websocket-accept'] as string, socket, key }));
    req.on('response', (res) => { res.resume(); resolve({ status: res.statusCode ?? 0, key }); });
    req.on('error', reject);
    req.end();
  });
}

/** A masked client frame. */
function clientFrame(opcode: number, payload: Buffer): Buffer {
  const mask = randomBytes(4);
  const body = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]));
  return Buffer.concat([Buffer.from([0x80 | opcode, 0x80 | payload.length]), mask, body]);
}

function nextFrame(socket: Duplex): Promise<{ opcode: number; payload: Buffer }> {
  return new Promise((resolve) => {
    socket.once('data', (b: Buffer) => resolve({ opcode: b[0] & 0x0f, payload: b.subarray(2, 2 + (b[1] & 0x7f)) }));
  });
}

describe('signals channel', () => {
  it('handshake, no pending signal, ping → pong, close → close', async () => {
    const path = `/api/notifications/v1/runs/${projectId}/${runId}/signal`;
    const ws = await open(path, s.accessToken);
    expect(ws.status).toBe(101);
    expect(emu.stats().signalChannels).toBe(1);
    expect(ws.accept).toBe(createHash('sha1').update(`${ws.key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64'));
    const socket = ws.socket!;
    ws.socket!.write(clientFrame(0x9, Buffer.from('hb')));
    // The first frame the server sends is the pong: nothing was waiting for the client.
    expect(await nextFrame(socket)).toEqual({ opcode: 0xa, payload: Buffer.from('hb') });
    const closeBody = Buffer.from([0x03, 0xe8]);
    socket.write(clientFrame(0x8, closeBody));
    expect(await nextFrame(socket)).toEqual({ opcode: 0x8, payload: closeBody });
    socket.destroy();
  });

  it('no token → 401; unknown run → 404; plain GET → 400', async () => {
    expect((await open(`/api/notifications/v1/runs/${projectId}/${runId}/signal`)).status).toBe(401);
    expect((await open(`/api/notifications/v1/runs/${projectId}/00000000-0000-4000-8000-000000000000/signal`, s.accessToken)).status).toBe(404);
    const plain = await s.api(`/api/notifications/v1/runs/${projectId}/${runId}/signal`);
    expect(plain.status).toBe(400);
    expect(plain.json.message).toBe('Can "Upgrade" only to "WebSocket".');
  });
});
