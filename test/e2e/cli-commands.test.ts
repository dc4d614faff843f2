import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../../emulators/stack.ts';
import { generateEntity } from '../../emulators/wandb/index.ts';
import { events, runCli } from '../support/cli.ts';

/** The CLI around `migrate`: dry run, filters, status, report, usage errors and exit codes. */
let stack: Stack;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'w2n-cmd-'));
  stack = await startStack({ entity: generateEntity({ seed: 5, preset: 'all-shapes', entity: 'cmd-team' }), workDir: join(dir, 'export') });
}, 60_000);
afterAll(async () => {
  await stack?.close();
  rmSync(dir, { recursive: true, force: true });
});

const reportOf = (stdout: string) =>
  (events(stdout).find((e) => e.type === 'report') as unknown as {
    report: { totals: { runs: number; migrated: number; points: number; files: number }; runs: Array<{ run: string; status: string; written: Record<string, number> }> };
  }).report;

describe('wandb-to-neptune CLI', () => {
  it('--dry-run reads and plans, prints counts per run, and writes nothing (not even a ledger)', async () => {
    const ledger = join(dir, 'dry.sqlite');
    const out = await runCli(['migrate', '--workspace', 'demo', '--projects', 'all', '--yes', '--json', '--dry-run', '--ledger', ledger], stack.env, dir).done;
    expect(out.code).toBe(0);
    const report = reportOf(out.stdout);
    expect(report.totals.runs).toBe(stack.entity.projects.reduce((n, p) => n + p.runs.length, 0));
    expect(report.totals.points).toBeGreaterThan(10_000);
    expect(report.runs.every((r) => r.status === 'migrated')).toBe(true);
    expect(stack.neptune.inspect.projects()).toEqual([]);
    expect(stack.neptune.stats().requests).toBe(0);
    const text = await runCli(['migrate', '--workspace', 'demo', '--projects', stack.entity.projects[0].name, '--yes', '--dry-run', '--ledger', ledger], stack.env, dir).done;
    expect(text.code).toBe(0);
    expect(text.stderr).toContain('Dry run: nothing was written. A real run would write:');
    expect(text.stderr).toMatch(/^WOULD-MIGRATE \S+ .*: fields \d+, points \d+/m);
    const status = await runCli(['status', '--ledger', ledger], {}, dir).done;
    expect(status.code).toBe(2);
    expect(status.stderr).toContain('no ledger');
  });

  it('filters by project and run id, then status and report read the ledger', async () => {
    const project = stack.entity.projects[0];
    const runIds = project.runs.slice(0, 2).map((r) => r.id);
    const ledger = join(dir, 'filtered.sqlite');
    const out = await runCli(
      ['migrate', '--workspace', 'demo', '--projects', project.name, '--runs', runIds.join(','), '--yes', '--json', '--ledger', ledger],
      stack.env,
      dir,
    ).done;
    expect(out.code).toBe(0);
    expect(reportOf(out.stdout).runs.map((r) => r.run.split('/')[2]).sort()).toEqual([...runIds].sort());

    const status = await runCli(['status', '--ledger', ledger, '--json'], {}, dir).done;
    expect(status.code).toBe(0);
    const parsed = JSON.parse(status.stdout) as { counts: Record<string, number>; runs: Array<{ run: string; status: string }> };
    expect(parsed.counts.done).toBe(2);

    const report = await runCli(['report', '--ledger', ledger], {}, dir).done;
    expect(report.code).toBe(0);
    for (const id of runIds) expect(report.stdout).toContain(id);
    expect(report.stdout).toMatch(/^Runs: 2 \(migrated 2/m);
  });

  it('--strict fails (exit 4) when something was left out for a reason other than the defaults', async () => {
    // The all-shapes entity logs lists in history: not carried by Protocol A, counted as unsupported-value.
    const ledger = join(dir, 'strict.sqlite');
    const out = await runCli(['migrate', '--workspace', 'demo', '--projects', 'all', '--yes', '--json', '--strict', '--ledger', ledger], stack.env, dir).done;
    expect(out.code).toBe(4);
    const report = events(out.stdout).find((e) => e.type === 'report') as unknown as { report: { nonDefaultOmissions: number; totals: { failed: number } } };
    expect(report.report.nonDefaultOmissions).toBeGreaterThan(0);
    expect(report.report.totals.failed).toBe(0);
    // Without --strict the same, now complete, migration is a success.
    expect((await runCli(['migrate', '--workspace', 'demo', '--projects', 'all', '--yes', '--ledger', ledger], stack.env, dir).done).code).toBe(0);
  });

  it('bad options are usage errors (exit 2) listing every problem; a wrong W&B key names the service, not the key', async () => {
    const bad = await runCli(['migrate', '--yes', '--concurrency', 'zero', '--since', 'yesterday', '--include', 'everything'], { ...stack.env, NEPTUNE_PROJECT: '' }, dir).done;
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--concurrency');
    expect(bad.stderr).toContain('--since');
    expect(bad.stderr).toContain('--include everything');
    expect(bad.stderr).toContain('no Neptune workspace');

    const wrongKey = 'wrong-key-that-must-not-be-printed-0000';
    const denied = await runCli(['migrate', '--workspace', 'demo', '--yes', '--ledger', join(dir, 'denied.sqlite')], { ...stack.env, WANDB_API_KEY: wrongKey }, dir).done;
    expect(denied.code).toBe(2);
    expect(denied.stderr).toMatch(/W&B/);
    expect(denied.stderr).not.toContain(wrongKey);

    // A token Neptune refuses stops the migration with one clear error before any run is written (issue 9
    // item 14; since issue 13 it is checked when the first run has something to write, not before listing).
    const token = JSON.parse(Buffer.from(stack.env.NEPTUNE_API_TOKEN, 'base64').toString()) as Record<string, string>;
    const badKey = 'refused-neptune-key-must-not-be-printed';
    const badToken = Buffer.from(JSON.stringify({ ...token, api_key: badKey })).toString('base64');
    const refusedLedger = join(dir, 'refused.sqlite');
    const refused = await runCli(['migrate', '--workspace', 'demo', '--yes', '--concurrency', '2', '--ledger', refusedLedger], { ...stack.env, NEPTUNE_API_TOKEN: badToken }, dir).done;
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/error \(AUTH\): Neptune rejected the API token/);
    expect(refused.stderr).not.toContain(badKey);
    expect(refused.stderr).not.toContain(badToken);
    const status = JSON.parse((await runCli(['status', '--ledger', refusedLedger, '--json'], {}, dir).done).stdout) as { counts: Record<string, number> };
    // The runs listed so far were selected (how many depends on when the refusal came), none started,
    // none counted failed for the token.
    expect(status.counts).toMatchObject({ done: 0, failed: 0 });
    expect(status.counts.pending).toBeGreaterThan(0);
  });
});
