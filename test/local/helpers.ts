/** Shared pieces of the run-folder → Neptune emulator tests: a library migration and read-back. */
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { NeptuneEmulator } from '../../emulators/neptune/index.ts';
import { runMigrate, type MigrateOutcome, type Wiring } from '../../src/commands/migrate.ts';
import { silentLogger } from '../../src/core/logger.ts';
import type { SourceNotice } from '../../src/core/records.ts';
import { NeptuneTarget } from '../../src/sinks/neptune/target.ts';
import { createLocalSource } from '../../src/sources/local/index.ts';
import { expectedTree } from '../support/expected.ts';
import { sharedPath } from '../support/shared.ts';
import type { FolderTruth } from './folder-truth.ts';
import type { MigrationReport } from '../../src/pipeline/report.ts';
import { events, runCli } from '../support/cli.ts';

/** The real sample run folders (`../shared/wandb-samples`); a missing folder fails the tests that need it. */
export const SAMPLES = sharedPath('wandb-samples');
export const sampleDirs = (): string[] => readdirSync(SAMPLES).filter((n) => n.includes('__')).sort();
export const runIdOf = (folder: string): string => folder.split('-').pop()!;

/** Migrates `source` (a folder of run folders or one run folder) with the real local source and Neptune target. */
export async function migrateFolder(
  emu: NeptuneEmulator,
  source: string,
  ledgerPath = join(mkdtempSync(join(tmpdir(), 'w2n-local-')), 'ledger.sqlite'),
): Promise<MigrateOutcome & { notices: SourceNotice[] }> {
  const notices: SourceNotice[] = [];
  const wiring: Wiring = {
    makeSource: (o) => createLocalSource({ path: o.source, onNotice: (n) => { notices.push(n); o.onNotice(n); } }),
    makeTarget: () => new NeptuneTarget({ token: emu.apiToken(), http: { service: 'Neptune', retry: { retries: 2, baseDelayMs: 5, maxDelayMs: 20 } } }),
  };
  const outcome = await runMigrate(
    {
      source, workspace: 'demo', projects: 'all', projectMap: new Map(), filter: {}, concurrency: 2, fileConcurrency: 2,
      include: new Set(), dryRun: false, ledgerPath, strict: false,
    },
    wiring,
    { log: silentLogger, emit: () => {} },
  );
  return { ...outcome, notices };
}

export interface StoredRun {
  project: string;
  id: string;
  attrs: Record<string, { type: string; value?: unknown }>;
}

/** Every Neptune run with this custom run id, across the emulator's projects. */
export function findRuns(emu: NeptuneEmulator, customId: string): StoredRun[] {
  const out: StoredRun[] = [];
  for (const p of emu.inspect.projects()) {
    const q = `${p.workspace}/${p.name}`;
    for (const r of emu.inspect.runs(q)) if (r.customId === customId) out.push({ project: q, id: r.id, attrs: emu.inspect.attributes(r.id) });
  }
  return out;
}

/** Everything series-shaped a run holds, as `path → [step, value][]`, for equality and subset checks. */
export function seriesOf(emu: NeptuneEmulator, run: StoredRun): Map<string, Array<[number, number | string]>> {
  const out = new Map<string, Array<[number, number | string]>>();
  for (const [path, a] of Object.entries(run.attrs)) {
    if (a.type === 'floatSeries') out.set(path, emu.inspect.floatSeries(run.id, path).map((p) => [p.step, p.value]));
    else if (a.type === 'stringSeries') out.set(path, emu.inspect.stringSeries(run.id, path).map((p) => [p.step, p.value]));
  }
  return out;
}

export const pointTotal = (s: Map<string, unknown[]>): number => [...s.values()].reduce((n, v) => n + v.length, 0);

/**
 * Every value the independent folder reader found is what Neptune holds (mapping.md): each history
 * point with its step, timestamp and value; each system point (step = runtime seconds, compared to
 * the microsecond); every console line (redrawn ones by position only: their kept text is the
 * console rule's); every config and summary leaf; every file byte for byte. Nothing more either.
 */
export function expectFolderInNeptune(emu: NeptuneEmulator, run: StoredRun, t: FolderTruth): void {
  const where = (s: string) => `${t.runId} ${s}`;
  const attrs = Object.entries(run.attrs);
  const history = attrs.filter(([p, a]) => (a.type === 'floatSeries' || a.type === 'stringSeries') && !p.startsWith('monitoring/')).map(([p]) => p);
  expect(history.sort(), where('history series')).toEqual([...t.floats.keys(), ...t.strings.keys()].sort());
  for (const [path, pts] of t.floats) expect(emu.inspect.floatSeries(run.id, path), where(path)).toEqual(pts);
  for (const [path, pts] of t.strings) expect(emu.inspect.stringSeries(run.id, path), where(path)).toEqual(pts);

  const system = attrs.filter(([p, a]) => a.type === 'floatSeries' && p.startsWith('monitoring/')).map(([p]) => p);
  expect(system.sort(), where('monitoring series')).toEqual([...t.system.keys()].sort());
  for (const [path, want] of t.system) {
    const got = emu.inspect.floatSeries(run.id, path);
    expect(got.map((p) => [p.timestampMs, p.value]), where(path)).toEqual(want.map((p) => [p.timestampMs, p.value]));
    got.forEach((p, i) => expect(Math.abs(p.step - want[i].step), where(`${path} step ${i}`)).toBeLessThan(1e-6));
  }

  // Pieces of a split line share the integer part of their step; lines are numbered from 0.
  const joined = new Map<number, string>();
  for (const e of emu.inspect.stringSeries(run.id, 'monitoring/stdout')) joined.set(Math.floor(e.step), (joined.get(Math.floor(e.step)) ?? '') + e.value);
  expect([...joined.keys()], where('console line numbers')).toEqual(t.console.map((_, i) => i));
  const got = [...joined.values()].sort();
  const plain = t.console.filter((l) => !l.redrawn).map((l) => l.text).sort();
  const missing = plain.filter((text) => {
    const i = got.indexOf(text);
    if (i < 0) return true;
    got.splice(i, 1);
    return false;
  });
  expect(missing, where('console lines')).toEqual([]);

  // Summary media are file sets under summary/media/ (issue 11), checked apart.
  const fields = new Map(attrs.filter(([p]) => (p.startsWith('config/') || p.startsWith('summary/')) && !p.startsWith('summary/media/')).map(([p, a]) => [p, a.value]));
  const want = new Map([...expectedTree('config', t.config), ...expectedTree('summary', t.summary)]);
  expect([...fields.keys()].sort(), where('config and summary fields')).toEqual([...want.keys()].sort());
  for (const [path, value] of want) expect(fields.get(path), where(path)).toEqual(value);

  for (const [set, files] of Object.entries(t.fileSets)) {
    const stored = emu.inspect.fileSet(run.id, set);
    expect(Object.keys(stored).sort(), where(set)).toEqual([...files.keys()].sort());
    for (const [name, bytes] of files) expect(stored[name]?.equals(bytes), where(`${set}/${name}`)).toBe(true);
  }
}

/** `wandb-to-neptune migrate --source <folder>` through the real CLI into the emulator (`--json`), and the report it ended with. */
export async function migrateFolderCli(
  emu: NeptuneEmulator,
  source: string,
  ledger: string,
  cwd: string,
  extra: string[] = [],
): Promise<{ report: MigrationReport; code: number | null }> {
  const out = await runCli(
    ['migrate', '--source', source, '--workspace', 'demo', '--projects', 'all', '--yes', '--json', '--ledger', ledger, ...extra],
    { NEPTUNE_API_TOKEN: emu.apiToken(), NEPTUNE_PROJECT: 'demo/placeholder' },
    cwd,
  ).done;
  const ev = events(out.stdout).find((e) => e.type === 'report') as unknown as { report: MigrationReport } | undefined;
  if (!ev) throw new Error(`no report (exit ${out.code}): ${out.stderr}`);
  return { report: ev.report, code: out.code };
}
