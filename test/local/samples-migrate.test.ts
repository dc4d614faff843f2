/**
 * Issue 5: every real sample run folder migrated from disk into the Neptune emulator, and what the
 * emulator holds compared with counts taken independently from the same folder (SOURCES.md facts as
 * literals, else the test-only counter in ./independent-counts.ts, which shares no code with
 * src/sources/local).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNeptuneEmulator, type NeptuneEmulator } from '../../emulators/neptune/index.ts';
import type { MigrateOutcome } from '../../src/commands/migrate.ts';
import { countFolder, type FolderCounts } from './independent-counts.ts';
import { findRuns, migrateFolder, runIdOf, SAMPLES, sampleDirs, seriesOf, type StoredRun } from './helpers.ts';

/** SOURCES.md facts, one entry per row (named by its run id). */
const FACTS: Record<string, { rows?: number; metrics?: number; lines?: number; samples?: number; sysPoints?: number; sysKeys?: number; configKeys?: number; nan?: Record<string, number>; media?: number; state: string; exitCode?: number }> = {
  '2zuxwf70': { rows: 0, lines: 36, samples: 1, state: 'failed', exitCode: 1 }, // "No history … 36-line traceback … One system-metrics sample … Exit code 1"
  '3ojed7lz': { rows: 862, metrics: 5, lines: 976, samples: 18, state: 'crashed' }, // "862 history rows (5 metrics) … (976 lines). 18 system-metrics samples. Truncated"
  '4t2h0qra': { rows: 56, metrics: 2, samples: 215, sysPoints: 9216, sysKeys: 43, state: 'finished', exitCode: 0 }, // "56 history rows (2 metrics) … 215 stats records (9,216 points, 43 keys"
  hdimpn5y: { rows: 31, lines: 4660, sysKeys: 140, state: 'finished', exitCode: 0 }, // "(4,660 lines …) 31 history rows. 140 stats keys … Exit code 0"
  wirt5fjr: { rows: 1, configKeys: 56, state: 'failed', exitCode: 255 }, // "1 history row … the config (56 keys) … Exit code 255"
  qn1qcodi: { rows: 61, metrics: 4, state: 'failed', exitCode: 255 }, // "61 history rows (4 train/… metrics) … Exit code 255"
  '0nt019ck': { rows: 0, lines: 0, state: 'crashed' }, // "0-byte .wandb and a 0-byte files/output.log; nothing else"
  '8wdcg5d6': { rows: 0, lines: 54, configKeys: 202, state: 'failed', exitCode: 1 }, // "202 … keys … No history. … 54 stderr lines … Exit code 1"
  '6uznqj8h': { rows: 158, metrics: 3, lines: 6, state: 'failed', exitCode: 255 }, // "158 history rows … (3 metrics) … (6 lines). Exit code 255"
  m6pivih1: { rows: 50, configKeys: 122, sysKeys: 95, samples: 127, nan: { 'train/grad_norm': 50 }, state: 'failed', exitCode: 1 }, // "50 history rows; train/grad_norm is NaN in all 50 … (122 keys). 127 stats records (95 keys). Exit code 1"
  zp6vyhqw: { rows: 501, metrics: 4, media: 30, samples: 20, state: 'failed', exitCode: 1 }, // "501 rows (4 metrics, … 30 histogram objects). 20 samples … state failed, exit code 1"
  rmwhmprr: { rows: 12, media: 12, samples: 5, state: 'killed', exitCode: 1 }, // "12 history rows with images objects … 5 system-metrics lines … state killed, exit code 1"
};

const pieces = (text: string): number => Math.max(1, Math.ceil([...text].length / 1000));
const sum = (xs: Iterable<number>): number => [...xs].reduce((a, b) => a + b, 0);

describe('sample run folders → Neptune emulator (library)', () => {
  let emu: NeptuneEmulator;
  let outcome: MigrateOutcome;
  const tmp = mkdtempSync(join(tmpdir(), 'w2n-samples-'));

  beforeAll(async () => {
    emu = await startNeptuneEmulator({ workspaces: ['demo'] });
    // The samples folder is read-only on disk: migrating it in place also proves the source never writes.
    outcome = await migrateFolder(emu, SAMPLES, join(tmp, 'ledger.sqlite'));
  });
  afterAll(async () => {
    await emu?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('finds all twelve folders and migrates every run', () => {
    expect(sampleDirs()).toHaveLength(12);
    expect(Object.keys(FACTS).sort()).toEqual(sampleDirs().map(runIdOf).sort());
    expect(outcome.report.totals).toMatchObject({ runs: 12, migrated: 12, failed: 0, pending: 0 });
    expect(outcome.report.runs.every((r) => r.status === 'migrated')).toBe(true);
  });

  describe.each(sampleDirs())('%s', (folder) => {
    const runId = runIdOf(folder);
    const facts = FACTS[runId];
    let c: FolderCounts;
    let run: StoredRun;
    let series: Map<string, Array<[number, number | string]>>;
    beforeAll(() => {
      c = countFolder(join(SAMPLES, folder));
      const runs = findRuns(emu, runId);
      expect(runs).toHaveLength(1);
      run = runs[0];
      series = seriesOf(emu, run);
    });
    const report = () => outcome.report.runs.find((r) => r.run.endsWith(`/${runId}`))!;

    it('the independent counter agrees with SOURCES.md', () => {
      if (facts.rows !== undefined) expect(c.historyRows).toBe(facts.rows);
      if (facts.metrics !== undefined) expect(c.points.size).toBe(facts.metrics);
      if (facts.lines !== undefined) expect(c.consoleLines).toHaveLength(facts.lines);
      if (facts.sysPoints !== undefined) expect(c.systemPoints).toBe(facts.sysPoints);
      if (facts.sysKeys !== undefined) expect(c.systemKeys.size).toBe(facts.sysKeys);
      if (facts.configKeys !== undefined) expect(c.configTopKeys).toBe(facts.configKeys);
      if (facts.media !== undefined) expect(c.mediaValues).toBe(facts.media);
      expect(Object.fromEntries(c.nonFinite)).toEqual(facts.nan ?? {});
    });

    it('history: one series per key, a point per row holding the key', () => {
      const history = new Map([...series].filter(([p]) => !p.startsWith('monitoring/')).map(([p, pts]) => [p, pts.length]));
      expect(Object.fromEntries(history)).toEqual(Object.fromEntries(c.points));
      // A series never has more points than there are rows, and its steps strictly increase.
      for (const [p, pts] of series) {
        if (!p.startsWith('monitoring/')) expect(pts.length).toBeLessThanOrEqual(c.historyRows);
        for (let i = 1; i < pts.length; i++) expect(pts[i][0]).toBeGreaterThan(pts[i - 1][0]);
      }
      if (facts.rows) expect(Math.max(...history.values())).toBeLessThanOrEqual(facts.rows);
    });

    it('system metrics under monitoring/, console lines in monitoring/stdout', () => {
      const sys = [...series].filter(([p]) => p.startsWith('monitoring/') && p !== 'monitoring/stdout');
      expect(sys.length).toBe(c.systemKeys.size);
      expect(sum(sys.map(([, v]) => v.length))).toBe(c.systemPoints);
      if (facts.sysPoints !== undefined) expect(sum(sys.map(([, v]) => v.length))).toBe(facts.sysPoints);
      const stdout = series.get('monitoring/stdout') ?? [];
      // Lines over 1000 characters are split into pieces at fractional steps: count each line once.
      expect(new Set(stdout.map(([s]) => Math.floor(s))).size).toBe(c.consoleLines.length);
      expect(stdout.length).toBe(sum(c.consoleLines.map(pieces)));
      if (facts.lines !== undefined) expect(new Set(stdout.map(([s]) => Math.floor(s))).size).toBe(facts.lines);
    });

    it('config, summary, and the three file sets', () => {
      const paths = Object.keys(run.attrs);
      expect(paths.filter((p) => p.startsWith('config/'))).toHaveLength(c.configLeaves);
      expect(paths.filter((p) => p.startsWith('summary/'))).toHaveLength(c.summaryLeaves);
      for (const set of ['source_code/files', 'checkpoints', 'files'] as const) {
        expect(Object.keys(emu.inspect.fileSet(run.id, set)).sort()).toEqual([...c.fileSets[set]].sort());
      }
    });

    it('the report: migrated, counts, NaN and media left out with a line, state and exit code', () => {
      const r = report();
      expect(r.status).toBe('migrated');
      expect(r.written.historyPoints ?? 0).toBe(sum(c.points.values()));
      expect(r.written.systemPoints ?? 0).toBe(c.systemPoints);
      expect(r.written.consoleLines ?? 0).toBe(c.consoleLines.length);
      if (facts.samples !== undefined) expect(r.written.systemSamples ?? 0).toBe(facts.samples);
      const nonFinite = Object.fromEntries(r.notWritten.filter((o) => o.reason === 'non-finite').map((o) => [o.subject, o.count]));
      expect(nonFinite).toEqual(facts.nan ?? {});
      const media = r.notWritten.filter((o) => o.reason === 'excluded-by-default' && !o.subject.includes('/') && !o.subject.includes('.'));
      expect(sum(media.map((o) => o.count))).toBe(c.mediaValues);
      expect(run.attrs['wandb/state']?.value).toBe(facts.state);
      expect(run.attrs['wandb/exitCode']?.value).toBe(facts.exitCode);
      expect(run.attrs['sys/custom_run_id']?.value).toBe(runId);
      expect(run.attrs['wandb/migration/completed_at']).toBeDefined();
    });
  });
});

describe('sample run folder → Neptune emulator (real CLI, child process)', () => {
  it('migrates 22charlesduck qn1qcodi with the same counts as the library', async () => {
    const folder = '22charlesduck__reversal__run-20241107_025355-qn1qcodi';
    const emu = await startNeptuneEmulator({ workspaces: ['demo'] });
    const tmp = mkdtempSync(join(tmpdir(), 'w2n-cli-'));
    try {
      const env: NodeJS.ProcessEnv = { ...process.env, NEPTUNE_API_TOKEN: emu.apiToken() };
      delete env.NEPTUNE_PROJECT;
      // Asynchronous child: a synchronous one would block the emulator, which lives in this process.
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'migrate', '--source', join(SAMPLES, folder),
        '--workspace', 'demo', '--projects', 'all', '--yes', '--concurrency', '1', '--ledger', join(tmp, 'ledger.sqlite')], { env, cwd: join(import.meta.dirname, '../..') });
      let out = '';
      child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
      child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
      const code = await new Promise<number | null>((res) => child.on('close', res));
      expect(code, out).toBe(0);
      const runs = findRuns(emu, 'qn1qcodi');
      expect(runs).toHaveLength(1);
      const c = countFolder(join(SAMPLES, folder));
      const s = seriesOf(emu, runs[0]);
      expect(s.get('train/loss')).toHaveLength(61); // row 22charlesduck: "61 history rows"
      expect(new Set((s.get('monitoring/stdout') ?? []).map(([st]) => Math.floor(st))).size).toBe(c.consoleLines.length);
      expect(sum([...s].filter(([p]) => p.startsWith('monitoring/') && p !== 'monitoring/stdout').map(([, v]) => v.length))).toBe(c.systemPoints);
      expect(runs[0].attrs['wandb/state']?.value).toBe('failed');
      expect(runs[0].project).toBe('demo/next-token-failures');
    } finally {
      await emu.close();
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
