/** Child processes of the benchmark: emulators (over IPC) and the migration CLI (with its peak RSS). */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { EmulatorConfig, EmulatorInfo } from './emulator-config.ts';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** tsx by absolute URL: the CLI child runs in a temp directory, where a bare `tsx` would not resolve. */
const TSX = import.meta.resolve('tsx');
const live = new Set<ChildProcess>();

/** Kills every child still running (on normal exit, errors and Ctrl-C alike). */
export function killChildren(): void {
  for (const c of live) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
}

export interface EmulatorChild<S> {
  info: EmulatorInfo;
  pid: number;
  stats(): Promise<S>;
  close(): Promise<void>;
}

export async function startEmulatorChild<S>(config: EmulatorConfig): Promise<EmulatorChild<S>> {
  const child = fork(fileURLToPath(new URL('./emulator-child.ts', import.meta.url)), [], {
    cwd: ROOT, execArgv: ['--import', TSX], stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  live.add(child);
  child.once('exit', () => live.delete(child));
  const reply = <T>(type: string): Promise<T> => new Promise<T>((resolve, reject) => {
    const onMsg = (m: { type: string; message?: string } & Record<string, unknown>) => {
      if (m.type === 'error') { cleanup(); reject(new Error(`emulator child: ${m.message}`)); }
      if (m.type !== type) return;
      cleanup();
      resolve(m as T);
    };
    const onExit = (code: number | null) => { cleanup(); reject(new Error(`emulator child exited (${code})`)); };
    const cleanup = () => { child.off('message', onMsg); child.off('exit', onExit); };
    child.on('message', onMsg);
    child.once('exit', onExit);
  });
  const started = reply<{ info: EmulatorInfo }>('started');
  child.send({ type: 'start', config });
  const { info } = await started;
  return {
    info,
    pid: child.pid!,
    async stats() {
      const r = reply<{ stats: S }>('stats');
      child.send({ type: 'stats' });
      return (await r).stats;
    },
    async close() {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.disconnect();
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** Peak resident set (VmHWM) of a live process, in bytes; 0 when it cannot be read. */
export function peakRssOf(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

export interface CliRun { code: number; seconds: number; peakRssBytes: number; cpuSeconds: number; lines: unknown[]; stderr: string }

/** User + system CPU seconds a live process used so far (/proc/<pid>/stat utime + stime); 0 when unreadable. */
export function cpuSecondsOf(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
    // After "(comm) ": state is field 3, so utime (14) and stime (15) are at 11 and 12.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/**
 * Runs `wandb-to-neptune <args>` in a child process and samples its peak RSS every 100 ms (VmHWM is
 * the kernel's own high-water mark, so a short spike between samples is still seen).
 */
export function runCli(args: string[], env: Record<string, string>, cwd: string): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    // The command a user runs: the compiled build (or the sources, when they are newer than it).
    const child = spawn(process.execPath, [`${ROOT}/bin/wandb-to-neptune.js`, ...args], {
      cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    live.add(child);
    let peak = 0;
    let cpu = 0;
    const timer = setInterval(() => { peak = Math.max(peak, peakRssOf(child.pid!)); cpu = Math.max(cpu, cpuSecondsOf(child.pid!)); }, 100);
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => { out += s; });
    child.stderr.setEncoding('utf8').on('data', (s: string) => { err += s; });
    child.once('error', (e) => { clearInterval(timer); reject(e); });
    child.once('exit', (code) => {
      clearInterval(timer);
      live.delete(child);
      const lines = out.split('\n').filter((l) => l.trim()).flatMap((l) => {
        try { return [JSON.parse(l) as unknown]; } catch { return []; }
      });
      resolve({ code: code ?? 1, seconds: (performance.now() - t0) / 1000, peakRssBytes: peak, cpuSeconds: cpu, lines, stderr: err });
    });
  });
}
