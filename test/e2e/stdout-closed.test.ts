import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startNeptuneEmulator } from '../../emulators/neptune/index.ts';
import { startStack, STACK_WORKSPACE } from '../../emulators/stack.ts';
import { generateEntity } from '../../emulators/wandb/index.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import { runCli } from '../support/cli.ts';
import { neptuneSnapshot } from '../support/neptune-snapshot.ts';

/**
 * `migrate --json | head -2`: the reader closes stdout after two events. The CLI exited 0 there (as is
 * right for `status | head`), in the middle of the migration, without a word: a success code for a
 * migration that stopped. It stops as Ctrl-C stops now (in-flight batches settle), says why on stderr
 * and exits 130; the same command again finishes, equal to an uninterrupted migration.
 */
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('stdout closed under migrate --json', () => {
  it('stops as an interrupt (exit 130, said on stderr, runs left pending), and the next pass completes it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'w2n-stdout-closed-'));
    dirs.push(dir);
    const entity = generateEntity({ seed: 12, preset: 'many-small-runs', runs: 12, entity: 'pipe-team' });
    const stack = await startStack({ entity, workDir: join(dir, 'export') });
    const other = await startNeptuneEmulator({ workspaces: [STACK_WORKSPACE] });
    try {
      const args = (ledger: string) => ['migrate', '--workspace', 'demo', '--projects', 'all', '--yes', '--json', '--concurrency', '2', '--ledger', ledger];
      const reference = await runCli(args(join(dir, 'reference.sqlite')), { ...stack.env, NEPTUNE_API_TOKEN: other.apiToken() }, dir).done;
      expect(reference.code).toBe(0);

      const ledgerPath = join(dir, 'piped.sqlite');
      const piped = runCli(args(ledgerPath), stack.env, dir);
      await piped.waitForEvents('run.started', 1);
      piped.child.stdout!.destroy(); // the reader goes away, as `head` does
      const stopped = await piped.done;
      expect(stopped.code, stopped.stderr.slice(-2000)).toBe(130);
      expect(stopped.stderr).toContain('stopping: standard output was closed (its reader ended); run the same command again to continue');
      const ledger = new Ledger(ledgerPath);
      const statuses = ledger.listRuns().map((r) => r.status);
      ledger.close();
      expect(statuses.filter((s) => s === 'failed')).toEqual([]);
      expect(statuses.filter((s) => s === 'done').length).toBeLessThan(12);

      const again = await runCli(args(ledgerPath), stack.env, dir).done;
      expect(again.code, again.stderr.slice(-2000)).toBe(0);
      expect(neptuneSnapshot(stack.neptune)).toEqual(neptuneSnapshot(other));
    } finally {
      await other.close();
      await stack.close();
    }
  }, 120_000);
});
