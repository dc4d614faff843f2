/**
 * A run's history is asked for before the run is opened on the target (its export downloads while the
 * project and run are made), from the ledger's cursor, with the migration's signal (what a source's first
 * read starts is shared with other runs); a run the target refuses ends that read (its `finally` runs)
 * and nothing of it reaches the target.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { HistoryBlock, RunInfo } from '../../src/core/records.ts';
import type { TargetProject, TargetRun } from '../../src/core/sink.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import { defaultMappingOptions } from '../../src/mapping/options.ts';
import type { MigrationContext } from '../../src/pipeline/context.ts';
import { migrate, type MigrateSelection } from '../../src/pipeline/migrate.ts';
import { Pool } from '../../src/pipeline/pool.ts';
import { blockOf } from '../support/history-blocks.ts';
import { FakeSource, FakeTarget, fakeRun } from './fakes.ts';

const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

const sel: MigrateSelection = { workspace: 'ws', projects: 'all', projectMap: new Map(), filter: {}, concurrency: 1 };

/** Blocks of 10 rows; says what happens to its reads in `events`, and which signal each read got. */
class TracedSource extends FakeSource {
  events: string[] = [];
  signals: Array<AbortSignal | undefined> = [];
  async *historyBlocks(run: RunInfo, opts: { fromStep?: number }, signal?: AbortSignal): AsyncIterable<HistoryBlock> {
    this.events.push(`history asked from ${opts.fromStep ?? 0}`);
    this.signals.push(signal);
    try {
      const rows = [];
      for await (const r of this.history(run, opts, signal)) {
        rows.push(r);
        if (rows.length === 10) yield blockOf(rows.splice(0), ['loss', 'acc', 'train/x', '_runtime']);
      }
      if (rows.length) yield blockOf(rows, ['loss', 'acc', 'train/x', '_runtime']);
    } finally {
      this.events.push('history closed');
    }
  }
}

class TracedTarget extends FakeTarget {
  constructor(private readonly events: string[], private readonly refuse = false) { super(); }
  override async openRun(project: TargetProject, customRunId: string): Promise<TargetRun> {
    this.events.push('run opened');
    if (this.refuse) throw new Error('the target refuses the run');
    return super.openRun(project, customRunId);
  }
}

const migration = new AbortController();

function setup(source: FakeSource, target: FakeTarget) {
  const dir = mkdtempSync(join(tmpdir(), 'w2n-history-ahead-'));
  dirs.push(dir);
  const ledger = new Ledger(join(dir, 'ledger.sqlite'));
  const ctx: MigrationContext = {
    source, target, ledger, mapping: { ...defaultMappingOptions, include: new Set() as never }, log: silentLogger, emit: () => {},
    filePool: new Pool(2), batchPoints: 25, fileBatchBytes: 5_000_000, fileBatchCount: 500, toolVersion: 'test', signal: migration.signal,
  };
  return { ctx, ledger };
}

describe('history read ahead of the run', () => {
  it('is asked for before the target opens the run, and on a resume from the cursor on', async () => {
    const source = new TracedSource([fakeRun('r1')], new Map([['r1', 95]]));
    const target = new FakeTarget();
    target.crash = { afterFlushes: 2, applied: true };
    const traced = new TracedTarget(source.events);
    // The same target state for both passes: the traced target delegates to `target`.
    traced.openRun = async (p, id) => { source.events.push('run opened'); return target.openRun(p, id); };
    const { ctx, ledger } = setup(source, traced);
    expect((await migrate(sel, ctx)).failed).toBe(1);
    expect(source.events.slice(0, 2)).toEqual(['history asked from 0', 'run opened']);
    const cursor = ledger.cursor(fakeRun('r1').key, 'history')!;
    expect(cursor).toBeGreaterThanOrEqual(0);
    target.crash = undefined;
    source.events = [];
    expect((await migrate(sel, ctx)).failed).toBe(0);
    expect(source.events).toEqual([`history asked from ${cursor + 1}`, 'run opened', 'history closed']);
    const loss = target.runs.get('ws/proj-one/r1')!.series.get('loss')!;
    expect(loss.map((p) => p.step)).toEqual(Array.from({ length: 95 }, (_, i) => i));
  });

  it('a run the target refuses ends the read (its finally runs), nothing written; no read’s signal is aborted with its run', async () => {
    const source = new TracedSource([fakeRun('r1'), fakeRun('r2')], new Map([['r1', 95], ['r2', 30]]));
    const target = new TracedTarget(source.events, true);
    const { ctx } = setup(source, target);
    const result = await migrate(sel, ctx);
    expect(result.failed).toBe(2);
    expect(source.events).toEqual(['history asked from 0', 'run opened', 'history closed', 'history asked from 0', 'run opened', 'history closed']);
    expect(target.runs.size).toBe(0);
    // Not ended with the run: what the read started may serve other runs.
    expect(source.signals.map((sig) => sig !== undefined && !sig.aborted)).toEqual([true, true]);
  });
});
