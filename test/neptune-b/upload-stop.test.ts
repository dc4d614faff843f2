import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpError } from '../../src/core/errors.ts';
import type { HttpClient } from '../../src/http/client.ts';
import type { NeptuneApi } from '../../src/sinks/neptune/api.ts';
import { StorageUploader, type UploadItem } from '../../src/sinks/neptune-b/uploads.ts';

/**
 * When storage fails past the retries for one file, the uploader throws (the run is left for the next
 * pass): it starts no further PUT, and it returns only once the PUTs already under way have ended, so
 * nothing of the failed run is still being sent after its failure is reported.
 */
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('StorageUploader when storage fails for now', () => {
  it('starts no PUT after the failure and returns after the PUTs under way', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'w2n-upload-stop-'));
    dirs.push(dir);
    const items: UploadItem[] = Array.from({ length: 8 }, (_, i) => {
      const localPath = join(dir, `f${i}.bin`);
      writeFileSync(localPath, Buffer.alloc(10, i));
      return { attribute: `files/f${i}.bin`, localPath, sizeBytes: 10, destination: `run/files/f${i}.bin`, mimeType: 'application/octet-stream' };
    });
    const api = {
      json: async () => ({ data: { files: items.map((it) => ({ path: it.destination, url: `http://storage.test/${it.destination}`, provider: 'aws' })) } }),
    } as unknown as NeptuneApi;
    const started: string[] = [];
    const held: Array<() => void> = [];
    let threeHeld!: () => void;
    const underWay = new Promise<void>((r) => { threeHeld = r; });
    const http = {
      request: (req: { url: string }) => {
        started.push(req.url);
        // The first file's storage fails past the retries; every other PUT waits until released.
        if (req.url.endsWith('/f0.bin')) return Promise.reject(new HttpError(503, 'PUT', req.url, 'HTTP 503'));
        return new Promise((resolve) => {
          held.push(() => resolve({ status: 200, headers: { etag: '"e"' }, body: Buffer.alloc(0) }));
          if (held.length === 3) threeHeld();
        });
      },
    } as unknown as HttpClient;

    let settled = false;
    const upload = new StorageUploader(api, http, 'demo/p').upload(items, undefined).finally(() => { settled = true; });
    upload.catch(() => {});
    await underWay;
    // Let every settled promise run its continuations before looking.
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    // Four PUTs at once: f0 failed, f1–f3 are under way, and the failure stopped the rest.
    expect(started.map((u) => u.split('/').pop())).toEqual(['f0.bin', 'f1.bin', 'f2.bin', 'f3.bin']);
    expect(settled).toBe(false);
    for (const release of held.splice(0)) release();
    await expect(upload).rejects.toThrow(/503/);
    expect(started).toHaveLength(4);
    expect(held).toHaveLength(0);
  });
});
