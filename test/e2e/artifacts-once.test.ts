/**
 * Issue 11, "Done when": an artifact version used by 20 runs is copied once (by the run that logged
 * it; the 20 get `artifacts/used`), and a migration killed mid-artifact, then run again, uploads each
 * of the version's files exactly once — through the CLI, counting the Neptune emulator's uploads.
 */
import Database from 'better-sqlite3';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../../emulators/stack.ts';
import type { GenRun } from '../../emulators/wandb/index.ts';
import { patternFile, type GenArtifact } from '../../emulators/wandb/generator/artifacts.ts';
import { events, runCli } from '../support/cli.ts';
import { fileBytes } from '../support/expected.ts';
import { neptuneRunId } from '../support/neptune-snapshot.ts';
import { closeStackInTemp, startStackInTemp } from '../support/stack-in-temp.ts';

const CREATED = '2024-03-01T00:00:00';
const PROJECT = 'shared_proj';
const FILES = 6;

function run(id: string): GenRun {
  return {
    id, displayName: id, tags: [], state: 'finished', createdAt: CREATED, heartbeatAt: CREATED, user: 'u', config: {}, summary: {},
    historyRowCount: 0, lastStep: -1, history: () => [], exportedBelowStep: 0,
    systemEvents: () => [], systemEventCount: 0, eventsFileListed: false, consoleLines: [], files: [],
  };
}

const LOGGER = 'logger01';
const USERS = Array.from({ length: 20 }, (_, i) => `user${String(i).padStart(4, '0')}`);
const ARTIFACT: GenArtifact = {
  project: PROJECT, name: 'shared', type: 'dataset', versionIndex: 0, aliases: ['latest'], createdAt: CREATED, metadata: { n: FILES },
  entries: Array.from({ length: FILES }, (_, i) => ({ path: `part-${i}.bin`, file: patternFile(`part-${i}.bin`, 300_000 + i, i + 3) })),
  loggedBy: LOGGER, usedBy: USERS,
};

// Another project: a version with a file over a 1 MiB `--artifact-max-size`.
const BIG: GenArtifact = {
  project: 'big_proj', name: 'weights', type: 'model', versionIndex: 0, aliases: [], createdAt: CREATED,
  entries: [{ path: 'big.bin', file: patternFile('big.bin', 1024 * 1024 + 1, 9) }, { path: 'small.bin', file: patternFile('small.bin', 1024, 8) }],
  loggedBy: 'bigrun01', usedBy: [],
};

// Another project: entries whose names come to one path (`dir\x.txt` and `dir/x.txt`) and one renamed alone.
const TWINS: GenArtifact = {
  project: 'twin_proj', name: 'twins', type: 'dataset', versionIndex: 0, aliases: [], createdAt: CREATED,
  entries: [
    { path: 'dir\\x.txt', file: patternFile('dir\\x.txt', 1000, 4) },
    { path: 'dir/x.txt', file: patternFile('dir/x.txt', 1000, 5) },
    { path: 'a\\b.bin', file: patternFile('a\\b.bin', 2000, 6) },
  ],
  loggedBy: 'twinrun01', usedBy: [],
};

let stack: Stack;
let dir: string;

const uploads = () => Object.entries(stack.neptune.stats().byEndpoint).filter(([name]) => /upload/i.test(name)).reduce((n, [, c]) => n + c, 0);
const migrate = (target: string, ledger: string, extra: string[] = []) =>
  runCli(['migrate', '--workspace', 'demo', '--projects', PROJECT, '--project-map', `${PROJECT}=${target}`, '--include', 'artifacts', '--yes', '--json',
    '--ledger', join(dir, ledger), ...extra], stack.env, dir);
const files = (project: string, runId: string) => {
  const id = neptuneRunId(stack.neptune, `demo/${project}`, runId);
  return id ? stack.neptune.inspect.fileSet(id, 'artifacts/shared/v0/files') : {};
};
const want = () => Object.fromEntries(ARTIFACT.entries.map((e) => [e.path, fileBytes(e.file!)]));

beforeAll(async () => {
  ({ stack, dir } = await startStackInTemp('w2n-artifacts-once-', {
    entity: { name: 'once-team', projects: [{ name: PROJECT, createdAt: CREATED, runs: [run(LOGGER), ...USERS.map(run)] }, { name: 'big_proj', createdAt: CREATED, runs: [run('bigrun01')] },
      { name: 'twin_proj', createdAt: CREATED, runs: [run('twinrun01')] }],
      artifacts: [ARTIFACT, BIG, TWINS] },
    neptune: { protocolB: { statusDelayMs: 5 } },
  }));
}, 60_000);

afterAll(() => closeStackInTemp(stack, dir));

describe('an artifact version is copied once (issue 11)', () => {
  it('killed mid-artifact, then resumed: every file lands, each uploaded exactly once', async () => {
    // Slow storage so the kill falls between two files of the version.
    stack.wandb.setFaults({ downloadBytesPerSecond: 1_000_000 });
    const before = uploads();
    const first = migrate('killed', 'killed.sqlite', ['--runs', LOGGER, '--file-concurrency', '1']);
    await new Promise<void>((resolve, reject) => {
      let landed = 0;
      let partial = '';
      first.child.stdout!.on('data', (d: Buffer) => {
        partial += d;
        const lines = partial.split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) {
          const e = line.startsWith('{') ? (JSON.parse(line) as { type?: string; stream?: string }) : {};
          if (e.type === 'run.progress' && e.stream === 'files' && ++landed === 2) resolve();
        }
      });
      void first.done.then(() => reject(new Error('the migration ended before the kill')));
    });
    first.child.kill('SIGKILL');
    await first.done;
    const partly = Object.keys(files('killed', LOGGER)).length;
    expect(partly).toBeGreaterThanOrEqual(2);
    expect(partly).toBeLessThan(FILES);

    stack.wandb.setFaults(undefined);
    const second = await migrate('killed', 'killed.sqlite', ['--runs', LOGGER]).done;
    expect(second.code, second.stderr).toBe(0);
    expect(files('killed', LOGGER)).toEqual(want());
    expect(uploads() - before).toBe(FILES);
    const report = (events(second.stdout).find((e) => e.type === 'report') as unknown as { report: { runs: Array<{ written: Record<string, number> }> } }).report;
    expect(report.runs[0].written.artifactFiles).toBe(FILES);
  }, 120_000);

  it('over B, a kill between the target\'s ack of some files and their ledger commit: the resume asks the target, and every byte is sent once', async () => {
    const puts = () => stack.neptune.stats().byEndpoint.storagePutObject ?? 0;
    const ledger = join(dir, 'b-acked.sqlite');
    const before = puts();
    const first = await migrate('b-acked', 'b-acked.sqlite', ['--runs', LOGGER, '--protocol', 'b']).done;
    expect(first.code, first.stderr).toBe(0);
    expect(puts() - before).toBe(FILES);
    // The state such a kill leaves: Neptune acknowledged (and holds) every file, the ledger heard of the
    // first three only — the version still copying, the run not done, its counts without the other three.
    const lost = ARTIFACT.entries.slice(3);
    const db = new Database(ledger);
    try {
      const del = db.prepare('DELETE FROM artifact_files WHERE artifact = ? AND path = ?');
      for (const e of lost) expect(del.run(`once-team/${PROJECT}/shared:v0`, e.path).changes).toBe(1);
      db.prepare(`UPDATE artifact_versions SET status = 'copying'`).run();
      db.prepare(`UPDATE runs SET status = 'in_progress', completed_at = NULL`).run();
      const bytes = lost.reduce((n, e) => n + e.file!.sizeBytes, 0);
      const less = db.prepare(`UPDATE counts SET value = value - ? WHERE scope = 'files' AND name = ?`);
      for (const [name, by] of [['files', lost.length], ['artifactFiles', lost.length], ['bytes', bytes]] as const) expect(less.run(by, name).changes).toBe(1);
    } finally {
      db.close();
    }
    const second = await migrate('b-acked', 'b-acked.sqlite', ['--runs', LOGGER, '--protocol', 'b']).done;
    expect(second.code, second.stderr).toBe(0);
    expect(puts() - before).toBe(FILES);
    const b = stack.neptune.b.inspect;
    const held = Object.fromEntries(Object.entries(b.attributes('demo/b-acked', LOGGER)).filter(([p]) => p.startsWith('artifacts/shared/v0/files/'))
      .map(([p, a]) => [p.slice('artifacts/shared/v0/files/'.length), b.object('demo/b-acked', (a.value as { path: string }).path)!.data]));
    expect(held).toEqual(want());
    // What the target holds, counted once: three written by the first pass, three found there by the second.
    const report = (events(second.stdout).find((e) => e.type === 'report') as unknown as { report: { runs: Array<{ written: Record<string, number> }> } }).report;
    expect(report.runs[0].written).toMatchObject({ artifactFiles: 3, filesAlreadyPresent: 3 });

    // The ledger lost altogether: the target is asked too, and nothing is sent again.
    rmSync(ledger);
    const third = await migrate('b-acked', 'b-acked.sqlite', ['--runs', LOGGER, '--protocol', 'b']).done;
    expect(third.code, third.stderr).toBe(0);
    expect(puts() - before).toBe(FILES);
    const again = (events(third.stdout).find((e) => e.type === 'report') as unknown as { report: { runs: Array<{ written: Record<string, number> }> } }).report;
    expect(again.runs[0].written.artifactFiles ?? 0).toBe(0);
    expect(again.runs[0].written.filesAlreadyPresent).toBe(FILES);
  }, 120_000);

  it('artifact downloads cut off half-way are fetched again within the run, as run files are', async () => {
    stack.wandb.setFaults({ truncateRate: 0.5, seed: 5 });
    const downloads = stack.wandb.stats().downloads;
    const out = await migrate('cut', 'cut.sqlite', ['--runs', LOGGER]).done;
    stack.wandb.setFaults(undefined);
    expect(out.code, out.stderr).toBe(0);
    expect(files('cut', LOGGER)).toEqual(want());
    expect(stack.wandb.stats().downloads - downloads).toBeGreaterThan(FILES + 1); // the manifest, the files, and the cut ones again
    const report = (events(out.stdout).find((e) => e.type === 'report') as unknown as { report: { runs: Array<{ status: string; notWritten: unknown[] }> } }).report;
    expect(report.runs[0]).toMatchObject({ status: 'migrated', notWritten: [] });
  }, 120_000);

  it('an artifact file storage fails to serve past the retries (503): a download-failed line naming artifact, version and file, the run left not done (exit 3); the next pass copies it', async () => {
    stack.wandb.setFaults({ fileStatus: { 'shared:v0/part-2.bin': 503 } });
    const before = uploads();
    const out = await migrate('refused', 'refused.sqlite', ['--runs', LOGGER, '--retries', '0']).done;
    stack.wandb.setFaults(undefined);
    expect(out.code).toBe(3);
    type R = { runs: Array<{ status: string; error?: string; notWritten: Array<{ reason: string; subject: string; detail?: string }> }> };
    const report = (events(out.stdout).find((e) => e.type === 'report') as unknown as { report: R }).report;
    expect(report.runs[0].status).toBe('failed');
    expect(report.runs[0].error).toContain('artifacts/shared/v0/files/part-2.bin');
    expect(report.runs[0].notWritten).toEqual([{
      reason: 'download-failed', subject: 'artifacts/shared/v0/files/part-2.bin', count: 1,
      detail: expect.stringMatching(/file part-2\.bin of artifact once-team\/shared_proj\/shared:v0 .*HTTP 503/),
    }]);
    const { 'part-2.bin': _missing, ...others } = want();
    expect(files('refused', LOGGER)).toEqual(others);
    // The next pass (storage serving the file again) copies the one file left, and says nothing more of it.
    const again = await migrate('refused', 'refused.sqlite', ['--runs', LOGGER]).done;
    expect(again.code, again.stderr).toBe(0);
    expect(files('refused', LOGGER)).toEqual(want());
    expect(uploads() - before).toBe(FILES);
    const after = (events(again.stdout).find((e) => e.type === 'report') as unknown as { report: R }).report;
    expect(after.runs[0]).toMatchObject({ status: 'migrated', notWritten: [] });
  }, 120_000);

  // One rule with run files (test/e2e/run-file-retry.test.ts): what storage says does not exist is gone.
  // A version is immutable and its blob is addressed by its digest: a retry would meet the same 404.
  it.each([404, 410])('an artifact file storage says is gone (%i): a download-failed line and the run done (exit 0); an unchanged re-run does not try it again', async (status) => {
    const target = `gone-${status}`;
    const ledger = `${target}.sqlite`;
    stack.wandb.setFaults({ fileStatus: { 'shared:v0/part-2.bin': status } });
    try {
      const out = await migrate(target, ledger, ['--runs', LOGGER]).done;
      expect(out.code, out.stderr).toBe(0);
      type R = { runs: Array<{ status: string; error?: string; written: Record<string, number>; notWritten: Array<{ reason: string; subject: string; detail?: string }> }> };
      const report = (events(out.stdout).find((e) => e.type === 'report') as unknown as { report: R }).report;
      expect(report.runs[0]).toMatchObject({ status: 'migrated' });
      expect(report.runs[0].error).toBeUndefined();
      expect(report.runs[0].written.artifactFiles).toBe(FILES - 1);
      expect(report.runs[0].notWritten).toEqual([{
        reason: 'download-failed', subject: 'artifacts/shared/v0/files/part-2.bin', count: 1,
        detail: expect.stringMatching(new RegExp(`file part-2\\.bin of artifact once-team/shared_proj/shared:v0 .*HTTP ${status}`)),
      }]);
      const { 'part-2.bin': _missing, ...others } = want();
      expect(files(target, LOGGER)).toEqual(others);
      // The run is done: a second pass reads nothing of it again (no download), and reports the same line.
      const downloads = stack.wandb.stats().downloads;
      const again = await migrate(target, ledger, ['--runs', LOGGER]).done;
      expect(again.code, again.stderr).toBe(0);
      expect(stack.wandb.stats().downloads).toBe(downloads);
      const second = (events(again.stdout).find((e) => e.type === 'report') as unknown as { report: R }).report;
      expect(second.runs[0].status).toBe('skipped');
      expect(second.runs[0].notWritten).toEqual(report.runs[0].notWritten);
    } finally {
      stack.wandb.setFaults(undefined);
    }
  }, 120_000);

  it('a version whose manifest storage says is gone (404): a download-failed line for the version, the run done; verify counts it as the report\'s omission, not a mismatch', async () => {
    const ledger = 'no-manifest.sqlite';
    type R = { runs: Array<{ status: string; notWritten: Array<{ reason: string; subject: string; detail?: string }> }> };
    stack.wandb.setFaults({ fileStatus: { 'shared:v0': 404 } });
    try {
      const out = await migrate('no-manifest', ledger, ['--runs', LOGGER]).done;
      expect(out.code, out.stderr).toBe(0);
      const report = (events(out.stdout).find((e) => e.type === 'report') as unknown as { report: R }).report;
      expect(report.runs[0].status).toBe('migrated');
      expect(report.runs[0].notWritten).toEqual([{ reason: 'download-failed', subject: 'artifacts/shared/v0', count: 1, detail: expect.stringMatching(/manifest is gone .*HTTP 404/) }]);
      expect(files('no-manifest', LOGGER)).toEqual({});
      const v = await runCli(['verify', '--workspace', 'demo', '--projects', PROJECT, '--project-map', `${PROJECT}=no-manifest`, '--runs', LOGGER, '--json',
        '--ledger', join(dir, ledger)], stack.env, dir).done;
      expect(v.code, v.stderr).toBe(0);
      type V = { runs: Array<{ status: string; error?: string; differences: Array<{ subject: string; explainedBy?: { reason: string } }> }> };
      const verified = (events(v.stdout).find((e) => e.type === 'report') as unknown as { report: V }).report.runs[0];
      expect(verified).toMatchObject({ status: 'verified-with-omissions' });
      expect(verified.error).toBeUndefined();
      expect(verified.differences.map((d) => [d.subject, d.explainedBy?.reason])).toEqual([['artifacts/shared/v0', 'download-failed']]);
    } finally {
      stack.wandb.setFaults(undefined);
    }
  }, 120_000);

  it('entries whose names come to one path both land (one moved aside), and every rename is a report line', async () => {
    const out = await runCli(['migrate', '--workspace', 'demo', '--projects', 'twin_proj', '--include', 'artifacts', '--yes', '--json',
      '--ledger', join(dir, 'twins.sqlite')], stack.env, dir).done;
    expect(out.code, out.stderr).toBe(0);
    const id = neptuneRunId(stack.neptune, 'demo/twin-proj', 'twinrun01')!;
    const [back, clean, alone] = TWINS.entries.map((e) => fileBytes(e.file!));
    expect(stack.neptune.inspect.fileSet(id, 'artifacts/twins/v0/files')).toEqual({ 'dir/x.txt': clean, 'dir/x_.txt': back, 'a/b.bin': alone });
    const report = (events(out.stdout).find((e) => e.type === 'report') as unknown as { report: { runs: Array<{ notWritten: Array<{ reason: string; subject: string; detail?: string }> }> } }).report;
    expect(report.runs[0].notWritten.filter((o) => o.reason === 'renamed').map((o) => [o.subject, o.detail]).sort()).toEqual([
      ['artifacts/twins/v0/files/a\\b.bin', '→ artifacts/twins/v0/files/a/b.bin: "\\" read as a folder separator'],
      ['artifacts/twins/v0/files/dir\\x.txt', '→ artifacts/twins/v0/files/dir/x_.txt: "\\" read as a folder separator; dir/x.txt is the path of W&B file dir/x.txt'],
    ]);
  }, 120_000);

  it('used by 20 runs: the logging run holds the one copy, the 20 hold `artifacts/used`; files uploaded once', async () => {
    const before = uploads();
    const out = await migrate('once', 'once.sqlite', ['--concurrency', '4']).done;
    expect(out.code, out.stderr).toBe(0);
    expect(files('once', LOGGER)).toEqual(want());
    for (const u of USERS) {
      const id = neptuneRunId(stack.neptune, 'demo/once', u)!;
      expect(stack.neptune.inspect.stringSet(id, 'artifacts/used'), u).toEqual(['shared:v0']);
      expect(Object.keys(stack.neptune.inspect.attributes(id)).filter((p) => p.startsWith('artifacts/shared')), u).toEqual([]);
    }
    expect(uploads() - before).toBe(FILES);
    // An unchanged second pass copies nothing.
    const again = await migrate('once', 'once.sqlite').done;
    expect(again.code, again.stderr).toBe(0);
    expect(uploads() - before).toBe(FILES);
  }, 120_000);

  it('--artifact-max-size leaves out the bigger files, each a too-large line; without --include artifacts it is a usage error (exit 2)', async () => {
    const ok = await runCli(['migrate', '--workspace', 'demo', '--projects', 'big_proj', '--include', 'artifacts', '--artifact-max-size', '1', '--yes', '--json',
      '--ledger', join(dir, 'big.sqlite')], stack.env, dir).done;
    expect(ok.code, ok.stderr).toBe(0);
    const id = neptuneRunId(stack.neptune, 'demo/big-proj', 'bigrun01')!;
    expect(stack.neptune.inspect.fileSet(id, 'artifacts/weights/v0/files')).toEqual({ 'small.bin': fileBytes(BIG.entries[1].file!) });
    const report = (events(ok.stdout).find((e) => e.type === 'report') as unknown as { report: { runs: Array<{ notWritten: Array<{ reason: string; subject: string }> }> } }).report;
    expect(report.runs[0].notWritten.map((o) => [o.reason, o.subject])).toEqual([['too-large', 'artifacts/weights/v0/files/big.bin']]);
    const bad = await runCli(['migrate', '--workspace', 'demo', '--projects', 'big_proj', '--artifact-max-size', '1', '--yes', '--ledger', join(dir, 'bad.sqlite')], stack.env, dir).done;
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--artifact-max-size limits the artifacts --include artifacts copies');
  }, 120_000);

  it('signed URLs handed out expired (manifest and files): asked again, every file lands', async () => {
    stack.wandb.setFaults({ staleFirstUrls: true });
    const expiredBefore = stack.wandb.stats().expiredUrls;
    const out = await runCli(['migrate', '--workspace', 'demo', '--projects', 'big_proj', '--project-map', 'big_proj=stale', '--include', 'artifacts', '--yes', '--json',
      '--ledger', join(dir, 'stale.sqlite')], stack.env, dir).done;
    stack.wandb.setFaults(undefined);
    expect(out.code, out.stderr).toBe(0);
    expect(stack.wandb.stats().expiredUrls - expiredBefore).toBeGreaterThanOrEqual(2);
    const id = neptuneRunId(stack.neptune, 'demo/stale', 'bigrun01')!;
    expect(stack.neptune.inspect.fileSet(id, 'artifacts/weights/v0/files')).toEqual(Object.fromEntries(BIG.entries.map((e) => [e.path, fileBytes(e.file!)])));
  }, 120_000);
});

