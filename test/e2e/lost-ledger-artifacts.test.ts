/**
 * Artifact files after a lost ledger, through the CLI over Protocol A and B. W&B's manifest gives each
 * stored entry's MD5 (its digest), so where the target can prove what it holds (B: storage's MD5/ETag)
 * a file is kept only when proven the same, and one with the same size and other bytes is sent again;
 * the version's manifest file (kept for its reference entries) too. Protocol A lists a file set's
 * entries with their sizes only (served spec `FileEntry`: fileType, mtime, name, size): a file of the
 * same size is kept, and the report says it was kept on size (`filesKeptOnSize`), never that it was proven.
 */
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../../emulators/stack.ts';
import type { GenRun } from '../../emulators/wandb/index.ts';
import { bufferFile } from '../../emulators/wandb/generator/files.ts';
import { manifestJson, patternFile, type GenArtifact } from '../../emulators/wandb/generator/artifacts.ts';
import { events, runCli } from '../support/cli.ts';
import { fileBytes } from '../support/expected.ts';
import { neptuneRunId } from '../support/neptune-snapshot.ts';
import { closeStackInTemp, startStackInTemp } from '../support/stack-in-temp.ts';

const CREATED = '2024-03-01T00:00:00';
const PROJECT = 'lost_art';
const LOGGER = 'lostart01';
const logger: GenRun = {
  id: LOGGER, displayName: LOGGER, tags: [], state: 'finished', createdAt: CREATED, heartbeatAt: CREATED, user: 'u', config: {}, summary: {},
  historyRowCount: 0, lastStep: -1, history: () => [], exportedBelowStep: 0,
  systemEvents: () => [], systemEventCount: 0, eventsFileListed: false, consoleLines: [], files: [],
};
const entries = () => [
  { path: 'big.bin', file: patternFile('big.bin', 300_000, 5) },
  { path: 'small.txt', file: bufferFile('small.txt', 'a small file of the dataset\n') },
  { path: 'sub/other.txt', file: bufferFile('sub/other.txt', 'another one\n') },
  { path: 'remote.csv', ref: 's3://bucket/remote.csv', refDigest: 'etag-of-remote', refSize: 1234 },
];
const ARTIFACT: GenArtifact = {
  project: PROJECT, name: 'data', type: 'dataset', versionIndex: 0, aliases: ['latest'], createdAt: CREATED,
  entries: entries(), loggedBy: LOGGER, usedBy: [],
};
const FILES_PATH = 'artifacts/data/v0/files';
const MANIFEST_PATH = 'artifacts/data/v0/manifest';

/** The same size, other bytes. */
function rewrite(path: string): void {
  const e = ARTIFACT.entries.find((x) => x.path === path)!;
  const bytes = fileBytes(e.file!);
  for (let i = 0; i < bytes.length; i++) bytes[i] ^= 0x5a;
  e.file = bufferFile(path, bytes);
}

let stack: Stack;
let dir: string;

type Report = { runs: Array<{ status: string; error?: string; written: Record<string, number>; notWritten: Array<{ reason: string; subject: string }> }> };
const reportOf = (stdout: string) => (events(stdout).find((e) => e.type === 'report') as unknown as { report: Report }).report;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const want = () => Object.fromEntries(ARTIFACT.entries.filter((e) => e.file).map((e) => [e.path, sha(fileBytes(e.file!))]));

beforeAll(async () => {
  ({ stack, dir } = await startStackInTemp('w2n-lost-art-', {
    entity: { name: 'lost-team', projects: [{ name: PROJECT, createdAt: CREATED, runs: [logger] }], artifacts: [ARTIFACT] },
    neptune: { protocolB: { statusDelayMs: 5 } },
  }));
}, 60_000);

afterAll(() => closeStackInTemp(stack, dir));

describe.each(['a', 'b'])('artifact files after a lost ledger, over Protocol %s', (protocol) => {
  const target = `lost-art-${protocol}`;
  const ledger = () => join(dir, `${target}.sqlite`);
  const migrate = () =>
    runCli(['migrate', '--workspace', 'demo', '--projects', PROJECT, '--project-map', `${PROJECT}=${target}`, '--protocol', protocol, '--include', 'artifacts',
      '--yes', '--json', '--ledger', ledger()], stack.env, dir).done;
  const forgetLedger = () => {
    for (const suffix of ['', '-wal', '-shm']) rmSync(ledger() + suffix, { force: true });
  };
  const landed = (set: string): Record<string, string> => {
    if (protocol === 'a') {
      const id = neptuneRunId(stack.neptune, `demo/${target}`, LOGGER);
      return Object.fromEntries(Object.entries(id ? stack.neptune.inspect.fileSet(id, set) : {}).map(([k, b]) => [k, sha(b)]));
    }
    const b = stack.neptune.b!.inspect;
    const held: Record<string, string> = {};
    for (const [path, a] of Object.entries(b.attributes(`demo/${target}`, LOGGER))) {
      if (path.startsWith(`${set}/`) && a.type === 'fileRef') held[path.slice(set.length + 1)] = sha(b.object(`demo/${target}`, (a.value as { path: string }).path)!.data);
    }
    return held;
  };
  const manifest = () => ({ 'wandb_manifest.json': sha(Buffer.from(manifestJson(ARTIFACT))) });
  /** What the Neptune emulator took in: request bodies (A: the files themselves; B: storage's too). */
  const received = () => stack.neptune.stats().bodyBytes;

  it('files proven the same are kept; one rewritten at the same size is sent again where the target can tell, and said kept on size where it cannot', async () => {
    ARTIFACT.entries = entries();
    const first = await migrate();
    expect(first.code, first.stderr).toBe(0);
    expect(landed(FILES_PATH)).toEqual(want());
    expect(landed(MANIFEST_PATH)).toEqual(manifest());

    // Nothing changed: every file is held, none sent again.
    forgetLedger();
    let before = received();
    const second = await migrate();
    expect(second.code, second.stderr).toBe(0);
    const r2 = reportOf(second.stdout).runs[0];
    expect(r2.status).toBe('migrated');
    expect(landed(FILES_PATH)).toEqual(want());
    expect(received() - before).toBeLessThan(100_000);
    // 3 stored files and the manifest.
    expect(r2.written.filesAlreadyPresent).toBe(4);
    expect(r2.written.artifactFiles ?? 0).toBe(0);
    if (protocol === 'b') expect(r2.written.filesKeptOnSize ?? 0).toBe(0);
    else {
      expect(r2.written.filesKeptOnSize).toBe(4);
      const text = await runCli(['report', '--ledger', ledger()], stack.env, dir).done;
      expect(text.stdout + text.stderr).toContain('(of which 4 files were already in Neptune; 4 of those files kept on size, their bytes not verified)');
    }

    // A file and (with it, its digest) the manifest rewritten at the same size.
    const oldBig = want()['big.bin'];
    const oldManifest = manifest();
    rewrite('big.bin');
    expect(want()['big.bin']).not.toBe(oldBig);
    expect(manifest()).not.toEqual(oldManifest);
    forgetLedger();
    before = received();
    const third = await migrate();
    expect(third.code, third.stderr).toBe(0);
    const r3 = reportOf(third.stdout).runs[0];
    expect(r3.status).toBe('migrated');
    if (protocol === 'b') {
      // Storage's MD5 tells them apart: the rewritten file and the manifest are sent again and land.
      expect(landed(FILES_PATH)).toEqual(want());
      expect(landed(MANIFEST_PATH)).toEqual(manifest());
      expect(r3.written).toMatchObject({ artifactFiles: 1, filesAlreadyPresent: 2 });
      expect(r3.written.filesKeptOnSize ?? 0).toBe(0);
      expect(received() - before).toBeGreaterThanOrEqual(300_000);
    } else {
      // Nothing tells them apart over A: kept, and the report says on what ground.
      expect(landed(FILES_PATH)).toEqual({ ...want(), 'big.bin': oldBig });
      expect(r3.written).toMatchObject({ filesAlreadyPresent: 4, filesKeptOnSize: 4 });
      expect(received() - before).toBeLessThan(100_000);
    }
  }, 120_000);
});
