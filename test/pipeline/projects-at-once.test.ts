import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunInfo } from '../../src/core/records.ts';
import type { RunFilter } from '../../src/core/source.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import { defaultMappingOptions } from '../../src/mapping/options.ts';
import type { MigrationContext } from '../../src/pipeline/context.ts';
import { migrate } from '../../src/pipeline/migrate.ts';
import { Pool } from '../../src/pipeline/pool.ts';
import { buildReport } from '../../src/pipeline/report.ts';
import { FakeSource, FakeTarget, fakeRun } from './fakes.ts';

/**
 * Issue 13 (c): an unchanged re-run is its W&B listing, one round trip per page: the projects are
 * listed side by side, not one after another, and the runs are still reported in project order.
 */
const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

/** A source whose listing of each project waits at its first run until every project's listing has begun. */
class GatedSource extends FakeSource {
  readonly begun: string[] = [];
  private open?: () => void;
  private readonly allBegun = new Promise<void>((r) => (this.open = r));

  constructor(runs: RunInfo[], private readonly projects: number) {
    super(runs, new Map());
  }

  override async *listRuns(project: string, filter: RunFilter): AsyncIterable<RunInfo> {
    this.begun.push(project);
    if (this.begun.length === this.projects) this.open!();
    await this.allBegun;
    yield* super.listRuns(project, filter);
  }
}

describe('projects are listed and migrated at once', () => {
  it('every listing begins before any run is handed over; runs are reported project by project; concurrency holds over all', async () => {
    const runs = ['a', 'b', 'c'].flatMap((p) => [1, 2, 3].map((i) => fakeRun(`${p}${i}`, `proj_${p}`)));
    const source = new GatedSource(runs, 3);
    const target = new FakeTarget();
    let inFlight = 0;
    let most = 0;
    const openRun = target.openRun.bind(target);
    target.openRun = async (...args: Parameters<typeof target.openRun>) => {
      most = Math.max(most, ++inFlight);
      try {
        // Held for a turn of the event loop, so runs started together overlap here.
        await new Promise((r) => setImmediate(r));
        return await openRun(...args);
      } finally {
        inFlight--;
      }
    };
    const dir = mkdtempSync(join(tmpdir(), 'w2n-projects-'));
    dirs.push(dir);
    const ledger = new Ledger(join(dir, 'ledger.sqlite'));
    const ctx: MigrationContext = {
      source, target, ledger, mapping: defaultMappingOptions, log: silentLogger, emit: () => {},
      filePool: new Pool(2), batchPoints: 500, fileBatchBytes: 5_000_000, fileBatchCount: 500, toolVersion: 'test',
    };
    try {
      // Listed one project after another, the first listing would wait for the others for ever.
      const result = await migrate({ workspace: 'ws', projects: 'all', projectMap: new Map(), filter: {}, concurrency: 2 }, ctx);
      expect(source.begun.sort()).toEqual(['proj_a', 'proj_b', 'proj_c']);
      expect(buildReport(ledger, 'this-pass').runs.map((r) => r.run)).toEqual(runs.map((r) => `${r.key.entity}/${r.key.project}/${r.key.runId}`));
      expect(result).toMatchObject({ selected: 9, migrated: 9, failed: 0 });
      expect(most).toBe(2);
    } finally {
      ledger.close();
    }
  });
});
