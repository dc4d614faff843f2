import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../../emulators/stack.ts';
import { generateEntity } from '../../emulators/wandb/index.ts';
import { events, runCli } from '../support/cli.ts';
import { expectedHistory } from '../support/expected.ts';
import { neptuneRunId } from '../support/neptune-snapshot.ts';
import { startNeptuneProxy, type NeptuneProxy } from '../neptune/proxy.ts';

/**
 * Issue 9, item 18: frequent token expiry must not use up the retry budget. One write meets three
 * 503s and then finds its access token revoked four times in a row (seven bad answers: one more than
 * the six retries allowed). A refresh is not a failed attempt, so the write still lands and the
 * migration completes — instead of aborting as a credentials error.
 * Deterministic: the proxy revokes every token just before forwarding the attempt (no timers).
 */
let stack: Stack;
let proxy: NeptuneProxy;
let dir: string;
let out: { code: number | null; stdout: string; stderr: string };
const attemptsOfTarget: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'w2n-token-'));
  const entity = generateEntity({ seed: 3, preset: 'all-shapes', entity: 'token-team' });
  entity.projects = entity.projects.slice(0, 1);
  entity.projects[0].runs = entity.projects[0].runs.slice(0, 2);
  stack = await startStack({ entity, workDir: join(dir, 'export') });
  proxy = await startNeptuneProxy(stack.neptune);
  let target: string | undefined;
  proxy.decide = (r) => {
    if (!r.path.endsWith('/attributes/operations') || !r.body.toString('utf8').includes('"logFloats"')) return { kind: 'forward' };
    const body = r.body.toString('utf8');
    target ??= body;
    if (body !== target) return { kind: 'forward' };
    const n = attemptsOfTarget.length;
    if (n < 3) {
      attemptsOfTarget.push('503');
      return { kind: 'respond', status: 503, json: { message: 'unavailable' } };
    }
    if (n < 7) {
      attemptsOfTarget.push('revoked');
      stack.neptune.expireAccessTokens();
      return { kind: 'forward' };
    }
    attemptsOfTarget.push('ok');
    return { kind: 'forward' };
  };
  const cli = runCli(
    ['migrate', '--workspace', 'demo', '--projects', 'all', '--yes', '--json', '--concurrency', '1', '--ledger', join(dir, 'ledger.sqlite')],
    { ...stack.env, NEPTUNE_API_TOKEN: proxy.apiToken() },
    dir,
  );
  out = await cli.done;
}, 180_000);

afterAll(async () => {
  await proxy?.close();
  await stack?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('token refreshes do not count against the retry budget', () => {
  it('the write met 3 failures and 4 revoked tokens, then landed; the migration completes with a report', () => {
    expect(attemptsOfTarget).toEqual(['503', '503', '503', 'revoked', 'revoked', 'revoked', 'revoked', 'ok']);
    expect(out.code, out.stderr).toBe(0);
    const report = events(out.stdout).find((e) => e.type === 'report') as unknown as { requests: { target: Record<string, number> } };
    // The three 503s are the only failed attempts: neither the refreshes nor the expected 404 of the project lookup count.
    expect(report.requests.target.failedAttempts).toBe(3);
    expect(report.requests.target.tokenRefreshes).toBeGreaterThanOrEqual(4);
  });

  it('every history point landed', () => {
    const project = stack.entity.projects[0];
    for (const run of project.runs) {
      const id = neptuneRunId(stack.neptune, `demo/${project.name.replace(/_/g, '-')}`, run.id)!;
      for (const [path, points] of expectedHistory(run).floats) expect(stack.neptune.inspect.floatSeries(id, path), `${run.id} ${path}`).toEqual(points);
    }
  });
});
