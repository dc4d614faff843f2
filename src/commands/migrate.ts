import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Logger } from '../core/logger.ts';
import type { RunKey, SourceNotice } from '../core/records.ts';
import type { Target } from '../core/sink.ts';
import type { RunFilter, RunSource } from '../core/source.ts';
import { Ledger, runKeyString } from '../ledger/ledger.ts';
import type { IncludeOption } from '../mapping/options.ts';
import type { EventSink } from '../pipeline/events.ts';
import { migrate, type MigrateResult } from '../pipeline/migrate.ts';
import { Pool } from '../pipeline/pool.ts';
import { buildReport, type MigrationReport } from '../pipeline/report.ts';
import { TOOL_VERSION } from '../version.ts';

export interface MigrateOptions {
  /** `api` for the W&B API, or a path to a `wandb/` folder or one run folder. */
  source: string;
  entity?: string;
  workspace: string;
  projects: readonly string[] | 'all';
  projectMap: ReadonlyMap<string, string>;
  filter: RunFilter;
  /** Runs migrated at once. @default 4 */
  concurrency: number;
  /** File downloads+uploads at once, across runs. @default 4 */
  fileConcurrency: number;
  include: ReadonlySet<IncludeOption>;
  dryRun: boolean;
  ledgerPath: string;
  strict: boolean;
  /** Points per acknowledged batch. @default 20_000 */
  batchPoints?: number;
  /** Neptune protocol: `auto` (default) asks the server. */
  protocol?: 'a' | 'b' | 'auto';
  /** NaN/±Infinity: dropped and counted (default), or sent (Protocol B servers that accept them). */
  nan?: 'drop' | 'send';
}

/** How the command gets its source and target: the CLI passes the real ones, tests may pass others. */
export interface Wiring {
  makeSource(o: { source: string; entity?: string; log: Logger; onNotice: (n: SourceNotice) => void }): RunSource;
  makeTarget(o: { dryRun: boolean; log: Logger; protocol?: 'a' | 'b' | 'auto'; nan?: 'drop' | 'send' }): Target;
}

export interface MigrateOutcome {
  result: MigrateResult;
  report: MigrationReport;
  /** Source and target request counts, for the report and benchmarks. */
  requests: { source?: Record<string, number>; target: Record<string, number> };
}

/**
 * `wandb-to-neptune migrate` as a library function: builds the pipeline (source → mapping → target,
 * ledger), runs it, and returns the result and the report. Never exits the process.
 */
export async function runMigrate(
  opts: MigrateOptions,
  wiring: Wiring,
  io: { log: Logger; emit: EventSink; signal?: AbortSignal; logFile?: string },
): Promise<MigrateOutcome> {
  // A dry run keeps its plan in memory: it must not make the real ledger believe anything happened.
  const ledgerPath = opts.dryRun ? ':memory:' : resolve(opts.ledgerPath);
  if (!opts.dryRun) mkdirSync(dirname(ledgerPath), { recursive: true });
  const ledger = new Ledger(ledgerPath);
  const notices: SourceNotice[] = [];
  const source = wiring.makeSource({
    source: opts.source,
    entity: opts.entity,
    log: io.log,
    onNotice: (n) => {
      notices.push(n);
      if (n.run) ledger.addNotice(n.run, n);
      io.emit({ type: 'source.notice', run: n.run, stream: n.stream, kind: n.kind, message: n.message });
    },
  });
  const target = wiring.makeTarget({ dryRun: opts.dryRun, log: io.log, protocol: opts.protocol, nan: opts.nan });
  if (opts.include.has('artifacts')) {
    // Said plainly rather than silently half-done: logged artifacts (run.logged_artifacts) are not read yet.
    io.log.warn('--include artifacts carries the files under artifact/ only; logged artifacts are not read by this version');
  }
  io.emit({ type: 'migration.started', ledger: opts.dryRun ? '(in memory: dry run)' : ledgerPath, logFile: io.logFile, dryRun: opts.dryRun });
  const skipped = new Set<string>();
  try {
    const result = await migrate(
      { workspace: opts.workspace, projects: opts.projects, projectMap: opts.projectMap, filter: opts.filter, concurrency: opts.concurrency },
      {
        source,
        target,
        ledger,
        mapping: { include: opts.include },
        log: io.log,
        emit: (e) => {
          if (e.type === 'run.skipped') skipped.add(runKeyString(e.run));
          io.emit(e);
        },
        filePool: new Pool(opts.fileConcurrency),
        signal: io.signal,
        batchPoints: opts.batchPoints ?? 20_000,
        fileBatchBytes: 5 * 1024 * 1024,
        fileBatchCount: 500,
        toolVersion: TOOL_VERSION,
        dryRun: opts.dryRun,
      },
    );
    const report = buildReport(ledger, dedupe(result.runs), skipped);
    const sourceStats = (source as { stats?: () => Record<string, number> }).stats?.();
    return { result, report, requests: { source: sourceStats, target: target.stats() } };
  } finally {
    await source.close?.();
    await target.close();
    ledger.close();
  }
}

function dedupe(keys: RunKey[]): RunKey[] {
  const seen = new Map<string, RunKey>();
  for (const k of keys) seen.set(runKeyString(k), k);
  return [...seen.values()];
}
