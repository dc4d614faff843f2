/**
 * Issue 9, item 5: system samples whose steps go back for some series and not for others (wandb-core
 * writes one stats record per collector, a few µs apart, not in order). Steps must increase per
 * series: every point that steps forward in its own series lands, the others are counted once per
 * path — also when the migration dies at any batch and resumes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.ts';
import type { RunInfo, SystemMetrics, SystemSample } from '../../src/core/records.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import { defaultMappingOptions } from '../../src/mapping/options.ts';
import type { MigrationContext } from '../../src/pipeline/context.ts';
import { migrate, type MigrateSelection } from '../../src/pipeline/migrate.ts';
import { Pool } from '../../src/pipeline/pool.ts';
import { buildReport } from '../../src/pipeline/report.ts';
import { FakeSource, FakeTarget, fakeRun } from './fakes.ts';

const SAMPLES: SystemSample[] = [
  { timestamp: 100, runtime: 10, values: { 'system.cpu': 1, 'system.gpu': 1 } },
  { timestamp: 99.99, runtime: 9.99, values: { 'system.mem': 1 } },
  { timestamp: 120, runtime: 30, values: { 'system.cpu': 2 } },
  { timestamp: 119, runtime: 29, values: { 'system.mem': 2 } },
  { timestamp: 118, runtime: 28, values: { 'system.cpu': 9 } },
  { timestamp: 140, runtime: 50, values: { 'system.cpu': 3, 'system.mem': 3 } },
];

class OutOfOrderSource extends FakeSource {
  override async systemMetrics(): Promise<SystemMetrics> {
    async function* samples() {
      yield* SAMPLES;
    }
    return { sampled: false, samples: samples() };
  }
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const sel: MigrateSelection = { workspace: 'ws', projects: 'all', projectMap: new Map(), filter: {}, concurrency: 1 };

function context(target: FakeTarget): MigrationContext {
  const dir = mkdtempSync(join(tmpdir(), 'w2n-sys-'));
  dirs.push(dir);
  const runs: RunInfo[] = [fakeRun('r1')];
  return {
    source: new OutOfOrderSource(runs, new Map([['r1', 0]])), target, ledger: new Ledger(join(dir, 'ledger.sqlite')), mapping: defaultMappingOptions,
    log: silentLogger, emit: () => {}, filePool: new Pool(1), batchPoints: 1, fileBatchBytes: 1_000_000, fileBatchCount: 100, toolVersion: 'test',
  };
}

const monitoring = (t: FakeTarget) =>
  Object.fromEntries([...t.runs.get('ws/proj-one/r1')!.series].filter(([p]) => p.startsWith('monitoring/') && p !== 'monitoring/stdout').map(([p, pts]) => [p, pts.map((x) => [x.step, x.value])]));
const backward = (ctx: MigrationContext) => buildReport(ctx.ledger).runs[0].notWritten.filter((o) => o.reason === 'step-not-increasing').map((o) => [o.subject, o.count]);

describe('system metrics: steps increase per series', () => {
  it('lands every point that steps forward in its own series; counts the others per path', async () => {
    const target = new FakeTarget();
    const ctx = context(target);
    expect(await migrate(sel, ctx)).toMatchObject({ migrated: 1, failed: 0 });
    expect(monitoring(target)).toEqual({
      'monitoring/cpu': [[10, 1], [30, 2], [50, 3]],
      'monitoring/gpu': [[10, 1]],
      'monitoring/mem': [[9.99, 1], [29, 2], [50, 3]],
    });
    expect(backward(ctx)).toEqual([['monitoring/cpu', 1]]);
  });

  for (const applied of [false, true]) {
    it(`dies at any batch (${applied ? 'after' : 'before'} the target applied it), resumes, and ends the same`, async () => {
      for (let k = 1; k <= 8; k++) {
        const target = new FakeTarget();
        target.crash = { afterFlushes: k, applied };
        const ctx = context(target);
        await migrate(sel, ctx);
        target.crash = undefined;
        expect(await migrate(sel, ctx), `crash at flush ${k}`).toMatchObject({ failed: 0 });
        expect(monitoring(target), `crash at flush ${k}`).toEqual({
          'monitoring/cpu': [[10, 1], [30, 2], [50, 3]],
          'monitoring/gpu': [[10, 1]],
          'monitoring/mem': [[9.99, 1], [29, 2], [50, 3]],
        });
        expect(backward(ctx), `crash at flush ${k}`).toEqual([['monitoring/cpu', 1]]);
      }
    });
  }
});
