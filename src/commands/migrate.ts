import { tmpdir } from 'node:os';
import { dirname, resolve } from 'node:path';
import type { Logger } from '../core/logger.ts';
import type { HttpClientOptions } from '../http/client.ts';
import type { SourceNotice } from '../core/records.ts';
import type { Target } from '../core/sink.ts';
import type { RunFilter, RunSource } from '../core/source.ts';
import { asLedgerError } from '../ledger/errors.ts';
import type { Ledger } from '../ledger/ledger.ts';
import { openLedgerForMigration, type OpenedLedger } from '../ledger/open.ts';
import { protocolForLedger } from '../pipeline/ledger-target.ts';
import type { ExcludeOption, IncludeOption } from '../mapping/options.ts';
import type { EventSink } from '../pipeline/events.ts';
import { migrate, type MigrateResult } from '../pipeline/migrate.ts';
import { Pool } from '../pipeline/pool.ts';
import { buildReport, streamReport, type MigrationReport, type ReportSummary, type RunReport } from '../pipeline/report.ts';
import { TOOL_VERSION } from '../version.ts';
import { checkSourcePath } from './source-path.ts';
import { prepareStaging, type Staging } from './staging.ts';

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
  /** What is carried by default and left out on request (`--exclude`). */
  exclude?: ReadonlySet<ExcludeOption>;
  dryRun: boolean;
  ledgerPath: string;
  strict: boolean;
  /** Points per acknowledged batch. @default 20_000 */
  batchPoints?: number;
  /** `--artifact-max-size`, in bytes: artifact files larger than it are left out. */
  artifactMaxBytes?: number;
  /** Request timeouts and retries (`--timeout`, `--retries`). */
  http?: { timeoutMs?: number; retries?: number };
  /** Neptune protocol: `auto` (default) asks the server. */
  protocol?: 'a' | 'b' | 'auto';
  /** NaN/±Infinity: dropped and counted (default), or sent (Protocol B servers that accept them). */
  nan?: 'drop' | 'send';
}

/** What the wiring hands every HTTP client: the user's timeouts, and the display's retry/wait hooks. */
export type HttpSettings = Pick<HttpClientOptions, 'timeoutMs' | 'retry' | 'onRetry' | 'onWaiting'>;

/** How the command gets its source and target: the CLI passes the real ones, tests may pass others. */
export interface Wiring {
  /** May load what it makes when asked (the CLI's wiring does: what a command does not use, it never loads). */
  makeSource(o: { source: string; entity?: string; log: Logger; onNotice: (n: SourceNotice) => void; http?: HttpSettings; stagingDir?: string }): RunSource | Promise<RunSource>;
  makeTarget(o: { dryRun: boolean; log: Logger; http?: HttpSettings; protocol?: 'a' | 'b' | 'auto'; nan?: 'drop' | 'send' }): Target | Promise<Target>;
}

export interface MigrateOutcome {
  result: MigrateResult;
  report: MigrationReport;
  /** Source and target request counts, for the report and benchmarks. */
  requests: { source?: Record<string, number>; target: Record<string, number> };
}

/** The report handed to `io.writeReport`: its summary, and its runs read from the ledger one at a time. */
export type StreamedReport = ReportSummary & { runs(): Generator<RunReport> };

export interface MigrateIo {
  log: Logger;
  emit: EventSink;
  signal?: AbortSignal;
  /** Aborts what was already sent, too (MigrationContext.writeSignal); without it, `signal` does. */
  writeSignal?: AbortSignal;
  logFile?: string;
  /**
   * Given, the report is written through it while the ledger is open, run by run, and the outcome
   * carries only its summary: the report of 10,000 runs is written, not held (the CLI does this).
   */
  writeReport?: (report: StreamedReport, requests: MigrateOutcome['requests']) => void | Promise<void>;
}

/** The outcome when the report was written through `io.writeReport`. */
export type StreamedMigrateOutcome = Omit<MigrateOutcome, 'report'> & { report: ReportSummary };

/**
 * `wandb-to-neptune migrate` as a library function: builds the pipeline (source → mapping → target,
 * ledger), runs it, and returns the result and the report. Never exits the process.
 */
export async function runMigrate(opts: MigrateOptions, wiring: Wiring, io: MigrateIo & { writeReport: NonNullable<MigrateIo['writeReport']> }): Promise<StreamedMigrateOutcome>;
export async function runMigrate(opts: MigrateOptions, wiring: Wiring, io: MigrateIo): Promise<MigrateOutcome>;
export async function runMigrate(opts: MigrateOptions, wiring: Wiring, io: MigrateIo): Promise<MigrateOutcome | StreamedMigrateOutcome> {
  const sourcePath = opts.source === 'api' ? undefined : await checkSourcePath(opts.source);
  const ledgerPath = resolve(opts.ledgerPath);
  let opened: OpenedLedger | undefined;
  let staging: Staging | undefined;
  let source: RunSource | undefined;
  let target: Target | undefined;
  try {
    opened = openLedgerForMigration(ledgerPath, opts.dryRun);
    const ledger = opened.ledger;
    try {
      staging = prepareStaging(opts.dryRun ? tmpdir() : dirname(ledgerPath));
    } catch (e) {
      // The staging folder lives beside the ledger: the same folder, the same problems (full, not writable).
      throw asLedgerError(e, ledgerPath);
    }
    for (const c of staging.cleaned) io.log.info(`removed staging left by a stopped process: ${c}`);
    const http: HttpSettings = {
      ...(opts.http?.timeoutMs !== undefined ? { timeoutMs: opts.http.timeoutMs } : {}),
      ...(opts.http?.retries !== undefined ? { retry: { retries: opts.http.retries } } : {}),
      onRetry: (r) => io.emit({ type: 'http.retry', service: r.service, what: r.what, attempt: r.attempt, attempts: r.attempts, delayMs: r.delayMs, reason: r.reason }),
      onWaiting: (w) => io.emit({ type: 'http.waiting', service: w.service, what: w.what, waitedMs: w.waitedMs }),
    };
    source = await wiring.makeSource({
      source: sourcePath ?? opts.source,
      entity: opts.entity,
      log: io.log,
      http,
      stagingDir: staging.dir,
      onNotice: (n) => {
        if (n.run) ledger.addNotice(n.run, n);
        io.emit({ type: 'source.notice', run: n.run, stream: n.stream, kind: n.kind, message: n.message });
      },
    });
    target = await wiring.makeTarget({ dryRun: opts.dryRun, log: io.log, http, protocol: protocolForLedger(ledger, opts.protocol), nan: opts.nan });
    if (opts.include.has('media')) {
      // The old switch keeps working: media values are carried by default now; it means the raw files.
      io.log.warn('--include media is now --include media-files (the raw media/ run files); media values in history and summary are carried by default');
    }
    if (opts.include.has('tables')) {
      io.log.warn('--include tables is no longer needed: tables are carried by default (--exclude tables leaves them out)');
    }
    io.emit({ type: 'migration.started', ledger: opts.dryRun ? `(dry run: a copy of ${ledgerPath} in memory)` : ledgerPath, logFile: io.logFile, dryRun: opts.dryRun });
    try {
      const result = await migrate(
        {
          workspace: opts.workspace,
          projects: opts.projects,
          projectMap: opts.projectMap,
          filter: opts.filter,
          concurrency: opts.concurrency,
          sourceLabel: sourcePath ? `folder ${sourcePath}` : opts.entity ? `W&B entity "${opts.entity}"` : undefined,
          defaultEntity:
            opts.source === 'api' && opts.entity
              ? async () => {
                  const probe = await wiring.makeSource({ source: 'api', log: io.log, http, onNotice() {} });
                  try {
                    return await probe.entity(io.signal);
                  } catch {
                    return undefined;
                  } finally {
                    await probe.close?.();
                  }
                }
              : undefined,
        },
        {
          source,
          target,
          ledger,
          mapping: { include: opts.include, ...(opts.exclude ? { exclude: opts.exclude } : {}) },
          log: io.log,
          emit: io.emit,
          filePool: new Pool(opts.fileConcurrency),
          signal: io.signal,
          ...(io.writeSignal ? { writeSignal: io.writeSignal } : {}),
          batchPoints: opts.batchPoints ?? 20_000,
          artifactMaxBytes: opts.artifactMaxBytes,
          fileBatchBytes: 5 * 1024 * 1024,
          fileBatchCount: 500,
          toolVersion: TOOL_VERSION,
          dryRun: opts.dryRun,
        },
      );
      const sourceStats = (source as { stats?: () => Record<string, number> }).stats?.();
      const requests = { source: sourceStats, target: target.stats() };
      if (io.writeReport) {
        // The runs this pass selected are in the ledger (pass_runs): none is held here.
        const streamed = streamReport(ledger, 'this-pass');
        // Awaited: the report may wait for a slow reader, and the ledger stays open until it is written.
        await io.writeReport(streamed, requests);
        return { result, report: { totals: streamed.totals, nonDefaultOmissions: streamed.nonDefaultOmissions }, requests };
      }
      return { result, report: buildReport(ledger, 'this-pass'), requests };
    } catch (error) {
      // The runs this pass selected, as the ledger holds them now: the caller still prints a report.
      const partial = safeReport(ledger);
      if (partial && typeof error === 'object' && error !== null) failureReports.set(error, partial);
      throw error;
    }
  } finally {
    await source?.close?.();
    await target?.close();
    opened?.close();
    staging?.remove();
  }
}

const failureReports = new WeakMap<object, MigrationReport>();

/** The report of a migration that stopped on `error` (runs selected before it stopped), if any. */
export function reportOfFailure(error: unknown): MigrationReport | undefined {
  return typeof error === 'object' && error !== null ? failureReports.get(error) : undefined;
}

/** The report of a migration that stopped before selecting any run. */
export function emptyReport(): MigrationReport {
  return { runs: [], totals: { runs: 0, migrated: 0, skipped: 0, failed: 0, pending: 0, points: 0, pointsAlreadyPresent: 0, files: 0, filesAlreadyPresent: 0, bytes: 0, omitted: 0 }, nonDefaultOmissions: 0 };
}

function safeReport(ledger: Ledger): MigrationReport | undefined {
  try {
    return buildReport(ledger, 'this-pass');
  } catch {
    // The ledger is what failed: the error says so; there is no report to give.
    return undefined;
  }
}
