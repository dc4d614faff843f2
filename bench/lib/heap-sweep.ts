/**
 * `--heap-sweep`: the same migration (scenario a: one big run; d: several at once) run once per V8 heap
 * setting, to choose the CLI's own settings (src/cli/heap.ts, bin/) by measurement and to re-check them
 * when the hot path changes. The W&B emulator and its export are made once; each migration gets a fresh
 * Neptune emulator and ledger. Settings are interleaved (each round runs every setting once), so a change
 * in the machine's load spreads over all of them instead of falling on one.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import type { NeptuneStats } from '../../emulators/neptune/index.ts';
import type { EmulatorStats } from '../../emulators/wandb/index.ts';
import { runCli, startEmulatorChild } from './children.ts';
import type { EntityRecipe } from './entities.ts';
import { cpuPerMillion } from './figures-table.ts';
import { mb } from './table.ts';

export interface HeapSetting {
  label: string;
  /** Node/V8 flags before the launcher; a flag the CLI sets itself, given here, replaces the CLI's. */
  flags: string[];
  /** Environment variables of the migration process (e.g. glibc's MALLOC_ARENA_MAX). */
  env?: Record<string, string>;
}

/** V8's own defaults: the CLI keeps a flag the user gave, and 0 is V8's "choose yourself" for both. */
const V8_DEFAULTS = ['--max-semi-space-size=0', '--heap-growing-percent=0'];

/** The settings swept when `--heap-settings` does not name others: the CLI's, V8's, and around them. */
export const DEFAULT_SETTINGS: HeapSetting[] = [
  { label: 'CLI (no flags)', flags: [] },
  { label: 'V8 defaults', flags: V8_DEFAULTS },
  { label: 'semi 4, growth 100%', flags: ['--max-semi-space-size=4', '--heap-growing-percent=100'] },
  { label: 'semi 8, growth 100%', flags: ['--max-semi-space-size=8', '--heap-growing-percent=100'] },
  { label: 'semi 16, growth 100%', flags: ['--max-semi-space-size=16', '--heap-growing-percent=100'] },
  { label: 'semi 8, growth V8', flags: ['--max-semi-space-size=8', '--heap-growing-percent=0'] },
];

/**
 * `--heap-settings "label=flags;label=flags"`, e.g. `"s8=--max-semi-space-size=8;s8 arena=--max-semi-space-size=8
 * MALLOC_ARENA_MAX=2"` (a word NAME=value is an environment variable); a label alone is looked up in the
 * default list.
 */
export function parseSettings(text: string): HeapSetting[] {
  return text.split(';').map((s) => s.trim()).filter(Boolean).map((s) => {
    const eq = s.indexOf('=');
    if (eq < 0) {
      const known = DEFAULT_SETTINGS.find((d) => d.label === s);
      if (!known) throw new Error(`--heap-settings: "${s}" is neither label=flags nor one of: ${DEFAULT_SETTINGS.map((d) => d.label).join(', ')}`);
      return known;
    }
    const words = s.slice(eq + 1).split(/\s+/).filter(Boolean);
    const isEnv = (w: string) => /^[A-Z_][A-Z0-9_]*=/.test(w);
    const env = Object.fromEntries(words.filter(isEnv).map((w) => [w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1)]));
    return { label: s.slice(0, eq).trim(), flags: words.filter((w) => !isEnv(w)), ...(Object.keys(env).length > 0 ? { env } : {}) };
  });
}

export interface SweepRow {
  label: string;
  flags: string[];
  env?: Record<string, string>;
  round: number;
  exitCode: number;
  cpuSeconds: number;
  cpuSecondsPerMillionPoints: number | undefined;
  peakRssMb: number;
  wallSeconds: number;
  /** The flags the process that did the work ran with (the launcher's own included). */
  execArgv: string[];
  pointsWritten: number | undefined;
  loadAverage1m: [before: number, after: number];
}

export async function heapSweep(o: {
  entity: EntityRecipe; concurrency: number; protocol: 'a' | 'b'; settings: HeapSetting[]; rounds: number; work: string;
  onRow?: (r: SweepRow) => void;
}): Promise<SweepRow[]> {
  mkdirSync(o.work, { recursive: true });
  const wandb = await startEmulatorChild<EmulatorStats>({ kind: 'wandb', entity: o.entity, workDir: join(o.work, 'wandb-export') });
  const rows: SweepRow[] = [];
  try {
    for (let round = 1; round <= o.rounds; round++) {
      for (const s of o.settings) {
        // A fresh target and ledger: every migration writes everything.
        const neptune = await startEmulatorChild<NeptuneStats>({ kind: 'neptune', protocolB: { statusDelayMs: 0 } });
        const ledger = join(o.work, `ledger-${round}.sqlite`);
        try {
          const load0 = loadavg()[0];
          const cli = await runCli(
            ['migrate', '--workspace', 'demo', '--projects', 'all', '--yes', '--json', '--protocol', o.protocol, '--concurrency', String(o.concurrency), '--ledger', ledger],
            { ...wandb.info.env, ...neptune.info.env, ...s.env }, o.work, s.flags,
          );
          const report = cli.lines.find((l) => (l as { type?: string }).type === 'report') as { requests?: { target?: { points?: number } } } | undefined;
          const points = report?.requests?.target?.points;
          if (cli.code !== 0) console.error(`heap sweep: ${s.label}: migration exit code ${cli.code}; stderr tail:\n${cli.stderr.slice(-1500)}`);
          const row: SweepRow = {
            label: s.label, flags: s.flags, env: s.env, round, exitCode: cli.code, cpuSeconds: cli.cpuSeconds, cpuSecondsPerMillionPoints: cpuPerMillion(cli, points),
            peakRssMb: mb(cli.peakRssBytes), wallSeconds: cli.seconds, execArgv: cli.execArgv, pointsWritten: points, loadAverage1m: [load0, loadavg()[0]],
          };
          rows.push(row);
          o.onRow?.(row);
        } finally {
          await neptune.close();
          rmSync(ledger, { force: true });
          rmSync(`${ledger}-wal`, { force: true });
          rmSync(`${ledger}-shm`, { force: true });
        }
      }
    }
  } finally {
    await wandb.close();
  }
  return rows;
}

/** One line per setting: CPU-s/M and peak RSS of each round, the load averages they ran at. */
export function printSweep(title: string, rows: readonly SweepRow[]): void {
  const labels = [...new Set(rows.map((r) => r.label))];
  const w = Math.max(7, ...labels.map((l) => l.length));
  console.log(`\n${title}`);
  console.log(`  ${'setting'.padEnd(w)}  CPU-s per M points    peak RSS (MB)    load average (1 min)`);
  for (const l of labels) {
    const mine = rows.filter((r) => r.label === l);
    const cpu = mine.map((r) => (r.exitCode !== 0 ? 'fail' : r.cpuSecondsPerMillionPoints?.toFixed(2) ?? '-')).join(' / ');
    const rss = mine.map((r) => String(r.peakRssMb)).join(' / ');
    const load = mine.map((r) => r.loadAverage1m.map((x) => x.toFixed(1)).join('→')).join(', ');
    console.log(`  ${l.padEnd(w)}  ${cpu.padEnd(20)}  ${rss.padEnd(15)}  ${load}`);
  }
  const flags = labels.map((l) => {
    const r = rows.find((x) => x.label === l)!;
    return `  ${l}: ${[...Object.entries(r.env ?? {}).map(([k, v]) => `${k}=${v}`), ...r.flags].join(' ') || '(none)'}`;
  });
  console.log(`  flags:\n${flags.join('\n')}`);
}
