/** Small HTTP helpers shared by the emulator's handlers. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { gunzipSync } from 'node:zlib';

/**
 * An error answered as JSON in the backend swagger's `Error{code, message, errorType}` shape,
 * plus any extra fields the Python client reads (`title`, `limit`, `validationErrors`, ...).
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
  body(): Record<string, unknown> {
    return { code: this.status, message: this.message, ...this.extra };
  }
}

/**
 * An error whose body is plain text, not the JSON `Error` model: the 3.x backend answers an unknown
 * workspace on createProject this way (neptune-client-scale 0.29.0 `net/projects.py` matches
 * `ORGANIZATION_NOT_FOUND_RE` against `response.text`, "as this is what the backend returns").
 */
export class HttpTextError extends HttpError {}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function sendBytes(res: ServerResponse, data: Buffer, filename: string, contentType = 'application/octet-stream'): void {
  res.writeHead(200, {
    'content-type': contentType,
    'content-length': data.length,
    // The Python client names downloads after this header when no destination is given.
    'content-disposition': `attachment; filename="${filename.replace(/"/g, '')}"`,
  });
  res.end(data);
}

/** Reads the whole body, refusing more than `max` bytes (413) and undoing `Content-Encoding: gzip`. */
/** The request body (413 over `max`, gzip inflated); with `pool`, in one of its buffers, to be given back. */
export async function readBody(req: IncomingMessage, max: number, pool?: BodyPool): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > max) throw new HttpError(413, `Request body exceeds ${max} bytes`);
    chunks.push(b);
  }
  const raw = pool ? pool.fill(chunks, size) : Buffer.concat(chunks);
  if ((req.headers['content-encoding'] ?? '').toLowerCase() === 'gzip') {
    try {
      return gunzipSync(raw, { maxOutputLength: max });
    } catch {
      throw new HttpError(400, 'Body is not valid gzip or is too large once inflated');
    } finally {
      pool?.giveBack(raw);
    }
  }
  return raw;
}

/**
 * Buffers request bodies are read into and given back once used (Protocol B's ingest takes ~0.7 MB a
 * request: a new buffer each time cost page faults and garbage collections, issue 10 "Fast"). Each
 * body has a buffer of its own until given back, also while several requests are read at once.
 */
export class BodyPool {
  private readonly free: Buffer[] = [];
  private readonly lent = new Map<ArrayBufferLike, Buffer>();

  fill(chunks: Buffer[], size: number): Buffer {
    const i = this.free.findIndex((b) => b.length >= size);
    // allocUnsafeSlow: a buffer of its own (not a slice of Node's shared pool), found again by its ArrayBuffer.
    const buf = i >= 0 ? this.free.splice(i, 1)[0] : Buffer.allocUnsafeSlow(Math.max(size, 64 * 1024));
    let at = 0;
    for (const c of chunks) at += c.copy(buf, at);
    this.lent.set(buf.buffer, buf);
    return buf.subarray(0, size);
  }

  /** Gives a body back: its bytes may then be overwritten by another body. */
  giveBack(body: Buffer): void {
    const buf = this.lent.get(body.buffer);
    if (!buf) return;
    this.lent.delete(body.buffer);
    this.free.push(buf);
    if (this.free.length > 4) this.free.sort((a, b) => b.length - a.length).pop();
  }
}

/** Parses a JSON body; a parse failure is the client's fault (400). Returns `unknown` on purpose. */
export function parseJson(buf: Buffer): unknown {
  if (buf.length === 0) return undefined;
  try {
    return JSON.parse(buf.toString('utf8')) as unknown;
  } catch {
    throw new HttpError(400, 'Request body is not valid JSON');
  }
}

export function requireParam(q: URLSearchParams, ...names: string[]): string {
  for (const n of names) {
    const v = q.get(n);
    if (v !== null && v !== '') return v;
  }
  throw new HttpError(400, `Missing required query parameter '${names[0]}'`);
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
