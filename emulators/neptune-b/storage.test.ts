import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { startNeptuneEmulator } from '../neptune/server.ts';
import type { NeptuneEmulator } from '../neptune/types.ts';
import type { ProtocolBOptions } from './types.ts';
import { bSession, PROJECT } from './test-session.ts';
import { encodeCreate } from './test-wire.ts';

let emu: NeptuneEmulator;
afterEach(async () => emu.close());

async function start(protocolB: ProtocolBOptions) {
  emu = await startNeptuneEmulator({ protocolB: { statusDelayMs: 0, ...protocolB } });
  const b = await bSession(emu);
  await b.ingestProcessed(encodeCreate(PROJECT, 'r1', {}, true));
  const sign = async (files: Array<{ path: string; permission: 'read' | 'write'; size?: number }>) => {
    const r = await b.api('/api/storagebridge/v1/signedUrl', {}, { body: { files: files.map((f) => ({ project_identifier: PROJECT, ...f })) } });
    expect(r.status).toBe(200);
    return r.json.files as Array<{ project_identifier: string; path: string; url: string; provider: string; multipart?: { upload_id: string; part_size: number; part_urls: string[] } }>;
  };
  return { b, sign };
}

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

describe('storage bridge (neptune-api.md §3.6, §3.9 "Files")', () => {
  it('aws single PUT answers an ETag; a read URL gives the bytes back', async () => {
    const { b, sign } = await start({});
    const data = Buffer.from('model weights\n');
    const [w] = await sign([{ path: 'r1/files/model.bin', permission: 'write', size: data.length }]);
    expect(w).toMatchObject({ project_identifier: PROJECT, path: 'r1/files/model.bin', provider: 'aws' });
    expect(w.multipart ?? null).toBeNull();
    const put = await b.call(w.url, { method: 'PUT', raw: data, headers: { 'content-type': 'text/plain' } });
    expect(put.status).toBe(200);
    expect(put.headers.get('etag')).toBe(`"${md5(data)}"`);
    expect(emu.b.inspect.object(PROJECT, 'r1/files/model.bin')).toEqual({ data, mimeType: 'text/plain' });
    const [r] = await sign([{ path: 'r1/files/model.bin', permission: 'read' }]);
    const got = await b.call(r.url);
    expect(got.status).toBe(200);
    expect(got.bytes.equals(data)).toBe(true);
  });

  it('a read URL serves a byte range (206, Content-Range with the size, the whole object\'s ETag); 416 past the end; storagePutBytes and onStored count uploads', async () => {
    const { b, sign } = await start({});
    const data = Buffer.from('0123456789');
    const seen: Array<{ project: string; path: string; sizeBytes: number }> = [];
    const stop = emu.b.onStored((o) => seen.push(o));
    const before = emu.b.stats().storagePutBytes;
    const [w] = await sign([{ path: 'r1/files/ten.bin', permission: 'write', size: data.length }]);
    expect((await b.call(w.url, { method: 'PUT', raw: data })).status).toBe(200);
    stop();
    expect(seen).toEqual([{ project: PROJECT, path: 'r1/files/ten.bin', sizeBytes: 10 }]);
    expect(emu.b.stats().storagePutBytes - before).toBe(10);
    const [r] = await sign([{ path: 'r1/files/ten.bin', permission: 'read' }]);
    const first = await b.call(r.url, { headers: { range: 'bytes=0-0' } });
    expect([first.status, first.headers.get('content-range'), first.headers.get('etag'), first.bytes.toString()]).toEqual([206, 'bytes 0-0/10', `"${md5(data)}"`, '0']);
    const tail = await b.call(r.url, { headers: { range: 'bytes=7-' } });
    expect([tail.status, tail.headers.get('content-range'), tail.bytes.toString()]).toEqual([206, 'bytes 7-9/10', '789']);
    expect((await b.call(r.url, { headers: { range: 'bytes=10-12' } })).status).toBe(416);
    expect((await b.call(r.url, { headers: { range: 'lines=1-2' } })).bytes.equals(data)).toBe(true);
  });

  it('aws multipart: parts with ETags, completeMultipartUpload (204) assembles them in order', async () => {
    const { b, sign } = await start({ multipartThreshold: 10, multipartPartSize: 8 });
    const data = Buffer.from('0123456789abcdefghij'); // 20 bytes → 3 parts of 8
    const [w] = await sign([{ path: 'big.bin', permission: 'write', size: data.length }]);
    const mp = w.multipart as NonNullable<typeof w.multipart>;
    expect(mp.part_size).toBe(8);
    expect(mp.part_urls).toHaveLength(3);
    const etags: string[] = [];
    for (const [i, url] of mp.part_urls.entries()) {
      const part = data.subarray(i * 8, (i + 1) * 8);
      const r = await b.call(url, { method: 'PUT', raw: part });
      expect(r.status).toBe(200);
      etags.push((r.headers.get('etag') as string).replace(/"/g, ''));
    }
    const complete = (parts: Array<{ part_number: number; etag: string }>) => b.api('/api/storagebridge/v1/s3/completeMultipartUpload', {}, {
      body: { project_identifier: PROJECT, path: 'big.bin', upload_id: mp.upload_id, parts },
    });
    expect((await complete([{ part_number: 1, etag: etags[0] }, { part_number: 2, etag: 'wrong' }, { part_number: 3, etag: etags[2] }])).status).toBe(400);
    expect(emu.b.inspect.object(PROJECT, 'big.bin')).toBeUndefined();
    const ok = await complete(etags.map((etag, i) => ({ part_number: i + 1, etag })));
    expect(ok.status).toBe(204);
    expect(emu.b.inspect.object(PROJECT, 'big.bin')?.data.equals(data)).toBe(true);
  });

  it('URLs expire (403, S3 XML error) and signatures are checked', async () => {
    let now = 1_000_000;
    const { b, sign } = await start({ signedUrlTtlSeconds: 60, now: () => now });
    const [w] = await sign([{ path: 'x', permission: 'write', size: 1 }]);
    now += 61_000;
    const late = await b.call(w.url, { method: 'PUT', raw: Buffer.from('x') });
    expect(late.status).toBe(403);
    expect(late.bytes.toString()).toContain('<Code>AccessDenied</Code>');
    now -= 61_000;
    const forged = await b.call(w.url.replace(/token=([^.]+)\.(.)/, 'token=$1.A$2'), { method: 'PUT', raw: Buffer.from('x') });
    expect(forged.status).toBe(403);
    expect(emu.b.inspect.object(PROJECT, 'x')).toBeUndefined();
  });

  it('signing needs a bearer token, a known project and a permission; 413 over the object limit', async () => {
    const { b } = await start({});
    expect((await b.call(`${emu.url}/api/storagebridge/v1/signedUrl`, { body: { files: [] } })).status).toBe(401);
    const bad = await b.api('/api/storagebridge/v1/signedUrl', {}, { body: { files: [{ project_identifier: PROJECT, path: 'p', permission: 'delete' }] } });
    expect(bad.status).toBe(400);
    const other = await b.api('/api/storagebridge/v1/signedUrl', {}, { body: { files: [{ project_identifier: 'demo/none', path: 'p', permission: 'write' }] } });
    expect(other.status).toBe(403);
    expect((await b.api('/api/storagebridge/v1/azure/signedUrl', {}, { body: { files: [] } })).status).toBe(410);
    const huge = await b.api('/api/storagebridge/v1/signedUrl', {}, { body: { files: [{ project_identifier: PROJECT, path: 'p', permission: 'write', size: 6 * 1024 ** 3 }] } });
    expect(huge.status).toBe(413);
  });

  it('gcp resumable: start → Location, 308 with Range until the last chunk, empty files with bytes */0', async () => {
    const { b, sign } = await start({ storageProvider: 'gcp' });
    const data = Buffer.from('abcdefg');
    const [w] = await sign([{ path: 'g.txt', permission: 'write', size: 7 }]);
    expect(w.provider).toBe('gcp');
    const started = await b.call(w.url, { method: 'POST', headers: { 'x-goog-resumable': 'start', 'content-type': 'text/plain' }, raw: '' });
    expect(started.status).toBe(201);
    const session = started.headers.get('location') as string;
    const c1 = await b.call(session, { method: 'PUT', raw: data.subarray(0, 4), headers: { 'content-range': 'bytes 0-3/*' } });
    expect(c1.status).toBe(308);
    expect(c1.headers.get('range')).toBe('bytes=0-3');
    const again = await b.call(session, { method: 'PUT', raw: data.subarray(0, 4), headers: { 'content-range': 'bytes 0-3/7' } });
    expect(again.status).toBe(308); // a chunk not at the received offset changes nothing
    const c2 = await b.call(session, { method: 'PUT', raw: data.subarray(4), headers: { 'content-range': 'bytes 4-6/7' } });
    expect(c2.status).toBe(200);
    expect(emu.b.inspect.object(PROJECT, 'g.txt')).toEqual({ data, mimeType: 'text/plain' });

    const [e] = await sign([{ path: 'empty', permission: 'write' }]);
    const s2 = await b.call(e.url, { method: 'POST', headers: { 'x-goog-resumable': 'start' }, raw: '' });
    const done = await b.call(s2.headers.get('location') as string, { method: 'PUT', raw: '', headers: { 'content-range': 'bytes */0' } });
    expect(done.status).toBe(200);
    expect(emu.b.inspect.object(PROJECT, 'empty')?.data.length).toBe(0);
  });
});
