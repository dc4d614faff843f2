/**
 * Issue 13: the runs' queries batched into one GraphQL document per several runs change how W&B is
 * read, never what lands. The all-shapes entity migrated with batching off (WANDB_TO_NEPTUNE_BATCH_RUNS=0,
 * every run's queries on their own, as before) and on ends in the same Neptune state, value by value,
 * with the same report — in far fewer GraphQL requests.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startNeptuneEmulator } from '../../emulators/neptune/index.ts';
import { startStack, STACK_WORKSPACE } from '../../emulators/stack.ts';
import { generateEntity } from '../../emulators/wandb/index.ts';
import { runMigrate, type MigrateOptions, type Wiring } from '../../src/commands/migrate.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { NeptuneTarget } from '../../src/sinks/neptune/target.ts';
import { createWandbSource } from '../../src/sources/wandb/index.ts';
import { neptuneSnapshot } from '../support/neptune-snapshot.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function wiring(env: Record<string, string>): Wiring {
  return {
    makeSource: (o) => createWandbSource({ env, entity: o.entity, log: o.log, onNotice: o.onNotice }),
    makeTarget: (o) => new NeptuneTarget({ env, log: o.log }),
  };
}

describe('batched W&B queries', () => {
  it('land exactly what single-run queries land (all-shapes entity), in fewer requests', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'w2n-batching-'));
    dirs.push(dir);
    const stack = await startStack({ entity: generateEntity({ seed: 5, preset: 'all-shapes', entity: 'batch-team' }), workDir: join(dir, 'export') });
    const single = await startNeptuneEmulator({ workspaces: [STACK_WORKSPACE] });
    const opts = (ledger: string): MigrateOptions => ({
      source: 'api', workspace: 'demo', projects: 'all', projectMap: new Map(), filter: {}, concurrency: 4, fileConcurrency: 3,
      include: new Set(), dryRun: false, ledgerPath: join(dir, ledger), strict: false, batchPoints: 2_000,
    });
    const io = { log: silentLogger, emit: () => {} };
    const graphql = () => ({ ...stack.wandb.stats().byOperation });
    const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);
    const delta = (after: Record<string, number>, before: Record<string, number>) =>
      Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]).filter(([, v]) => (v as number) > 0)) as Record<string, number>;
    try {
      const b0 = graphql();
      const off = await runMigrate(opts('single.sqlite'), wiring({ ...stack.env, NEPTUNE_API_TOKEN: single.apiToken(), WANDB_TO_NEPTUNE_BATCH_RUNS: '0' }), io);
      const b1 = graphql();
      const on = await runMigrate(opts('batched.sqlite'), wiring(stack.env), io);
      const b2 = graphql();
      expect(off.result.failed).toBe(0);
      expect(on.result).toMatchObject({ failed: 0, migrated: off.result.migrated, interrupted: false });
      expect(on.result.migrated).toBeGreaterThan(5);

      expect(neptuneSnapshot(stack.neptune)).toEqual(neptuneSnapshot(single));
      const byRun = (r: typeof on.report) => Object.fromEntries(r.runs.map((x) => [x.run, x.notWritten]));
      expect(byRun(on.report)).toEqual(byRun(off.report));
      expect(on.report.totals).toEqual(off.report.totals);

      const sentOff = delta(b1, b0);
      const sentOn = delta(b2, b1);
      expect(sentOff.RunBatch).toBeUndefined();
      expect(sentOn.RunBatch).toBeGreaterThan(0);
      expect(sum(sentOn)).toBeLessThan(sum(sentOff) / 2);
    } finally {
      await single.close();
      await stack.close();
    }
  }, 240_000);
});
