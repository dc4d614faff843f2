/**
 * The storage bridge (neptune-api.md §3.6, §3.9 "Files"): `POST /api/storagebridge/v1/signedUrl`
 * hands out signed, expiring URLs on this same server that behave like the cloud stores SCALE
 * talks to (neptune-client-scale@b40a896 `src/neptune_scale/sync/storage/{s3.py, gcs.py}`):
 *  - aws: single `PUT` answering an `ETag`; or multipart (`part_urls`, `part_size`, `upload_id`)
 *    finished by `POST /api/storagebridge/v1/s3/completeMultipartUpload` (204);
 *  - gcp: resumable upload — `POST` with `X-goog-resumable: start` → `Location`, then `PUT`
 *    chunks with `Content-Range`, 308 + `Range` until the last one.
 * Request/response shapes: neptune-query@00fcb6b `.../swagger/storagebridge_openapi.json`.
 */
import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { HttpError, isPlainObject, sendJson } from '../neptune/http-util.ts';
import { findProject, stmt, type Db } from '../neptune/store.ts';
import { objectRow, putObject } from './store.ts';

export interface StorageConfig {
  baseUrl: string;
  secret: string;
  provider: 'aws' | 'gcp';
  ttlSeconds: number;
  multipartThreshold: number;
  partSize: number;
  now: () => number;
}

/** S3 allows at most 10 000 parts per upload (AWS S3 multipart limits). */
const MAX_PARTS = 10_000;
/** A single object larger than this is refused at signing with 413 (storagebridge_openapi.json lists 413). */
export const MAX_OBJECT_BYTES = 5 * 1024 ** 3;

interface Grant { op: 'put' | 'get' | 'part' | 'gcs-start' | 'gcs-session'; project: string; path: string; upload?: string; part?: number; exp: number }

/** An object stored (a PUT, a completed multipart upload or GCS session): where, and how many bytes. */
export interface StoredObject { project: string; path: string; sizeBytes: number }

export class StorageBridge {
  /** Bytes the storage received in upload bodies (PUT object, part, GCS chunk), kept or not. */
  readonly counters = { storagePutBytes: 0 };
  private readonly listeners = new Set<(o: StoredObject) => void>();

  constructor(private readonly db: Db, private readonly cfg: StorageConfig) {}

  /** Tests: told when an object is stored, before the answer goes out (a kill there is "stored, not acknowledged"). */
  onStored(listener: (o: StoredObject) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private stored(project: string, path: string, sizeBytes: number): void {
    for (const l of [...this.listeners]) l({ project, path, sizeBytes });
  }

  private sign(g: Grant): string {
    const payload = Buffer.from(JSON.stringify(g)).toString('base64url');
    const sig = createHmac('sha256', this.cfg.secret).update(payload).digest('base64url');
    return `${payload}.${sig}`;
  }

  private url(route: string, g: Omit<Grant, 'exp'>): string {
    const exp = this.cfg.now() + this.cfg.ttlSeconds * 1000;
    return `${this.cfg.baseUrl}/_storage/${route}?token=${this.sign({ ...g, exp })}`;
  }

  /**
   * Verifies a URL's token. A bad signature or an expired URL is S3's
   * `403 AccessDenied` ("Request has expired" — AWS S3 presigned URL documentation).
   */
  grant(token: string | null, op: Grant['op']): Grant {
    const [payload, sig] = (token ?? '').split('.');
    const want = createHmac('sha256', this.cfg.secret).update(payload ?? '').digest();
    const got = Buffer.from(sig ?? '', 'base64url');
    if (!payload || got.length !== want.length || !timingSafeEqual(got, want)) throw storageError(403, 'AccessDenied', 'Invalid signature');
    const g = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Grant;
    if (g.op !== op) throw storageError(403, 'AccessDenied', 'URL not valid for this operation');
    if (this.cfg.now() > g.exp) throw storageError(403, 'AccessDenied', 'Request has expired');
    return g;
  }

  /** `POST /api/storagebridge/v1/signedUrl` — CreateSignedUrlsRequest → CreateSignedUrlsResponse. */
  signUrls(body: unknown): { files: Array<Record<string, unknown>> } {
    if (!isPlainObject(body) || !Array.isArray(body.files)) throw new HttpError(400, 'Body must be {files: [...]}');
    return {
      files: body.files.map((f: unknown) => {
        if (!isPlainObject(f) || typeof f.project_identifier !== 'string' || typeof f.path !== 'string' || (f.permission !== 'read' && f.permission !== 'write')) {
          throw new HttpError(400, 'Each file needs project_identifier, path and permission read|write');
        }
        if (!findProject(this.db, f.project_identifier)) throw new HttpError(403, `No access to project '${f.project_identifier}'`);
        if (f.path === '') throw new HttpError(400, 'path must not be empty');
        const size = typeof f.size === 'number' ? f.size : undefined;
        if (size !== undefined && size > MAX_OBJECT_BYTES) throw new HttpError(413, `File of ${size} bytes is larger than ${MAX_OBJECT_BYTES}`);
        const base = { project_identifier: f.project_identifier, path: f.path, provider: this.cfg.provider };
        const g = { project: f.project_identifier, path: f.path };
        if (f.permission === 'read') return { ...base, url: this.url('object', { ...g, op: 'get' }) };
        if (this.cfg.provider === 'gcp') return { ...base, url: this.url('gcs', { ...g, op: 'gcs-start' }) };
        if (size === undefined || size <= this.cfg.multipartThreshold || size === 0) return { ...base, url: this.url('object', { ...g, op: 'put' }) };
        const parts = Math.ceil(size / this.cfg.partSize);
        if (parts > MAX_PARTS) throw new HttpError(413, `File needs ${parts} parts, more than ${MAX_PARTS}`);
        const upload = randomUUID();
        stmt(this.db, 'INSERT INTO b_uploads(id, kind, project, path, mime, part_size, total, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
          .run(upload, 's3', g.project, g.path, 'application/octet-stream', this.cfg.partSize, size, this.cfg.now());
        const partUrls = Array.from({ length: parts }, (_, i) => this.url('part', { ...g, op: 'part', upload, part: i + 1 }));
        return { ...base, url: this.url('object', { ...g, op: 'put' }), multipart: { upload_id: upload, part_size: this.cfg.partSize, part_urls: partUrls } };
      }),
    };
  }

  /** S3 single PUT: stores the object, answers its ETag (SCALE `storage/s3.py` requires one). */
  putObject(g: Grant, data: Buffer, mime: string | undefined, res: ServerResponse): void {
    this.counters.storagePutBytes += data.length;
    const etag = `"${md5(data)}"`;
    putObject(this.db, g.project, g.path, data, mime ?? 'application/octet-stream', etag);
    this.stored(g.project, g.path, data.length);
    res.writeHead(200, { etag, 'content-length': 0 });
    res.end();
  }

  /**
   * S3 GetObject with an optional single `Range: bytes=a-b` (RFC 9110 §14.2; S3 GetObject "Range"):
   * 206 with `Content-Range: bytes a-b/<size>` and the whole object's `ETag`; a range past the end is
   * 416 InvalidRange; any other Range form is ignored (the whole object, 200), as RFC 9110 allows.
   */
  getObject(g: Grant, range: string | undefined, res: ServerResponse): void {
    const o = objectRow(this.db, g.project, g.path);
    if (!o) throw storageError(404, 'NoSuchKey', 'The specified key does not exist.');
    const m = /^bytes=(\d+)-(\d*)$/.exec((range ?? '').trim());
    if (m) {
      const start = Number(m[1]);
      const end = Math.min(o.data.length - 1, m[2] === '' ? o.data.length - 1 : Number(m[2]));
      if (start >= o.data.length || end < start) throw storageError(416, 'InvalidRange', 'The requested range is not satisfiable');
      const part = o.data.subarray(start, end + 1);
      res.writeHead(206, { 'content-type': o.mime, 'content-length': part.length, 'content-range': `bytes ${start}-${end}/${o.data.length}`, etag: o.etag });
      return void res.end(part);
    }
    res.writeHead(200, { 'content-type': o.mime, 'content-length': o.data.length, etag: o.etag });
    res.end(o.data);
  }

  putPart(g: Grant, data: Buffer, res: ServerResponse): void {
    this.counters.storagePutBytes += data.length;
    const etag = `"${md5(data)}"`;
    if (!stmt(this.db, 'SELECT 1 FROM b_uploads WHERE id = ?').get(g.upload)) throw storageError(404, 'NoSuchUpload', 'The specified upload does not exist.');
    stmt(this.db, 'INSERT INTO b_upload_parts(upload_id, part, data, etag) VALUES (?, ?, ?, ?) ON CONFLICT(upload_id, part) DO UPDATE SET data = excluded.data, etag = excluded.etag')
      .run(g.upload, g.part, data, etag);
    res.writeHead(200, { etag, 'content-length': 0 });
    res.end();
  }

  /**
   * `POST /api/storagebridge/v1/s3/completeMultipartUpload` {project_identifier, path, upload_id, parts[{part_number, etag}]}
   * → 204. Parts must be the uploaded ones, 1-based and in order, ETags matching (quotes optional) — S3's
   * CompleteMultipartUpload rules (InvalidPart / InvalidPartOrder), answered as 400.
   */
  complete(body: unknown): void {
    if (!isPlainObject(body) || typeof body.upload_id !== 'string' || typeof body.project_identifier !== 'string' || typeof body.path !== 'string' || !Array.isArray(body.parts)) {
      throw new HttpError(400, 'Body must be {project_identifier, path, upload_id, parts}');
    }
    const up = stmt(this.db, "SELECT * FROM b_uploads WHERE id = ? AND kind = 's3'").get(body.upload_id) as { project: string; path: string; total: number } | undefined;
    if (!up || up.project !== body.project_identifier || up.path !== body.path) throw new HttpError(400, `Unknown upload '${body.upload_id}' for this path`);
    const stored = stmt(this.db, 'SELECT part, data, etag FROM b_upload_parts WHERE upload_id = ? ORDER BY part').all(body.upload_id) as Array<{ part: number; data: Buffer; etag: string }>;
    const byNo = new Map(stored.map((p) => [p.part, p]));
    const chunks: Buffer[] = [];
    let prev = 0;
    for (const p of body.parts as unknown[]) {
      if (!isPlainObject(p) || typeof p.part_number !== 'number' || typeof p.etag !== 'string') throw new HttpError(400, 'Each part needs part_number and etag');
      if (p.part_number <= prev) throw new HttpError(400, 'InvalidPartOrder: part numbers must increase');
      prev = p.part_number;
      const s = byNo.get(p.part_number);
      if (!s || unquote(s.etag) !== unquote(p.etag)) throw new HttpError(400, `InvalidPart: part ${p.part_number} was not uploaded with this ETag`);
      chunks.push(s.data);
    }
    const data = Buffer.concat(chunks);
    const etag = `"${md5(Buffer.concat(chunks.map((c) => Buffer.from(md5(c), 'hex'))))}-${chunks.length}"`;
    this.db.transaction(() => {
      putObject(this.db, up.project, up.path, data, 'application/octet-stream', etag);
      stmt(this.db, 'DELETE FROM b_upload_parts WHERE upload_id = ?').run(body.upload_id);
      stmt(this.db, 'DELETE FROM b_uploads WHERE id = ?').run(body.upload_id);
    })();
    this.stored(up.project, up.path, data.length);
  }

  /** GCS resumable start: `POST` with `X-goog-resumable: start` → 201 + `Location` (session URI). */
  gcsStart(g: Grant, resumable: string | undefined, mime: string | undefined, res: ServerResponse): void {
    if ((resumable ?? '').toLowerCase() !== 'start') throw storageError(400, 'InvalidArgument', 'X-goog-resumable: start is required');
    const upload = randomUUID();
    stmt(this.db, 'INSERT INTO b_uploads(id, kind, project, path, mime, part_size, total, created_ms) VALUES (?, ?, ?, ?, ?, 0, NULL, ?)')
      .run(upload, 'gcs', g.project, g.path, mime ?? 'application/octet-stream', this.cfg.now());
    res.writeHead(201, { location: this.url('gcs/session', { project: g.project, path: g.path, op: 'gcs-session', upload }), 'content-length': 0 });
    res.end();
  }

  /**
   * GCS resumable chunk: `Content-Range: bytes a-b/total` (or `/*` while the total is unknown, or
   * `bytes * /total` for a status query / empty file). Answers 308 with `Range: bytes=0-n` until the
   * object is complete, then 200 (GCS resumable upload documentation; SCALE `storage/gcs.py`).
   */
  gcsChunk(g: Grant, range: string | undefined, data: Buffer, res: ServerResponse): void {
    const up = stmt(this.db, "SELECT * FROM b_uploads WHERE id = ? AND kind = 'gcs'").get(g.upload) as { id: string; mime: string; received: number } | undefined;
    if (!up) throw storageError(404, 'NoSuchUpload', 'The resumable session does not exist.');
    const m = /^bytes (?:(\d+)-(\d+)|\*)\/(\d+|\*)$/.exec((range ?? '').trim());
    if (!m) throw storageError(400, 'InvalidArgument', 'Content-Range must be "bytes a-b/total" or "bytes */total"');
    const total = m[3] === '*' ? undefined : Number(m[3]);
    let received = up.received;
    this.counters.storagePutBytes += data.length;
    if (m[1] !== undefined) {
      const a = Number(m[1]);
      const b = Number(m[2]);
      if (b - a + 1 !== data.length) throw storageError(400, 'InvalidArgument', 'Content-Range does not match the body length');
      if (a !== received) {
        res.writeHead(308, received > 0 ? { range: `bytes=0-${received - 1}`, 'content-length': 0 } : { 'content-length': 0 });
        return void res.end();
      }
      const part = (stmt(this.db, 'SELECT COUNT(*) AS n FROM b_upload_parts WHERE upload_id = ?').get(up.id) as { n: number }).n + 1;
      stmt(this.db, 'INSERT INTO b_upload_parts(upload_id, part, data, etag) VALUES (?, ?, ?, ?)').run(up.id, part, data, '');
      received += data.length;
      stmt(this.db, 'UPDATE b_uploads SET received = ? WHERE id = ?').run(received, up.id);
    }
    if (total !== undefined && received === total) {
      const parts = stmt(this.db, 'SELECT data FROM b_upload_parts WHERE upload_id = ? ORDER BY part').all(up.id) as Array<{ data: Buffer }>;
      const all = Buffer.concat(parts.map((p) => p.data));
      this.db.transaction(() => {
        putObject(this.db, g.project, g.path, all, up.mime, `"${md5(all)}"`);
        stmt(this.db, 'DELETE FROM b_upload_parts WHERE upload_id = ?').run(up.id);
        stmt(this.db, 'DELETE FROM b_uploads WHERE id = ?').run(up.id);
      })();
      this.stored(g.project, g.path, all.length);
      return sendJson(res, 200, { name: g.path, size: String(all.length) });
    }
    res.writeHead(308, received > 0 ? { range: `bytes=0-${received - 1}`, 'content-length': 0 } : { 'content-length': 0 });
    res.end();
  }
}

function md5(b: Buffer): string {
  return createHash('md5').update(b).digest('hex');
}

function unquote(s: string): string {
  return s.replace(/^"|"$/g, '');
}

/** An error of the cloud store itself, answered as S3/GCS do: XML `<Error><Code>…</Code><Message>…</Message></Error>`. */
export class StorageError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
  send(res: ServerResponse): void {
    const esc = (s: string) => s.replace(/[<>&]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;' })[c] as string);
    const xml = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${this.code}</Code><Message>${esc(this.message)}</Message></Error>`;
    res.writeHead(this.status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(xml) });
    res.end(xml);
  }
}
function storageError(status: number, code: string, message: string): StorageError {
  return new StorageError(status, code, message);
}
