/**
 * Issue 13, "On the Node versions users run": the CLI itself chooses V8's semi-space size and old-generation
 * growth and glibc's malloc arena count and thresholds (bin/wandb-to-neptune.js restarts in place with them where Node has
 * process.execve, i.e. Node >= 22.15), keeps the pid (signals and kill -9 reach the migration itself) and
 * leaves a flag or variable the user gave alone.
 * CI runs this on Node 20 (no execve: nothing at start; src/cli/heap.ts sets what it can at run time) and on
 * Node 24 (.ci/node24: all are set).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI } from '../support/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'w2n-heap-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
// Preloaded into the CLI: on exit it writes the pid and flags of the process that ran the command.
const probe = join(dir, 'probe.mjs');
writeFileSync(probe, `import { writeFileSync } from 'node:fs';
const env = (name) => process.env[name] ?? null;
process.on('exit', () => writeFileSync(process.env.PROBE_OUT, JSON.stringify({ pid: process.pid, execArgv: process.execArgv, malloc: { arenas: env('MALLOC_ARENA_MAX'), trim: env('MALLOC_TRIM_THRESHOLD_'), topPad: env('MALLOC_TOP_PAD_') } })));\n`);
/** glibc's malloc settings the process ran with (null: not set). */
interface Malloc { arenas: string | null; trim: string | null; topPad: string | null }
const NONE: Malloc = { arenas: null, trim: null, topPad: null };

let runs = 0;
function run(flags: string[], env: Record<string, string> = {}): { pid: number; childPid: number | undefined; execArgv: string[]; malloc: Malloc; stdout: string } {
  const out = join(dir, `out-${++runs}.json`);
  const { MALLOC_ARENA_MAX: _a, MALLOC_TRIM_THRESHOLD_: _t, MALLOC_TOP_PAD_: _p, ...inherited } = process.env;
  const r = spawnSync(process.execPath, [...flags, '--import', probe, CLI, '--version'], { env: { ...inherited, ...env, PROBE_OUT: out }, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  const seen = JSON.parse(readFileSync(out, 'utf8')) as { pid: number; execArgv: string[]; malloc: Malloc };
  return { pid: seen.pid, childPid: r.pid, execArgv: seen.execArgv, malloc: seen.malloc, stdout: r.stdout };
}
const heapFlags = (execArgv: string[]) => execArgv.filter((a) => a.startsWith('--max-semi-space-size') || a.startsWith('--heap-growing-percent'));

describe('the launcher chooses the V8 heap settings', () => {
  const restarts = typeof (process as { execve?: unknown }).execve === 'function' && process.platform !== 'win32';

  it(`runs with 4 MB semi-spaces, 75% old-generation growth, two malloc arenas and malloc's thresholds fixed where Node can restart in place (here: ${restarts ? 'yes' : 'no'}, ${process.version}), in the same process`, () => {
    const r = run([]);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    expect(heapFlags(r.execArgv)).toEqual(restarts ? ['--max-semi-space-size=4', '--heap-growing-percent=75'] : []);
    expect(r.malloc).toEqual(restarts ? { arenas: '2', trim: '131072', topPad: '0' } : NONE);
    expect(r.pid).toBe(r.childPid);
  });

  it('keeps a semi-space size and malloc settings the user chose, and adds what the user did not choose', () => {
    const r = run(['--max-semi-space-size=8'], { MALLOC_ARENA_MAX: '4', MALLOC_TRIM_THRESHOLD_: '1048576' });
    expect(heapFlags(r.execArgv)).toEqual(restarts ? ['--max-semi-space-size=8', '--heap-growing-percent=75'] : ['--max-semi-space-size=8']);
    expect(r.malloc).toEqual({ arenas: '4', trim: '1048576', topPad: restarts ? '0' : null });
  });

  it('does not restart when the user chose every flag', () => {
    const r = run(['--max-semi-space-size=8', '--heap-growing-percent=50']);
    expect(heapFlags(r.execArgv)).toEqual(['--max-semi-space-size=8', '--heap-growing-percent=50']);
    expect(r.malloc).toEqual(NONE);
  });
});
