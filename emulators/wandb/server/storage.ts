/**
 * Signed, expiring storage URLs (like presigned GCS/S3 URLs) and the byte-exact body sender they
 * share with `/files`: HEAD, `Range: bytes=a-b`, throttling and truncation faults.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

export class UrlSigner {
  constructor(private readonly secret: Buffer, private readonly ttlSeconds: number, private readonly now: () => number) {}

  private mac(path: string, exp: string): string {
    return createHmac('sha256', this.secret).update(`${path}\n${exp}`).digest('base64url');
  }

  /**
   * `path?exp=<unix seconds>&sig=<hmac>`; the path must already be URL-encoded. `stale` signs a URL
   * that has already expired, as one handed out longer ago than its lifetime.
   */
  sign(path: string, stale = false): string {
    const exp = String(Math.floor(this.now() / 1000) + (stale ? -1 : this.ttlSeconds));
    return `${path}?exp=${exp}&sig=${this.mac(path, exp)}`;
  }

  verify(path: string, exp: string | null, sig: string | null): 'ok' | 'expired' | 'bad' {
    if (!exp || !sig || !/^\d+$/.test(exp)) return 'bad';
    const want = Buffer.from(this.mac(path, exp));
    const got = Buffer.from(sig);
    if (want.length !== got.length || !timingSafeEqual(want, got)) return 'bad';
    return this.now() / 1000 >= Number(exp) ? 'expired' : 'ok';
  }
}

export interface BodySource {
  size: number;
  /** Bytes [start, end) of the body. */
  read(start: number, end: number): AsyncIterable<Buffer> | Iterable<Buffer>;
  contentType: string;
}

export function diskSource(path: string, size: number): BodySource {
  return {
    size,
    contentType: 'application/vnd.apache.parquet',
    read: (start, end) => (end > start ? createReadStream(path, { start, end: end - 1, highWaterMark: 65536 }) : []),
  };
}

export function chunkSource(size: number, contentType: string, content: () => Buffer | Iterable<Buffer>): BodySource {
  return {
    size,
    contentType,
    read: function* (start, end) {
      const c = content();
      let pos = 0;
      for (const b of Buffer.isBuffer(c) ? [c] : c) {
        const s = Math.max(start - pos, 0);
        const e = Math.min(end - pos, b.length);
        if (e > s) yield b.subarray(s, e);
        pos += b.length;
        if (pos >= end) return;
      }
    },
  };
}

function parseRange(h: string | undefined, size: number): [number, number] | 'invalid' | undefined {
  if (!h) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(h.trim());
  if (!m || (m[1] === '' && m[2] === '')) return 'invalid';
  let start: number, end: number;
  if (m[1] === '') {
    start = Math.max(0, size - Number(m[2]));
    end = size;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size : Math.min(size, Number(m[2]) + 1);
  }
  return start >= size || end <= start ? 'invalid' : [start, end];
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

export interface SendOptions {
  bytesPerSecond?: number;
  truncate: boolean;
}

/**
 * Sends a body honouring HEAD and Range; a truncation fault sends about half and destroys the socket.
 * Resolves `false` when the client went away before the last byte (a download it cancelled).
 */
export async function sendBody(req: IncomingMessage, res: ServerResponse, src: BodySource, opts: SendOptions): Promise<boolean> {
  const range = parseRange(req.headers.range, src.size);
  if (range === 'invalid') {
    res.writeHead(416, { 'Content-Range': `bytes */${src.size}` }).end();
    return true;
  }
  const [start, end] = range ?? [0, src.size];
  const headers: Record<string, string> = {
    'Content-Type': src.contentType, 'Content-Length': String(end - start), 'Accept-Ranges': 'bytes',
  };
  if (range) headers['Content-Range'] = `bytes ${start}-${end - 1}/${src.size}`;
  res.writeHead(range ? 206 : 200, headers);
  if (req.method === 'HEAD') {
    res.end();
    return true;
  }
  const cutAt = opts.truncate ? start + Math.floor((end - start) / 2) : end;
  const began = Date.now();
  let sent = 0;
  for await (const chunk of src.read(start, cutAt)) {
    for (let off = 0; off < chunk.length; off += 16384) {
      if (res.destroyed) return false;
      const piece = chunk.subarray(off, off + 16384);
      sent += piece.length;
      // A throttled piece goes when its bytes are due at the given rate, the first one too: a small
      // file is slow as a whole, not sent at once with only its end held back.
      if (opts.bytesPerSecond) {
        const due = began + (sent / opts.bytesPerSecond) * 1000;
        const wait = due - Date.now();
        if (wait > 0) await sleep(wait);
      }
      if (!res.write(piece)) await drained(res);
    }
  }
  if (opts.truncate) {
    // Content-Length promised more than was sent: flush what we have, then break the connection
    await new Promise<void>((r) => res.write('', () => r()));
    res.socket?.destroy();
    res.destroy();
    return true;
  }
  res.end();
  return true;
}
