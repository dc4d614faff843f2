import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startNeptuneEmulator, type NeptuneEmulator } from '../../emulators/neptune/index.ts';
import { call, session } from '../../emulators/neptune/test-client.ts';
import { NeptuneBTarget } from '../../src/sinks/neptune-b/target.ts';
import { localChecksums, PROBE_MIN_BYTES, storageDestination, storedMatches } from '../../src/sinks/neptune-b/uploads.ts';
import { closeAfterEach } from '../support/close-after-each.ts';

/**
 * Protocol B, a run resumed after a kill between a file's upload to storage and the acknowledgement of
 * its `FileRef`: storage holds the object, the run holds no field pointing at it. The resumed run does
 * not send bytes storage already holds whole (same size, same checksum storage computed), and sends
 * again an object that is only partly there or has other bytes — counting the bytes the emulator's
 * storage received, and comparing the bytes it holds after.
 */
let emu: NeptuneEmulator | undefined;
let target: NeptuneBTarget | undefined;
const dirs = closeAfterEach(() => [target, emu], () => (target = emu = undefined));

const KIB = 1024;
const PROJECT = 'demo/resume';
const RUN = 'run-r';
const pattern = (n: number, seed: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * seed + 7) % 251));

/** Puts bytes at a storage path through the bridge, as a client that was killed before its FileRef would have. */
async function plant(e: NeptuneEmulator, path: string, data: Buffer): Promise<void> {
  const s = await session(e);
  const signed = await s.api('/api/storagebridge/v1/signedUrl', {}, { body: { files: [{ project_identifier: PROJECT, path, permission: 'write', size: data.length }] } });
  const f = signed.json.files[0] as { url: string; provider: string; multipart?: { upload_id: string; part_size: number; part_urls: string[] } };
  if (f.provider === 'gcp') {
    const start = await call(f.url, { method: 'POST', headers: { 'x-goog-resumable': 'start' }, raw: '' });
    const put = await call(start.headers.get('location')!, { method: 'PUT', headers: { 'content-range': `bytes 0-${data.length - 1}/${data.length}` }, raw: data });
    expect(put.status).toBe(200);
    return;
  }
  if (!f.multipart) {
    expect((await call(f.url, { method: 'PUT', raw: data })).status).toBe(200);
    return;
  }
  const { upload_id, part_size, part_urls } = f.multipart;
  const parts = [];
  for (let k = 0; k * part_size < data.length; k++) {
    const r = await call(part_urls[k], { method: 'PUT', raw: data.subarray(k * part_size, (k + 1) * part_size) });
    parts.push({ part_number: k + 1, etag: r.headers.get('etag')! });
  }
  const done = await s.api('/api/storagebridge/v1/s3/completeMultipartUpload', {}, { body: { project_identifier: PROJECT, path, upload_id, parts } });
  expect(done.status).toBe(204);
}

const stored = (e: NeptuneEmulator, name: string) => e.b.inspect.object(PROJECT, storageDestination(RUN, `files/${name}`))?.data;

describe.each(['aws', 'gcp'] as const)('a resumed run\'s files over Protocol B, %s storage', (provider) => {
  async function open(files: Record<string, Buffer>) {
    emu = await startNeptuneEmulator({ workspaces: ['demo'], protocolB: { storageProvider: provider, multipartThreshold: 600 * KIB, multipartPartSize: 256 * KIB } });
    target = new NeptuneBTarget({
      token: emu.apiToken(), gcsChunkBytes: 256 * KIB,
      http: { service: 'Neptune', retry: { baseDelayMs: 1, maxDelayMs: 5 } }, ingest: { sleep: async () => {} },
    });
    const project = await target.ensureProject('demo', 'resume', { description: '', fields: [] });
    const dir = mkdtempSync(join(tmpdir(), 'w2n-upload-resume-'));
    dirs.push(dir);
    for (const [name, data] of Object.entries(files)) writeFileSync(join(dir, name), data);
    const entries = Object.entries(files).map(([name, data]) => ({ localPath: join(dir, name), relativePath: name, sizeBytes: data.length }));
    return { project, entries };
  }

  it('bytes storage holds whole are not sent again; a partial object, or one with other bytes, is replaced; every FileRef lands', async () => {
    const files: Record<string, Buffer> = {
      'whole.bin': pattern(400 * KIB, 3),
      // Over the multipart threshold (aws): its ETag is S3's multipart form.
      'multi.bin': pattern(700 * KIB, 5),
      'partial.bin': pattern(400 * KIB, 7),
      'other.bin': pattern(400 * KIB, 11),
      'absent.bin': pattern(300 * KIB, 13),
      'small.txt': Buffer.from('below the size worth a look-up\n'),
    };
    const { project, entries } = await open(files);
    // The first pass created the run, uploaded objects and was killed before their FileRefs were acknowledged.
    await target!.openRun(project, RUN);
    await plant(emu!, storageDestination(RUN, 'files/whole.bin'), files['whole.bin']);
    await plant(emu!, storageDestination(RUN, 'files/multi.bin'), files['multi.bin']);
    await plant(emu!, storageDestination(RUN, 'files/partial.bin'), files['partial.bin'].subarray(0, 200 * KIB));
    await plant(emu!, storageDestination(RUN, 'files/other.bin'), pattern(400 * KIB, 17));

    const run = await target!.openRun(project, RUN);
    await run.state();
    const before = emu!.b.stats().storagePutBytes;
    // The two held whole are answered as already present: the report counts them so, with no bytes written.
    expect(await run.uploadFileSet('files', entries)).toEqual({ refused: [], alreadyPresent: ['whole.bin', 'multi.bin'] });
    const resent = ['partial.bin', 'other.bin', 'absent.bin', 'small.txt'].reduce((n, f) => n + files[f].length, 0);
    expect(emu!.b.stats().storagePutBytes - before).toBe(resent);

    const attrs = emu!.b.inspect.attributes(PROJECT, RUN);
    for (const [name, data] of Object.entries(files)) {
      expect(attrs[`files/${name}`], name).toMatchObject({ type: 'fileRef', value: { path: storageDestination(RUN, `files/${name}`), sizeBytes: data.length } });
      expect(stored(emu!, name)?.equals(data), name).toBe(true);
    }
  });

  it('a run this pass created is not looked for in storage: one signing request, no reads', async () => {
    const files = { 'a.bin': pattern(PROBE_MIN_BYTES + 1, 3) };
    const { project, entries } = await open(files);
    const run = await target!.openRun(project, RUN);
    const before = emu!.stats().byEndpoint;
    expect(await run.uploadFileSet('files', entries)).toEqual({ refused: [], alreadyPresent: [] });
    const after = emu!.stats().byEndpoint;
    expect((after.signedUrlGeneric ?? 0) - (before.signedUrlGeneric ?? 0)).toBe(1);
    expect((after.storageGetObject ?? 0) - (before.storageGetObject ?? 0)).toBe(0);
    expect(stored(emu!, 'a.bin')?.equals(files['a.bin'])).toBe(true);
  });
});

describe('what proves a stored object holds the local bytes', () => {
  it('size and a checksum storage computed: GCS MD5, a plain-MD5 ETag, S3\'s multipart ETag; never size alone', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'w2n-checksums-'));
    dirs.push(dir);
    const data = pattern(10 * KIB + 3, 3);
    writeFileSync(join(dir, 'f'), data);
    const local = await localChecksums(join(dir, 'f'), 4 * KIB);
    const { createHash } = await import('node:crypto');
    const md5 = (b: Buffer) => createHash('md5').update(b).digest();
    expect(local.md5Hex).toBe(md5(data).toString('hex'));
    const parts = [0, 1, 2].map((k) => md5(data.subarray(k * 4 * KIB, (k + 1) * 4 * KIB)));
    expect(local.multipartEtag).toBe(`${md5(Buffer.concat(parts)).toString('hex')}-3`);
    const size = data.length;
    expect(storedMatches({ sizeBytes: size, etag: local.md5Hex.toUpperCase() }, size, local)).toBe(true);
    expect(storedMatches({ sizeBytes: size, etag: local.multipartEtag }, size, local)).toBe(true);
    expect(storedMatches({ sizeBytes: size, etag: 'anything', md5Base64: local.md5Base64 }, size, local)).toBe(true);
    expect(storedMatches({ sizeBytes: size - 1, etag: local.md5Hex }, size, local)).toBe(false);
    expect(storedMatches({ sizeBytes: size, etag: '0'.repeat(32) }, size, local)).toBe(false);
    expect(storedMatches({ sizeBytes: size, etag: `${'0'.repeat(32)}-3` }, size, local)).toBe(false);
    expect(storedMatches({ sizeBytes: size, md5Base64: md5(Buffer.alloc(1)).toString('base64'), etag: local.md5Hex }, size, local)).toBe(false);
    expect(storedMatches({ sizeBytes: size, etag: 'opaque-etag' }, size, local)).toBe(false);
    expect(storedMatches({ sizeBytes: size }, size, local)).toBe(false);
  });
});
