/**
 * The per-run fetch plan: what one run needs from GraphQL before its streams can start, and how the
 * plans of several runs become ONE document (an alias per run: `r0: project(…) { run(…) { … } } r1: …`).
 * Pure functions: the loader that sends the documents is run-prefetch.ts.
 *
 * Measured on many small runs (bench scenario b), a run's GraphQL requests were: its file listing (1),
 * its history page (1), `eventsLineCount` then `events` when it has no `wandb-events.jsonl` (2), and
 * for a running run also `historyKeys` and `parquetHistory` (2). The plan carries all of them for a
 * run whose history fits one page and whose system metrics are few; a bigger run keeps its own
 * queries for what does not fit (parquet export, paged scan). A running run's page comes with its
 * `historyKeys` from the same document, so the page is known to hold every step up to `lastStep`.
 */
import type { RunInfo, RunKey } from '../../core/records.ts';
import { filesOfPage, type FileConnection, type ListedFile } from './files.ts';
import { FILE_EDGES } from './queries.ts';
import { lastStepOf } from './run-info.ts';

/** What the listing already says about a run (fields beyond the SDK's run fragment). */
export interface RunCounts {
  fileCount?: number;
  eventsLineCount?: number;
}

export interface RunPlan {
  key: RunKey;
  /** The first page of the run's files. */
  files: boolean;
  /** `history(minStep: 0, maxStep, samples: maxStep)`: the whole history of a small run in one page. */
  historyStop?: number;
  /** A running run: `historyKeys` beside the page, to check it still holds every step. */
  freshKeys?: boolean;
  /** `events(samples)` with `eventsLineCount` beside it, to tell a complete answer from a sampled one. */
  eventSamples?: number;
}

/** What a batched document brought for one run. A field left undefined was not asked (or not usable). */
export interface RunBundle {
  files?: { listed: ListedFile[]; next?: string };
  history?: { stop: number; rows: readonly string[] };
  events?: { total: number; rows: readonly string[] };
}

export interface PlanLimits {
  /** Steps per history page (the reader's `historyPageSize`). */
  pageSize: number;
  /** Files in the first page. */
  filesFirst: number;
  /** System-metric rows a plan asks inline; a run with more keeps its own query. */
  eventsMax: number;
}

export const DEFAULT_PLAN_LIMITS: Omit<PlanLimits, 'pageSize'> = { filesFirst: 50, eventsMax: 2000 };

/** The plan of one run, or undefined when it needs nothing a batch could bring. */
export function planRun(run: RunInfo, counts: RunCounts | undefined, limits: PlanLimits): RunPlan | undefined {
  const running = run.state === 'running';
  const plan: RunPlan = { key: run.key, files: running || counts?.fileCount !== 0 };
  const last = run.lastStep ?? -1;
  // A finished run's page ends after its last step; a running run's covers a whole page, checked against its fresh lastStep.
  if (running && last < limits.pageSize) Object.assign(plan, { historyStop: limits.pageSize, freshKeys: true });
  else if (!running && last >= 0 && last < limits.pageSize) plan.historyStop = last + 1;
  const events = counts?.eventsLineCount;
  // A running run may have logged more since the listing: room for them, a count beside them says if all came.
  if (running) plan.eventSamples = Math.min(limits.eventsMax, 2 * (events ?? 0) + 100);
  else if (events !== undefined && events > 0 && events <= limits.eventsMax) plan.eventSamples = events;
  return plan.files || plan.historyStop !== undefined || plan.eventSamples !== undefined ? plan : undefined;
}

/** Rows a plan may bring back, to keep one document's answer to a sane size. */
export function planWeight(plan: RunPlan, limits: PlanLimits): number {
  return 1 + (plan.files ? limits.filesFirst : 0) + (plan.historyStop ?? 0) + (plan.eventSamples ?? 0);
}

/** The alias of the i-th run of a document. */
export const aliasOf = (i: number): string => `r${i}`;

/** One GraphQL document for several runs; names and projects travel as variables, never inside the text. */
export function batchDocument(plans: readonly RunPlan[], limits: PlanLimits): { query: string; variables: Record<string, string> } {
  const params: string[] = [];
  const blocks: string[] = [];
  const variables: Record<string, string> = {};
  plans.forEach((p, i) => {
    params.push(`$e${i}: String!, $p${i}: String!, $n${i}: String!`);
    Object.assign(variables, { [`e${i}`]: p.key.entity, [`p${i}`]: p.key.project, [`n${i}`]: p.key.runId });
    const fields: string[] = [];
    if (p.files) fields.push(`files(first: ${limits.filesFirst}) { ...FileEdges }`);
    if (p.historyStop !== undefined) fields.push(`history(minStep: 0, maxStep: ${p.historyStop}, samples: ${p.historyStop})`);
    if (p.freshKeys) fields.push('historyKeys');
    if (p.eventSamples !== undefined) fields.push(`eventsLineCount events(samples: ${p.eventSamples})`);
    blocks.push(`  ${aliasOf(i)}: project(name: $p${i}, entityName: $e${i}) { run(name: $n${i}) { ${fields.join(' ')} } }`);
  });
  const fragment = plans.some((p) => p.files) ? `\n\n${FILE_EDGES}` : '';
  return { query: `query RunBatch(${params.join(', ')}) {\n${blocks.join('\n')}\n}${fragment}`, variables };
}

interface RunBlock {
  run?: { files?: FileConnection | null; history?: string[] | null; historyKeys?: unknown; events?: string[] | null; eventsLineCount?: number | null } | null;
}

/**
 * One alias's answer as a bundle; undefined when the project or run is missing (the run's own queries
 * then say so with their usual messages). A running run's page whose fresh lastStep lies beyond it,
 * and an events answer with fewer rows than the run now holds, are left out: the run's own queries
 * read those.
 */
export function bundleOf(plan: RunPlan, block: unknown): RunBundle | undefined {
  const run = (block as RunBlock | null | undefined)?.run;
  if (!run) return undefined;
  const bundle: RunBundle = {};
  if (plan.files && run.files) {
    const page = filesOfPage(run.files, null);
    bundle.files = page.next === undefined ? { listed: page.files } : { listed: page.files, next: page.next };
  } else if (plan.files && run.files === null) bundle.files = { listed: [] };
  const stop = plan.historyStop;
  if (stop !== undefined && Array.isArray(run.history) && (!plan.freshKeys || lastStepOf(run.historyKeys) < stop)) bundle.history = { stop, rows: run.history };
  const total = run.eventsLineCount;
  if (plan.eventSamples !== undefined && Array.isArray(run.events) && typeof total === 'number' && run.events.length >= total) {
    bundle.events = { total, rows: run.events };
  }
  return bundle;
}
