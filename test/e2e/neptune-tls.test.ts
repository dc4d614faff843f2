import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../../emulators/stack.ts';
import { generateEntity } from '../../emulators/wandb/index.ts';
import { events, runCli } from '../support/cli.ts';
import { expectedHistory } from '../support/expected.ts';
import { neptuneRunId } from '../support/neptune-snapshot.ts';

/**
 * Issue 8: the Neptune emulator's `--tls` (a self-signed certificate made at start). The product
 * (undici) trusts it through Node's NODE_EXTRA_CA_CERTS, as the README says, and without it fails
 * with a clear error instead of writing anything.
 */
let stack: Stack;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'w2n-tls-'));
  stack = await startStack({
    entity: generateEntity({ seed: 11, preset: 'all-shapes', entity: 'tls-team' }),
    workDir: join(dir, 'export'),
    neptune: { tls: true },
  });
}, 60_000);
afterAll(async () => {
  await stack?.close();
  rmSync(dir, { recursive: true, force: true });
});

const migrate = (env: Record<string, string>, ledger: string) =>
  runCli(['migrate', '--workspace', 'demo', '--projects', 'all', '--yes', '--json', '--ledger', join(dir, ledger)], { ...stack.env, ...env }, dir).done;

describe('migrate against the Neptune emulator over TLS', () => {
  it('the token names an https address and the CA file is there', () => {
    expect(stack.neptune.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(JSON.parse(Buffer.from(stack.env.NEPTUNE_API_TOKEN, 'base64').toString('utf8')).api_address).toBe(stack.neptune.url);
    expect(stack.neptune.caFile).toBeTruthy();
  });

  it('without the CA trusted: exit 2 before any run, names the certificate problem and the fix, no retries, writes nothing', async () => {
    const before = stack.neptune.stats().requests;
    const out = await migrate({ NODE_EXTRA_CA_CERTS: '' }, 'untrusted.sqlite');
    expect(out.code).toBe(2);
    expect(out.stdout + out.stderr).toMatch(/TLS certificate is not trusted/);
    expect(out.stdout + out.stderr).toMatch(/NODE_EXTRA_CA_CERTS/);
    // A refused certificate is not asked again: one handshake, no HTTP request reached the emulator.
    expect(out.stdout + out.stderr).not.toMatch(/retry \d/);
    expect(stack.neptune.stats().requests).toBe(before);
    expect(out.stderr).not.toMatch(/^\s+at /m);
    expect(stack.neptune.inspect.projects()).toEqual([]);
  });

  it('with NODE_EXTRA_CA_CERTS: every run lands with every float point', async () => {
    const out = await migrate({ NODE_EXTRA_CA_CERTS: stack.neptune.caFile! }, 'trusted.sqlite');
    if (out.code !== 0) console.error(out.stderr);
    expect(out.code).toBe(0);
    const report = events(out.stdout).find((e) => e.type === 'report') as unknown as { report: { totals: { migrated: number; failed: number } } };
    const runs = stack.entity.projects.reduce((n, p) => n + p.runs.length, 0);
    expect(report.report.totals).toMatchObject({ migrated: runs, failed: 0 });
    for (const p of stack.entity.projects) {
      for (const run of p.runs) {
        const id = neptuneRunId(stack.neptune, `demo/${p.name.replace(/_/g, '-')}`, run.id);
        expect(id, run.id).toBeDefined();
        for (const [path, points] of expectedHistory(run).floats) expect(stack.neptune.inspect.floatSeries(id!, path), `${run.id} ${path}`).toEqual(points);
      }
    }
  }, 180_000);
});
