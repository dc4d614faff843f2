import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startNeptuneEmulator } from '../../emulators/neptune/index.ts';
import { startStack, STACK_WORKSPACE } from '../../emulators/stack.ts';
import { generateEntity } from '../../emulators/wandb/index.ts';
import { events, runCli } from '../support/cli.ts';
import { bRunSnapshot } from '../neptune-b/snapshot.ts';

/**
 * Ctrl-C says "finishing in-flight batches": over Protocol B a batch is in flight until the server
 * processed it, and the stop used to abort the status waits of the (up to 8) batches sent. The server
 * kept their points, the ledger did not hear of them, and the interrupted pass's report counted fewer
 * points than the target held. Now a stop ends the reading; the batches sent are waited for and their
 * points counted: the report of the interrupted pass equals what the server holds, point for point.
 */
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

type Report = { runs: Array<{ run: string; written: Record<string, number> }>; totals: { pending: number; migrated: number } };
const reportOf = (stdout: string) => (events(stdout).find((e) => e.type === 'report') as unknown as { report: Report }).report;

/** Points the server holds in every float and string series of the run (its emulator's own inspect). */
function heldPoints(snapshot: Record<string, unknown>): number {
  let n = 0;
  for (const v of Object.values(snapshot)) if (Array.isArray(v) && v.length && typeof v[0] === 'object' && v[0] !== null && 'step' in v[0]) n += v.length;
  return n;
}

describe('a stop (Ctrl-C) over Protocol B', () => {
  it('waits for the batches in flight: the interrupted pass reports what the server holds, and the next pass finishes equal to an uninterrupted migration', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'w2n-stop-b-'));
    dirs.push(dir);
    const entity = generateEntity({ seed: 3, preset: 'big-run', points: 200_000, entity: 'stop-team' });
    // A status stays UNAVAILABLE for 150 ms: at the first acknowledged batch, the next ones are in flight.
    const stack = await startStack({ entity, workDir: join(dir, 'export'), neptune: { protocolB: { statusDelayMs: 150 } } });
    const other = await startNeptuneEmulator({ workspaces: [STACK_WORKSPACE] });
    try {
      const args = (ledger: string) => ['migrate', '--workspace', 'demo', '--projects', 'all', '--yes', '--json', '--protocol', 'b', '--batch-points', '4000', '--ledger', ledger];
      const ledger = join(dir, 'stopped.sqlite');
      const cli = runCli(args(ledger), stack.env, dir);
      await cli.waitForEvents('run.progress', 1);
      cli.child.kill('SIGINT');
      const stopped = await cli.done;
      expect(stopped.code, stopped.stderr.slice(-2000)).toBe(130);
      const [run] = entity.projects[0].runs;
      const project = 'demo/big-project';
      const held = heldPoints(bRunSnapshot(stack.neptune, project, run.id));
      const partial = reportOf(stopped.stdout);
      expect(partial.totals.pending).toBe(1);
      expect(held).toBeGreaterThan(0);
      expect(partial.runs[0].written.points).toBe(held);
      expect(held).toBeLessThan(200_000);

      const final = await runCli(args(ledger), stack.env, dir).done;
      expect(final.code, final.stderr.slice(-2000)).toBe(0);
      const reference = await runCli(args(join(dir, 'reference.sqlite')), { ...stack.env, NEPTUNE_API_TOKEN: other.apiToken() }, dir).done;
      expect(reference.code).toBe(0);
      expect(bRunSnapshot(stack.neptune, project, run.id)).toEqual(bRunSnapshot(other, project, run.id));
      expect(stack.neptune.b.stats().duplicatePoints).toBe(0);
      // The pass after the stop found nothing it had to count as already there: the stop counted it.
      expect(reportOf(final.stdout).runs[0].written.pointsAlreadyPresent ?? 0).toBe(0);
    } finally {
      await other.close();
      await stack.close();
    }
  }, 180_000);
});
