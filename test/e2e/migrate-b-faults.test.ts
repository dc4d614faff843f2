import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startNeptuneEmulator } from '../../emulators/neptune/index.ts';
import type { ProtocolBFaults } from '../../emulators/neptune-b/types.ts';
import { startStack, STACK_WORKSPACE } from '../../emulators/stack.ts';
import { generateEntity } from '../../emulators/wandb/index.ts';
import { runMigrate, type MigrateOptions, type Wiring } from '../../src/commands/migrate.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { NeptuneBTarget } from '../../src/sinks/neptune-b/target.ts';
import { createWandbSource } from '../../src/sources/wandb/index.ts';
import { bRunSnapshot } from '../neptune-b/snapshot.ts';
import { retriesFor } from '../support/fault-budget.ts';

const FAULT_RETRIES = retriesFor({ rate: 0.21, requests: 1000 });

/**
 * Issue 10, "Done when": faults on both sides change nothing in the end state, over Protocol B. W&B
 * answers 429, 5xx, resets connections, cuts downloads short and hands out already-expired signed
 * URLs; the B server answers 429 and 5xx on ingest, status and storage, resets connections, keeps
 * statuses UNAVAILABLE for stretches, and access tokens expire. The end state equals a clean
 * migration's, value by value, and nothing is counted twice.
 */
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const fastRetries = { retry: { baseDelayMs: 2, maxDelayMs: 20, retries: 12 } };
/** Status polls yield instead of waiting: the schedule below, not a clock, ends an UNAVAILABLE stretch. */
const ingest = { sleep: () => new Promise<void>((r) => setImmediate(r)) };

type Attempt = { status?: number; accepted?: boolean };

function wiring(env: Record<string, string>, onNeptuneAttempt?: (a: Attempt) => void): Wiring {
  return {
    makeSource: (o) => createWandbSource({ env, entity: o.entity, log: o.log, onNotice: o.onNotice, http: fastRetries }),
    makeTarget: (o) => new NeptuneBTarget({ env, log: o.log, ingest, http: { ...fastRetries, service: 'Neptune', onAttempt: onNeptuneAttempt } }),
  };
}

/** The B fault armed at the n-th Neptune request (one-shot faults, re-armed through the run). */
function faultAt(n: number): ProtocolBFaults | 'unstick' | 'expire' | undefined {
  if (n % 97 === 0) return { stuckUnavailable: true };
  if (n % 97 === 12) return 'unstick';
  if (n % 40 === 0) return 'expire';
  if (n % 23 === 0) return { force429: { count: 1, retryAfterSeconds: 0 }, only: 'ingest' };
  if (n % 29 === 0) return { force5xx: { count: 1, status: 503 }, only: 'check' };
  if (n % 31 === 0) return { resetConnections: { count: 1 }, only: 'ingest' };
  if (n % 17 === 0) return { force5xx: { count: 1, status: 500 }, only: 'storage' };
  if (n % 19 === 0) return { resetConnections: { count: 1 }, only: 'storage' };
  return undefined;
}

describe('migration over Protocol B under faults on both sides', () => {
  it('ends equal to a clean migration, value by value; nothing lost, nothing counted twice', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'w2n-b-faults-'));
    dirs.push(dir);
    const entity = generateEntity({ seed: 31, preset: 'all-shapes', entity: 'fault-team' });
    entity.projects = entity.projects.slice(0, 2);
    const stack = await startStack({ entity, workDir: join(dir, 'export'), neptune: { protocolB: { unavailableChecks: 1 } } });
    const clean = await startNeptuneEmulator({ workspaces: [STACK_WORKSPACE] });
    const opts = (ledger: string): MigrateOptions => ({
      source: 'api', workspace: 'demo', projects: 'all', projectMap: new Map(), filter: {}, concurrency: 3, fileConcurrency: 3,
      include: new Set(), dryRun: false, ledgerPath: join(dir, ledger), strict: false, batchPoints: 2_000,
      // W&B downloads fail about a fifth of their attempts here (5xx, resets, truncation): enough retries
      // that chance alone cannot fail one (fault-budget.ts); the reference run has no faults.
      http: { retries: FAULT_RETRIES }, protocol: 'b',
    });
    const io = { log: silentLogger, emit: () => {} };
    try {
      const reference = await runMigrate(opts('clean.sqlite'), wiring({ ...stack.env, NEPTUNE_API_TOKEN: clean.apiToken() }), io);
      expect(reference.result.failed).toBe(0);

      stack.wandb.setFaults({ seed: 7, status5xxRate: 0.08, resetRate: 0.04, truncateRate: 0.1, latencyMs: 1, staleFirstUrls: true, force429: { count: 3, retryAfterSeconds: 0 } });
      let attempts = 0;
      const armed = { stuck: 0, expired: 0, oneShots: 0 };
      const failed = { reset: 0, status: 0 };
      const faulty = await runMigrate(opts('faulty.sqlite'), wiring(stack.env, (a) => {
        if (a.status === undefined) failed.reset++;
        else if (a.status >= 400 && !a.accepted) failed.status++;
        const f = faultAt(++attempts);
        if (f === 'expire') {
          stack.neptune.expireAccessTokens();
          armed.expired++;
        } else if (f === 'unstick') stack.neptune.b.setFaults(undefined);
        else if (f) {
          stack.neptune.b.setFaults(f);
          if (f.stuckUnavailable) armed.stuck++;
          else armed.oneShots++;
        }
      }), io);
      stack.neptune.b.setFaults(undefined);
      expect(faulty.result).toMatchObject({ failed: 0, interrupted: false });
      expect(faulty.report.totals.failed).toBe(0);

      // The faults really happened on both sides.
      expect(armed.stuck).toBeGreaterThan(0);
      expect(armed.expired).toBeGreaterThan(0);
      expect(armed.oneShots).toBeGreaterThan(10);
      expect(failed.reset).toBeGreaterThan(0);
      expect(failed.status).toBeGreaterThan(5);
      const ws = stack.wandb.stats();
      expect(ws.status5xx + ws.resets).toBeGreaterThan(0);

      for (const p of entity.projects) {
        const project = `demo/${p.name.replace(/_/g, '-')}`;
        for (const run of p.runs) expect(bRunSnapshot(stack.neptune, project, run.id), run.id).toEqual(bRunSnapshot(clean, project, run.id));
      }
      // The report says what the target holds, as the clean migration's does, run by run.
      for (const r of reference.report.runs) {
        const g = faulty.report.runs.find((x) => x.run === r.run)!;
        expect({ written: g.written, notWritten: g.notWritten }, r.run).toEqual({ written: r.written, notWritten: r.notWritten });
      }
    } finally {
      await clean.close();
      await stack.close();
    }
  }, 300_000);
});
