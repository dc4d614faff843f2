import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNeptuneEmulator, type NeptuneEmulator } from '../../emulators/neptune/index.ts';
import { startStack, type Stack } from '../../emulators/stack.ts';
import { generateEntity } from '../../emulators/wandb/index.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import { runCli } from '../support/cli.ts';
import { closedPort, tokenWith } from '../support/hang-proxy.ts';

/**
 * A ledger records what one Neptune server holds. Pointed at another server (a new token) or another
 * workspace, it used to skip every unchanged run as "already migrated" and exit 0 while the new target
 * held nothing. Both are exit 2 now, naming both places, with nothing sent and the ledger unchanged.
 */
let stack: Stack;
let other: NeptuneEmulator;
let dir: string;
const WORKSPACES = ['demo', 'team'];
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'w2n-ledger-target-'));
  const entity = generateEntity({ seed: 5, preset: 'many-small-runs', runs: 3, entity: 'target-team' });
  stack = await startStack({ entity, workDir: join(dir, 'export'), neptune: { workspaces: WORKSPACES } });
  other = await startNeptuneEmulator({ workspaces: WORKSPACES });
}, 60_000);
afterAll(async () => {
  await Promise.all([stack?.close(), other?.close()]);
  rmSync(dir, { recursive: true, force: true });
});

const project = () => stack.entity.projects[0];
/** The Neptune project the W&B project went to (its name made valid for Neptune). */
const neptuneName = () => stack.neptune.inspect.projects().find((p) => p.workspace === 'demo')!.name;
/** `migrate` into workspace demo, unless `args` names another (a flag given twice with two values is a usage error). */
const migrate = (ledger: string, args: string[] = [], env: Record<string, string> = stack.env) =>
  runCli(['migrate', ...(args.includes('--workspace') ? [] : ['--workspace', 'demo']), '--yes', '--ledger', ledger, ...args], env, dir).done;

function ledgerRuns(path: string) {
  const ledger = new Ledger(path);
  try {
    return ledger.listRuns().map((r) => ({ run: r.key.runId, status: r.status, target: r.targetProject, fingerprint: r.fingerprint }));
  } finally {
    ledger.close();
  }
}

/** Every float series of every run of `qualified`, by custom run id: values, steps and timestamps. */
function floatSeries(emu: NeptuneEmulator, qualified: string) {
  const out: Record<string, Record<string, unknown>> = {};
  for (const run of emu.inspect.runs(qualified)) {
    const series: Record<string, unknown> = {};
    for (const [path, a] of Object.entries(emu.inspect.attributes(run.id))) {
      if (a.type === 'floatSeries') series[path] = emu.inspect.floatSeries(run.id, path);
    }
    out[run.customId ?? run.id] = series;
  }
  return out;
}

describe('a ledger follows one Neptune server and one place for its runs', () => {
  it('another server with the same ledger is exit 2 before any request; a new ledger migrates there in full', async () => {
    const ledger = join(dir, 'one', 'ledger.sqlite');
    expect((await migrate(ledger)).code).toBe(0);
    const before = ledgerRuns(ledger);
    expect(before.map((r) => r.status)).toEqual(['done', 'done', 'done']);

    const otherEnv = { ...stack.env, NEPTUNE_API_TOKEN: other.apiToken() };
    const refused = await migrate(ledger, [], otherEnv);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`the ledger ${ledger} records runs migrated to the Neptune server at ${stack.neptune.url}; this migration writes to ${other.url}`);
    expect(refused.stderr).toContain(`pass another --ledger to migrate into ${other.url}`);
    expect(other.stats().requests).toBe(0);
    expect(ledgerRuns(ledger)).toEqual(before);

    const fresh = await migrate(join(dir, 'two', 'ledger.sqlite'), [], otherEnv);
    expect(fresh.code).toBe(0);
    const qualified = `demo/${neptuneName()}`;
    const there = floatSeries(other, qualified);
    expect(Object.keys(there).sort()).toEqual(project().runs.map((r) => r.id).sort());
    expect(there).toEqual(floatSeries(stack.neptune, qualified));
  }, 120_000);

  it('a first pass refused for its token does not tie the ledger to that server', async () => {
    const ledger = join(dir, 'mistaken', 'ledger.sqlite');
    const dead = `http://127.0.0.1:${await closedPort()}`;
    const wrong = await migrate(ledger, ['--retries', '0'], { ...stack.env, NEPTUNE_API_TOKEN: tokenWith(stack.env.NEPTUNE_API_TOKEN, { api_address: dead, api_url: dead }) });
    expect(wrong.code).toBe(2);
    const right = await migrate(ledger);
    expect(right.code).toBe(0);
    expect(ledgerRuns(ledger).map((r) => r.status)).toEqual(['done', 'done', 'done']);
  }, 120_000);

  it('a ledger written over Protocol A is read back over A by verify on a server that serves both; another --protocol is exit 2, nothing sent', async () => {
    const ledger = join(dir, 'over-a', 'ledger.sqlite');
    const map = ['--project-map', `${project().name}=written-over-a`];
    expect((await migrate(ledger, ['--protocol', 'a', ...map])).code).toBe(0);
    const before = ledgerRuns(ledger);

    // `auto` alone would pick B here (the emulator serves both, as a 3.x server may) and read A's file
    // sets, steps and floats as B's: every run a mismatch.
    // (runCli adds `--protocol a` where none is named: the user's default, auto, is named here.)
    const verify = await runCli(['verify', '--ledger', ledger, '--json', '--protocol', 'auto', ...map], stack.env, dir).done;
    expect(verify.code).toBe(0);
    const { report } = JSON.parse(verify.stdout.trim().split('\n').at(-1)!);
    expect(report.protocol).toBe('a');
    expect(report.totals).toMatchObject({ runs: 3, verified: 3, mismatch: 0, missing: 0 });

    const requests = stack.neptune.stats().requests;
    for (const args of [['verify', '--ledger', ledger, '--protocol', 'b', ...map], ['migrate', '--workspace', 'demo', '--yes', '--ledger', ledger, '--protocol', 'b', ...map]]) {
      const refused = await runCli(args, stack.env, dir).done;
      expect(refused.code, args[0]).toBe(2);
      expect(refused.stderr, args[0]).toContain(`the ledger ${ledger} records runs written with Neptune Protocol A; this pass asks for Protocol B (--protocol b)`);
      expect(refused.stderr, args[0]).toContain('leave --protocol out (or pass --protocol a) to go on');
    }
    expect(stack.neptune.stats().requests).toBe(requests);
    expect(ledgerRuns(ledger)).toEqual(before);
  }, 120_000);

  it('another --workspace with the same ledger is exit 2 naming the run and both projects; nothing lands there', async () => {
    const ledger = join(dir, 'ws', 'ledger.sqlite');
    expect((await migrate(ledger)).code).toBe(0);
    const before = ledgerRuns(ledger);
    const requests = stack.neptune.stats().requests;

    const moved = await migrate(ledger, ['--workspace', 'team']);
    expect(moved.code).toBe(2);
    const first = [...project().runs].map((r) => r.id);
    expect(moved.stderr).toMatch(new RegExp(`run target-team/${project().name}/(${first.join('|')}) was migrated to the Neptune project demo/${neptuneName()} \\(ledger ${ledger.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\); this migration would write it to team/${neptuneName()}`));
    expect(moved.stderr).toContain(`or --workspace demo (and the same --project-map) to go on with demo/${neptuneName()}`);
    expect(stack.neptune.inspect.projects().filter((p) => p.workspace === 'team')).toEqual([]);
    expect(stack.neptune.stats().requests).toBe(requests);
    expect(ledgerRuns(ledger)).toEqual(before);

    // Back to where the ledger's runs are: nothing changed, nothing sent.
    const again = await migrate(ledger);
    expect(again.code).toBe(0);
    expect(stack.neptune.stats().requests).toBe(requests);
  }, 120_000);
});
