import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNeptuneEmulator, type NeptuneEmulator } from '../../emulators/neptune/index.ts';
import { events, runCli } from '../support/cli.ts';
import { SAMPLES, sampleDirs, runIdOf } from '../local/helpers.ts';

/**
 * Issue 12: `verify` over the real sample run folders (../shared/wandb-samples) after they were
 * migrated from disk: every run verified or verified-with-omissions (NaN points, histograms and
 * images are left out by the migration and accounted for).
 */
let emu: NeptuneEmulator;
let dir: string;
let env: Record<string, string>;
let migrateMs = 0;
let migrateRequests = '';
/** Runs whose migration report leaves something out beyond the documented defaults, or notes damage. */
let withOmissions: string[] = [];
const ledger = () => join(dir, 'ledger.sqlite');

interface Report {
  runs: Array<{ run: { runId: string }; status: string; differences: unknown[]; checked: Record<string, number>; omitted: number }>;
  totals: Record<string, number>;
  requests: { target: Record<string, number> };
  wallMs: number;
}
const reportOf = (stdout: string) => (events(stdout).find((e) => e.type === 'report') as unknown as { report: Report }).report;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'w2n-verify-samples-'));
  emu = await startNeptuneEmulator({ workspaces: ['demo'] });
  env = { NEPTUNE_API_TOKEN: emu.apiToken(), NEPTUNE_PROJECT: 'demo/placeholder' };
  const t0 = performance.now();
  const out = await runCli(['migrate', '--source', SAMPLES, '--workspace', 'demo', '--yes', '--json', '--ledger', ledger()], env, dir).done;
  migrateMs = performance.now() - t0;
  if (out.code !== 0) throw new Error(`migrate failed (${out.code}): ${out.stderr}`);
  migrateRequests = JSON.stringify((events(out.stdout).find((e) => e.type === 'report') as { requests?: unknown }).requests);
  const migrated = (events(out.stdout).find((e) => e.type === 'report') as unknown as {
    report: { runs: Array<{ run: string; notWritten: Array<{ reason: string }>; notices: Array<{ kind: string }> }> };
  }).report;
  const defaults = new Set(['excluded-by-default', 'empty-file', 'non-finite', 'renamed', 'console-overwritten']);
  withOmissions = migrated.runs
    .filter((r) => r.notWritten.some((o) => !defaults.has(o.reason)) || r.notices.some((n) => n.kind !== 'sampled'))
    .map((r) => r.run.split('/').pop()!)
    .sort();
}, 240_000);

afterAll(async () => {
  await emu?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('verify over the sample run folders', () => {
  it('with the ledger: all twelve runs verified or verified-with-omissions', async () => {
    const t0 = performance.now();
    const out = await runCli(['verify', '--source', SAMPLES, '--workspace', 'demo', '--json', '--ledger', ledger()], env, dir).done;
    const verifyMs = performance.now() - t0;
    const report = reportOf(out.stdout);
    expect(report.runs.map((r) => r.run.runId).sort()).toEqual(sampleDirs().map(runIdOf).sort());
    const bad = report.runs.filter((r) => !r.status.startsWith('verified'));
    expect(bad, JSON.stringify(bad, null, 1).slice(0, 4000)).toEqual([]);
    expect(out.code).toBe(0);
    // verified-with-omissions exactly where the migration report leaves out more than the defaults.
    expect(withOmissions.length).toBeGreaterThan(0);
    expect(report.runs.filter((r) => r.status === 'verified-with-omissions').map((r) => r.run.runId).sort()).toEqual(withOmissions);
    console.log(`[cost] migrate requests ${migrateRequests}; samples ${report.runs.length} runs: migrate ${(migrateMs / 1000).toFixed(1)} s; verify ${(verifyMs / 1000).toFixed(1)} s, ` +
      `Neptune ${report.requests.target.requests} requests (${(report.requests.target.requests / report.runs.length).toFixed(1)}/run), ` +
      `points ${report.runs.reduce((n, r) => n + r.checked.points, 0)}, console ${report.runs.reduce((n, r) => n + r.checked.consoleEntries, 0)}`);
  }, 240_000);

  it('without the ledger: the same verdict, runs found by custom run id', async () => {
    const out = await runCli(['verify', '--source', SAMPLES, '--workspace', 'demo', '--json'], env, dir).done;
    const report = reportOf(out.stdout);
    expect(report.totals.runs).toBe(12);
    expect(report.runs.filter((r) => !r.status.startsWith('verified'))).toEqual([]);
    expect(report.runs.filter((r) => r.status === 'verified-with-omissions').map((r) => r.run.runId).sort()).toEqual(withOmissions);
    expect(out.code).toBe(0);
  }, 240_000);
});
