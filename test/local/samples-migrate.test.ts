/**
 * Issue 5: every real sample run folder migrated from disk into the Neptune emulator, and what the
 * emulator holds compared with counts taken independently from the same folder (SOURCES.md facts as
 * literals, else the test-only counter in ./independent-counts.ts, which shares no code with
 * src/sources/local).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNeptuneEmulator, type NeptuneEmulator } from '../../emulators/neptune/index.ts';
import type { MigrateOutcome } from '../../src/commands/migrate.ts';
import { pointCount, readFolder, type FolderTruth } from './folder-truth.ts';
import { expectFolderInNeptune, findRuns, migrateFolder, runIdOf, SAMPLES, sampleDirs, type StoredRun } from './helpers.ts';

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
    let t: FolderTruth;
    let run: StoredRun;
    beforeAll(() => {
      t = readFolder(join(SAMPLES, folder));
      const runs = findRuns(emu, runId);
      expect(runs).toHaveLength(1);
      run = runs[0];
    });
    const report = () => outcome.report.runs.find((r) => r.run.endsWith(`/${runId}`))!;
    const historyPoints = () => pointCount(t.floats) + pointCount(t.strings);

    it('the independent reader agrees with SOURCES.md', () => {
      if (facts.rows !== undefined) expect(t.historyRows).toBe(facts.rows);
      if (facts.metrics !== undefined) expect(t.floats.size + t.strings.size).toBe(facts.metrics);
      if (facts.lines !== undefined) expect(t.console).toHaveLength(facts.lines);
      if (facts.sysPoints !== undefined) expect(pointCount(t.system)).toBe(facts.sysPoints);
      if (facts.sysKeys !== undefined) expect(t.system.size).toBe(facts.sysKeys);
      if (facts.configKeys !== undefined) expect(Object.keys(t.config).filter((k) => k !== '_wandb')).toHaveLength(facts.configKeys);
      if (facts.media !== undefined) expect(t.mediaValues).toBe(facts.media);
      expect(Object.fromEntries(t.nonFinite)).toEqual(facts.nan ?? {});
    });

    it('Neptune holds every value: each point with its step and timestamp, config, summary, console, file bytes', () => {
      expectFolderInNeptune(emu, run, t);
      // Lines over 1000 characters are split into pieces at fractional steps, never truncated.
      const stdout = emu.inspect.stringSeries(run.id, 'monitoring/stdout');
      expect(stdout.every((e) => [...e.value].length <= 1000)).toBe(true);
    });

    it('the report: migrated, counts, NaN left out with a line, media carried (none left out), state and exit code', () => {
      const r = report();
      expect(r.status).toBe('migrated');
      // Images are counted apart from points (issue 11): one per `images` row here.
      const images = t.media.filter((m) => m.value._type === 'images' || m.value._type === 'image-file').length;
      expect(r.written.historyPoints ?? 0).toBe(historyPoints());
      expect(r.written.images ?? 0).toBe(images);
      expect(r.written.systemPoints ?? 0).toBe(pointCount(t.system));
      expect(r.written.consoleLines ?? 0).toBe(t.console.length);
      expect(r.written.systemSamples ?? 0).toBe(t.systemSamples);
      if (facts.samples !== undefined) expect(r.written.systemSamples ?? 0).toBe(facts.samples);
      const nonFinite = Object.fromEntries(r.notWritten.filter((o) => o.reason === 'non-finite').map((o) => [o.subject, o.count]));
      expect(nonFinite).toEqual(facts.nan ?? {});
      const media = r.notWritten.filter((o) => o.reason === 'excluded-by-default' && !o.subject.includes('/') && !o.subject.includes('.'));
      expect(media).toEqual([]);
      expect(run.attrs['wandb/state']?.value).toBe(facts.state);
      expect(run.attrs['wandb/exitCode']?.value).toBe(facts.exitCode);
      expect(run.attrs['sys/custom_run_id']?.value).toBe(runId);
      expect(run.attrs['wandb/migration/completed_at']).toBeDefined();
    });
  });

  describe('sample run folders with media → Neptune (issue 11)', () => {
    const one = (runId: string) => {
      const folder = sampleDirs().find((d) => d.endsWith(runId))!;
      return { folder: join(SAMPLES, folder), t: readFolder(join(SAMPLES, folder)), run: findRuns(emu, runId)[0] };
    };
    it('rmwhmprr (2018 `images` rows): image series `examples`, one image per step, bytes of media/images/examples_<step>.jpg, captions as description', () => {
      const { folder, t, run } = one('rmwhmprr');
      const rows = t.media.filter((m) => m.key === 'examples');
      expect(rows).toHaveLength(12);
      const stored = emu.inspect.stringSeries(run.id, 'examples').map((e) => ({ step: e.step, ts: e.timestampMs, v: JSON.parse(e.value) as { data: string; description?: string } }));
      expect(stored.map((s) => [s.step, s.ts])).toEqual(rows.map((m) => [m.step, m.timestampMs]));
      for (const [i, m] of rows.entries()) {
        expect(Buffer.from(stored[i].v.data, 'base64').equals(readFileSync(join(folder, `media/images/examples_${m.step}.jpg`))), `step ${m.step}`).toBe(true);
        expect(stored[i].v.description).toBe((m.value.captions as string[]).join(', '));
      }
    });
    it('zp6vyhqw: 30 histograms land as media/histograms/<key>/<step>.json with their bins and values; summary histograms and graph under summary/media/', () => {
      const { folder, t, run } = one('zp6vyhqw');
      const hist = t.media.filter((m) => m.value._type === 'histogram');
      expect(hist).toHaveLength(30);
      for (const m of hist) {
        const got = emu.inspect.fileSet(run.id, `media/histograms/${m.key}`)[`${m.step}.json`];
        expect(got && JSON.parse(got.toString('utf8')), `${m.key} ${m.step}`).toEqual({ bins: m.value.bins, values: m.value.values });
      }
      const graph = t.summary.graph_0 as { path: string };
      expect(emu.inspect.fileSet(run.id, 'summary/media/graph/graph_0')['summary.graph.json']?.equals(readFileSync(join(folder, graph.path)))).toBe(true);
      const bias = t.summary['gradients/fc.0.bias'] as { bins: unknown; values: unknown };
      const got = emu.inspect.fileSet(run.id, 'summary/media/histograms/gradients/fc.0.bias')['summary.json'];
      expect(JSON.parse(got.toString('utf8'))).toEqual({ bins: bias.bins, values: bias.values });
    });
  });
});

describe('sample run folder → Neptune emulator (real CLI, child process)', () => {
  it('migrates 22charlesduck qn1qcodi: every value the independent reader finds', async () => {
    const folder = '22charlesduck__reversal__run-20241107_025355-qn1qcodi';
    const emu = await startNeptuneEmulator({ workspaces: ['demo'] });
    const tmp = mkdtempSync(join(tmpdir(), 'w2n-cli-'));
    try {
      const env: NodeJS.ProcessEnv = { ...process.env, NEPTUNE_API_TOKEN: emu.apiToken() };
      delete env.NEPTUNE_PROJECT;
      // Asynchronous child: a synchronous one would block the emulator, which lives in this process.
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'migrate', '--protocol', 'a', '--source', join(SAMPLES, folder),
        '--workspace', 'demo', '--projects', 'all', '--yes', '--concurrency', '1', '--ledger', join(tmp, 'ledger.sqlite')], { env, cwd: join(import.meta.dirname, '../..') });
      let out = '';
      child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
      child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
      const code = await new Promise<number | null>((res) => child.on('close', res));
      expect(code, out).toBe(0);
      const runs = findRuns(emu, 'qn1qcodi');
      expect(runs).toHaveLength(1);
      expect(emu.inspect.floatSeries(runs[0].id, 'train/loss')).toHaveLength(61); // row 22charlesduck: "61 history rows"
      expectFolderInNeptune(emu, runs[0], readFolder(join(SAMPLES, folder)));
      expect(runs[0].attrs['wandb/state']?.value).toBe('failed');
      expect(runs[0].project).toBe('demo/next-token-failures');
    } finally {
      await emu.close();
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
