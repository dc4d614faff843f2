/**
 * Issue 13, "On the Node versions users run": the CLI itself chooses V8's semi-space size (bin/
 * wandb-to-neptune.js restarts in place with it where Node has process.execve, i.e. Node >= 22.15), keeps
 * the pid (signals and kill -9 reach the migration itself) and leaves a flag the user gave alone.
 * CI runs this on Node 20 (no execve: V8 defaults) and on Node 24 (.ci/node24: the flag is set).
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
process.on('exit', () => writeFileSync(process.env.PROBE_OUT, JSON.stringify({ pid: process.pid, execArgv: process.execArgv })));\n`);

function run(flags: string[]): { pid: number; childPid: number | undefined; execArgv: string[]; stdout: string } {
  const out = join(dir, `out-${flags.length}.json`);
  const r = spawnSync(process.execPath, [...flags, '--import', probe, CLI, '--version'], { env: { ...process.env, PROBE_OUT: out }, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  const seen = JSON.parse(readFileSync(out, 'utf8')) as { pid: number; execArgv: string[] };
  return { pid: seen.pid, childPid: r.pid, execArgv: seen.execArgv, stdout: r.stdout };
}

describe('the launcher chooses the V8 heap settings', () => {
  const restarts = typeof (process as { execve?: unknown }).execve === 'function' && process.platform !== 'win32';

  it(`runs with 4 MB semi-spaces where Node can restart in place (here: ${restarts ? 'yes' : 'no'}, ${process.version}), in the same process`, () => {
    const r = run([]);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    expect(r.execArgv.filter((a) => a.startsWith('--max-semi-space-size'))).toEqual(restarts ? ['--max-semi-space-size=4'] : []);
    expect(r.pid).toBe(r.childPid);
  });

  it('keeps a semi-space size the user chose', () => {
    const r = run(['--max-semi-space-size=8']);
    expect(r.execArgv.filter((a) => a.startsWith('--max-semi-space-size'))).toEqual(['--max-semi-space-size=8']);
  });
});
