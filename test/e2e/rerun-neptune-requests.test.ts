import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../../emulators/stack.ts';
import { generateEntity } from '../../emulators/wandb/index.ts';
import { events, runCli } from '../support/cli.ts';

/**
 * Issue 13, "Cost that does not grow with the work": a re-run with nothing changed sends Neptune no
 * request at all — its checks (client config, token, workspace) are made only when a run has something
 * to write. A re-run that does have work still stops on a refused token before writing anything, with
 * one clear error (exit 2), and counts no run failed for it.
 */
let stack: Stack;
let dir: string;
const RUNS = 4;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'w2n-rerun-'));
  stack = await startStack({ entity: generateEntity({ seed: 31, preset: 'many-small-runs', runs: RUNS, entity: 'rerun-team' }), workDir: join(dir, 'export') });
}, 60_000);
afterAll(async () => {
  await stack?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface ReportEvent { report: { totals: Record<string, number>; runs: Array<{ run: { runId: string }; status: string }> } }
const report = (stdout: string) => events(stdout).find((e) => e.type === 'report') as unknown as ReportEvent;
/** Neptune requests by endpoint made while `work` ran. */
async function neptuneRequestsOf<T>(work: () => Promise<T>): Promise<{ result: T; sent: Record<string, number> }> {
  const before = { ...stack.neptune.stats().byEndpoint };
  const result = await work();
  const after = stack.neptune.stats().byEndpoint;
  return { result, sent: Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]).filter(([, n]) => n)) };
}
function refusedToken(): string {
  const token = JSON.parse(Buffer.from(stack.env.NEPTUNE_API_TOKEN, 'base64').toString()) as Record<string, string>;
  return Buffer.from(JSON.stringify({ ...token, api_key: 'refused-key-must-not-be-printed' })).toString('base64');
}

describe('a re-run sends Neptune nothing unless it has something to write', () => {
  it('unchanged: 0 Neptune requests; with new runs and a refused token: exit 2 before any write, no run failed', async () => {
    const ids = stack.entity.projects[0].runs.map((r) => r.id);
    const ledger = join(dir, 'ledger.sqlite');
    const migrate = (runs: string[], env: Record<string, string> = stack.env) =>
      runCli(['migrate', '--workspace', 'demo', '--projects', 'all', '--runs', runs.join(','), '--yes', '--json', '--ledger', ledger], env, dir).done;

    const first = await migrate(ids.slice(0, 2));
    expect(first.code).toBe(0);
    expect(report(first.stdout).report.totals).toMatchObject({ migrated: 2, failed: 0 });
    // A run the ledger only noted as selected was never started: it starts, it does not resume.
    const started = (stdout: string) => events(stdout).filter((e) => e.type === 'run.started').map((e) => (e as { resumed?: boolean }).resumed);
    expect(started(first.stdout)).toEqual([false, false]);

    const unchanged = await neptuneRequestsOf(() => migrate(ids.slice(0, 2)));
    expect(unchanged.result.code).toBe(0);
    expect(report(unchanged.result.stdout).report.totals).toMatchObject({ migrated: 0, skipped: 2, failed: 0 });
    expect(unchanged.sent).toEqual({});

    // Two runs are new: there is work, so the token is checked first, and refused.
    const refused = await neptuneRequestsOf(() => migrate(ids, { ...stack.env, NEPTUNE_API_TOKEN: refusedToken() }));
    expect(refused.result.code).toBe(2);
    expect(refused.result.stderr).toMatch(/Neptune rejected the API token/);
    expect(refused.result.stderr).not.toContain('refused-key-must-not-be-printed');
    expect(events(refused.result.stdout).filter((e) => e.type === 'run.started' || e.type === 'run.failed')).toEqual([]);
    // Only the checks: nothing about a project or a run reached Neptune.
    expect(Object.keys(refused.sent).sort()).toEqual(['exchangeApiToken', 'getClientConfig']);
    const status = JSON.parse((await runCli(['status', '--ledger', ledger, '--json'], {}, dir).done).stdout) as { counts: Record<string, number> };
    expect(status.counts).toEqual({ done: 2, pending: 2, failed: 0 });

    // With the right token the same command migrates just the two new runs.
    const fixed = await migrate(ids);
    expect(fixed.code).toBe(0);
    expect(report(fixed.stdout).report.totals).toMatchObject({ migrated: 2, skipped: 2, failed: 0 });
    expect(started(fixed.stdout)).toEqual([false, false]);
  }, 120_000);
});
