/**
 * Scenarios (b), (c), (d): a W&B entity migrated by the CLI, `--concurrency` runs at once, through the
 * given latencies and rate limit; optionally migrated a second time with nothing changed (the ledger
 * must make that cheap: no Neptune requests).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { NeptuneFaultConfig, NeptuneStats } from '../../emulators/neptune/index.ts';
import type { EmulatorStats, FaultConfig } from '../../emulators/wandb/index.ts';
import { runCli, startEmulatorChild } from './children.ts';
import type { EntityRecipe } from './entities.ts';
import { cpuPerMillion, figureRows, growthRows } from './figures-table.ts';
import { memoryGrowth } from './memory-growth.ts';
import { migrationFigures } from './migration-figures.ts';
import type { Row } from './table.ts';

export interface RunsScenario {
  entity: EntityRecipe;
  runs: number;
  concurrency: number;
  wandbFaults?: FaultConfig;
  neptuneFaults?: NeptuneFaultConfig;
  rerun?: boolean;
  nodeFlags?: string[];
  /** `--protocol` of the migration (the emulator serves both). @default 'a' */
  protocol?: 'a' | 'b';
  work: string;
}

export async function scenarioRuns(o: RunsScenario) {
  mkdirSync(o.work, { recursive: true });
  const wandb = await startEmulatorChild<EmulatorStats>({ kind: 'wandb', entity: o.entity, workDir: join(o.work, 'wandb-export'), faults: o.wandbFaults });
  const neptune = await startEmulatorChild<NeptuneStats>({ kind: 'neptune', faults: o.neptuneFaults });
  try {
    const args = ['migrate', '--workspace', 'demo', '--projects', 'all', '--yes', '--json', '--protocol', o.protocol ?? 'a', '--concurrency', String(o.concurrency), '--ledger', join(o.work, 'ledger.sqlite')];
    const env = { ...wandb.info.env, ...neptune.info.env };
    const migrate = async () => {
      const [before, nBefore] = [await wandb.stats(), await neptune.stats()];
      const cli = await runCli(args, env, o.work, o.nodeFlags);
      return { cli, m: migrationFigures(cli, before, await wandb.stats(), await neptune.stats(), nBefore) };
    };
    const first = await migrate();
    const growth = memoryGrowth(first.cli.memory, first.cli.progress, o.runs);
    const table: Row[] = [...figureRows(first.cli, first.m, o.runs), ...growthRows(growth)];
    const result: Record<string, unknown> = {
      runs: o.runs, concurrency: o.concurrency, protocol: o.protocol ?? 'a', seconds: first.cli.seconds, runsPerMinute: o.runs / (first.cli.seconds / 60), memoryGrowth: growth,
      cpuSecondsPerMillionPoints: cpuPerMillion(first.cli, first.m.pointsWritten), execArgv: first.cli.execArgv, ...first.m,
    };
    if (o.rerun) {
      const again = await migrate();
      const againGrowth = memoryGrowth(again.cli.memory, again.cli.progress, o.runs);
      table.push(
        ['re-run, nothing changed: exit code', again.cli.code],
        ['re-run: wall time (s)', +again.cli.seconds.toFixed(1)],
        ['re-run: client CPU (s)', +again.cli.cpuSeconds.toFixed(2)],
        ['re-run: peak RSS (MB)', Math.round(again.cli.peakRssBytes / 1048576)],
        ['re-run: W&B requests', again.m.wandbRequests],
        ['re-run: Neptune requests', again.m.neptuneRequests],
        ...growthRows(againGrowth, 're-run: '),
      );
      result.rerun = { seconds: again.cli.seconds, ...again.m, memoryGrowth: againGrowth };
    }
    return { table, ...result };
  } finally {
    await Promise.all([wandb.close(), neptune.close()]);
  }
}
