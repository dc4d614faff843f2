import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../../emulators/stack.ts';
import { generateEntity } from '../../emulators/wandb/index.ts';
import { events, runCli } from '../support/cli.ts';

/** Issue 9 items 20, 22 and 23 through the CLI: dry run against the ledger, staging beside it, request counts. */
let stack: Stack;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'w2n-dry-'));
  stack = await startStack({ entity: generateEntity({ seed: 17, preset: 'many-small-runs', runs: 4, entity: 'dry-team' }), workDir: join(dir, 'export') });
}, 60_000);
afterAll(async () => {
  await stack?.close();
  rmSync(dir, { recursive: true, force: true });
});

const logFiles = (folder: string) => readdirSync(folder).filter((f) => /^wandb-to-neptune_.*\.log$/.test(f));

describe('--dry-run plans what a real run would do', () => {
  it('skips what the ledger says is done, says "would migrate", writes no log file and no ledger change', async () => {
    const runs = stack.entity.projects[0].runs.map((r) => r.id);
    const folder = join(dir, 'dry');
    const ledger = join(folder, 'ledger.sqlite');
    const real = await runCli(['migrate', '--workspace', 'demo', '--yes', '--json', '--runs', runs.slice(0, 2).join(','), '--ledger', ledger], stack.env, dir).done;
    expect(real.code).toBe(0);
    // Item 23: the project lookup's expected 404 ("not there yet, create it") is not a failed attempt.
    const requests = (events(real.stdout).at(-1) as unknown as { requests: { target: Record<string, number> } }).requests;
    expect(requests.target.failedAttempts).toBe(0);
    expect(logFiles(folder)).toHaveLength(1);
    const neptuneRequests = stack.neptune.stats().requests;

    const dry = await runCli(['migrate', '--workspace', 'demo', '--yes', '--dry-run', '--ledger', ledger], stack.env, dir).done;
    expect(dry.code).toBe(0);
    for (const id of runs.slice(0, 2)) expect(dry.stderr).toContain(`dry-team/many-runs/${id}: skipped (already migrated, unchanged)`);
    for (const id of runs.slice(2)) expect(dry.stderr).toMatch(new RegExp(`^dry-team/many-runs/${id}: would migrate \\(70 points, 2 files`, 'm'));
    expect(dry.stderr).not.toMatch(/: migrated \(/);
    expect(dry.stderr).toContain('Runs: 4 (migrated 2, skipped 2, failed 0, pending 0)');
    expect(dry.stderr.match(/^WOULD-MIGRATE /gm)).toHaveLength(2);
    expect(dry.stderr.match(/^SKIPPED /gm)).toHaveLength(2);
    expect(dry.stderr).toMatch(/^requests: W&B \d+ \(API \d+, storage \d+\); Neptune: none \(dry run\)$/m);
    expect(logFiles(folder)).toHaveLength(1);
    expect(stack.neptune.stats().requests).toBe(neptuneRequests);
    const status = JSON.parse((await runCli(['status', '--ledger', ledger, '--json'], {}, dir).done).stdout) as { counts: Record<string, number> };
    expect(status.counts).toEqual({ done: 2, pending: 0, failed: 0 });
  });
});

describe('downloads are staged beside the ledger', () => {
  it('a kill -9 leaves them there, not in $TMPDIR, and the next run removes what dead processes left', async () => {
    const folder = join(dir, 'staged');
    const ledger = join(folder, 'ledger.sqlite');
    const tmp = join(dir, 'own-tmpdir');
    mkdirSync(tmp, { recursive: true });
    // W&B answers GraphQL, and storage sends a download's first bytes, then next to nothing (1 byte/s,
    // the emulator's download-rate fault): the run holds its staging folder open and the 3 s timeout
    // makes the client retry. (Storage is its own origin, as on W&B, so a proxy in front of the API
    // host would not see the downloads.)
    stack.wandb.setFaults({ downloadBytesPerSecond: 1 });
    try {
      const cli = runCli(['migrate', '--workspace', 'demo', '--yes', '--json', '--timeout', '3', '--ledger', ledger], { ...stack.env, TMPDIR: tmp }, dir);
      await cli.waitForEvents('http.retry', 1);
      const staging = join(folder, 'wandb-to-neptune-staging');
      const mine = `${hostname()}-${cli.child.pid}`;
      expect(readdirSync(staging)).toEqual([mine]);
      expect(readdirSync(join(staging, mine)).some((f) => f.startsWith('w2n-wandb-'))).toBe(true);
      cli.child.kill('SIGKILL');
      await cli.done;
      stack.wandb.setFaults(undefined);
      expect(readdirSync(tmp).filter((f) => f.startsWith('w2n-'))).toEqual([]);

      // A live process's staging (this test's own pid) is never touched.
      const live = join(staging, `${hostname()}-${process.pid}`);
      mkdirSync(live);
      writeFileSync(join(live, 'in-use'), 'x');
      const again = await runCli(['migrate', '--workspace', 'demo', '--yes', '--json', '--ledger', ledger], { ...stack.env, TMPDIR: tmp }, dir).done;
      expect(again.code).toBe(0);
      expect(readdirSync(staging)).toEqual([`${hostname()}-${process.pid}`]);
      expect(readdirSync(tmp).filter((f) => f.startsWith('w2n-'))).toEqual([]);
    } finally {
      stack.wandb.setFaults(undefined);
    }
  });
});
