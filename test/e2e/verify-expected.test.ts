import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../../emulators/stack.ts';
import { generateEntity } from '../../emulators/wandb/index.ts';
import { events, runCli } from '../support/cli.ts';

/**
 * Issue 12: a difference the migration's report accounts for is `expected`, anything else a
 * `mismatch`. A Neptune server that refuses string values over 40 characters (emulator limit
 * `stringMax`): the migration reports each refused field (rejected-by-server); verify with that
 * ledger calls the missing fields expected (exit 0); without the ledger nothing accounts for them
 * and the same fields are mismatches (exit 5).
 */
let stack: Stack;
let dir: string;
let ledger: string;
let refused: Array<{ run: string; subject: string }> = [];

interface Diff { scope: string; subject: string; explainedBy?: { reason: string } }
interface Report { runs: Array<{ run: { entity: string; project: string; runId: string }; status: string; differences: Diff[] }>; totals: Record<string, number> }
const reportOf = (stdout: string) => (events(stdout).find((e) => e.type === 'report') as unknown as { report: Report }).report;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'w2n-verify-expected-'));
  stack = await startStack({
    entity: generateEntity({ seed: 11, preset: 'all-shapes', entity: 'exp-team' }),
    workDir: join(dir, 'export'),
    neptune: { limits: { stringMax: 40 } },
  });
  ledger = join(dir, 'ledger.sqlite');
  const out = await runCli(['migrate', '--workspace', 'demo', '--projects', 'all', '--yes', '--json', '--ledger', ledger], stack.env, dir).done;
  const migrated = (events(out.stdout).find((e) => e.type === 'report') as unknown as {
    report: { runs: Array<{ run: string; notWritten: Array<{ reason: string; subject: string }> }> };
  }).report;
  refused = migrated.runs.flatMap((r) => r.notWritten.filter((o) => o.reason === 'rejected-by-server').map((o) => ({ run: r.run, subject: o.subject })));
}, 240_000);

afterAll(async () => {
  await stack?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('expected (accounted for by the report) versus mismatch', () => {
  it('the migration did have fields refused by the server', () => {
    expect(refused.length).toBeGreaterThan(0);
  });

  it('with the ledger: each refused field is an expected difference with its reason; exit 0', async () => {
    const out = await runCli(['verify', '--workspace', 'demo', '--json', '--ledger', ledger], stack.env, dir).done;
    const report = reportOf(out.stdout);
    expect(out.code, out.stderr).toBe(0);
    const expected = report.runs.flatMap((r) =>
      r.differences.filter((d) => d.explainedBy).map((d) => ({ run: `${r.run.entity}/${r.run.project}/${r.run.runId}`, subject: d.subject, reason: d.explainedBy!.reason })),
    );
    const key = (x: { run: string; subject: string }) => `${x.run} ${x.subject}`;
    expect(expected.map(key).sort()).toEqual(refused.map(key).sort());
    expect(expected.every((e) => e.reason === 'rejected-by-server')).toBe(true);
    for (const r of report.runs) {
      if (r.differences.length) expect(r.status).toBe('verified-with-omissions');
    }
  }, 240_000);

  it('without the ledger: the same fields are mismatches; exit 5', async () => {
    const out = await runCli(['verify', '--workspace', 'demo', '--json'], stack.env, dir).done;
    const report = reportOf(out.stdout);
    expect(out.code).toBe(5);
    const named = report.runs.flatMap((r) => r.differences.filter((d) => !d.explainedBy).map((d) => `${r.run.entity}/${r.run.project}/${r.run.runId} ${d.subject}`));
    expect(named.sort()).toEqual(refused.map((x) => `${x.run} ${x.subject}`).sort());
  }, 240_000);
});
