import { afterEach, describe, expect, it } from 'vitest';
import { startNeptuneEmulator } from '../neptune/server.ts';
import type { NeptuneEmulator } from '../neptune/types.ts';
import type { ProtocolBFaults, ProtocolBOptions } from './types.ts';
import { bSession, codes, PROJECT } from './test-session.ts';
import { encodeCreate, encodeRequestIds, encodeUpdate } from './test-wire.ts';

let emu: NeptuneEmulator;
afterEach(async () => emu.close());

/** Faults are switched on after the run exists, so they hit the request under test. */
async function start(protocolB: ProtocolBOptions = {}, faults?: ProtocolBFaults) {
  emu = await startNeptuneEmulator({ protocolB: { statusDelayMs: 0, ...protocolB } });
  const b = await bSession(emu);
  await b.ingestProcessed(encodeCreate(PROJECT, 'r1', {}, true));
  emu.b.setFaults(faults);
  const post = (body: Uint8Array) => b.proto('/api/client/v1/ingest', body);
  return { b, post };
}

const point = (step: number) => encodeUpdate(PROJECT, 'r1', [{ step, timestamp: step, append: { m: { float: step } } }]);

describe('Protocol B faults and HTTP-level refusals (neptune-api.md §3.5, §3.8)', () => {
  it('413 over the request size limit; 400 for a snapshot over 2 MiB; nothing is queued', async () => {
    const { post } = await start({ maxRequestBytes: 4096 });
    const big = encodeUpdate(PROJECT, 'r1', [{ assign: { s: { string: 'x'.repeat(5000) } } }]);
    expect((await post(big)).status).toBe(413);
    expect(emu.b.stats().ingestRequests).toBe(1); // only the CreateRun
  });

  it('a snapshot over 2 MiB is a 400', async () => {
    const { post } = await start();
    const r = await post(encodeUpdate(PROJECT, 'r1', [{ assign: { s: { string: 'x'.repeat(2 * 1024 * 1024) } } }]));
    expect(r.status).toBe(400);
    expect(r.json.message).toContain('2097152');
  });

  it('a body that is not a RunOperation is a 400; no token is a 401', async () => {
    const { b, post } = await start();
    expect((await post(new Uint8Array([0x0a, 0xff, 0x01]))).status).toBe(400);
    const anon = await b.call(`${emu.url}/api/client/v1/ingest`, { method: 'POST', raw: Buffer.from(point(1)) });
    expect(anon.status).toBe(401);
  });

  it('429 with Retry-After, then 5xx, then success; only the accepted request is applied', async () => {
    const { b, post } = await start({}, { force429: { count: 1, retryAfterSeconds: 7 }, force5xx: { count: 1, status: 500 }, only: 'ingest' });
    const first = await post(point(1));
    expect(first.status).toBe(500);
    const second = await post(point(1));
    expect(second.status).toBe(429);
    expect(second.headers.get('retry-after')).toBe('7');
    const id = await b.ingest(point(1));
    expect(codes((await b.check([id]))[0])).toEqual({ 0: 1 });
    expect(emu.b.inspect.floatSeries(PROJECT, 'r1', 'm').map((p) => p.value)).toEqual([1]);
  });

  it('a connection reset gives no answer and applies nothing; a retried identical body lands once', async () => {
    const { b, post } = await start({}, { resetConnections: { count: 1 } });
    await expect(post(point(1))).rejects.toThrow();
    expect(emu.b.stats().ingestRequests).toBe(1);
    const id1 = await b.ingest(point(1));
    const id2 = await b.ingest(point(1)); // a client that retried after a lost answer
    const s = await b.check([id1, id2]);
    expect(s.map(codes)).toEqual([{ 0: 1 }, { 24: 1 }]);
    expect(emu.b.inspect.floatSeries(PROJECT, 'r1', 'm')).toHaveLength(1);
  });

  it('faults scoped to the status check leave ingest alone', async () => {
    const { b } = await start({}, { force5xx: { count: 1 }, only: 'check' });
    const id = await b.ingest(point(1));
    const r = await b.proto('/api/client/v1/ingest/check', encodeRequestIds([id]), { projectIdentifier: PROJECT });
    expect(r.status).toBe(503);
    expect(codes((await b.check([id]))[0])).toEqual({ 0: 1 });
  });
});
