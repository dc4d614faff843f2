/**
 * History by blocks through the pipeline (a source with `historyBlocks`, a target without a block
 * method: the batcher hands it points) ends exactly as history by rows: the same points, fields and
 * report, uninterrupted and after a crash at any flush followed by a resume.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { HistoryBlock, HistoryRow, RunInfo } from '../../src/core/records.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import { defaultMappingOptions } from '../../src/mapping/options.ts';
import type { MigrationContext } from '../../src/pipeline/context.ts';
import { migrate, type MigrateSelection } from '../../src/pipeline/migrate.ts';
import { Pool } from '../../src/pipeline/pool.ts';
import { BATCHES_IN_FLIGHT } from '../../src/pipeline/run-batcher.ts';
import { buildReport } from '../../src/pipeline/report.ts';
import { blockOf } from '../support/history-blocks.ts';
import { FakeSource, FakeTarget, fakeRun } from './fakes.ts';
import type { TargetProject, TargetRun } from '../../src/core/sink.ts';

const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

/** The fake source's rows, also as blocks of 77 rows with their numbers in columns. */
class BlockSource extends FakeSource {
  async *historyBlocks(run: RunInfo, opts: { fromStep?: number }, signal?: AbortSignal): AsyncIterable<HistoryBlock> {
    let rows: HistoryRow[] = [];
    for await (const r of this.history(run, opts, signal)) {
      rows.push(r);
      if (rows.length === 77) {
        yield blockOf(rows, ['loss', 'acc', 'train/x', '_runtime']);
        rows = [];
      }
    }
    if (rows.length) yield blockOf(rows, ['loss', 'acc', 'train/x', '_runtime']);
  }
}

/**
 * A target whose runs take appends while a flush is in flight (as Protocol B's do); each flush
 * resolves a macrotask later, so the next batch is appended and flushed meanwhile.
 */
class OverlapTarget extends FakeTarget {
  inFlight = 0;
  maxInFlight = 0;
  override async openRun(project: TargetProject, customRunId: string): Promise<TargetRun> {
    const run = await super.openRun(project, customRunId);
    return {
      ...run,
      appendsDuringFlush: true,
      flush: async () => {
        this.maxInFlight = Math.max(this.maxInFlight, ++this.inFlight);
        try {
          const flushed = run.flush();
          flushed.catch(() => {}); // awaited below
          await new Promise((r) => setImmediate(r));
          return await flushed;
        } finally {
          this.inFlight--;
        }
      },
    };
  }
}

function makeSource(blocks: boolean) {
  const runs = [fakeRun('r1'), fakeRun('r2'), fakeRun('r3', 'proj_two')];
  const rows = new Map([['r1', 1000], ['r2', 10], ['r3', 0]]);
  return blocks ? new BlockSource(runs, rows) : new FakeSource(runs, rows);
}

function setup(source: FakeSource, target: FakeTarget, include: string[] = []) {
  const dir = mkdtempSync(join(tmpdir(), 'w2n-blocks-'));
  dirs.push(dir);
  const ledger = new Ledger(join(dir, 'ledger.sqlite'));
  const ctx: MigrationContext = {
    source, target, ledger, mapping: { ...defaultMappingOptions, include: new Set(include) as never }, log: silentLogger, emit: () => {},
    filePool: new Pool(2), batchPoints: 500, fileBatchBytes: 5_000_000, fileBatchCount: 500, toolVersion: 'test',
  };
  return { ctx, ledger };
}

const sel: MigrateSelection = { workspace: 'ws', projects: 'all', projectMap: new Map(), filter: {}, concurrency: 1 };

function snapshot(t: FakeTarget) {
  return JSON.stringify(
    [...t.runs.entries()].map(([id, r]) => [id, [...r.series.entries()].sort(), [...r.fields.entries()].filter(([k]) => !k.startsWith('wandb/migration/')).sort()]).sort(),
  );
}

function reportOf(ledger: Ledger) {
  return buildReport(ledger).runs.map((r) => ({ run: r.run, written: r.written, notWritten: r.notWritten }));
}

describe('history by blocks through the pipeline', () => {
  for (const include of [[], ['internal']]) {
    it(`writes and reports what history by rows does${include.length ? ' (--include internal)' : ''}`, async () => {
      const byRows = new FakeTarget();
      const rows = setup(makeSource(false), byRows, include);
      await migrate(sel, rows.ctx);
      const byBlocks = new FakeTarget();
      const blocks = setup(makeSource(true), byBlocks, include);
      await migrate(sel, blocks.ctx);
      expect(snapshot(byBlocks)).toBe(snapshot(byRows));
      expect(reportOf(blocks.ledger)).toEqual(reportOf(rows.ledger));
      // Batches are cut where the row path cuts them.
      expect(byBlocks.flushes).toBe(byRows.flushes);
      expect(byBlocks.runs.get('ws/proj-one/r1')!.series.get('loss')).toHaveLength(1000);
    });
  }

  it('with batches in flight (a target that takes appends during a flush), ends and reports as one at a time', async () => {
    const reference = new FakeTarget();
    const ref = setup(makeSource(false), reference);
    await migrate(sel, ref.ctx);
    const overlap = new OverlapTarget();
    const o = setup(makeSource(true), overlap);
    await migrate(sel, o.ctx);
    expect(overlap.maxInFlight).toBeGreaterThan(2);
    expect(overlap.maxInFlight).toBeLessThanOrEqual(BATCHES_IN_FLIGHT);
    expect(snapshot(overlap)).toBe(snapshot(reference));
    expect(reportOf(o.ledger)).toEqual(reportOf(ref.ledger));
    for (const applied of [false, true]) {
      for (let crashAt = 1; crashAt <= reference.flushes; crashAt += 2) {
        const target = new OverlapTarget();
        const { ctx } = setup(makeSource(true), target);
        target.crash = { afterFlushes: crashAt, applied };
        await migrate(sel, ctx);
        target.crash = undefined;
        expect((await migrate(sel, ctx)).failed).toBe(0);
        expect(snapshot(target), `crash at ${crashAt}, applied ${applied}`).toBe(snapshot(reference));
        const refused = ctx.ledger.listRuns().flatMap((r) => ctx.ledger.omissions(r.key)).filter((x) => x.reason === 'step-not-increasing');
        expect(refused).toEqual([]);
      }
    }
  });

  for (const applied of [false, true]) {
    it(`a crash at any flush (${applied ? 'after' : 'before'} the target applied it) then a resume ends as by rows`, async () => {
      const reference = new FakeTarget();
      await migrate(sel, setup(makeSource(false), reference).ctx);
      for (let crashAt = 1; crashAt <= reference.flushes; crashAt += 2) {
        const resumed = async (blocks: boolean) => {
          const target = new FakeTarget();
          const { ctx, ledger } = setup(makeSource(blocks), target);
          target.crash = { afterFlushes: crashAt, applied };
          await migrate(sel, ctx);
          target.crash = undefined;
          expect((await migrate(sel, ctx)).failed).toBe(0);
          return { target, report: reportOf(ledger) };
        };
        const [byRows, byBlocks] = [await resumed(false), await resumed(true)];
        expect(snapshot(byBlocks.target), `crash at ${crashAt}`).toBe(snapshot(reference));
        // The same counts as by rows, points the target held before the resume included.
        expect(byBlocks.report, `crash at ${crashAt}`).toEqual(byRows.report);
        expect(JSON.stringify(byBlocks.report)).not.toContain('step-not-increasing');
      }
    });
  }
});
