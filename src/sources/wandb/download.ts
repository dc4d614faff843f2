import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { NetworkError, SourceDataError, isAbortError, AbortedError } from '../../core/errors.ts';
import type { HttpClient } from '../../http/client.ts';
import { backoffDelayMs } from '../../http/retry-policy.ts';
import { sleep } from '../../http/sleep.ts';

export interface DownloadOptions {
  http: HttpClient;
  url: string;
  /** Only what the caller decided this URL may get (never the key on storage URLs). */
  headers?: Record<string, string>;
  dir: string;
  /** File name inside `dir` (sanitised by the caller). */
  fileName: string;
  expectedSize?: number;
  /** Base64 MD5 to verify, where known. */
  md5?: string;
  what: string;
  signal?: AbortSignal;
  /** Whole-download attempts when the bytes come back short or wrong. @default 5 */
  attempts?: number;
}

export interface Downloaded {
  path: string;
  sizeBytes: number;
  md5: string;
}

/**
 * Streams a download to disk (never into memory), hashing on the way, and checks size and MD5. A body
 * that breaks off, or arrives short or different, is fetched again from the start: HttpClient retries
 * only up to the response headers, a body cut mid-way is ours to repeat.
 */
export async function downloadToFile(o: DownloadOptions): Promise<Downloaded> {
  const path = join(o.dir, o.fileName);
  const attempts = o.attempts ?? 5;
  let lastProblem = '';
  for (let attempt = 1; attempt <= attempts; attempt++) {
    if (o.signal?.aborted) throw new AbortedError(`${o.what}: aborted`);
    try {
      const res = await o.http.stream({ method: 'GET', url: o.url, headers: o.headers, signal: o.signal, what: o.what });
      const hash = createHash('md5');
      let size = 0;
      const counter = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          hash.update(chunk);
          size += chunk.length;
          cb(null, chunk);
        },
      });
      await pipeline(res.body, counter, createWriteStream(path), { signal: o.signal });
      const md5 = hash.digest('base64');
      if (o.expectedSize !== undefined && size !== o.expectedSize) {
        lastProblem = `got ${size} bytes, expected ${o.expectedSize}`;
      } else if (o.md5 && normaliseMd5(o.md5) !== md5) {
        lastProblem = `MD5 ${md5} does not match the listed ${o.md5}`;
      } else {
        return { path, sizeBytes: size, md5 };
      }
    } catch (error) {
      if (isAbortError(error) || o.signal?.aborted) throw new AbortedError(`${o.what}: aborted`);
      // HttpErrors (4xx, or 5xx after the client's own retries) are final.
      if (!(error instanceof NetworkError) && !isTransportError(error)) throw error;
      lastProblem = error instanceof Error ? error.message : String(error);
    }
    if (attempt < attempts) await sleep(backoffDelayMs(attempt, { baseDelayMs: 200, maxDelayMs: 5_000 }), o.signal);
  }
  await rm(path, { force: true });
  throw new SourceDataError(`${o.what}: download failed after ${attempts} attempts: ${lastProblem}`);
}

function isTransportError(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  const code = (e as { code?: string }).code ?? '';
  return code.startsWith('UND_ERR') || ['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNREFUSED', 'ERR_STREAM_PREMATURE_CLOSE'].includes(code) || e.name === 'SocketError';
}

/** W&B lists MD5 as base64; accept hex too, as some self-hosted storage reports it. */
function normaliseMd5(v: string): string {
  return /^[0-9a-f]{32}$/i.test(v) ? Buffer.from(v, 'hex').toString('base64') : v;
}

/** A private temporary folder; `remove` deletes it and everything in it. */
export async function makeTempDir(parent: string, prefix: string): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(parent, `${prefix}-`));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** A file name safe for a flat temp folder, whatever the run file's path holds (`../`, `/`). */
export function safeTempName(name: string): string {
  const base = name.replace(/[^A-Za-z0-9._-]+/g, '_').slice(-120);
  return `${randomBytes(4).toString('hex')}-${base || 'file'}`;
}

export async function fileSize(path: string): Promise<number> {
  return (await stat(path)).size;
}
