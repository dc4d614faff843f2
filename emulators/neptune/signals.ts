/**
 * The run signals channel: neptune-client 1.x opens a WebSocket to
 * `ws(s)://<api>/api/notifications/v1/runs/{projectId}/{runId}/signal` with `Authorization: Bearer`
 * (hosted_neptune_backend.py `websockets_factory`, common/websockets/websocket_client_adapter.py) and
 * waits for `{"type": "neptune/stop" | "neptune/abort"}` messages
 * (internal/websockets/websocket_signals_background_job.py). This emulator never has a pending signal:
 * it accepts the handshake (RFC 6455), answers pings and closes, and sends nothing else.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Auth } from './auth.ts';
import { HttpError } from './http-util.ts';
import { findContainer, type Db } from './store.ts';

export const SIGNAL_PATH = /^\/api\/notifications\/v1\/runs\/([^/]+)\/([^/]+)\/signal\/?$/;
const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

function refuse(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/** One unmasked server frame (payloads here are small: close and pong bodies). */
function frame(opcode: number, payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from([0x80 | opcode, payload.length]), payload]);
}

export class Signals {
  private readonly open = new Set<Duplex>();

  constructor(private readonly db: () => Db, private readonly auth: () => Auth) {}

  /** Handles a server 'upgrade' event; returns false when the path is not the signals channel. */
  upgrade(req: IncomingMessage, socket: Duplex, accepted: () => void = () => {}): boolean {
    const m = SIGNAL_PATH.exec(new URL(req.url ?? '/', 'http://emulator').pathname);
    if (!m) return false;
    try {
      this.auth().verifyBearer(req.headers.authorization);
    } catch {
      refuse(socket, 401, 'Unauthorized');
      return true;
    }
    const run = findContainer(this.db(), decodeURIComponent(m[2]));
    if (!run || run.project_id !== decodeURIComponent(m[1])) { refuse(socket, 404, 'Not Found'); return true; }
    const key = req.headers['sec-websocket-key'];
    if (typeof key !== 'string' || (req.headers.upgrade ?? '').toLowerCase() !== 'websocket') { refuse(socket, 400, 'Bad Request'); return true; }
    const accept = createHash('sha1').update(key + WS_GUID).digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    this.open.add(socket);
    accepted();
    socket.on('close', () => this.open.delete(socket));
    socket.on('error', () => socket.destroy());
    let buf = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        const f = readFrame(buf);
        if (!f) break;
        buf = buf.subarray(f.size);
        if (f.opcode === 0x8) { socket.end(frame(0x8, f.payload.subarray(0, 2))); return; }
        if (f.opcode === 0x9) socket.write(frame(0xa, f.payload.subarray(0, 125)));
      }
    });
    return true;
  }

  closeAll(): void {
    for (const s of this.open) s.destroy();
    this.open.clear();
  }
}

/** Reads one client frame (masked, RFC 6455 §5.2); undefined until it is complete. */
function readFrame(b: Buffer): { opcode: number; payload: Buffer; size: number } | undefined {
  if (b.length < 2) return undefined;
  const opcode = b[0] & 0x0f;
  const masked = (b[1] & 0x80) !== 0;
  let len = b[1] & 0x7f;
  let at = 2;
  if (len === 126) { if (b.length < 4) return undefined; len = b.readUInt16BE(2); at = 4; }
  else if (len === 127) { if (b.length < 10) return undefined; len = Number(b.readBigUInt64BE(2)); at = 10; }
  const maskAt = at;
  if (masked) at += 4;
  if (b.length < at + len) return undefined;
  const payload = Buffer.from(b.subarray(at, at + len));
  if (masked) for (let i = 0; i < payload.length; i++) payload[i] ^= b[maskAt + (i % 4)];
  return { opcode, payload, size: at + len };
}

/** A plain GET on the channel: what Spring's AbstractHandshakeHandler answers a non-upgrade request. */
export function notAnUpgrade(): never {
  throw new HttpError(400, 'Can "Upgrade" only to "WebSocket".');
}
