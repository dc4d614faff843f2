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
 * Issue 10, "Done when": kill -9 at three points and resume over Protocol B equals an uninterrupted
 * migration. A resumed run reads the run's last steps back through B's read API and sends only the
 * points after them: the server never receives a point it already holds (no SERIES_POINT_DUPLICATE),
 * and the report counts every point once.
 */
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

type Report = { runs: Array<{ run: string; written: Record<string, number>; notWritten: Array<{ reason: string; count: number }> }>; totals: { failed: number } };
const reportOf = (stdout: string) => (events(stdout).find((e) => e.type === 'report') as unknown as { report: Report }).report;

describe('kill -9 and resume over Protocol B', () => {
  it('ends in the same state, with the same report counts, as an uninterrupted migration', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'w2n-kill-b-'));
    dirs.push(dir);
    const entity = generateEntity({ seed: 11, preset: 'all-shapes', entity: 'kill-team' });
    // Statuses stay UNAVAILABLE for a while: kills land between a submit and its processing too.
    const stack = await startStack({ entity, workDir: join(dir, 'export'), neptune: { protocolB: { statusDelayMs: 15 } } });
    const other = await startNeptuneEmulator({ workspaces: [STACK_WORKSPACE], protocolB: { statusDelayMs: 15 } });
    try {
      const args = (ledger: string) => ['migrate', '--workspace', 'demo', '--projects', 'all', '--yes', '--json', '--protocol', 'b', '--batch-points', '1500', '--concurrency', '3', '--ledger', ledger];
      const reference = await runCli(args(join(dir, 'reference.sqlite')), { ...stack.env, NEPTUNE_API_TOKEN: other.apiToken() }, dir).done;
      expect(reference.code, reference.stderr.slice(-2000)).toBe(0);

      const ledger = join(dir, 'killed.sqlite');
      let kills = 0;
      for (const after of [2, 12, 30]) {
        const cli = runCli(args(ledger), stack.env, dir);
        const reached = await cli.waitForEvents('run.progress', after).then(() => true, () => false);
        if (reached) {
          cli.child.kill('SIGKILL');
          kills++;
        }
        const out = await cli.done;
        if (reached) expect(out.signal).toBe('SIGKILL');
      }
      expect(kills).toBeGreaterThanOrEqual(2);
      const final = await runCli(args(ledger), stack.env, dir).done;
      expect(final.code, final.stderr.slice(-2000)).toBe(0);

      // Every point the server received over the four passes was one it lacked: as many stored as by
      // the uninterrupted migration, and not one duplicate (a point sent again after a resume).
      expect(stack.neptune.b.stats().duplicatePoints).toBe(0);
      expect(stack.neptune.b.stats().pointsStored).toBe(other.b.stats().pointsStored);
      for (const p of entity.projects) {
        const project = `demo/${p.name.replace(/_/g, '-')}`;
        for (const run of p.runs) expect(bRunSnapshot(stack.neptune, project, run.id), run.id).toEqual(bRunSnapshot(other, project, run.id));
      }
      // Counted once: the resumed ledger reports what the uninterrupted one does, run by run.
      const want = reportOf(reference.stdout);
      const got = reportOf(final.stdout);
      expect(got.totals.failed).toBe(0);
      for (const r of want.runs) {
        const g = got.runs.find((x) => x.run === r.run)!;
        // What the target holds: written by this ledger's passes, plus found there (acknowledged before a kill).
        const held = (w: Record<string, number>, k: string) => (w[k] ?? 0) + (w[`${k}AlreadyPresent`] ?? 0);
        for (const k of ['points', 'historyPoints', 'systemPoints', 'consolePoints', 'files']) expect(held(g.written, k), `${r.run} ${k}`).toBe(held(r.written, k));
      }
      expect(got.runs.flatMap((r) => r.notWritten).filter((o) => o.reason === 'step-not-increasing' || o.reason === 'rejected-by-server')).toEqual([]);
    } finally {
      await other.close();
      await stack.close();
    }
  }, 400_000);
});
