import { describe, expect, it } from 'vitest';
import type { RunInfo } from '../../src/core/records.ts';
import type { ListingOptions, RunFilter } from '../../src/core/source.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import type { RunCreation, TargetProject, TargetRun } from '../../src/core/sink.ts';
import { PROTOCOL_A_CAPABILITIES, type TargetCapabilities } from '../../src/mapping/capabilities.ts';
import { defaultMappingOptions } from '../../src/mapping/options.ts';
import type { MigrationContext } from '../../src/pipeline/context.ts';
import { migrate } from '../../src/pipeline/migrate.ts';
import { Pool } from '../../src/pipeline/pool.ts';
import { FakeSource, FakeTarget, fakeRun } from './fakes.ts';

/**
 * Issue 13 (c), Protocol B: whether a W&B display name is unique in its project (then it is B's experiment
 * name) is counted over the project's whole listing. That count must not hold every name (a Map of them
 * grew with the project), nor make the listing hold every run id to drop the runs W&B pages repeat
 * (wandb#7666): the names are noted in the ledger, which is also the listing's record of what it handed over.
 */
class RepeatingSource extends FakeSource {
  /** Per listing: whether the caller gave its own record, and what each repeated run was said to be. */
  readonly listings: string[][] = [];

  override async *listRuns(project: string, _filter: RunFilter, _signal?: AbortSignal, listing?: ListingOptions): AsyncIterable<RunInfo> {
    const asked: string[] = [listing?.listed ? 'caller record' : 'no record'];
    this.listings.push(asked);
    const page = (ids: string[]) => ids.map((id) => this.runs.find((r) => r.key.project === project && r.key.runId === id)!);
    // The second page repeats the first's runs.
    for (const run of [...page(['a1', 'a2']), ...page(['a2', 'a1', 'a3'])]) {
      if (listing?.listed?.(run.key)) {
        asked.push(`${run.key.runId} listed`);
        continue;
      }
      yield run;
    }
  }
}

/** A target that takes experiment names (as B does), noting whether each run's name was said unique. */
class NamingTarget extends FakeTarget {
  readonly nameUnique = new Map<string, boolean | undefined>();
  async capabilities(): Promise<TargetCapabilities> {
    return { ...PROTOCOL_A_CAPABILITIES, backDating: true };
  }
  override openRun(project: TargetProject, customRunId: string, _signal?: AbortSignal, creation?: RunCreation): Promise<TargetRun> {
    this.nameUnique.set(customRunId, creation?.nameUnique);
    return super.openRun(project, customRunId);
  }
}

describe('the display-name count of a project (Protocol B experiment names)', () => {
  it('is noted in the ledger, the listing asking it which runs it handed over: a repeated run is counted once', async () => {
    // a1 and a3 share a name; a2's is its own, and W&B's pages repeat a2.
    const runs = [fakeRun('a1', 'proj_a'), fakeRun('a2', 'proj_a'), fakeRun('a3', 'proj_a')];
    runs[2].displayName = runs[0].displayName;
    const source = new RepeatingSource(runs, new Map([['a1', 1], ['a2', 1], ['a3', 1]]));
    const target = new NamingTarget();
    const unique = target.nameUnique;
    const ledger = new Ledger(':memory:');
    const ctx: MigrationContext = {
      source, target, ledger, mapping: defaultMappingOptions, log: silentLogger, emit: () => {},
      filePool: new Pool(2), batchPoints: 500, fileBatchBytes: 5_000_000, fileBatchCount: 500, toolVersion: 'test',
    };
    try {
      const result = await migrate({ workspace: 'ws', projects: 'all', projectMap: new Map(), filter: {}, concurrency: 1 }, ctx);
      expect(result).toMatchObject({ selected: 3, migrated: 3, failed: 0 });
      expect(Object.fromEntries(unique)).toEqual({ a1: false, a2: true, a3: false });
      // The run listing and the name count, each de-duplicated through the caller's record.
      expect(source.listings).toEqual([['caller record', 'a2 listed', 'a1 listed'], ['caller record', 'a2 listed', 'a1 listed']]);
      expect([ledger.displayNameRuns('ent/proj_a', 'run a1'), ledger.displayNameRuns('ent/proj_a', 'run a2')]).toEqual([2, 1]);
      // A new pass counts afresh.
      ledger.beginPass();
      expect(ledger.displayNameRuns('ent/proj_a', 'run a1')).toBe(0);
    } finally {
      ledger.close();
    }
  });
});
