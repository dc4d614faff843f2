import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../../emulators/stack.ts';
import { generateEntity } from '../../emulators/wandb/index.ts';
import { events, runCli } from '../support/cli.ts';
import { expectedHistory } from '../support/expected.ts';
import { neptuneRunId } from '../support/neptune-snapshot.ts';
import { allPointsHeld } from '../neptune/held.ts';
import { startNeptuneProxy, type NeptuneProxy } from '../neptune/proxy.ts';
import { retriesFor, retryLines } from '../support/fault-budget.ts';

/**
 * Issue 8 (b): the server applies an `executeOperations` and the answer is lost (the connection
 * closes after the write committed). The resend must not turn the stored points into "rejected"
 * ones: the report says what is true, and its written counts equal what Neptune holds.
 */
let stack: Stack;
let proxy: NeptuneProxy;
let dir: string;
let out: { code: number | null; stdout: string; stderr: string };
let dropped = 0;

interface Report {
  totals: { points: number; failed: number };
  runs: Array<{ run: string; written: Record<string, number>; notWritten: Array<{ reason: string; subject: string; count: number }> }>;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'w2n-lost-'));
  const entity = generateEntity({ seed: 5, preset: 'all-shapes', entity: 'lost-team' });
  entity.projects = entity.projects.slice(0, 1);
  stack = await startStack({ entity, workDir: join(dir, 'export') });
  proxy = await startNeptuneProxy(stack.neptune);
  let seriesWrites = 0;
  proxy.decide = (r) => {
    if (!r.path.endsWith('/attributes/operations') || !r.body.toString('utf8').includes('"logFloats"')) return { kind: 'forward' };
    seriesWrites++;
    // Every third write of points is applied and its answer lost.
    if (seriesWrites % 3 !== 1) return { kind: 'forward' };
    dropped++;
    return { kind: 'drop-response' };
  };
  const cli = runCli(
    ['migrate', '--workspace', 'demo', '--projects', 'all', '--yes', '--json', '--concurrency', '2', '--ledger', join(dir, 'ledger.sqlite')],
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

describe('a write applied by the server whose answer was lost', () => {
  it('happened, and the migration still completes', () => {
    expect(dropped).toBeGreaterThan(1);
    expect(out.code, out.stderr).toBe(0);
  });

  it('leaves no point reported as refused, and every history point stored exactly once', () => {
    const report = (events(out.stdout).find((e) => e.type === 'report') as unknown as { report: Report }).report;
    const refused = report.runs.flatMap((r) => r.notWritten).filter((o) => o.reason === 'rejected-by-server' || o.reason === 'step-not-increasing');
    expect(refused).toEqual([]);
    const project = stack.entity.projects[0];
    for (const run of project.runs) {
      const id = neptuneRunId(stack.neptune, `demo/${project.name.replace(/_/g, '-')}`, run.id)!;
      for (const [path, points] of expectedHistory(run).floats) expect(stack.neptune.inspect.floatSeries(id, path), `${run.id} ${path}`).toEqual(points);
    }
  });

  it('reports as written exactly the points Neptune holds', () => {
    const report = (events(out.stdout).find((e) => e.type === 'report') as unknown as { report: Report }).report;
    const held = allPointsHeld(stack.neptune);
    expect(report.totals.points).toBe(held);
  });
});

describe("the emulator's own fault: applied, then the connection closed before the answer", () => {
  let emuStack: Stack;
  let emuDir: string;
  let res: { code: number | null; stdout: string; stderr: string };
  beforeAll(async () => {
    emuDir = mkdtempSync(join(tmpdir(), 'w2n-lost-emu-'));
    const entity = generateEntity({ seed: 6, preset: 'all-shapes', entity: 'drop-team' });
    entity.projects = entity.projects.slice(0, 1);
    emuStack = await startStack({ entity, workDir: join(emuDir, 'export'), neptune: { faults: { seed: 4, dropAfterApplyRate: 0.3, dropAfterApplyOps: ['executeOperations'] } } });
    // Enough retries that 30% of the writes dropped cannot fail a request by chance (fault-budget.ts).
    const retries = String(retriesFor({ rate: 0.3, requests: 200 }));
    res = await runCli(
      ['migrate', '--workspace', 'demo', '--projects', 'all', '--yes', '--json', '--concurrency', '2', '--retries', retries, '--ledger', join(emuDir, 'ledger.sqlite')],
      emuStack.env,
      emuDir,
    ).done;
  }, 180_000);
  afterAll(async () => {
    await emuStack?.close();
    rmSync(emuDir, { recursive: true, force: true });
  });

  it('completes with every history point once, nothing reported refused, written = held', () => {
    expect(emuStack.neptune.stats().droppedResponses).toBeGreaterThan(1);
    expect(res.code, `${res.stderr}\nretries:\n${retryLines(emuDir)}`).toBe(0);
    const report = (events(res.stdout).find((e) => e.type === 'report') as unknown as { report: Report }).report;
    expect(report.runs.flatMap((r) => r.notWritten).filter((o) => o.reason === 'rejected-by-server' || o.reason === 'step-not-increasing')).toEqual([]);
    const project = emuStack.entity.projects[0];
    for (const run of project.runs) {
      const id = neptuneRunId(emuStack.neptune, `demo/${project.name.replace(/_/g, '-')}`, run.id)!;
      for (const [path, points] of expectedHistory(run).floats) expect(emuStack.neptune.inspect.floatSeries(id, path), `${run.id} ${path}`).toEqual(points);
    }
    expect(report.totals.points).toBe(allPointsHeld(emuStack.neptune));
  });
});
