/**
 * The report after a lost ledger equals what the target holds and what crossed the wire, over Protocol
 * B. A file stored in parts has an S3 multipart ETag, which the source's MD5 alone cannot prove: it is
 * proven at the upload, from the downloaded bytes (uploads.ts `held`), and its bytes are not sent. The
 * report must then say it was already in Neptune, with no bytes written — not count it as a file
 * written with its bytes. Run files, a media file and artifact files, migrated, the ledger deleted, migrated again:
 * the second report's counts are compared with the FileRefs the emulator holds (their objects' bytes
 * equal W&B's) and with the bytes storage received (none).
 */
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../../emulators/stack.ts';
import type { GenRun } from '../../emulators/wandb/index.ts';
import { patternFile, type GenArtifact } from '../../emulators/wandb/generator/artifacts.ts';
import { bufferFile } from '../../emulators/wandb/generator/files.ts';
import type { MigrationReport } from '../../src/pipeline/report.ts';
import { events, runCli } from '../support/cli.ts';
import { fileBytes } from '../support/expected.ts';
import { closeStackInTemp, startStackInTemp } from '../support/stack-in-temp.ts';

const CREATED = '2024-03-01T00:00:00';
const PROJECT = 'kept_up';
const TARGET = 'demo/kept-up';
const RUN = 'keptup01';
const RUN_FILES = [patternFile('weights/big.bin', 300_000, 11), patternFile('weights/other.bin', 270_000, 12), bufferFile('notes.txt', 'kept as they were\n')];
// A summary image big enough for parts: a media file, carried by every pass.
const IMAGE = patternFile('media/images/best_3_abc.png', 290_000, 14);
const ARTIFACT_FILES = [{ path: 'shard.bin', file: patternFile('shard.bin', 280_000, 13) }, { path: 'small.txt', file: bufferFile('small.txt', 'a small file\n') }];
const run: GenRun = {
  id: RUN, displayName: RUN, tags: [], state: 'finished', createdAt: CREATED, heartbeatAt: CREATED, user: 'u', config: {},
  summary: { best: { _type: 'image-file', path: IMAGE.name } },
  historyRowCount: 0, lastStep: -1, history: () => [], exportedBelowStep: 0,
  systemEvents: () => [], systemEventCount: 0, eventsFileListed: false, consoleLines: [], files: [...RUN_FILES, IMAGE],
};
const ARTIFACT: GenArtifact = {
  project: PROJECT, name: 'data', type: 'dataset', versionIndex: 0, aliases: ['latest'], createdAt: CREATED,
  entries: ARTIFACT_FILES, loggedBy: RUN, usedBy: [],
};

let stack: Stack;
let dir: string;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  ({ stack, dir } = await startStackInTemp('w2n-kept-up-', {
    entity: { name: 'kept-team', projects: [{ name: PROJECT, createdAt: CREATED, runs: [run] }], artifacts: [ARTIFACT] },
    // Files above 200 kB go in 128 KiB parts: their ETag is S3's multipart form.
    neptune: { protocolB: { statusDelayMs: 2, multipartThreshold: 200_000, multipartPartSize: 128 * 1024 } },
  }));
}, 60_000);

afterAll(() => closeStackInTemp(stack, dir));

const ledger = () => join(dir, 'ledger.sqlite');
async function migrate(): Promise<MigrationReport> {
  const out = await runCli(['migrate', '--workspace', 'demo', '--projects', PROJECT, '--protocol', 'b', '--include', 'artifacts', '--yes', '--json', '--ledger', ledger()], stack.env, dir).done;
  expect(out.code, out.stderr.slice(-2000)).toBe(0);
  return (events(out.stdout).find((e) => e.type === 'report') as unknown as { report: MigrationReport }).report;
}

/** Every FileRef the run holds: attribute → sha256 of the object it points at, and the objects' bytes in all. */
function held(): { files: Record<string, string>; bytes: number } {
  const b = stack.neptune.b.inspect;
  const files: Record<string, string> = {};
  let bytes = 0;
  for (const [path, a] of Object.entries(b.attributes(TARGET, RUN))) {
    if (a.type !== 'fileRef') continue;
    const data = b.object(TARGET, (a.value as { path: string }).path)!.data;
    files[path] = sha(data);
    bytes += data.length;
  }
  return { files, bytes };
}

describe('files proven at the upload after a lost ledger (Protocol B)', () => {
  it('are counted as already in Neptune with no bytes written, as storage received none', async () => {
    const first = await migrate();
    const want = {
      ...Object.fromEntries(RUN_FILES.map((f) => [`files/${f.name}`, sha(fileBytes(f))])),
      ...Object.fromEntries(ARTIFACT_FILES.map((e) => [`artifacts/data/v0/files/${e.path}`, sha(fileBytes(e.file))])),
      'summary/media/images/best/summary.png': sha(fileBytes(IMAGE)),
    };
    const after1 = held();
    expect(after1.files).toEqual(want);
    const n = Object.keys(want).length;
    const total = [...RUN_FILES.map(fileBytes), ...ARTIFACT_FILES.map((e) => fileBytes(e.file)), fileBytes(IMAGE)].reduce((s, b) => s + b.length, 0);
    // The first pass wrote every file, and its bytes are what storage holds.
    expect(first.runs[0].written).toMatchObject({ files: n, bytes: total });
    expect(first.totals).toMatchObject({ files: n, filesAlreadyPresent: 0, bytes: after1.bytes });

    for (const suffix of ['', '-wal', '-shm']) rmSync(ledger() + suffix, { force: true });
    const sentBefore = stack.neptune.b.stats().storagePutBytes;
    const second = await migrate();
    const sent = stack.neptune.b.stats().storagePutBytes - sentBefore;
    expect(sent).toBe(0);
    expect(held().files).toEqual(want);
    const r = second.runs[0];
    expect(r.status).toBe('migrated');
    // The raw image is carried through its summary value, not as a run file (the documented default).
    expect(r.notWritten).toEqual([expect.objectContaining({ reason: 'excluded-by-default', subject: IMAGE.name })]);
    // All of them were there; none written by this pass, and no byte (storage received none).
    expect(r.written.filesAlreadyPresent).toBe(n);
    expect(r.written.files ?? 0).toBe(0);
    expect(r.written.artifactFiles ?? 0).toBe(0);
    expect(r.written.mediaFiles ?? 0).toBe(0);
    expect(r.written.bytes ?? 0).toBe(sent);
    expect(second.totals).toMatchObject({ files: n, filesAlreadyPresent: n, bytes: 0 });
  }, 120_000);
});
