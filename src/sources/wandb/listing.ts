/** The listings: an entity's projects, and a project's runs (with what the listing says beyond RunInfo). */
import type { RunInfo, RunKey, SourceNotice, SourceProject } from '../../core/records.ts';
import type { RunFilter } from '../../core/source.ts';
import { SourceDataError } from '../../core/errors.ts';
import { runFilterToMongo } from './filters.ts';
import type { GraphqlTransport } from './graphql.ts';
import { LIST_PROJECTS, LIST_RUNS } from './queries.ts';
import { projectNodeToSource, runNodeToInfo, type ProjectNode, type RunNode } from './run-info.ts';
import type { RunCounts } from './run-plan.ts';

interface PageInfo {
  endCursor?: string | null;
  hasNextPage: boolean;
}
interface ProjectsData {
  models: { edges: { node: ProjectNode | null; cursor?: string }[]; pageInfo: PageInfo } | null;
}
type ListedRunNode = RunNode & { fileCount?: number | null; eventsLineCount?: number | null };
interface RunsData {
  project: { runCount?: number; runs: { edges: { node: ListedRunNode | null; cursor: string }[]; pageInfo: PageInfo } | null } | null;
}

export async function* listProjects(gql: GraphqlTransport, entity: string, appUrl: string, signal?: AbortSignal): AsyncGenerator<SourceProject> {
  let cursor: string | null = null;
  for (;;) {
    const data: ProjectsData = await gql.graphql<ProjectsData>(LIST_PROJECTS, { entity, cursor, perPage: 100 }, `projects of ${entity}`, signal);
    if (!data.models) return;
    for (const edge of data.models.edges) if (edge.node) yield projectNodeToSource(edge.node, entity, appUrl);
    const next = data.models.pageInfo.endCursor ?? data.models.edges.at(-1)?.cursor ?? null;
    if (!data.models.pageInfo.hasNextPage || !next || next === cursor) return;
    cursor = next;
  }
}

export interface ListRunsOptions {
  entity: string;
  project: string;
  filter: RunFilter;
  appUrl: string;
  /** Runs per page. */
  pageSize: number;
  onNotice?: (n: SourceNotice) => void;
  /** The caller's record of the runs this listing handed over (`ListingOptions.listed`), instead of a set kept here. */
  listed?: (key: RunKey) => boolean;
}

/** The project's runs, oldest first, each once, with the counts the listing carries. */
export async function* listRuns(gql: GraphqlTransport, o: ListRunsOptions, signal?: AbortSignal): AsyncGenerator<{ run: RunInfo; counts: RunCounts }> {
  const { entity, project } = o;
  const what = `runs of ${entity}/${project}`;
  const filters = JSON.stringify(runFilterToMongo(o.filter));
  // Duplicates across pages are a known W&B bug (wandb#7666): de-duplicate by run id, through the caller's
  // record when it has one (the migration's ledger), else by every id listed so far (~65 bytes a run).
  const seen = o.listed ? undefined : new Set<string>();
  const listed = o.listed ?? ((key: RunKey) => seen!.has(key.runId));
  let cursor: string | null = null;
  for (;;) {
    const vars = { project, entity, order: '+created_at', filters, perPage: o.pageSize, cursor };
    const data: RunsData = await gql.graphql<RunsData>(LIST_RUNS, vars, what, signal);
    if (!data.project) throw new SourceDataError(`${what}: the project was not found`);
    const runs = data.project.runs;
    if (!runs) return;
    for (const edge of runs.edges) {
      const node = edge.node;
      if (!node) continue;
      const runKey = { entity, project, runId: node.name };
      if (listed(runKey)) continue;
      seen?.add(node.name);
      const run = runNodeToInfo(node, entity, project, o.appUrl, (message, field) =>
        o.onNotice?.({ run: runKey, stream: field, kind: 'invalid', message: `${message}; its raw text is kept in wandb/${field}Raw` }),
      );
      const counts = countsOf(node);
      if (counts.fileCount !== undefined) run.fileCount = counts.fileCount;
      yield { run, counts };
    }
    const next = runs.edges.at(-1)?.cursor ?? runs.pageInfo.endCursor ?? null;
    if (!runs.pageInfo.hasNextPage || !next || next === cursor) return;
    cursor = next;
  }
}

function countsOf(node: ListedRunNode): RunCounts {
  const counts: RunCounts = {};
  if (typeof node.fileCount === 'number') counts.fileCount = node.fileCount;
  if (typeof node.eventsLineCount === 'number') counts.eventsLineCount = node.eventsLineCount;
  return counts;
}
