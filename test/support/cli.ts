import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');
export const CLI = resolve(ROOT, 'bin/wandb-to-neptune.js');

export interface CliRun {
  child: ChildProcess;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
  /** Resolves when stdout has produced `n` NDJSON events of the given type (with --json). */
  waitForEvents(type: string, n: number): Promise<void>;
}

/** Runs the real CLI (`node --import tsx src/cli/index.ts …`) as a user would, with the given env. */
/**
 * The Neptune emulator serves both protocols from one store, as a 3.x server that still serves 2.x
 * clients does, so `--protocol auto` (the product's default) picks B there. Most tests were written
 * for Protocol A: a `migrate` or `verify` that names no protocol runs over A; Protocol B tests (and
 * the tests of `auto` itself) name theirs.
 */
function withProtocol(args: string[]): string[] {
  if ((args[0] !== 'migrate' && args[0] !== 'verify') || args.some((a) => a === '--protocol' || a.startsWith('--protocol='))) return args;
  return [...args, '--protocol', 'a'];
}

export function runCli(args: string[], env: Record<string, string>, cwd: string): CliRun {
  const child = spawn(process.execPath, [CLI, ...withProtocol(args)], {
    cwd,
    env: { ...process.env, ...env, FORCE_COLOR: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const counts = new Map<string, number>();
  const waiters: Array<{ type: string; n: number; resolve: () => void }> = [];
  let partial = '';
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d;
    partial += d;
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      try {
        const e = JSON.parse(line) as { type?: string };
        if (e.type) counts.set(e.type, (counts.get(e.type) ?? 0) + 1);
      } catch {
        // not an event line
      }
    }
    for (const w of [...waiters]) {
      if ((counts.get(w.type) ?? 0) >= w.n) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  });
  child.stderr!.on('data', (d: Buffer) => (stderr += d));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((res) =>
    child.on('exit', (code, signal) => res({ code, signal, stdout, stderr })),
  );
  return {
    child,
    done,
    waitForEvents: (type, n) =>
      new Promise<void>((res, rej) => {
        if ((counts.get(type) ?? 0) >= n) return res();
        waiters.push({ type, n, resolve: res });
        void done.then(() => rej(new Error(`CLI exited before ${n} ${type} events (saw ${counts.get(type) ?? 0})\n${stderr}`)));
      }),
  };
}

export function events(stdout: string): Array<Record<string, unknown> & { type: string }> {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown> & { type: string });
}
