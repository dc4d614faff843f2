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
import { retriesFor } from '../support/fault-budget.ts';

const FAULT_RETRIES = retriesFor({ rate: 0.21, requests: 1000 });

/**
 * Reliability end to end: with faults on both sides at once — W&B answering 5xx, resetting
 * connections and cutting downloads short; Neptune answering 5xx, resetting connections and expiring
 * access tokens every 40 requests — the migration ends in exactly the state of a clean one.
 */
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const fastRetries = { retry: { baseDelayMs: 10, maxDelayMs: 100, retries: 12 } };

function wiring(env: Record<string, string>, onNeptuneAttempt?: () => void): Wiring {
  return {
    makeSource: (o) => createWandbSource({ env, entity: o.entity, log: o.log, onNotice: o.onNotice, http: fastRetries }),
    makeTarget: (o) => new NeptuneTarget({ env, log: o.log, http: { ...fastRetries, service: 'Neptune', onAttempt: onNeptuneAttempt } }),
  };
}

describe('migration under faults', () => {
  it('ends equal to a clean migration, nothing lost, nothing twice', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'w2n-faults-'));
    dirs.push(dir);
    const entity = generateEntity({ seed: 31, preset: 'all-shapes', entity: 'fault-team' });
    entity.projects = entity.projects.slice(0, 2);
    const stack = await startStack({ entity, workDir: join(dir, 'export') });
    const clean = await startNeptuneEmulator({ workspaces: [STACK_WORKSPACE] });
    const opts = (ledger: string): MigrateOptions => ({
      source: 'api', workspace: 'demo', projects: 'all', projectMap: new Map(), filter: {}, concurrency: 3, fileConcurrency: 3,
      include: new Set(), dryRun: false, ledgerPath: join(dir, ledger), strict: false, batchPoints: 2_000,
      // W&B downloads fail about a fifth of their attempts here (5xx, resets, truncation): enough retries
      // that chance alone cannot fail one (fault-budget.ts); the reference run has no faults.
      http: { retries: FAULT_RETRIES },
    });
    const io = { log: silentLogger, emit: () => {} };
    try {
      const reference = await runMigrate(opts('clean.sqlite'), wiring({ ...stack.env, NEPTUNE_API_TOKEN: clean.apiToken() }), io);
      expect(reference.result.failed).toBe(0);

      stack.wandb.setFaults({ seed: 7, status5xxRate: 0.08, resetRate: 0.04, truncateRate: 0.1, latencyMs: 1 });
      stack.neptune.setFaults({ seed: 9, status5xxRate: 0.08, resetRate: 0.04 });
      // Access tokens expire under the writer every 40 Neptune requests: counted, not timed.
      let attempts = 0;
      const faulty = await runMigrate(opts('faulty.sqlite'), wiring(stack.env, () => {
        if (++attempts % 40 === 0) stack.neptune.expireAccessTokens();
      }), io);
      expect(faulty.result).toMatchObject({ failed: 0, interrupted: false });
      expect(faulty.report.totals.failed).toBe(0);

      const st = stack.neptune.stats();
      // The faults really happened on both sides, tokens expired included.
      expect(attempts).toBeGreaterThanOrEqual(80);
      expect(st.byEndpoint.refreshToken ?? 0).toBeGreaterThan(0);
      expect(st.status5xx + st.resets).toBeGreaterThan(0);
      const ws = stack.wandb.stats();
      expect(ws.status5xx + ws.resets).toBeGreaterThan(0);

      stack.neptune.setFaults(undefined);
      expect(neptuneSnapshot(stack.neptune)).toEqual(neptuneSnapshot(clean));
      const sentTwice = faulty.report.runs.flatMap((r) => r.notWritten).filter((o) => o.reason === 'step-not-increasing' || o.reason === 'rejected-by-server');
      expect(sentTwice).toEqual([]);
    } finally {
      await clean.close();
      await stack.close();
    }
  }, 240_000);
});
