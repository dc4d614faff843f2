import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import type { Readable } from 'node:stream';
import { HttpError, TargetError } from '../../core/errors.ts';
import type { FileSetEntry, Omission } from '../../core/target.ts';
import type { MultipartSettings } from './config.ts';
import type { WriterContext } from './context.ts';
import type { OperationFailure } from './operations.ts';
import { packFileSet } from './packing.ts';
import { fileSetHolds } from './resume.ts';
import { tarGzBuffer } from './tar.ts';

const LB = '/api/leaderboard/v1/attributes';
const STREAM_MISMATCH = 'Length of stream does not match given range';

/** Upload answers come as `null`, `{errorDescription}` or `{errors: OperationError[]}`. */
export function uploadErrors(body: Buffer, path: string): OperationFailure[] {
  const text = body.toString('utf8').trim();
  if (!text || text === 'null') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return [];
  }
  if (typeof parsed !== 'object' || parsed === null) return [];
  const o = parsed as { errorDescription?: unknown; errorType?: unknown; errors?: unknown };
  if (typeof o.errorDescription === 'string') return [{ path, errorType: String(o.errorType ?? 'upload'), description: o.errorDescription }];
  if (!Array.isArray(o.errors)) return [];
  return o.errors.map((e: { errorType?: unknown; errorDescription?: unknown }) => ({
    path,
    errorType: typeof e?.errorType === 'string' ? e.errorType : 'upload',
    description: typeof e?.errorDescription === 'string' ? e.errorDescription : JSON.stringify(e),
  }));
}

/** Chunk size as the client picks it: at least minChunkSize, few enough chunks, never above maxChunkSize. */
export function chunkSizeFor(total: number, mp: MultipartSettings): number {
  const size = Math.max(mp.minChunkSize, Math.ceil(total / mp.maxChunkCount));
  if (size > mp.maxChunkSize) throw new TargetError(`file of ${total} bytes needs chunks above the server's maximum`);
  return size;
}

/**
 * `setExisted`: the set was there before this upload (its entries may include this path, from an earlier
 * pass): a listing that shows the path at this size then proves nothing of this upload (uploadOnce).
 */
type Target = { kind: 'file'; ext: string } | { kind: 'fileset'; subPath: string; setExisted?: boolean };

/** Single-part up to `maxSinglePartSize`, else start / part (X-Range) / finish. Retries on a range mismatch. */
async function uploadOne(ctx: WriterContext, containerId: string, attribute: string, localPath: string, target: Target, signal?: AbortSignal): Promise<OperationFailure[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await uploadOnce(ctx, containerId, attribute, localPath, target, signal);
    } catch (e) {
      if (attempt < 3 && e instanceof HttpError && (e.body ?? '').includes(STREAM_MISMATCH)) continue;
      throw e;
    }
  }
}

async function uploadOnce(ctx: WriterContext, containerId: string, attribute: string, localPath: string, target: Target, signal?: AbortSignal): Promise<OperationFailure[]> {
  const { multipart } = await ctx.auth.clientConfig(signal);
  const base = target.kind === 'file' ? `${LB}/storage/file/upload` : `${LB}/storage/fileset/upload`;
  const q = { experimentIdentifier: containerId, attribute };
  const named = target.kind === 'file' ? { ...q, ext: target.ext } : { ...q, subPath: target.subPath };
  // Every call of a file-set upload names the entry: the served specs mark `subPath` required on
  // start, part and finish (neptune-served-swagger/{2023,minfx}/leaderboard.json); a File's part and
  // finish take no `ext`.
  const everyCall = target.kind === 'file' ? q : named;
  const total = (await stat(localPath)).size;
  if (total <= multipart.maxSinglePartSize) {
    const data = await readFile(localPath);
    const res = await ctx.api.call({ method: 'POST', path: base, query: named, raw: data, contentType: 'application/octet-stream', signal, what: `upload ${attribute}` });
    ctx.stats.files++;
    return uploadErrors(res.body, attribute);
  }
  // A set that held this path at this size before the upload (an earlier pass, maybe other bytes) makes
  // the look before a resent `finish` prove nothing: then `finish` is sent again whatever it shows.
  const heldBefore = target.kind === 'fileset' && target.setExisted === true && (await fileSetHolds(ctx.api, containerId, attribute, target.subPath, total, signal));
  const start = await ctx.api.json<{ uploadId?: string; errors?: unknown }>({
    method: 'POST', path: `${base}/start`, query: { ...named, totalLength: total }, signal, what: `upload start ${attribute}`,
  });
  const startErrors = uploadErrors(Buffer.from(JSON.stringify({ errors: start.data?.errors ?? [] })), attribute);
  if (startErrors.length) return startErrors;
  const uploadId = start.data?.uploadId;
  if (!uploadId) throw new TargetError(`Neptune did not return an uploadId for ${attribute}`);
  const size = chunkSizeFor(total, multipart);
  for (let idx = 0, from = 0; from < total; idx++, from += size) {
    const to = Math.min(total, from + size) - 1;
    const length = to - from + 1;
    const body = (): Readable => {
      ctx.stats.bytes += length;
      return createReadStream(localPath, { start: from, end: to });
    };
    const res = await ctx.api.call({
      method: 'POST', path: `${base}/part`, query: { ...everyCall, uploadId, uploadPartIdx: idx }, raw: body,
      contentType: 'application/octet-stream', headers: { 'x-range': `bytes=${from}-${to}/${total}`, 'content-length': String(length) },
      signal, what: `upload part ${idx} of ${attribute}`,
    });
    const errs = uploadErrors(res.body, attribute);
    if (errs.length) return errs;
  }
  let fin;
  try {
    fin = await ctx.api.call({
      method: 'POST', path: `${base}/finish`, query: { ...everyCall, uploadId }, signal, what: `upload finish ${attribute}`,
      // A lost answer to `finish`: the server may have completed the upload and closed the session, so
      // a resent `finish` would fail although the file is there. Look before resending (sizes only: a
      // proof only where the path was not there at this size before).
      beforeAmbiguousRetry: async () => {
        if (target.kind === 'fileset' && !heldBefore && (await fileSetHolds(ctx.api, containerId, attribute, target.subPath, total, signal))) throw new AlreadyStored();
      },
    });
  } catch (e) {
    if (!(e instanceof AlreadyStored)) throw e;
    ctx.stats.files++;
    return [];
  }
  ctx.stats.files++;
  return uploadErrors(fin.body, attribute);
}

/** Thrown from a retry hook to stop resending: the server already holds what the request was for. */
class AlreadyStored extends Error {}

/** A File field; `ext` defaults to the local file's extension (stored name = attribute + "." + ext). */
export function uploadFileAttribute(ctx: WriterContext, containerId: string, attribute: string, localPath: string, ext: string | undefined, signal?: AbortSignal): Promise<OperationFailure[]> {
  const e = ext ?? extname(localPath).replace(/^\./, '');
  return uploadOne(ctx, containerId, attribute, localPath, { kind: 'file', ext: e }, signal);
}

export interface FileSetUploadOptions {
  /** Replace the set's content instead of adding to it. @default false */
  reset?: boolean;
  /** The set exists already (the writer knows its field): its entries may include the paths sent. @default false */
  setExisted?: boolean;
}

/**
 * A FileSet field: packages of ≤ 5 MB / ≤ 500 files; a package of several files is one tar.gz
 * (`uploadFileSetTar`), a single-file package goes through the fileset single/multipart endpoints.
 * An answer's errors name the set only; each is returned for every entry of its package, by the
 * entry's path in the set (`<attribute>/<relative path>`), so the caller knows which files did not land.
 */
export async function uploadFileSetAttribute(
  ctx: WriterContext, containerId: string, attribute: string, entries: readonly FileSetEntry[], signal?: AbortSignal, opts: FileSetUploadOptions = {},
): Promise<{ errors: OperationFailure[]; omissions: Omission[] }> {
  const { packages, omissions } = packFileSet(entries, attribute, ctx.limits);
  const errors: OperationFailure[] = [];
  const { multipart } = await ctx.auth.clientConfig(signal);
  let reset = opts.reset ?? false;
  if (reset && multipart.enabled) {
    // With multipart uploads the client clears the set with an operation instead of the tar `reset` flag.
    const { data } = await ctx.api.json({ method: 'POST', path: `${LB}/operations`, query: { experimentId: containerId }, json: [{ path: attribute, deleteAttribute: {} }], signal, what: `reset ${attribute}` });
    if (Array.isArray(data) && data.length) ctx.log.debug(`Neptune: reset of ${attribute} answered ${data.length} errors`);
    reset = false;
  }
  for (const pkg of packages) {
    if (pkg.length === 1 && !reset) {
      errors.push(...ofEntries(pkg, attribute, await uploadOne(ctx, containerId, attribute, pkg[0].localPath, { kind: 'fileset', subPath: pkg[0].relativePath, setExisted: opts.setExisted }, signal)));
      continue;
    }
    const data = await tarGzBuffer(pkg.map((e) => ({ name: e.relativePath, localPath: e.localPath })));
    const res = await ctx.api.call({
      method: 'POST', path: `${LB}/uploadFileSetTar`, query: { experimentId: containerId, attribute, reset: reset ? 'True' : 'False' },
      raw: data, contentType: 'application/octet-stream', signal, what: `file-set package of ${attribute}`,
    });
    ctx.stats.files += pkg.length;
    errors.push(...ofEntries(pkg, attribute, uploadErrors(res.body, attribute)));
    reset = false;
  }
  return { errors, omissions };
}

/** A package's errors, one failure per entry (its path in the set), their descriptions joined. */
function ofEntries(pkg: readonly FileSetEntry[], attribute: string, errors: readonly OperationFailure[]): OperationFailure[] {
  if (errors.length === 0) return [];
  const errorType = errors[0].errorType;
  const description = errors.map((e) => (e.errorType === errorType ? e.description : `${e.errorType}: ${e.description}`)).join('; ');
  return pkg.map((e) => ({ path: `${attribute}/${e.relativePath}`, errorType, description }));
}
