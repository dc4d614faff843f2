/**
 * File (`File` attribute) and file-set uploads (neptune-api.md §2.5–2.6): single-part, multipart
 * start/part/finish with `X-Range`, and tar.gz packages. Responses follow the client's
 * `_attribute_upload_response_handler`: `{errors: [...]}` (new format) or, for the endpoints
 * typed `Optional«OperationError»`, JSON `null` / `{errorType, errorDescription}`.
 */
import { randomUUID } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { HttpError, requireParam } from './http-util.ts';
import { fieldLimitError, type BatchTarget, type OperationError } from './operations.ts';
import { countAttrs, getAttr, putAttr, putBlob, type Db, stmt } from './store.ts';
import { readTar, TarError } from './tar.ts';
import type { ResolvedLimits } from './types.ts';
import { pathProblem } from './validators.ts';

export interface UploadCtx { db: Db; limits: ResolvedLimits; target: BatchTarget; q: URLSearchParams }

const inconsistency = (d: string): OperationError => ({ errorType: 'metadata_inconsistency', errorDescription: d });

/** Checks path and type; creates nothing. Returns an OperationError, or throws 422 at the field cap. */
function checkTarget(ctx: UploadCtx, path: string, type: 'file' | 'fileSet'): OperationError | undefined {
  const pp = pathProblem(path, ctx.limits.pathMax);
  if (pp) return inconsistency(`Invalid attribute path '${path}': ${pp}`);
  if (path.startsWith('sys/')) return inconsistency(`Attribute '${path}' is read-only`);
  const a = getAttr(ctx.db, ctx.target.id, path);
  if (a && a.type !== type) return inconsistency(`Cannot upload a ${type} to attribute '${path}': it is of type ${a.type}`);
  if (!a && countAttrs(ctx.db, ctx.target.id) + 1 > ctx.limits.fieldsPerRun) throw fieldLimitError(ctx.limits, ctx.target);
  return undefined;
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

function storeFile(ctx: UploadCtx, path: string, ext: string, data: Buffer): void {
  ctx.db.transaction(() => {
    putAttr(ctx.db, ctx.target.id, path, 'file', { ext, name: ext ? `${baseName(path)}.${ext}` : baseName(path), size: data.length });
    putBlob(ctx.db, ctx.target.id, path, '', data);
  })();
}

function storeSetEntry(ctx: UploadCtx, path: string, subPath: string, data: Buffer): void {
  ctx.db.transaction(() => {
    if (!getAttr(ctx.db, ctx.target.id, path)) putAttr(ctx.db, ctx.target.id, path, 'fileSet', undefined);
    putBlob(ctx.db, ctx.target.id, path, subPath, data);
  })();
}

function cleanSubPath(raw: string): string {
  const s = raw.replace(/\\/g, '/').replace(/^(\.\/)+/, '').replace(/^\/+|\/+$/g, '');
  if (s === '' || s.split('/').some((seg) => seg === '..' || seg === '')) throw new HttpError(400, `Invalid subPath '${raw}'`);
  return s;
}

/** POST .../storage/file/upload and .../storage/fileset/upload (single part; body ≤ maxSinglePartSize). */
export function singleUpload(ctx: UploadCtx, kind: 'file' | 'fileset', body: Buffer): { errors: OperationError[] } {
  const path = requireParam(ctx.q, 'attribute');
  const err = checkTarget(ctx, path, kind === 'file' ? 'file' : 'fileSet');
  if (err) return { errors: [err] };
  if (kind === 'file') storeFile(ctx, path, ctx.q.get('ext') ?? '', body);
  else storeSetEntry(ctx, path, cleanSubPath(requireParam(ctx.q, 'subPath')), body);
  return { errors: [] };
}

/** POST .../upload/start?totalLength= → UploadMetadataDTO. */
export function multipartStart(ctx: UploadCtx, kind: 'file' | 'fileset'): { uploadId?: string; errors: OperationError[] } {
  const path = requireParam(ctx.q, 'attribute');
  const total = Number(requireParam(ctx.q, 'totalLength'));
  if (!Number.isSafeInteger(total) || total < 0) throw new HttpError(400, 'totalLength must be a non-negative integer');
  const err = checkTarget(ctx, path, kind === 'file' ? 'file' : 'fileSet');
  if (err) return { errors: [err] };
  const { maxChunkSize, maxChunkCount } = ctx.limits;
  if (total > maxChunkSize * maxChunkCount) {
    return { errors: [inconsistency(`File of ${total} bytes exceeds ${maxChunkCount} chunks of ${maxChunkSize} bytes`)] };
  }
  const subPath = kind === 'fileset' ? cleanSubPath(requireParam(ctx.q, 'subPath')) : null;
  const id = randomUUID();
  stmt(ctx.db, 'INSERT INTO uploads(id, container_id, path, kind, ext, sub_path, total, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)').run(
    id, ctx.target.id, path, kind, ctx.q.get('ext') ?? '', subPath, total, Date.now(),
  );
  return { uploadId: id, errors: [] };
}

interface UploadRow { id: string; container_id: string; path: string; kind: string; ext: string | null; sub_path: string | null; total: number }

function findUpload(ctx: UploadCtx, kind: string): UploadRow {
  const id = requireParam(ctx.q, 'uploadId');
  const u = stmt(ctx.db, 'SELECT * FROM uploads WHERE id = ?').get(id) as UploadRow | undefined;
  if (!u || u.container_id !== ctx.target.id || u.kind !== kind || u.path !== requireParam(ctx.q, 'attribute')) {
    throw new HttpError(404, `Upload '${id}' not found for this attribute`);
  }
  // part/finish of a file set name the entry again (required `subPath`, 2023 leaderboard.json
  // fileSetFileMultipartUploadPart/Finish); one that differs from start's is not this upload.
  if (kind === 'fileset' && cleanSubPath(requireParam(ctx.q, 'subPath')) !== u.sub_path) {
    throw new HttpError(400, `subPath does not match the subPath upload '${id}' was started with`);
  }
  return u;
}

/** POST .../upload/part?uploadId=&uploadPartIdx= with `X-Range: bytes=<start>-<endInclusive>/<total>`. */
export function multipartPart(ctx: UploadCtx, kind: 'file' | 'fileset', xRange: string | undefined, body: Buffer): { errors: OperationError[] } {
  const u = findUpload(ctx, kind);
  const idx = Number(requireParam(ctx.q, 'uploadPartIdx'));
  if (!Number.isInteger(idx) || idx < 0 || idx >= ctx.limits.maxChunkCount) throw new HttpError(400, `uploadPartIdx must be 0..${ctx.limits.maxChunkCount - 1}`);
  const m = /^bytes=(\d+)-(\d+)\/(\d+)$/.exec((xRange ?? '').trim());
  if (!m) throw new HttpError(400, 'Missing or malformed X-Range header (expected bytes=<start>-<end>/<total>)');
  const [start, end, total] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (total !== u.total) throw new HttpError(400, `X-Range total ${total} does not match totalLength ${u.total}`);
  if (end < start || end >= total) throw new HttpError(400, `X-Range bytes=${start}-${end}/${total} is out of bounds`);
  // The client retries the whole upload when it sees this exact text (hosted_neptune_backend.py).
  if (body.length !== end - start + 1) throw new HttpError(400, 'Length of stream does not match given range');
  stmt(ctx.db, 'INSERT OR REPLACE INTO upload_parts(upload_id, idx, start, data) VALUES (?, ?, ?, ?)').run(u.id, idx, start, body);
  return { errors: [] };
}

/** POST .../upload/finish?uploadId=: parts must tile [0, total) in index order. */
export function multipartFinish(ctx: UploadCtx, kind: 'file' | 'fileset'): { errors: OperationError[] } {
  const u = findUpload(ctx, kind);
  const parts = stmt(ctx.db, 'SELECT idx, start, data FROM upload_parts WHERE upload_id = ? ORDER BY idx').all(u.id) as Array<{ idx: number; start: number; data: Buffer }>;
  let offset = 0;
  parts.forEach((p, i) => {
    if (p.idx !== i || p.start !== offset) throw new HttpError(400, `Upload part ${i} is missing or does not start at byte ${offset}`);
    if (i < parts.length - 1 && p.data.length < ctx.limits.minChunkSize) {
      throw new HttpError(400, `Upload part ${i} is smaller than the minimum chunk size ${ctx.limits.minChunkSize}`);
    }
    offset += p.data.length;
  });
  if (offset !== u.total) throw new HttpError(400, `Uploaded ${offset} bytes, expected ${u.total}`);
  const err = checkTarget(ctx, u.path, kind === 'file' ? 'file' : 'fileSet');
  if (err) return { errors: [err] };
  const data = Buffer.concat(parts.map((p) => p.data));
  if (kind === 'file') storeFile(ctx, u.path, u.ext ?? '', data);
  else storeSetEntry(ctx, u.path, u.sub_path ?? '', data);
  stmt(ctx.db, 'DELETE FROM upload_parts WHERE upload_id = ?').run(u.id);
  stmt(ctx.db, 'DELETE FROM uploads WHERE id = ?').run(u.id);
  return { errors: [] };
}

/** POST /attributes/uploadFileSetTar?experimentId=&attribute=&reset=: a tar.gz package; reset replaces the set. */
export function uploadTar(ctx: UploadCtx, body: Buffer): OperationError | null {
  const path = requireParam(ctx.q, 'attribute');
  const reset = (ctx.q.get('reset') ?? 'false').toLowerCase() === 'true';
  const err = checkTarget(ctx, path, 'fileSet');
  if (err) return err;
  let entries;
  try {
    const isGzip = body.length >= 2 && body[0] === 0x1f && body[1] === 0x8b;
    entries = readTar(isGzip ? gunzipSync(body, { maxOutputLength: ctx.limits.maxBodyBytes }) : body);
  } catch (e) {
    throw new HttpError(400, e instanceof TarError ? `Invalid tar package: ${e.message}` : 'Body is not a valid tar.gz package');
  }
  ctx.db.transaction(() => {
    if (reset) stmt(ctx.db, 'DELETE FROM blobs WHERE container_id = ? AND path = ?').run(ctx.target.id, path);
    if (!getAttr(ctx.db, ctx.target.id, path)) putAttr(ctx.db, ctx.target.id, path, 'fileSet', undefined);
    for (const e of entries) if (e.type === 'file') putBlob(ctx.db, ctx.target.id, path, cleanSubPath(e.name), e.data);
  })();
  return null;
}

/** POST /attributes/upload?experimentId=&attribute=&ext= (pre-multipart servers): whole file, Optional«OperationError». */
export function legacyUpload(ctx: UploadCtx, body: Buffer): OperationError | null {
  const r = singleUpload(ctx, 'file', body);
  return r.errors[0] ?? null;
}
