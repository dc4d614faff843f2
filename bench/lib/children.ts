/** Child processes of the benchmark: emulators (over IPC) and the migration CLI (with its peak RSS). */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
    // W2N_BENCH_EMULATOR_FLAGS: Node flags for the emulators (e.g. `--cpu-prof --cpu-prof-dir=…` to profile one).
    cwd: ROOT, execArgv: ['--import', TSX, ...(process.env.W2N_BENCH_EMULATOR_FLAGS ?? '').split(/\s+/).filter(Boolean)], stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
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

export interface CliRun {
  code: number;
  seconds: number;
  /** Largest peak RSS of the CLI's Node processes (their own maxRSS; VmHWM sampling as fallback). */
  peakRssBytes: number;
  /** User + system CPU of the CLI's Node processes, from their own process.cpuUsage(). */
  cpuSeconds: number;
  /** The V8/Node flags the process that did the work ran with (what the launcher chose). */
  execArgv: string[];
  /** That process's memory over the migration (usage-probe.mjs): heap after each full collection, RSS. */
  memory: { afterFullGc: number[]; rss: number[] };
  /** [epoch ms, runs finished (done, skipped or failed)] from its `--json` events, as they came. */
  progress: Array<[number, number]>;
  lines: unknown[];
  stderr: string;
}

/** The `--json` events of a run that finished, as the CLI writes them (`type` first). */
const RUN_FINISHED = ['{"type":"run.done"', '{"type":"run.skipped"', '{"type":"run.failed"'];
const SNAPSHOT_AT = (process.env.W2N_BENCH_SNAPSHOT_AT ?? '').split(',').filter(Boolean).map(Number);
const PROBE = fileURLToPath(new URL('./usage-probe.mjs', import.meta.url));

/**
 * Runs `wandb-to-neptune <args>` in a child process, as a user does (`node bin/wandb-to-neptune.js`, so the
 * launcher chooses the heap flags), with a probe preloaded that reports its own CPU time and peak RSS.
 * `nodeFlags` are added before the launcher (to measure other heap settings than the launcher's).
 */
export function runCli(args: string[], env: Record<string, string>, cwd: string, nodeFlags: readonly string[] = []): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const usageDir = mkdtempSync(join(tmpdir(), 'w2n-usage-'));
    const t0 = performance.now();
    const child = spawn(process.execPath, [...nodeFlags, '--import', PROBE, `${ROOT}/bin/wandb-to-neptune.js`, ...args], {
      cwd, env: { ...process.env, ...env, W2N_BENCH_USAGE_DIR: usageDir }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    live.add(child);
    let peak = 0;
    const timer = setInterval(() => { peak = Math.max(peak, peakRssOf(child.pid!)); }, 100);
    let out = '';
    let err = '';
    // Runs finished, timed as their events arrive (the memory samples are placed against them).
    const progress: Array<[number, number]> = [];
    let finished = 0;
    let partial = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      out += s;
      const lines = (partial + s).split('\n');
      partial = lines.pop()!;
      const before = finished;
      for (const l of lines) if (RUN_FINISHED.some((p) => l.startsWith(p))) finished++;
      if (finished !== before) progress.push([Date.now(), finished]);
      // W2N_BENCH_SNAPSHOT_AT=2000,8000 with --node-flags "--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=<dir>":
      // a heap snapshot as those runs have finished (to compare what the heap holds at two points).
      for (const at of SNAPSHOT_AT) if (before < at && finished >= at) child.kill('SIGUSR2');
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => { err += s; });
    child.once('error', (e) => { clearInterval(timer); reject(e); });
    child.once('exit', (code) => {
      clearInterval(timer);
      live.delete(child);
      const seconds = (performance.now() - t0) / 1000;
      // W2N_BENCH_CLI_OUT=<file>: the CLI's stdout and stderr kept there (e.g. with --node-flags --trace-gc).
      if (process.env.W2N_BENCH_CLI_OUT) writeFileSync(process.env.W2N_BENCH_CLI_OUT, `${out}\n--- stderr\n${err}`);
      const usages = readdirSync(usageDir).map((f) => JSON.parse(readFileSync(join(usageDir, f), 'utf8')) as { cpuUserMicros: number; cpuSystemMicros: number; maxRssKb: number; execArgv: string[]; afterFullGc?: number[]; rss?: number[] });
      rmSync(usageDir, { recursive: true, force: true });
      const worker = usages.reduce<(typeof usages)[number] | undefined>((a, u) => (!a || u.maxRssKb > a.maxRssKb ? u : a), undefined);
      const lines = out.split('\n').filter((l) => l.trim()).flatMap((l) => {
        try { return [JSON.parse(l) as unknown]; } catch { return []; }
      });
      resolve({
        code: code ?? 1, seconds, lines, stderr: err,
        peakRssBytes: Math.max(peak, ...usages.map((u) => u.maxRssKb * 1024)),
        cpuSeconds: usages.reduce((s, u) => s + u.cpuUserMicros + u.cpuSystemMicros, 0) / 1e6,
        execArgv: (worker?.execArgv ?? []).filter((a, i, all) => a !== '--import' && all[i - 1] !== '--import'),
        memory: { afterFullGc: worker?.afterFullGc ?? [], rss: worker?.rss ?? [] },
        progress,
      });
    });
  });
}
