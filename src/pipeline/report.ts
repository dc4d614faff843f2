import type { RunKey } from '../core/records.ts';
import type { Ledger, LedgerRun } from '../ledger/ledger.ts';
import { runKeyString } from '../ledger/ledger.ts';

export interface RunReport {
  run: string;
  name?: string;
  target?: string;
  status: 'migrated' | 'skipped' | 'failed' | 'pending' | 'in_progress';
  error?: string;
  written: Record<string, number>;
  notWritten: Array<{ reason: string; subject: string; count: number; detail?: string }>;
  notices: Array<{ stream: string; kind: string; message: string; count?: number }>;
}

export interface MigrationReport {
  runs: RunReport[];
  /**
   * `points` and `files` are what the target holds for the runs: written by this ledger's passes plus
   * what a pass found already there (`pointsAlreadyPresent`, `filesAlreadyPresent`: acknowledged
   * before a kill, or migrated with a ledger since lost).
   */
  totals: {
    runs: number; migrated: number; skipped: number; failed: number; pending: number;
    points: number; pointsAlreadyPresent: number; files: number; filesAlreadyPresent: number; bytes: number; omitted: number;
  };
  /** Omissions beyond the documented defaults (what `--strict` fails on). */
  nonDefaultOmissions: number;
}

// The documented defaults of mapping.md (`console-overwritten`: a line is what the terminal showed).
export const DEFAULT_REASONS: ReadonlySet<string> = new Set(['excluded-by-default', 'empty-file', 'non-finite', 'renamed', 'console-overwritten']);

/** A report's totals, without its runs. */
export type ReportSummary = Pick<MigrationReport, 'totals' | 'nonDefaultOmissions'>;

/**
 * Which runs a report covers: every run of the ledger, the runs the current (or last) migrate pass
 * selected (read from the ledger: with those it skipped as unchanged reported as skipped), or a list.
 */
export type ReportScope = 'all' | 'this-pass' | readonly RunKey[];

/**
 * The report, one run at a time: the summary first (a pass over the ledger that keeps only sums), then
 * `runs()` reads each run's report again as it is asked for. A report of 10,000 runs is written as it is
 * read, never held whole. From the ledger alone, so `wandb-to-neptune report` can print it again later.
 */
export function streamReport(ledger: Ledger, scope: ReportScope = 'all'): ReportSummary & { runs(): Generator<RunReport> } {
  const runs = function* (): Generator<RunReport> {
    if (scope === 'this-pass') {
      for (const { run, skipped } of ledger.eachPassRun()) yield runReport(ledger, run, skipped);
      return;
    }
    const wanted = scope === 'all' ? undefined : new Set(scope.map(runKeyString));
    for (const r of ledger.eachRun()) if (!wanted || wanted.has(runKeyString(r.key))) yield runReport(ledger, r, false);
  };
  const totals = { runs: 0, migrated: 0, skipped: 0, failed: 0, pending: 0, points: 0, pointsAlreadyPresent: 0, files: 0, filesAlreadyPresent: 0, bytes: 0, omitted: 0 };
  let nonDefault = 0;
  for (const r of runs()) {
    totals.runs++;
    if (r.status === 'migrated') totals.migrated++;
    else if (r.status === 'skipped') totals.skipped++;
    else if (r.status === 'failed') totals.failed++;
    else totals.pending++;
    const held = inTarget(r.written);
    totals.points += held.points;
    totals.pointsAlreadyPresent += r.written.pointsAlreadyPresent ?? 0;
    totals.files += held.files;
    totals.filesAlreadyPresent += r.written.filesAlreadyPresent ?? 0;
    totals.bytes += r.written.bytes ?? 0;
    for (const o of r.notWritten) {
      totals.omitted += o.count;
      if (!DEFAULT_REASONS.has(o.reason)) nonDefault += o.count;
    }
    // What the source could not give (a damaged log, a row that is not JSON) is left out too.
    for (const n of r.notices) if (n.kind !== 'sampled') nonDefault += Math.max(1, n.count ?? 1);
  }
  return { totals, nonDefaultOmissions: nonDefault, runs };
}

/** The whole report in memory (for `report`, `status`, the HTML page and library callers). */
export function buildReport(ledger: Ledger, scope: ReportScope = 'all'): MigrationReport {
  const { totals, nonDefaultOmissions, runs } = streamReport(ledger, scope);
  return { runs: [...runs()], totals, nonDefaultOmissions };
}

/** What the target holds of a run, from its counts: written by this ledger's passes plus found already there. */
export function inTarget(w: Readonly<Record<string, number>>): { points: number; history: number; system: number; console: number; files: number } {
  const both = (name: string) => (w[name] ?? 0) + (w[`${name}AlreadyPresent`] ?? 0);
  return { points: both('points'), history: both('historyPoints'), system: both('systemPoints'), console: both('consolePoints'), files: both('files') };
}

function runReport(ledger: Ledger, r: LedgerRun, skipped: boolean): RunReport {
  const k = runKeyString(r.key);
  const status: RunReport['status'] = r.status === 'done' ? (skipped ? 'skipped' : 'migrated') : r.status === 'failed' ? 'failed' : r.status;
  return {
    run: k,
    name: r.displayName,
    target: r.targetProject && r.targetRun ? `${r.targetProject}/${r.targetRun}` : r.targetProject,
    status,
    error: r.lastError,
    written: ledger.counts(r.key),
    notWritten: ledger.omissions(r.key).map(({ reason, subject, count, detail }) => ({ reason, subject, count, detail })),
    notices: ledger.notices(r.key),
  };
}

/** The report as text: a line per run, then what was not written, by reason. */
export function formatReport(report: MigrationReport, opts: { dryRun?: boolean } = {}): string {
  return [...reportLines(report, report.runs, opts)].join('\n');
}

/** The lines of the report's text, one at a time (a streamed report is written line by line). */
export function* reportLines(summary: ReportSummary, runs: Iterable<RunReport>, opts: { dryRun?: boolean } = {}): Generator<string> {
  const t = summary.totals;
  // A dry run wrote nothing: its lines say what a real run would write.
  const label = (status: string) => (opts.dryRun && status === 'migrated' ? 'WOULD-MIGRATE' : status.toUpperCase());
  if (opts.dryRun) yield 'Dry run: nothing was written. A real run would write:';
  yield `Runs: ${t.runs} (migrated ${t.migrated}, skipped ${t.skipped}, failed ${t.failed}, pending ${t.pending})`;
  yield `Written: ${t.points.toLocaleString('en-US')} points, ${t.files} files, ${formatBytes(t.bytes)}${alreadyThere(t.pointsAlreadyPresent, t.filesAlreadyPresent)}; not written: ${t.omitted.toLocaleString('en-US')} items`;
  for (const r of runs) {
    const w = r.written;
    const held = inTarget(w);
    yield `${label(r.status).padEnd(9)} ${r.run}${r.name ? ` (${r.name})` : ''}: fields ${w.fields ?? 0}, points ${held.points} (history ${held.history}, system ${held.system}, ${consoleCount(held.console, w.consoleLines ?? 0)}), files ${held.files} (${formatBytes(w.bytes ?? 0)})${alreadyThere(w.pointsAlreadyPresent ?? 0, w.filesAlreadyPresent ?? 0, w.filesKeptOnSize ?? 0)}`;
    if (r.error) yield `          error: ${r.error}`;
    const byReason = new Map<string, Array<{ subject: string; count: number; detail?: string }>>();
    for (const o of r.notWritten) byReason.set(o.reason, [...(byReason.get(o.reason) ?? []), o]);
    for (const [reason, items] of byReason) {
      const n = items.reduce((s, i) => s + i.count, 0);
      yield `          not written, ${reason}: ${n} — ${describeItems(items)}`;
    }
    for (const nt of r.notices) yield `          source ${nt.kind} (${nt.stream}): ${nt.message}`;
  }
}

/**
 * The console entries the target holds, as the other point counts; the W&B lines they came from said
 * apart where the two differ (Protocol A splits a line over 1,000 characters into several entries; a
 * refused entry is not held; a resume does not read again the lines already there).
 */
function consoleCount(held: number, linesRead: number): string {
  return linesRead === held ? `console ${held}` : `console ${held} from ${linesRead} W&B lines`;
}

/** Said when part of what the target holds was there before this pass wrote anything. */
function alreadyThere(points: number, files: number, keptOnSize = 0): string {
  const parts = [points ? `${points.toLocaleString('en-US')} points` : '', files ? `${files} files` : ''].filter(Boolean);
  // A target that lists sizes only (Protocol A) proves no bytes: such files are said kept on size.
  const onSize = keptOnSize ? `; ${keptOnSize} of those files kept on size, their bytes not verified` : '';
  return parts.length ? ` (of which ${parts.join(' and ')} were already in Neptune${onSize})` : '';
}

/**
 * Items of one reason, readable at a glance: those sharing a detail ("W&B internal key") are grouped
 * with a few names; the full list stays in the ledger and in `report --json`.
 */
function describeItems(items: ReadonlyArray<{ subject: string; count: number; detail?: string }>): string {
  const groups = new Map<string, Array<{ subject: string; count: number }>>();
  for (const i of items) groups.set(i.detail ?? '', [...(groups.get(i.detail ?? '') ?? []), i]);
  const parts: string[] = [];
  for (const [detail, members] of groups) {
    const names = members.slice(0, 4).map((m) => `${m.subject}${m.count > 1 ? ` ×${m.count}` : ''}`);
    const more = members.length > 4 ? `, … ${members.length - 4} more` : '';
    parts.push(detail ? `${detail}: ${names.join(', ')}${more}` : `${names.join(', ')}${more}`);
  }
  return parts.join('; ');
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}
