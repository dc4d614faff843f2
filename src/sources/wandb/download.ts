import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { HttpError, NetworkError, SourceDataError, isAbortError, AbortedError } from '../../core/errors.ts';
import type { HttpClient } from '../../http/client.ts';
import { backoffDelayMs } from '../../http/retry-policy.ts';
import { sleep } from '../../http/sleep.ts';

/** Which client fetches a URL, and with which headers (the W&B key only on the API host). */
export interface Route {
  http: HttpClient;
  headers: Record<string, string>;
}

export interface DownloadOptions {
  url: string;
  /**
   * Decided afresh for every URL of the chain, redirects included, so a redirect to storage never
   * carries what the first hop had (the SDK: requests `rebuild_auth` drops Authorization on another
   * host; wandb-core attaches credentials only under the base URL, wandb-api.md §1.3).
   */
  route: (url: string) => Route;
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
  /** Base64 MD5 of the bytes, computed when there was one to check them against (`md5`). */
  md5?: string;
}

const REDIRECTS: readonly number[] = [301, 302, 303, 307, 308];
const MAX_REDIRECTS = 5;
/** What storage answers for a signed URL that expired or no longer verifies (S3 403, GCS 400; the SDK also treats 401 so). */
const REFUSED: readonly number[] = [400, 401, 403];

/**
 * A signed URL (one that carried no W&B credentials) was refused: it expired or no longer verifies.
 * The caller asks W&B for a fresh one (wandb/sdk/artifacts/storage_policies/_multipart.py
 * `_download_chunk_with_refresh` refetches the URL on 401/403 from storage).
 */
export class SignedUrlRefusedError extends SourceDataError {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** Opens the body of `url`, following redirects (each hop routed on its own). */
async function openFollowing(o: DownloadOptions): Promise<Readable> {
  let url = o.url;
  for (let hop = 0; ; hop++) {
    const route = o.route(url);
    let res;
    try {
      res = await route.http.stream({ method: 'GET', url, headers: route.headers, signal: o.signal, what: o.what, acceptStatus: REDIRECTS });
    } catch (error) {
      if (error instanceof HttpError && REFUSED.includes(error.status) && !('authorization' in lowerKeys(route.headers))) {
        throw new SignedUrlRefusedError(error.status, `${o.what}: storage refused the signed URL (HTTP ${error.status}): ${error.message}`);
      }
      throw error;
    }
    if (!REDIRECTS.includes(res.status)) return res.body;
    res.body.resume();
    const location = res.headers.location;
    const target = Array.isArray(location) ? location[0] : location;
    if (!target) throw new SourceDataError(`${o.what}: HTTP ${res.status} without a Location`);
    if (hop >= MAX_REDIRECTS) throw new SourceDataError(`${o.what}: more than ${MAX_REDIRECTS} redirects`);
    url = new URL(target, url).href;
  }
}

function lowerKeys(h: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
}

/**
 * Streams a download to disk (never into memory), hashing on the way where an MD5 is given, and checks
 * size and MD5 (a history export has neither listed: hashing its ~10 bytes a point cost ~0.015 CPU-s per
 * million points for nothing). A body
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
      const body = await openFollowing(o);
      const hash = o.md5 ? createHash('md5') : undefined;
      let size = 0;
      const counter = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          hash?.update(chunk);
          size += chunk.length;
          cb(null, chunk);
        },
      });
      await pipeline(body, counter, createWriteStream(path), { signal: o.signal });
      const md5 = hash?.digest('base64');
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
