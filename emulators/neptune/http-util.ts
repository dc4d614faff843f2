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
export async function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > max) throw new HttpError(413, `Request body exceeds ${max} bytes`);
    chunks.push(b);
  }
  const raw = Buffer.concat(chunks);
  if ((req.headers['content-encoding'] ?? '').toLowerCase() === 'gzip') {
    try {
      return gunzipSync(raw, { maxOutputLength: max });
    } catch {
      throw new HttpError(400, 'Body is not valid gzip or is too large once inflated');
    }
  }
  return raw;
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
