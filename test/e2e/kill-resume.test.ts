import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startNeptuneEmulator } from '../../emulators/neptune/index.ts';
import { startStack, STACK_WORKSPACE } from '../../emulators/stack.ts';
import { generateEntity } from '../../emulators/wandb/index.ts';
import { events, runCli } from '../support/cli.ts';
import { neptuneSnapshot } from '../support/neptune-snapshot.ts';

/**
 * Issue 4, "Done when" 2: SIGKILL the migration at several points, resume it, and the final Neptune
 * state equals an uninterrupted migration's — no point missing, none duplicated.
 */
const dirs: string[] = [];
const reportOf = (stdout: string) =>
  (events(stdout).find((e) => e.type === 'report') as unknown as {
    report: { runs: Array<{ notWritten: Array<{ reason: string }> }>; totals: { failed: number; migrated: number } };
  }).report;
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('kill -9 and resume', () => {
  it('ends in the same state as an uninterrupted migration', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'w2n-kill-'));
    dirs.push(dir);
    const entity = generateEntity({ seed: 11, preset: 'all-shapes', entity: 'kill-team' });
    const stack = await startStack({ entity, workDir: join(dir, 'export') });
    const other = await startNeptuneEmulator({ workspaces: [STACK_WORKSPACE] });
    const runCount = entity.projects.reduce((n, p) => n + p.runs.length, 0);
    try {
      const args = (ledger: string) => ['migrate', '--workspace', 'demo', '--projects', 'all', '--yes', '--json', '--protocol', 'a', '--batch-points', '1500', '--concurrency', '3', '--ledger', ledger];

      // The reference: one uninterrupted migration into its own Neptune.
      const reference = await runCli(args(join(dir, 'reference.sqlite')), { ...stack.env, NEPTUNE_API_TOKEN: other.apiToken() }, dir).done;
      expect(reference.code).toBe(0);

      // Ctrl-C first (on a fresh ledger, so it surely lands mid-migration): in-flight batches settle,
      // the process exits 130 and still prints its report, naming what is left to do.
      const ledger = join(dir, 'killed.sqlite');
      const interrupted = runCli(args(ledger), stack.env, dir);
      await interrupted.waitForEvents('run.progress', 5);
      interrupted.child.kill('SIGINT');
      const stopped = await interrupted.done;
      expect(stopped.code, stopped.stderr.slice(-3000)).toBe(130);
      const partial = reportOf(stopped.stdout);
      expect(partial.totals.migrated).toBeLessThan(runCount);

      // Then SIGKILL after a few acknowledged batches, three times over. The all-shapes entity makes
      // ~150 progress events, so each of the three resumed processes surely gets this far: every kill
      // happens (a process that ended first fails the test through waitForEvents).
      for (const after of [3, 6, 9]) {
        const cli = runCli(args(ledger), stack.env, dir);
        await cli.waitForEvents('run.progress', after);
        cli.child.kill('SIGKILL');
        const out = await cli.done;
        expect(out.signal).toBe('SIGKILL');
      }
      const final = await runCli(args(ledger), stack.env, dir).done;
      expect(final.code).toBe(0);

      expect(neptuneSnapshot(stack.neptune)).toEqual(neptuneSnapshot(other));
      // Nothing was sent twice: the target never had to refuse a point for its step.
      const report = reportOf(final.stdout);
      expect(report.totals.failed).toBe(0);
      expect(report.runs.flatMap((r) => r.notWritten).filter((o) => o.reason === 'step-not-increasing' || o.reason === 'rejected-by-server')).toEqual([]);
    } finally {
      await other.close();
      await stack.close();
    }
  }, 300_000);
});
