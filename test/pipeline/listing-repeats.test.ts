import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunInfo, RunKey } from '../../src/core/records.ts';
import type { ListingOptions, RunFilter } from '../../src/core/source.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import { defaultMappingOptions } from '../../src/mapping/options.ts';
import type { MigrationContext } from '../../src/pipeline/context.ts';
import { migrate } from '../../src/pipeline/migrate.ts';
import { Pool } from '../../src/pipeline/pool.ts';
import { buildReport } from '../../src/pipeline/report.ts';
import { FakeSource, FakeTarget, fakeRun } from './fakes.ts';

/**
 * Issue 13 (c): the listing must not hold every run id it listed (a set of them grew ~65 bytes a run, for
 * the whole pass). W&B's pages can repeat a run (wandb#7666), so the listing still de-duplicates, by the
 * migration's ledger: a run the pass already noted is not handed over again.
 */
const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

/** Pages as W&B may serve them: the second page repeats runs of the first. Keeps no record of its own: it asks the caller's. */
class RepeatingSource extends FakeSource {
  readonly asked: string[] = [];
  listedBy: 'caller' | 'nobody' = 'nobody';

  override async *listRuns(project: string, _filter: RunFilter, _signal?: AbortSignal, listing?: ListingOptions): AsyncIterable<RunInfo> {
    const page = (ids: string[]) => ids.map((id) => this.runs.find((r) => r.key.project === project && r.key.runId === id)!);
    for (const run of [...page(['a1', 'a2']), ...page(['a2', 'a1', 'a3'])]) {
      if (listing?.listed) {
        this.listedBy = 'caller';
        const seen = listing.listed(run.key);
        this.asked.push(`${run.key.runId} ${seen ? 'listed' : 'new'}`);
        if (seen) continue;
      }
      yield run;
    }
  }
}

describe('a listing that repeats runs', () => {
  it('hands each run over once, the migration ledger being its record', async () => {
    const source = new RepeatingSource(['a1', 'a2', 'a3'].map((id) => fakeRun(id, 'proj_a')), new Map([['a1', 3], ['a2', 2], ['a3', 1]]));
    const target = new FakeTarget();
    const opened: string[] = [];
    const openRun = target.openRun.bind(target);
    target.openRun = (project, customRunId) => { opened.push(customRunId); return openRun(project, customRunId); };
    const dir = mkdtempSync(join(tmpdir(), 'w2n-repeats-'));
    dirs.push(dir);
    const ledger = new Ledger(join(dir, 'ledger.sqlite'));
    // A run noted by an earlier pass is new to this one (the pass's record starts empty).
    ledger.notePending({ entity: 'ent', project: 'proj_a', runId: 'a3' });
    const ctx: MigrationContext = {
      source, target, ledger, mapping: defaultMappingOptions, log: silentLogger, emit: () => {},
      filePool: new Pool(2), batchPoints: 500, fileBatchBytes: 5_000_000, fileBatchCount: 500, toolVersion: 'test',
    };
    try {
      const result = await migrate({ workspace: 'ws', projects: 'all', projectMap: new Map(), filter: {}, concurrency: 2 }, ctx);
      expect(source.listedBy).toBe('caller');
      expect(source.asked).toEqual(['a1 new', 'a2 new', 'a2 listed', 'a1 listed', 'a3 new']);
      expect(result).toMatchObject({ selected: 3, migrated: 3, failed: 0 });
      // Each run opened once, its history sent once (a second migration would have had its steps refused).
      expect(opened).toHaveLength(3);
      expect(new Set(opened).size).toBe(3);
      const lossSteps = [...target.runs.values()].map((r) => r.series.get('loss')!.map((p) => p.step));
      expect(lossSteps).toEqual([[0, 1, 2], [0, 1], [0]]);
      expect(buildReport(ledger, 'this-pass').runs.map((r) => `${r.run} ${r.status} ${r.notWritten.map((o) => `${o.reason} ${o.subject} ${o.count}`).join('; ')}`)).toEqual([
        // acc is NaN at step 0 (fakes.ts): the only point not written.
        'ent/proj_a/a1 migrated non-finite acc 1', 'ent/proj_a/a2 migrated non-finite acc 1', 'ent/proj_a/a3 migrated non-finite acc 1',
      ]);
    } finally {
      ledger.close();
    }
  });

  it('the ledger says which runs the current pass selected', () => {
    const ledger = new Ledger(':memory:');
    const key = (runId: string): RunKey => ({ entity: 'e', project: 'p', runId });
    ledger.beginPass();
    ledger.notePending(key('x'));
    expect([ledger.inPass(key('x')), ledger.inPass(key('y'))]).toEqual([true, false]);
    ledger.beginPass();
    expect(ledger.inPass(key('x'))).toBe(false);
    ledger.close();
  });
});
