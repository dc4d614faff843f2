import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../src/core/logger.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import { writeJsonReport } from '../../src/cli/report-output.ts';
import { defaultMappingOptions } from '../../src/mapping/options.ts';
import type { MigrationContext } from '../../src/pipeline/context.ts';
import { migrate } from '../../src/pipeline/migrate.ts';
import { Pool } from '../../src/pipeline/pool.ts';
import { buildReport, streamReport } from '../../src/pipeline/report.ts';
import { FakeSource, FakeTarget, fakeRun } from './fakes.ts';

/**
 * Issue 13 (c): the RSS of 10,000 small runs grew with the run count. What grew was the end of the
 * migration: the report read the whole `runs` table at once (~2 KB a run) and was chosen by a list of
 * every selected run kept in memory through the pass. The pass's runs are now in the ledger, and the
 * report reads them a page at a time, of 32 runs: a page of 256 outlived V8's scavenges and went to the
 * old generation as garbage (Node 24: +6-18 MB at the end).
 */
afterEach(() => vi.restoreAllMocks());

/** The most rows one statement answered while `body` ran. */
function largestAnswer(body: () => void): number {
  const all = Database.prototype.prepare.call(new Database(':memory:'), 'SELECT 1').constructor.prototype as { all: (...a: unknown[]) => unknown[] };
  const original = all.all;
  let most = 0;
  vi.spyOn(all, 'all').mockImplementation(function (this: unknown, ...args: unknown[]) {
    const rows = original.apply(this, args);
    most = Math.max(most, rows.length);
    return rows;
  });
  body();
  return most;
}

describe('the report of a pass', () => {
  it('of 2,000 runs reads the ledger 32 runs at a time, and gives every run, in order, with its counts', () => {
    const ledger = new Ledger(':memory:');
    const keys = Array.from({ length: 2000 }, (_, i) => ({ entity: 'e', project: `p${i % 5}`, runId: `r${String(i).padStart(5, '0')}` }));
    ledger.beginPass();
    for (const [i, key] of keys.entries()) {
      ledger.notePending(key, `name ${i}`);
      ledger.startRun(key, { displayName: `name ${i}`, targetProject: `ws/${key.project}` });
      ledger.commit(key, 'history', { counts: { points: i + 1, historyPoints: i + 1 } });
      ledger.finishRun(key, 'fp');
    }
    let text = '';
    const most = largestAnswer(() => writeJsonReport((t) => { text += t; }, streamReport(ledger, 'this-pass'), { target: {} }, 'now'));
    // A page's rows must die young (RUNS_PAGE says why): 256 rows were promoted to the old generation.
    expect(most).toBeLessThanOrEqual(32);
    const report = (JSON.parse(text) as { report: { runs: Array<{ run: string; name: string; status: string; written: { points: number } }>; totals: { runs: number; points: number } } }).report;
    const expected = [...keys.entries()]
      .map(([i, k]) => ({ run: `e/${k.project}/${k.runId}`, name: `name ${i}`, status: 'migrated', points: i + 1 }))
      .sort((a, b) => (a.run < b.run ? -1 : 1));
    expect(report.runs.map((r) => ({ run: r.run, name: r.name, status: r.status, points: r.written.points }))).toEqual(expected);
    expect(report.totals).toMatchObject({ runs: 2000, points: (2000 * 2001) / 2 });
    ledger.close();
  });

  it('covers the runs this pass selected, those it found unchanged as skipped, from the ledger alone', async () => {
    const runs = ['a', 'b', 'c'].map((id) => fakeRun(id));
    const source = new FakeSource(runs, new Map([['a', 3], ['b', 4], ['c', 5]]));
    const ledger = new Ledger(':memory:');
    const ctx: MigrationContext = {
      source, target: new FakeTarget(), ledger, mapping: defaultMappingOptions, log: silentLogger, emit: () => {},
      filePool: new Pool(2), batchPoints: 500, fileBatchBytes: 5_000_000, fileBatchCount: 500, toolVersion: 'test',
    };
    const sel = { workspace: 'ws', projects: 'all' as const, projectMap: new Map<string, string>(), filter: {}, concurrency: 2 };
    expect(await migrate(sel, ctx)).toMatchObject({ selected: 3, migrated: 3, skipped: 0 });
    const first = buildReport(ledger, 'this-pass');
    expect(first.runs.map((r) => [r.run, r.status])).toEqual([['ent/proj_one/a', 'migrated'], ['ent/proj_one/b', 'migrated'], ['ent/proj_one/c', 'migrated']]);

    // Run c changed in W&B; the pass selects b and c only.
    source.runs = [runs[1], { ...runs[2], summary: { ...runs[2].summary, changed: 1 } }];
    expect(await migrate(sel, ctx)).toMatchObject({ selected: 2, migrated: 1, skipped: 1 });
    const second = buildReport(ledger, 'this-pass');
    expect(second.runs.map((r) => [r.run, r.status])).toEqual([['ent/proj_one/b', 'skipped'], ['ent/proj_one/c', 'migrated']]);
    expect(second.totals).toMatchObject({ runs: 2, migrated: 1, skipped: 1 });
    // The ledger's own report (`wandb-to-neptune report`) still has every run.
    expect(buildReport(ledger).runs.map((r) => [r.run, r.status])).toEqual([['ent/proj_one/a', 'migrated'], ['ent/proj_one/b', 'migrated'], ['ent/proj_one/c', 'migrated']]);
    ledger.close();
  });
});
