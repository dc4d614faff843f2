import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { HttpError, isAbortError, NetworkError } from '../../core/errors.ts';
import type { HttpClient } from '../../http/client.ts';
import { isRetryableStatus } from '../../http/retry-policy.ts';
import type { NeptuneApi } from '../neptune/api.ts';

/** One file to put in Neptune's storage: the bytes at `localPath` go to `destination`. */
export interface UploadItem {
  /** The field it becomes (`files/a.txt`): for messages. */
  attribute: string;
  localPath: string;
  sizeBytes: number;
  destination: string;
  mimeType: string;
}

interface SignedFile {
  path?: string;
  url?: string;
  provider?: string;
  multipart?: { upload_id?: string; part_size?: number; part_urls?: string[] };
}

/** neptune-scale asks for at most this many URLs at once (`NEPTUNE_MAX_CONCURRENT_FILE_UPLOADS`). */
const URLS_PER_REQUEST = 50;
/** Uploads of one call at once. */
const PUTS_AT_ONCE = 4;
/**
 * GCS resumable chunks: a multiple of 256 KiB (GCS's rule for every chunk but the last); neptune-scale
 * sends 16 MiB (`NEPTUNE_FILE_UPLOAD_CHUNK_SIZE`, neptune-api.md §3.6).
 */
export const GCS_CHUNK_BYTES = 16 * 1024 * 1024;
const GCS_CHUNK_UNIT = 256 * 1024;
/** A session that answers 308 without taking more bytes this many times in a row is given up. */
const GCS_MAX_STALLS = 5;

/**
 * On a run that existed before this pass, files from this size up are looked for in storage before
 * they are sent (a kill between the upload and the `FileRef`'s acknowledgement leaves the object there,
 * unreferenced). Below it, sending the bytes again costs about the round trip the look-up costs.
 */
export const PROBE_MIN_BYTES = 256 * 1024;

/** neptune-scale keeps destinations within 800 characters (`sync/parameters.py`). */
const MAX_DESTINATION = 800;

const MIME: Record<string, string> = {
  '.txt': 'text/plain', '.log': 'text/plain', '.py': 'text/plain', '.md': 'text/markdown', '.csv': 'text/csv',
  '.json': 'application/json', '.yaml': 'application/yaml', '.yml': 'application/yaml', '.html': 'text/html',
  '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.gif': 'image/gif', '.svg': 'image/svg+xml',
  '.ipynb': 'application/x-ipynb+json', '.gz': 'application/gzip', '.zip': 'application/zip',
};

/** Bytes without a known type go as `application/octet-stream`, as neptune-scale sends them (§3.9). */
export function mimeTypeOf(name: string): string {
  return MIME[extname(name).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * Where a run's file lives in storage: `<run id>/<attribute>`, deterministic so a re-upload overwrites
 * the same object (never a second copy); shortened with a hash beyond 800 characters.
 */
export function storageDestination(runId: string, attribute: string): string {
  const full = `${runId}/${attribute}`;
  if (full.length <= MAX_DESTINATION) return full;
  const hash = createHash('sha256').update(full).digest('hex').slice(0, 16);
  return `${full.slice(0, MAX_DESTINATION - hash.length - 1)}~${hash}`;
}

function headerOf(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The next byte a GCS session wants, from a 308's `Range: bytes=0-<last>` (no header: nothing kept yet). */
export function gcsNextOffset(range: string | undefined): number {
  const m = /^bytes=0-(\d+)$/.exec((range ?? '').trim());
  return m ? Number(m[1]) + 1 : 0;
}

function etagOf(headers: Record<string, string | string[] | undefined>): string | undefined {
  const v = headers.etag;
  const s = Array.isArray(v) ? v[0] : v;
  return s ? s.replace(/^"|"$/g, '') : undefined;
}

/**
 * Storage or the bridge failing past the client's retries (5xx, 429, resets, timeouts): not a refusal of
 * the file. It is thrown, so the caller's run is left not done and the next pass sends the file, as
 * Protocol A's uploads do; a refusal (4xx, an unusable answer) is the file's `upload-failed` line.
 */
function failingForNow(e: unknown): boolean {
  return e instanceof NetworkError || (e instanceof HttpError && isRetryableStatus(e.status));
}

/** What storage says of an object it holds: its size, and the checksums it gives. */
export interface StoredObjectInfo {
  sizeBytes: number;
  /** The ETag, quotes removed. */
  etag?: string;
  /** Base64 MD5 from GCS's `x-goog-hash: crc32c=…,md5=…` (GCS "Hashes and ETags"), where given. */
  md5Base64?: string;
}

/** The local file's checksums in the forms storage gives them. */
export interface LocalChecksums {
  md5Hex: string;
  md5Base64: string;
  /** S3's multipart ETag for the part size the bridge gives (`<hex MD5 of the parts' binary MD5s>-<parts>`). */
  multipartEtag?: string;
}

/**
 * Whether a stored object has the local file's bytes: same size, and a checksum storage computed that
 * equals the local one — GCS's MD5 (`x-goog-hash`); else an ETag that is a plain MD5 (S3 single PUT,
 * GCS) or S3's multipart form. Any other ETag (S3 with SSE-KMS, a composite object) proves nothing, and
 * the bytes are sent again: never trusted on size alone.
 */
export function storedMatches(stored: StoredObjectInfo, sizeBytes: number, local: LocalChecksums): boolean {
  if (stored.sizeBytes !== sizeBytes) return false;
  if (stored.md5Base64) return stored.md5Base64 === local.md5Base64;
  const etag = stored.etag?.toLowerCase();
  if (!etag) return false;
  if (/^[0-9a-f]{32}$/.test(etag)) return etag === local.md5Hex;
  if (/^[0-9a-f]{32}-\d+$/.test(etag)) return etag === local.multipartEtag;
  return false;
}

/** MD5 of a file, and (with a part size) S3's multipart ETag for it, in one read. */
export async function localChecksums(path: string, partSize?: number): Promise<LocalChecksums> {
  const whole = createHash('md5');
  const parts: Buffer[] = [];
  let part = createHash('md5');
  let inPart = 0;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    whole.update(chunk);
    if (!partSize) continue;
    for (let at = 0; at < chunk.length; ) {
      const take = Math.min(chunk.length - at, partSize - inPart);
      part.update(chunk.subarray(at, at + take));
      inPart += take;
      at += take;
      if (inPart === partSize) {
        parts.push(part.digest());
        part = createHash('md5');
        inPart = 0;
      }
    }
  }
  if (partSize && inPart > 0) parts.push(part.digest());
  const md5 = whole.digest();
  return {
    md5Hex: md5.toString('hex'), md5Base64: md5.toString('base64'),
    ...(partSize && parts.length ? { multipartEtag: `${createHash('md5').update(Buffer.concat(parts)).digest('hex')}-${parts.length}` } : {}),
  };
}

/**
 * The checksums a source's MD5 gives before any download (W&B lists base64; some self-hosted storage
 * hex): enough to prove a plain-MD5 object, never an S3 multipart ETag (that needs the bytes).
 */
export function md5Checksums(md5: string): LocalChecksums {
  const raw = /^[0-9a-f]{32}$/i.test(md5) ? Buffer.from(md5, 'hex') : Buffer.from(md5, 'base64');
  return { md5Hex: raw.toString('hex'), md5Base64: raw.toString('base64') };
}

/** `bytes 0-0/1234` → 1234. */
function totalOfContentRange(v: string | undefined): number | undefined {
  const m = /\/(\d+)\s*$/.exec(v ?? '');
  return m ? Number(m[1]) : undefined;
}

/** The `md5=` of GCS's `x-goog-hash` (one header or several, each `name=value` pairs joined by commas). */
function googMd5(v: string | string[] | undefined): string | undefined {
  for (const pair of (Array.isArray(v) ? v.join(',') : v ?? '').split(',')) {
    const m = /^\s*md5=(\S+)\s*$/.exec(pair);
    if (m) return m[1];
  }
  return undefined;
}

/** What `StorageUploader.upload` did with its items: an item in neither was uploaded. */
export interface UploadAnswer {
  /** Why storage refused an item. */
  failed: Map<UploadItem, string>;
  /** Items storage already held whole with the same bytes: not sent. */
  held: ReadonlySet<UploadItem>;
}

/**
 * Uploads through the storage bridge (neptune-api.md §3.6, §3.9): signed URLs in bulk, then a single
 * PUT or an S3 multipart upload per file. Signed URLs get no Neptune credentials. Answers, per item, why
 * storage refused it (`failed`), and the items storage already held with the same bytes (`held`: not
 * sent); any other item was uploaded. Storage failing past the retries is thrown (failingForNow).
 */
export class StorageUploader {
  constructor(
    private readonly api: NeptuneApi,
    private readonly http: HttpClient,
    private readonly project: string,
    /** Chunk size of GCS resumable uploads (a multiple of 256 KiB). */
    private readonly gcsChunkBytes = GCS_CHUNK_BYTES,
  ) {
    if (gcsChunkBytes <= 0 || gcsChunkBytes % GCS_CHUNK_UNIT !== 0) throw new Error(`GCS upload chunks must be a multiple of 256 KiB, not ${gcsChunkBytes} bytes`);
  }

  /**
   * `mayHold`: the run existed before this pass, so storage may already hold some of these objects
   * (uploaded before a kill, their `FileRef` never acknowledged): those it holds whole, with the same
   * bytes, are not sent again; the caller still writes their `FileRef`.
   */
  async upload(items: readonly UploadItem[], signal?: AbortSignal, opts: { mayHold?: boolean } = {}): Promise<UploadAnswer> {
    const failed = new Map<UploadItem, string>();
    const heldAll = new Set<UploadItem>();
    // A file that cannot be read locally fails alone and at once (not retried as if the network failed).
    const readable: UploadItem[] = [];
    for (const it of items) {
      const size = await stat(it.localPath).then((s) => s.size, () => undefined);
      if (size === it.sizeBytes) readable.push(it);
      else failed.set(it, size === undefined ? 'the downloaded file cannot be read' : `the downloaded file has ${size} bytes, not ${it.sizeBytes}`);
    }
    for (let i = 0; i < readable.length; i += URLS_PER_REQUEST) {
      const chunk = readable.slice(i, i + URLS_PER_REQUEST);
      const { data } = await this.api.json<{ files?: SignedFile[] }>({
        method: 'POST',
        path: '/api/storagebridge/v1/signedUrl',
        json: { files: chunk.map((it) => ({ project_identifier: this.project, path: it.destination, permission: 'write', size: it.sizeBytes })) },
        signal,
        what: `signed upload URLs for ${chunk.length} files`,
      });
      const signed = new Map((data?.files ?? []).map((f) => [f.path, f]));
      const held = opts.mayHold
        ? await this.held(chunk.filter((it) => it.sizeBytes >= PROBE_MIN_BYTES && signed.get(it.destination)?.url), (it) => localChecksums(it.localPath, signed.get(it.destination)?.multipart?.part_size), signal)
        : new Set<UploadItem>();
      for (const it of held) heldAll.add(it);
      // A few PUTs at once, as neptune-scale uploads its files in parallel (§3.9): the files of a
      // small run's sets, asked for together, go together too.
      // A failure that ends the call (storage failing for now, an abort) stops every worker from taking
      // another file, and is thrown once the PUTs under way have ended: nothing of a failed run is still
      // being sent after its failure is reported.
      let next = 0;
      let stop: { error: unknown } | undefined;
      const worker = async () => {
        while (next < chunk.length && !stop) {
          const it = chunk[next++];
          if (held.has(it)) continue;
          const s = signed.get(it.destination);
          try {
            if (!s?.url) throw new Error('the storage bridge gave no URL for it');
            await this.put(it, s, signal);
          } catch (e) {
            if (isAbortError(e) || signal?.aborted || failingForNow(e)) {
              stop ??= { error: e };
              return;
            }
            failed.set(it, e instanceof Error ? e.message : String(e));
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(PUTS_AT_ONCE, chunk.length) }, worker));
      if (stop) throw stop.error;
    }
    return { failed, held: heldAll };
  }

  /**
   * The items whose object storage holds whole with the same bytes as `checksums` gives them (the local
   * file's, or the source's MD5 before any download), by `storedMatches`. Read URLs come from the bridge
   * (`permission: read`, as neptune-query reads files); each object is asked for its first byte only
   * (`Range: bytes=0-0`, RFC 9110 §14: a GET-signed URL does not allow a HEAD), which answers its size
   * (`Content-Range`) and checksums (`ETag`, `x-goog-hash`). A look-up that fails proves nothing: the
   * file is sent; it is an economy, never a reason for a file not to land.
   */
  async held<T extends Pick<UploadItem, 'attribute' | 'destination' | 'sizeBytes'>>(
    items: readonly T[], checksums: (it: T) => Promise<LocalChecksums>, signal?: AbortSignal,
  ): Promise<Set<T>> {
    const held = new Set<T>();
    if (items.length === 0) return held;
    const failedLookUp = (e: unknown) => {
      if (isAbortError(e) || signal?.aborted) throw e;
    };
    const read = new Map<string | undefined, string | undefined>();
    try {
      for (let i = 0; i < items.length; i += URLS_PER_REQUEST) {
        const ask = items.slice(i, i + URLS_PER_REQUEST);
        const { data } = await this.api.json<{ files?: SignedFile[] }>({
          method: 'POST',
          path: '/api/storagebridge/v1/signedUrl',
          json: { files: ask.map((it) => ({ project_identifier: this.project, path: it.destination, permission: 'read' })) },
          signal,
          what: `signed read URLs for ${ask.length} files`,
        });
        for (const f of data?.files ?? []) read.set(f.path, f.url);
      }
    } catch (e) {
      failedLookUp(e);
      return held;
    }
    for (const it of items) {
      const url = read.get(it.destination);
      try {
        const stored = url ? await this.storedInfo(url, it, signal) : undefined;
        if (!stored || stored.sizeBytes !== it.sizeBytes) continue;
        if (storedMatches(stored, it.sizeBytes, await checksums(it))) held.add(it);
      } catch (e) {
        failedLookUp(e);
      }
    }
    return held;
  }

  /** Size and checksums of the object at a read URL; undefined when storage does not hold it. */
  private async storedInfo(url: string, it: Pick<UploadItem, 'attribute'>, signal?: AbortSignal): Promise<StoredObjectInfo | undefined> {
    const res = await this.http.stream({
      method: 'GET', url, headers: () => ({ range: 'bytes=0-0' }), acceptStatus: [404, 416], signal, what: `size and checksum of the stored ${it.attribute}`,
    });
    if (res.status === 200) {
      // A server that ignored the Range sends the whole object: not read (the connection is dropped).
      res.body.on('error', () => {});
      res.body.destroy();
      return undefined;
    }
    for await (const _ of res.body) void _;
    if (res.status !== 206) return undefined;
    const sizeBytes = totalOfContentRange(headerOf(res.headers, 'content-range'));
    if (sizeBytes === undefined) return undefined;
    const md5Base64 = googMd5(res.headers['x-goog-hash']);
    const etag = etagOf(res.headers);
    return { sizeBytes, ...(etag ? { etag } : {}), ...(md5Base64 ? { md5Base64 } : {}) };
  }

  private async put(it: UploadItem, s: SignedFile, signal?: AbortSignal): Promise<void> {
    if (s.provider === 'gcp') return this.putGcs(it, s.url!, signal);
    if (s.provider !== 'aws') throw new Error(`storage provider "${s.provider ?? '?'}" is not supported by this version (aws and gcp only)`);
    const mp = s.multipart;
    if (!mp) {
      const res = await this.http.request({
        method: 'PUT',
        url: s.url!,
        headers: { 'content-type': it.mimeType, 'content-length': String(it.sizeBytes) },
        body: () => createReadStream(it.localPath),
        signal,
        what: `upload of ${it.attribute}`,
      });
      if (!etagOf(res.headers)) throw new Error('the storage answered without an ETag');
      return;
    }
    const partSize = mp.part_size ?? 0;
    const urls = mp.part_urls ?? [];
    if (!mp.upload_id || partSize <= 0 || urls.length * partSize < it.sizeBytes) throw new Error('the storage bridge gave an unusable multipart upload');
    const parts: Array<{ part_number: number; etag: string }> = [];
    for (let k = 0; k < urls.length && k * partSize < it.sizeBytes; k++) {
      const start = k * partSize;
      const end = Math.min(it.sizeBytes, start + partSize) - 1;
      const res = await this.http.request({
        method: 'PUT',
        url: urls[k],
        headers: { 'content-length': String(end - start + 1) },
        body: () => createReadStream(it.localPath, { start, end }),
        signal,
        what: `upload part ${k + 1} of ${it.attribute}`,
      });
      const etag = etagOf(res.headers);
      if (!etag) throw new Error(`part ${k + 1} answered without an ETag`);
      parts.push({ part_number: k + 1, etag });
    }
    try {
      await this.api.call({
        method: 'POST',
        path: '/api/storagebridge/v1/s3/completeMultipartUpload',
        json: { project_identifier: this.project, path: it.destination, upload_id: mp.upload_id, parts },
        signal,
        what: `completing the upload of ${it.attribute}`,
      });
    } catch (e) {
      if (e instanceof HttpError && !failingForNow(e)) throw new Error(`completing the multipart upload failed: HTTP ${e.status}`);
      throw e;
    }
  }
  /**
   * GCS resumable upload (neptune-api.md §3.6, §3.9; SCALE `sync/storage/gcs.py`): `POST` the signed
   * URL with `X-goog-resumable: start` → `Location` = the session; then `PUT` chunks with
   * `Content-Range: bytes a-b/total`. A 308 says how far the session got (`Range: bytes=0-n`): the next
   * chunk starts there, so a chunk whose answer was lost is not sent twice nor skipped. 2xx = complete.
   * An empty file is one `PUT` with `Content-Range: bytes *\/0`.
   */
  private async putGcs(it: UploadItem, url: string, signal?: AbortSignal): Promise<void> {
    const start = await this.http.request({
      method: 'POST',
      url,
      headers: { 'x-goog-resumable': 'start', 'content-type': it.mimeType, 'content-length': '0' },
      body: '',
      signal,
      what: `starting the upload of ${it.attribute}`,
    });
    const session = headerOf(start.headers, 'location');
    if (!session) throw new Error('the storage started no resumable session (no Location header)');
    const size = it.sizeBytes;
    if (size === 0) {
      await this.http.request({ method: 'PUT', url: session, headers: { 'content-range': 'bytes */0', 'content-length': '0' }, body: '', signal, what: `upload of ${it.attribute}` });
      return;
    }
    let offset = 0;
    let stalls = 0;
    for (;;) {
      const from = offset;
      const end = Math.min(size, from + this.gcsChunkBytes) - 1;
      const res = await this.http.request({
        method: 'PUT',
        url: session,
        headers: { 'content-range': `bytes ${from}-${end}/${size}`, 'content-length': String(end - from + 1) },
        body: () => createReadStream(it.localPath, { start: from, end }),
        acceptStatus: [308],
        signal,
        what: `upload of ${it.attribute} (bytes ${from}-${end} of ${size})`,
      });
      if (res.status !== 308) {
        if (end !== size - 1) throw new Error(`the storage called the upload complete after byte ${end} of ${size}`);
        return;
      }
      offset = gcsNextOffset(headerOf(res.headers, 'range'));
      if (offset >= size) throw new Error(`the storage holds ${offset} bytes of a ${size}-byte file without calling the upload complete`);
      stalls = offset > from ? 0 : stalls + 1;
      if (stalls >= GCS_MAX_STALLS) throw new Error(`the storage took no bytes past ${offset} after ${GCS_MAX_STALLS} attempts`);
    }
  }
}
