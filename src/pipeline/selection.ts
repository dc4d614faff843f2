import { ConfigError, MigrationError, isAbortError } from '../core/errors.ts';
import type { SourceProject } from '../core/records.ts';
import type { RunFilter, RunSource } from '../core/source.ts';

/** How many names a message lists before it says "… N more". */
const SHOWN = 12;

export function nameList(names: readonly string[]): string {
  if (names.length === 0) return '(none)';
  const shown = names.slice(0, SHOWN).join(', ');
  return names.length > SHOWN ? `${shown}, … ${names.length - SHOWN} more` : shown;
}

/**
 * The projects asked for, checked against those the source has: a name that is not there is a typo
 * (or the wrong entity), never a quiet "Runs: 0". Throws a usage error naming what exists.
 */
export function selectProjects(all: readonly SourceProject[], asked: readonly string[] | 'all', where: string, defaultEntity?: string): SourceProject[] {
  if (all.length === 0) {
    const hint = defaultEntity ? `; the API key's default entity is "${defaultEntity}"` : '';
    throw new ConfigError([`${where} has no projects (it does not exist, or the API key cannot see it)${hint}`]);
  }
  if (asked === 'all') return [...all];
  const missing = asked.filter((n) => !all.some((p) => p.name === n));
  if (missing.length) {
    throw new ConfigError([`W&B project${missing.length > 1 ? 's' : ''} not found in ${where}: ${missing.join(', ')}; it has: ${nameList(all.map((p) => p.name))}`]);
  }
  return all.filter((p) => asked.includes(p.name));
}

/**
 * `--project-map old=new` naming a W&B project the source does not have is a typo: the project it
 * meant would go under its default name, quietly. Said with what exists.
 */
export function checkProjectMap(all: readonly SourceProject[], map: ReadonlyMap<string, string>, where: string): void {
  const unknown = [...map.keys()].filter((name) => !all.some((p) => p.name === name));
  if (unknown.length === 0) return;
  throw new ConfigError([`--project-map names W&B project${unknown.length > 1 ? 's' : ''} not in ${where}: ${unknown.join(', ')}; it has: ${nameList(all.map((p) => p.name))}`]);
}

/** Words for a filter, as the user typed it. */
export function describeFilter(f: RunFilter): string {
  const parts: string[] = [];
  if (f.runIds?.length) parts.push(`--runs ${f.runIds.join(',')}`);
  if (f.states?.length) parts.push(`--state ${f.states.join(',')}`);
  if (f.tags?.length) parts.push(`--tags ${f.tags.join(',')}`);
  if (f.createdAfter) parts.push(`--since ${f.createdAfter}`);
  if (f.createdBefore) parts.push(`--until ${f.createdBefore}`);
  return parts.join(' ');
}

/**
 * No run matched: says which filter matched nothing and what the projects do hold (run ids, states,
 * tags), read again without the filter — only on this error path.
 */
export async function emptySelectionError(
  source: RunSource,
  projects: readonly SourceProject[],
  filter: RunFilter,
  where: string,
  signal?: AbortSignal,
): Promise<ConfigError> {
  const filterText = describeFilter(filter);
  const ids: string[] = [];
  const states = new Set<string>();
  const tags = new Set<string>();
  // `--runs` given display names (what the W&B UI shows first) instead of run ids: said plainly.
  const asked = new Set(filter.runIds ?? []);
  const named: string[] = [];
  for (const p of projects) {
    for await (const r of source.listRuns(p.name, {}, signal)) {
      ids.push(r.key.runId);
      if (r.state) states.add(r.state);
      for (const t of r.tags) tags.add(t);
      if (r.displayName && asked.has(r.displayName) && !asked.has(r.key.runId)) named.push(`"${r.displayName}" is the name of run ${r.key.runId}`);
    }
  }
  const scope = `${where}, project${projects.length > 1 ? 's' : ''} ${nameList(projects.map((p) => p.name))}`;
  if (ids.length === 0) return new ConfigError([`no runs in ${scope}`]);
  const has = [`run ids: ${nameList(ids)}`];
  if (filter.states?.length) has.push(`states: ${nameList([...states].sort())}`);
  if (filter.tags?.length) has.push(`tags: ${nameList([...tags].sort())}`);
  return new ConfigError([
    `${filterText || 'the selection'} matched no run in ${scope}; there are ${ids.length} runs (${has.join('; ')})`,
    ...(named.length ? [`--runs takes run ids, not names: ${named.slice(0, 10).join('; ')}${named.length > 10 ? `; … ${named.length - 10} more` : ''}`] : []),
  ]);
}

/**
 * `--runs a,b,c`: every id is looked up (in the selected projects, by id alone: `--state` or `--tags`
 * leaving one out is not a typo) before anything is written. An id none of them has is a usage error
 * naming it: a typo in one of several ids used to migrate the others and say nothing. When none
 * matches, the empty-selection error says more, after the listing.
 */
export async function checkRunIds(source: RunSource, projects: readonly SourceProject[], filter: RunFilter, where: string, signal?: AbortSignal): Promise<void> {
  const asked = filter.runIds;
  if (!asked?.length) return;
  const seen = new Set<string>();
  for (const p of projects) for await (const r of source.listRuns(p.name, { runIds: asked }, signal)) seen.add(r.key.runId);
  const missing = [...new Set(asked)].filter((id) => !seen.has(id));
  if (missing.length === 0 || seen.size === 0) return;
  const scope = `${where}, project${projects.length > 1 ? 's' : ''} ${nameList(projects.map((p) => p.name))}`;
  throw new ConfigError([`--runs names run id${missing.length > 1 ? 's' : ''} not in ${scope}: ${nameList(missing)} (found: ${nameList([...seen])})`]);
}

/**
 * A check made before any run is read: an unreachable server, a refused key or a missing workspace
 * is the user's to fix, said once (exit 2), instead of failing run after run.
 */
export async function preflightStep<T>(service: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    if (isAbortError(error) || error instanceof ConfigError) throw error;
    if (error instanceof MigrationError && (error.code === 'NETWORK' || error.code === 'HTTP' || error.code === 'GRAPHQL' || error.code === 'SOURCE_DATA')) {
      throw new ConfigError([`cannot use ${service}: ${error.message}`]);
    }
    throw error;
  }
}
