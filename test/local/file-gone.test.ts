/**
 * A run folder's file listed but gone from disk before its download: the source says so in a way the
 * file migration reads as "gone" (isFileGone: a download-failed line, the run done), whereas a file
 * that changed since its listing may be read whole on the next pass (not gone: the run is left not done).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isFileGone, SourceFileGone } from '../../src/core/errors.ts';
import type { RunFile, RunInfo } from '../../src/core/records.ts';
import { createLocalSource } from '../../src/sources/local/source.ts';
import { encodeLog, rec } from '../../src/sources/local/wandb-log/test-log-writer.ts';

let tmp: string;
let filesDir: string;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'w2n-file-gone-'));
  const dir = join(tmp, 'proj', 'wandb', 'run-20231114_221320-gone1');
  filesDir = join(dir, 'files');
  mkdirSync(filesDir, { recursive: true });
  writeFileSync(join(dir, 'run-gone1.wandb'), encodeLog([rec.header('0.19.8'), rec.run({ runId: 'gone1', project: 'p', startTime: 1_700_000_000 }), rec.exit(0)]).bytes);
  writeFileSync(join(filesDir, 'kept.txt'), 'kept');
  writeFileSync(join(filesDir, 'deleted.txt'), 'deleted');
  writeFileSync(join(filesDir, 'grown.txt'), 'grown');
});

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('a run folder file that is not there to download', () => {
  it('deleted after the listing: SourceFileGone, read as gone; changed since: an error that is not', async () => {
    const src = createLocalSource({ path: join(tmp, 'proj') });
    let run: RunInfo | undefined;
    for await (const r of src.listRuns('p', {})) run = r;
    const listed = new Map<string, RunFile>();
    for await (const f of src.files(run!)) listed.set(f.name, f);
    expect([...listed.keys()].sort()).toEqual(['deleted.txt', 'grown.txt', 'kept.txt']);

    rmSync(join(filesDir, 'deleted.txt'));
    writeFileSync(join(filesDir, 'grown.txt'), 'grown since');

    const kept = await src.fetchFile(run!, listed.get('kept.txt')!);
    expect(kept.sizeBytes).toBe(4);
    const gone = await src.fetchFile(run!, listed.get('deleted.txt')!).catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(SourceFileGone);
    expect((gone as Error).message).toBe('file deleted.txt of run gone1 is no longer on disk');
    expect(isFileGone(gone)).toBe(true);
    const changed = await src.fetchFile(run!, listed.get('grown.txt')!).catch((e: unknown) => e);
    expect((changed as Error).message).toMatch(/changed on disk: 11 bytes, listed 5/);
    expect(isFileGone(changed)).toBe(false);
  });
});
