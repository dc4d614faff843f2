import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startNeptuneEmulator, type NeptuneEmulator } from '../../emulators/neptune/index.ts';
import { gcsNextOffset } from '../../src/sinks/neptune-b/uploads.ts';
import { NeptuneBTarget } from '../../src/sinks/neptune-b/target.ts';
import { closeAfterEach } from '../support/close-after-each.ts';

/** Files over Protocol B to a server whose storage bridge hands out GCS resumable URLs (neptune-api.md §3.6). */
let emu: NeptuneEmulator | undefined;
let target: NeptuneBTarget | undefined;
const dirs = closeAfterEach(() => [target, emu], () => (target = emu = undefined));

const KIB = 1024;

async function uploadAll(faults?: Parameters<NeptuneEmulator['b']['setFaults']>[0]) {
  emu = await startNeptuneEmulator({ workspaces: ['demo'], protocolB: { storageProvider: 'gcp' } });
  target = new NeptuneBTarget({
    token: emu.apiToken(),
    gcsChunkBytes: 256 * KIB,
    http: { service: 'Neptune', retry: { baseDelayMs: 1, maxDelayMs: 5 } },
    ingest: { sleep: async () => {} },
  });
  const run = await target.openRun(await target.ensureProject('demo', 'gcs', { description: '', fields: [] }), 'run-g');
  const dir = mkdtempSync(join(tmpdir(), 'w2n-gcs-'));
  dirs.push(dir);
  const files: Record<string, Buffer> = {
    'small.txt': Buffer.from('hello gcs\n'),
    'empty.bin': Buffer.alloc(0),
    // Three chunks: two whole 256 KiB ones and a tail.
    'model.ckpt': Buffer.from(Array.from({ length: 700 * KIB }, (_, i) => (i * 7) % 251)),
    'exact.bin': Buffer.alloc(512 * KIB, 3),
  };
  for (const [name, data] of Object.entries(files)) writeFileSync(join(dir, name), data);
  if (faults) emu.b.setFaults(faults);
  const { refused: omissions } = await run.uploadFileSet('files', Object.entries(files).map(([name, data]) => ({ localPath: join(dir, name), relativePath: name, sizeBytes: data.length })));
  return { omissions, files };
}

function expectStored(files: Record<string, Buffer>): void {
  const attrs = emu!.b.inspect.attributes('demo/gcs', 'run-g');
  for (const [name, data] of Object.entries(files)) {
    const ref = attrs[`files/${name}`]?.value as { path: string; sizeBytes: number } | undefined;
    expect(ref, name).toBeDefined();
    const object = emu!.b.inspect.object('demo/gcs', ref!.path);
    expect(object?.data.equals(data), name).toBe(true);
  }
}

describe('GCS resumable uploads', () => {
  it('the next offset of a session comes from the 308 Range header', () => {
    expect(gcsNextOffset('bytes=0-262143')).toBe(262144);
    expect(gcsNextOffset(undefined)).toBe(0);
  });

  it('small, empty, multi-chunk and chunk-aligned files land with every byte', async () => {
    const { omissions, files } = await uploadAll();
    expect(omissions).toEqual([]);
    expectStored(files);
  });

  it.each([
    ['reset connections', { resetConnections: { count: 3 }, only: 'storage' as const }],
    ['503s', { force5xx: { count: 3, status: 503 }, only: 'storage' as const }],
  ])('%s on the storage: chunks are resumed from what the session holds, the bytes are equal', async (_, faults) => {
    const { omissions, files } = await uploadAll(faults);
    expect(omissions).toEqual([]);
    expectStored(files);
    expect(target!.stats().failedAttempts).toBe(3);
  });
});
