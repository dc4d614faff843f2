/**
 * File-set download, the three calls neptune-client 1.x makes (hosted_neptune_backend.py
 * `_get_file_set_download_request`, hosted_file_operations.py `download_file_set_attribute`):
 * `prepareForDownloadFileSetAttributeZip` → DownloadPrepareRequest{id}; `getDownloadPrepareRequest(id)`
 * polled until it carries `downloadUrl`; then a GET of that URL (`download`, `Accept: application/zip`).
 * The zip is made at prepare time, so the download is the set as it was then.
 */
import { randomUUID } from 'node:crypto';
import { HttpError } from './http-util.ts';
import { blobEntries, type Db } from './store.ts';
import { writeZip } from './zip.ts';

export class Downloads {
  private readonly ready = new Map<string, { zip: Buffer; name: string }>();

  prepare(db: Db, containerId: string, attribute: string): { id: string } {
    const entries = blobEntries(db, containerId, attribute).map((e) => ({ name: e.sub_path, data: e.data, mtimeMs: e.mtime_ms }));
    const id = randomUUID();
    this.ready.set(id, { zip: writeZip(entries), name: `${attribute.slice(attribute.lastIndexOf('/') + 1)}.zip` });
    return { id };
  }

  status(id: string, baseUrl: string): { id: string; downloadUrl: string } {
    if (!this.ready.has(id)) throw new HttpError(404, `Download request '${id}' not found`);
    return { id, downloadUrl: `${baseUrl}/api/leaderboard/v1/download/downloadFile?id=${id}` };
  }

  get(id: string): { zip: Buffer; name: string } {
    const d = this.ready.get(id);
    if (!d) throw new HttpError(404, `Download '${id}' not found`);
    return d;
  }
}
