import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../../emulators/stack.ts';
import { generateEntity } from '../../emulators/wandb/index.ts';
import { events, runCli } from '../support/cli.ts';
import { expectedFileSet, expectedHistory, fileBytes } from '../support/expected.ts';
import { neptuneRunId } from '../support/neptune-snapshot.ts';
import { allPointsHeld } from '../neptune/held.ts';
import { retriesFor, retryLines } from '../support/fault-budget.ts';

/**
 * Issue 8 (b), everywhere: a fifth of every write the product sends (project and run creation, point
 * batches, single and multipart uploads, tar packages) is applied by the server and its answer lost.
 * Two projects of the generated all-shapes entity still land — every history point once, every file byte for
 * byte — with nothing reported as refused or failed, and written counts equal to what Neptune holds.
 */
const DROP_RATE = 0.2;
let stack: Stack;
let dir: string;
let out: { code: number | null; stdout: string; stderr: string };

interface Report {
  totals: { points: number; failed: number };
  runs: Array<{ notWritten: Array<{ reason: string; subject: string }> }>;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'w2n-lostall-'));
  const entity = generateEntity({ seed: 19, preset: 'all-shapes', entity: 'lost-everywhere' });
  entity.projects = entity.projects.slice(0, 2);
  stack = await startStack({ entity, workDir: join(dir, 'export'), neptune: { limits: { minChunkSize: 1024 * 1024 }, faults: { seed: 5, dropAfterApplyRate: DROP_RATE } } });
  // ~160 writes; at a fifth dropped, the default 7 attempts would fail one run in ~500 by chance alone.
  const retries = String(retriesFor({ rate: DROP_RATE, requests: 400 }));
  out = await runCli(['migrate', '--workspace', 'demo', '--projects', 'all', '--yes', '--json', '--retries', retries, '--ledger', join(dir, 'ledger.sqlite')], stack.env, dir).done;
}, 240_000);

afterAll(async () => {
  await stack?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('answers lost after the server applied the write, on every kind of write', () => {
  it('the migration completes with nothing refused or failed', () => {
    expect(stack.neptune.stats().droppedResponses).toBeGreaterThan(10);
    const failed = events(out.stdout).filter((e) => e.type === 'run.failed').map((e) => JSON.stringify(e)).join('\n');
    expect(out.code, `${out.stderr.slice(-4000)}${failed}\nretries:\n${retryLines(dir)}`).toBe(0);
    const report = (events(out.stdout).find((e) => e.type === 'report') as unknown as { report: Report }).report;
    expect(report.totals.failed).toBe(0);
    const wrong = report.runs.flatMap((r) => r.notWritten).filter((o) => ['upload-failed', 'rejected-by-server', 'step-not-increasing'].includes(o.reason));
    expect(wrong).toEqual([]);
    expect(report.totals.points).toBe(allPointsHeld(stack.neptune));
  });

  it('every history point once and every file byte for byte', () => {
    for (const p of stack.entity.projects) {
      for (const run of p.runs) {
        const id = neptuneRunId(stack.neptune, `demo/${p.name.replace(/_/g, '-')}`, run.id)!;
        expect(id, run.id).toBeDefined();
        for (const [path, points] of expectedHistory(run).floats) expect(stack.neptune.inspect.floatSeries(id, path), `${run.id} ${path}`).toEqual(points);
        for (const f of run.files) {
          const set = expectedFileSet(f);
          if (!set) continue;
          expect(stack.neptune.inspect.fileSet(id, set)[f.name]?.equals(fileBytes(f)), `${run.id} ${f.name}`).toBe(true);
        }
      }
    }
  });
});
