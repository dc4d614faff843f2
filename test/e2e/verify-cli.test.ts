import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../../emulators/stack.ts';
import { generateEntity } from '../../emulators/wandb/index.ts';
import { events, runCli } from '../support/cli.ts';

/**
 * Issue 12: `verify` after a clean migration of the generated all-shapes entity finds every run
 * verified (or verified with omissions the report accounts for), with the ledger and without it.
 */
let stack: Stack;
let dir: string;
let ledger: string;
let migrateMs = 0;
let migrateRequests = '';

interface Report {
  runs: Array<{ run: { runId: string }; status: string; differences: Array<{ scope: string; subject: string; explainedBy?: unknown; detail: string }>; checked: Record<string, number> }>;
  totals: Record<string, number>;
  requests: { source?: Record<string, number>; target: Record<string, number> };
  wallMs: number;
  sample?: number;
}

const reportOf = (stdout: string) => (events(stdout).find((e) => e.type === 'report') as unknown as { report: Report }).report;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'w2n-verify-'));
  stack = await startStack({ entity: generateEntity({ seed: 7, preset: 'all-shapes', entity: 'e2e-team' }), workDir: join(dir, 'export') });
  ledger = join(dir, 'ledger.sqlite');
  const t0 = performance.now();
  const out = await runCli(['migrate', '--workspace', 'demo', '--projects', 'all', '--yes', '--json', '--ledger', ledger], stack.env, dir).done;
  migrateMs = performance.now() - t0;
  if (out.code !== 0) throw new Error(`migrate failed (${out.code}): ${out.stderr}`);
  migrateRequests = JSON.stringify((events(out.stdout).find((e) => e.type === 'report') as { requests?: unknown }).requests);
}, 240_000);

afterAll(async () => {
  await stack?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('verify after a clean migration of all-shapes', () => {
  const runs = () => stack.entity.projects.reduce((n, p) => n + p.runs.length, 0);

  it('with the ledger: every run verified or verified-with-omissions, exit 0', async () => {
    const t0 = performance.now();
    const out = await runCli(['verify', '--workspace', 'demo', '--json', '--ledger', ledger], stack.env, dir).done;
    const verifyMs = performance.now() - t0;
    const report = reportOf(out.stdout);
    const bad = report.runs.filter((r) => r.status !== 'verified' && r.status !== 'verified-with-omissions');
    expect(bad, JSON.stringify(bad, null, 1).slice(0, 4000)).toEqual([]);
    expect(out.code, out.stderr).toBe(0);
    expect(report.totals.runs).toBe(runs());
    // Something was really compared: points, console entries, files and their bytes.
    const sum = (k: string) => report.runs.reduce((n, r) => n + r.checked[k], 0);
    expect(sum('points')).toBeGreaterThan(1000);
    expect(sum('consoleEntries')).toBeGreaterThan(0);
    expect(sum('md5')).toBeGreaterThan(0);
    console.log(`[cost] migrate requests ${migrateRequests}; all-shapes ${runs()} runs: migrate ${(migrateMs / 1000).toFixed(1)} s; verify ${(verifyMs / 1000).toFixed(1)} s, ` +
      `Neptune ${report.requests.target.requests} requests (${(report.requests.target.requests / runs()).toFixed(1)}/run), ` +
      `W&B ${JSON.stringify(report.requests.source)}`);
  }, 240_000);

  it('--sample 0.3: verifies the same subset every time and says it sampled', async () => {
    const a = await runCli(['verify', '--workspace', 'demo', '--json', '--ledger', ledger, '--sample', '0.3'], stack.env, dir).done;
    const b = await runCli(['verify', '--workspace', 'demo', '--ledger', ledger, '--sample', '0.3'], stack.env, dir).done;
    const report = reportOf(a.stdout);
    expect(a.code).toBe(0);
    expect(report.sample).toBe(0.3);
    expect(report.totals.selected).toBe(runs());
    expect(report.totals.runs).toBeGreaterThan(0);
    expect(report.totals.runs).toBeLessThan(runs());
    const skipped = events(a.stdout).filter((e) => e.type === 'verify.skipped');
    expect(skipped.length + report.totals.runs).toBe(runs());
    // The text output says it sampled, and which share it verified.
    expect(b.code).toBe(0);
    expect(b.stderr).toContain(`SAMPLED: --sample 0.3 verified ${report.totals.runs} of the ${runs()} selected runs`);
  }, 240_000);

  it('needs no --workspace when the ledger says where its runs went; without either it is exit 2', async () => {
    const { NEPTUNE_PROJECT: _, ...noProject } = stack.env;
    const told = await runCli(['verify', '--workspace', 'demo', '--json', '--ledger', ledger, '--sample', '0.3'], stack.env, dir).done;
    const found = await runCli(['verify', '--json', '--ledger', ledger, '--sample', '0.3'], noProject, dir).done;
    expect(found.code, found.stderr).toBe(0);
    // Runs are reported as they finish (several at once): compared in run-id order.
    const strip = (r: ReturnType<typeof reportOf>) => [...r.runs].sort((a, b) => a.run.runId.localeCompare(b.run.runId));
    expect(strip(reportOf(found.stdout))).toEqual(strip(reportOf(told.stdout)));
    expect(reportOf(found.stdout).totals.runs).toBeGreaterThan(0);

    const neither = await runCli(['verify', '--ledger', join(dir, 'nowhere.sqlite')], noProject, dir).done;
    expect(neither.code).toBe(2);
    const bare = await runCli(['verify'], noProject, join(dir, 'export')).done;
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain('no Neptune workspace: pass --workspace or set NEPTUNE_PROJECT=workspace/project');
  }, 240_000);

  it('user mistakes are exit 2 with the problem named', async () => {
    const bad = await runCli(['verify', '--workspace', 'demo', '--sample', '1.5'], stack.env, dir).done;
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--sample must be a fraction above 0 and at most 1');
    const noLedger = await runCli(['verify', '--workspace', 'demo', '--ledger', join(dir, 'nope.sqlite')], stack.env, dir).done;
    expect(noLedger.code).toBe(2);
    expect(noLedger.stderr).toContain('nope.sqlite: no such file');
    const noRun = await runCli(['verify', '--workspace', 'demo', '--runs', 'zzzzzzzz'], stack.env, dir).done;
    expect(noRun.code).toBe(2);
    expect(noRun.stderr).toContain('--runs zzzzzzzz matched no run');
  }, 120_000);

  it('without a ledger: runs found by custom run id, none missing', async () => {
    const out = await runCli(['verify', '--workspace', 'demo', '--json'], stack.env, dir).done;
    const report = reportOf(out.stdout);
    expect(report.totals.missing).toBe(0);
    const bad = report.runs.filter((r) => r.status !== 'verified' && r.status !== 'verified-with-omissions');
    expect(bad, JSON.stringify(bad, null, 1).slice(0, 4000)).toEqual([]);
    expect(out.code).toBe(0);
  }, 240_000);

  // Last: it migrates again with other options.
  it('checks each run against the options its migration used (the ledger\'s), not the flags of the verify', async () => {
    const m = await runCli(['migrate', '--workspace', 'demo', '--projects', 'all', '--yes', '--json', '--ledger', ledger, '--include', 'internal'], stack.env, dir).done;
    expect(m.code).toBe(0);
    const withLedger = await runCli(['verify', '--workspace', 'demo', '--json', '--ledger', ledger], stack.env, dir).done;
    expect(withLedger.code, withLedger.stderr).toBe(0);
    // Without the ledger nothing says `_` keys were included: the `summary/_…` fields are named.
    const bare = await runCli(['verify', '--workspace', 'demo', '--json'], stack.env, dir).done;
    expect(bare.code).toBe(5);
    const named = reportOf(bare.stdout).runs.flatMap((r) => r.differences.map((d) => d.subject));
    expect(named.some((s) => s.startsWith('summary/_'))).toBe(true);
    const told = await runCli(['verify', '--workspace', 'demo', '--json', '--include', 'internal'], stack.env, dir).done;
    expect(told.code).toBe(0);
  }, 300_000);
});
