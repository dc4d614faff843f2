import { existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { ConfigError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { runPath } from '../core/records.ts';
import { Ledger } from '../ledger/ledger.ts';
import { protocolForLedger } from '../pipeline/ledger-target.ts';
import { buildReport } from '../pipeline/report.ts';
import { writeHtmlReport } from '../report-html/write.ts';
import { VerifyTarget } from '../verify/reader.ts';
import type { VerifyReport, VerifyStatus } from '../verify/types.ts';
import { verify, type VerifyEvent } from '../verify/verify.ts';
import type { HttpSettings, MigrateOptions, Wiring } from './migrate.ts';
import { checkSourcePath } from './source-path.ts';
import { prepareStaging } from './staging.ts';

export interface VerifyOptions extends Omit<MigrateOptions, 'dryRun' | 'strict' | 'batchPoints' | 'fileConcurrency' | 'ledgerPath'> {
  /** The migration's ledger; undefined: runs are found by custom run id, nothing is `expected`. */
  ledgerPath?: string;
  sample?: number;
  /** `--html FILE`: also write the self-contained HTML report (with a chart of each run's main metric). */
  html?: string;
}

/** `--ledger`: a path given must exist; the default one is used when it is there. */
export function verifyLedgerPath(given: string | undefined, fallback: string): string | undefined {
  if (given === undefined) return existsSync(resolve(fallback)) ? resolve(fallback) : undefined;
  const path = resolve(given);
  if (!existsSync(path)) throw new ConfigError([`--ledger ${given}: no such file (${path}); leave --ledger out to verify without the migration's report`]);
  if (statSync(path).isDirectory()) throw new ConfigError([`--ledger ${given}: is a folder, not a ledger file`]);
  return path;
}

/**
 * The workspace a verify needs no --workspace for: the one the ledger's runs went to (verify reads each
 * run where the ledger says it is). Several, or none: undefined, and the usual flags decide.
 */
export function ledgerWorkspace(path: string | undefined): string | undefined {
  if (path === undefined) return undefined;
  const ledger = Ledger.copyInMemory(path);
  try {
    const found = ledger.targetWorkspaces(2);
    return found.length === 1 ? found[0] : undefined;
  } finally {
    ledger.close();
  }
}

/** `--sample <fraction>`: a number in (0, 1]. */
export function parseSample(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 1) throw new ConfigError([`--sample must be a fraction above 0 and at most 1 (e.g. 0.1), got "${value}"`]);
  return n;
}

/**
 * `wandb-to-neptune verify` as a library function: reads every selected run from the source and from
 * Neptune and compares them. Reads only: nothing is written to Neptune, and the ledger is read from a
 * private copy (a migration may be running on it).
 */
export async function runVerify(
  opts: VerifyOptions,
  wiring: Pick<Wiring, 'makeSource'>,
  io: { env: NodeJS.ProcessEnv; log: Logger; emit: (e: VerifyEvent) => void; signal?: AbortSignal; http?: HttpSettings },
): Promise<VerifyReport> {
  const started = Date.now();
  const sourcePath = opts.source === 'api' ? undefined : await checkSourcePath(opts.source);
  const http: HttpSettings = {
    ...(opts.http?.timeoutMs !== undefined ? { timeoutMs: opts.http.timeoutMs } : {}),
    ...(opts.http?.retries !== undefined ? { retry: { retries: opts.http.retries } } : {}),
    ...io.http,
  };
  // First: a missing or malformed Neptune token is the user's to fix, before anything else is opened.
  const ledger = opts.ledgerPath ? Ledger.copyInMemory(opts.ledgerPath) : undefined;
  let target: VerifyTarget;
  try {
    // Read back as it was written: the ledger's protocol (a 3.x server serving both would answer `auto` with B).
    target = new VerifyTarget({ env: io.env, log: io.log, http, protocol: ledger ? protocolForLedger(ledger, opts.protocol) : opts.protocol, nan: opts.nan });
  } catch (e) {
    ledger?.close();
    throw e;
  }
  const staging = prepareStaging(tmpdir());
  const sourceDamage = new Map<string, number>();
  const source = await wiring.makeSource({
    source: sourcePath ?? opts.source, entity: opts.entity, log: io.log, http, stagingDir: staging.dir,
    onNotice(n) {
      if (n.run && n.kind !== 'sampled') sourceDamage.set(runPath(n.run), (sourceDamage.get(runPath(n.run)) ?? 0) + Math.max(1, n.count ?? 1));
    },
  });
  try {
    const { runs, selected } = await verify(
      {
        workspace: opts.workspace, projects: opts.projects, projectMap: opts.projectMap, filter: opts.filter,
        concurrency: opts.concurrency, sample: opts.sample, sourceLabel: sourcePath ? `folder ${sourcePath}` : undefined,
      },
      { source, target, mapping: { include: opts.include, ...(opts.exclude ? { exclude: opts.exclude } : {}) }, ledger, sourceDamage, charts: opts.html !== undefined, emit: io.emit, signal: io.signal },
    );
    const totals = { runs: runs.length, selected, verified: 0, 'verified-with-omissions': 0, mismatch: 0, missing: 0 } satisfies Record<VerifyStatus, number> & { runs: number; selected: number };
    for (const r of runs) totals[r.status]++;
    const sourceStats = (source as { stats?: () => Record<string, number> }).stats?.();
    const report: VerifyReport = {
      runs, totals, ...(opts.sample !== undefined ? { sample: opts.sample } : {}),
      requests: { source: sourceStats, target: target.stats() }, wallMs: Date.now() - started,
      ...(target.protocol ? { protocol: target.protocol } : {}),
    };
    if (opts.html !== undefined) {
      // With the migration's ledger, the page also shows what was written and left out, run by run.
      const migration = ledger ? buildReport(ledger, runs.map((r) => r.run)) : undefined;
      report.html = writeHtmlReport(opts.html, { title: 'verify', verify: report, migration });
    }
    return report;
  } finally {
    await source.close?.();
    await target.close();
    ledger?.close();
    staging.remove();
  }
}
