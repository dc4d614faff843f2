/** Scenario (b): many small runs through realistic latency and W&B's rate limit. */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { NeptuneStats } from '../../emulators/neptune/index.ts';
import type { EmulatorStats } from '../../emulators/wandb/index.ts';
import { runCli, startEmulatorChild } from './children.ts';
import { migrationFigures } from './migration-figures.ts';
import { mb, type Row } from './table.ts';

export async function scenarioB(o: { runs: number; concurrency: number; work: string; signal: AbortSignal; protocol?: 'a' | 'b' }) {
  mkdirSync(o.work, { recursive: true });
  const wandb = await startEmulatorChild<EmulatorStats>({
    kind: 'wandb', spec: { seed: 1, preset: 'many-small-runs', runs: o.runs }, workDir: join(o.work, 'wandb-export'),
    faults: { latencyMs: 150, rateLimitPerSecond: 50 },
  });
  const neptune = await startEmulatorChild<NeptuneStats>({ kind: 'neptune', faults: { latencyMs: 50 } });
  try {
    const before = await wandb.stats();
    const cli = await runCli(
      ['migrate', '--workspace', 'demo', '--projects', 'all', '--yes', '--json', '--protocol', o.protocol ?? 'a', '--concurrency', String(o.concurrency), '--ledger', join(o.work, 'ledger.sqlite')],
      { ...wandb.info.env, ...neptune.info.env }, o.work,
    );
    const m = migrationFigures(cli, before, await wandb.stats(), await neptune.stats());
    const perRun = (n: number) => +(n / o.runs).toFixed(1);
    const table: Row[] = [
      ['exit code', cli.code],
      ['runs', o.runs],
      ['wall time (s)', +cli.seconds.toFixed(1)],
      ['runs/min', +(o.runs / (cli.seconds / 60)).toFixed(1)],
      ['W&B requests per run (emulator count)', perRun(m.wandbRequests)],
      ['  of which GraphQL / downloads', `${perRun(m.wandbGraphql)} / ${perRun(m.wandbDownloads)}`],
      ['W&B 429s received', m.wandb429],
      ['Neptune requests per run (emulator count)', perRun(m.neptuneRequests)],
      ['peak RSS (MB, VmHWM)', mb(cli.peakRssBytes)],
    ];
    return { table, runs: o.runs, concurrency: o.concurrency, seconds: cli.seconds, runsPerMinute: o.runs / (cli.seconds / 60), ...m };
  } finally {
    await Promise.all([wandb.close(), neptune.close()]);
  }
}
