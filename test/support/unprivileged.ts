import { spawn } from 'node:child_process';
import { CLI } from './cli.ts';

/**
 * Runs the real CLI as a user whom file permissions bind: as itself, or, when the tests run as root
 * (CI does; root reads a file whatever its mode), as `nobody` through runuser. The folders it reads
 * and the ledger's folder must be open to that user (mkdtemp makes 0700 folders: chmod them).
 */
export function runCliUnprivileged(args: string[], env: Record<string, string>, cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const asRoot = process.getuid?.() === 0;
  const [cmd, argv] = asRoot ? ['runuser', ['-u', 'nobody', '--', process.execPath, CLI, ...args]] : [process.execPath, [CLI, ...args]];
  // nobody's HOME is not writable: the CLI's own scratch (tsx cache, staging) goes under cwd's tmp.
  const child = spawn(cmd, argv, { cwd, env: { ...process.env, ...env, HOME: cwd, FORCE_COLOR: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  return new Promise((res) => child.on('exit', (code) => res({ code, stdout, stderr })));
}
