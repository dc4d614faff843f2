import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNeptuneEmulator } from './index.ts';
import { writeTar } from './tar.ts';
import type { NeptuneEmulator } from './types.ts';
import { session } from './test-client.ts';

let emu: NeptuneEmulator;
let s: Awaited<ReturnType<typeof session>>;
let run: string;
const LIMITS = { maxSinglePartSize: 1024, minChunkSize: 256, maxChunkSize: 512, maxChunkCount: 10 };
const STORAGE = '/api/leaderboard/v1/attributes/storage';
beforeAll(async () => {
  emu = await startNeptuneEmulator({ limits: LIMITS });
  s = await session(emu);
  run = (await s.createRun((await s.createProject('files')).id)).id;
});
afterAll(async () => { await emu.close(); });

describe('file uploads', () => {
  it('single-part upload stores the bytes; over maxSinglePartSize is refused', async () => {
    const data = Buffer.from('{"a": 1}\n');
    const r = await s.api(`${STORAGE}/file/upload`, { experimentIdentifier: run, attribute: 'config/wandb', ext: 'json' }, { raw: data });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ errors: [] });
    expect(emu.inspect.file(run, 'config/wandb')).toEqual(data);
    const meta = await s.api('/api/leaderboard/v1/attributes/files', { experimentId: run, attribute: 'config/wandb' });
    expect(meta.json).toMatchObject({ ext: 'json', name: 'wandb.json', size: data.length });
    const dl = await s.api('/api/leaderboard/v1/attributes/download', { experimentId: run, attribute: 'config/wandb' });
    expect(dl.bytes).toEqual(data);

    const big = await s.api(`${STORAGE}/file/upload`, { experimentIdentifier: run, attribute: 'too/big', ext: 'bin' }, { raw: Buffer.alloc(1025) });
    expect(big.status).toBe(413);
    expect(emu.inspect.file(run, 'too/big')).toBeUndefined();
    // a file into a string field is a per-upload error
    await s.ops(run, [{ path: 'str', assignString: { value: 'x' } }]);
    const clash = await s.api(`${STORAGE}/file/upload`, { experimentIdentifier: run, attribute: 'str', ext: 'txt' }, { raw: data });
    expect(clash.json.errors[0].errorType).toBe('metadata_inconsistency');
  });

  it('multipart start/part/finish with X-Range checks', async () => {
    const data = Buffer.from(Array.from({ length: 1300 }, (_, i) => i % 251));
    const q = { experimentIdentifier: run, attribute: 'artifacts/model' };
    const start = await s.api(`${STORAGE}/file/upload/start`, { ...q, ext: 'bin', totalLength: data.length }, { method: 'POST' });
    expect(start.json.errors).toEqual([]);
    const uploadId = start.json.uploadId as string;
    const chunks = [[0, 512], [512, 1024], [1024, 1300]];
    // wrong length for the declared range → the text the client retries on
    const bad = await s.api(`${STORAGE}/file/upload/part`, { ...q, uploadId, uploadPartIdx: 0 }, {
      raw: data.subarray(0, 100), headers: { 'X-Range': `bytes=0-511/${data.length}` },
    });
    expect(bad.status).toBe(400);
    expect(bad.json.message).toContain('Length of stream does not match given range');
    const noRange = await s.api(`${STORAGE}/file/upload/part`, { ...q, uploadId, uploadPartIdx: 0 }, { raw: data.subarray(0, 512) });
    expect(noRange.status).toBe(400);
    for (const [i, [a, b]] of chunks.entries()) {
      const p = await s.api(`${STORAGE}/file/upload/part`, { ...q, uploadId, uploadPartIdx: i }, {
        raw: data.subarray(a, b), headers: { 'X-Range': `bytes=${a}-${b - 1}/${data.length}` },
      });
      expect(p.status).toBe(200);
    }
    const fin = await s.api(`${STORAGE}/file/upload/finish`, { ...q, uploadId }, { method: 'POST' });
    expect(fin.json).toEqual({ errors: [] });
    expect(emu.inspect.file(run, 'artifacts/model')).toEqual(data);
  });

  it('file-set: single entry with subPath, tar.gz packages, reset replaces', async () => {
    const one = await s.api(`${STORAGE}/fileset/upload`, { experimentIdentifier: run, attribute: 'source_code/files', subPath: 'src/a.py' }, { raw: Buffer.from('print(1)') });
    expect(one.json).toEqual({ errors: [] });
    const tar = gzipSync(writeTar([
      { name: 'src', directory: true }, { name: 'src/b.py', data: Buffer.from('print(2)') }, { name: 'README.md', data: Buffer.alloc(700, 65) },
    ]));
    const up = await s.api('/api/leaderboard/v1/attributes/uploadFileSetTar', { experimentId: run, attribute: 'source_code/files', reset: 'False' }, {
      raw: tar, headers: { 'content-type': 'application/octet-stream' },
    });
    expect(up.status).toBe(200);
    expect(up.json).toBeNull();
    expect(Object.keys(emu.inspect.fileSet(run, 'source_code/files')).sort()).toEqual(['README.md', 'src/a.py', 'src/b.py']);
    const ls = await s.api('/api/leaderboard/v1/attributes/ls', { experimentId: run, attribute: 'source_code/files', path: '' });
    expect(ls.json.map((e: { name: string; fileType: string }) => `${e.fileType}:${e.name}`).sort()).toEqual(['directory:src', 'file:README.md']);
    const dl = await s.api('/api/leaderboard/v1/attributes/download', { experimentId: run, attribute: 'source_code/files', path: 'src/b.py' });
    expect(dl.bytes.toString()).toBe('print(2)');

    const reset = gzipSync(writeTar([{ name: 'only.txt', data: Buffer.from('x') }]));
    await s.api('/api/leaderboard/v1/attributes/uploadFileSetTar', { experimentId: run, attribute: 'source_code/files', reset: 'True' }, { raw: reset });
    expect(emu.inspect.fileSet(run, 'source_code/files')).toEqual({ 'only.txt': Buffer.from('x') });
    const broken = await s.api('/api/leaderboard/v1/attributes/uploadFileSetTar', { experimentId: run, attribute: 'source_code/files' }, { raw: gzipSync(Buffer.alloc(600, 7)) });
    expect(broken.status).toBe(400);
  });
});
