/** Shared pieces of the run-folder → Neptune emulator tests: a library migration and read-back. */
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NeptuneEmulator } from '../../emulators/neptune/index.ts';
import { runMigrate, type MigrateOutcome, type Wiring } from '../../src/commands/migrate.ts';
import { silentLogger } from '../../src/core/logger.ts';
import type { SourceNotice } from '../../src/core/records.ts';
import { NeptuneTarget } from '../../src/sinks/neptune/target.ts';
import { createLocalSource } from '../../src/sources/local/index.ts';
import { sharedPath } from '../support/shared.ts';

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
