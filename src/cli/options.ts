import { ConfigError } from '../core/errors.ts';
import type { RunFilter } from '../core/source.ts';
import { INCLUDE_OPTIONS, type IncludeOption } from '../mapping/options.ts';
import { parseProjectMap } from '../mapping/project-name.ts';
import type { MigrateOptions } from '../commands/migrate.ts';

/** The `migrate` flags as commander hands them over. */
export interface MigrateFlags {
  source?: string;
  entity?: string;
  workspace?: string;
  projects?: string;
  runs?: string;
  state?: string;
  tags?: string;
  since?: string;
  until?: string;
  concurrency?: string;
  fileConcurrency?: string;
  include?: string[];
  projectMap?: string;
  ledger?: string;
  dryRun?: boolean;
  json?: boolean;
  strict?: boolean;
  yes?: boolean;
  batchPoints?: string;
  protocol?: string;
  nan?: string;
}

export const DEFAULT_LEDGER = 'wandb-to-neptune.sqlite';

const list = (s: string | undefined) => (s ? s.split(',').map((x) => x.trim()).filter(Boolean) : undefined);

function positiveInt(name: string, value: string | undefined, fallback: number, problems: string[]): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    problems.push(`${name} must be a positive whole number, got "${value}"`);
    return fallback;
  }
  return n;
}

function isoDate(name: string, value: string | undefined, problems: string[]): string | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) {
    problems.push(`${name} must be a date (e.g. 2024-05-01 or 2024-05-01T12:00:00Z), got "${value}"`);
    return undefined;
  }
  return new Date(ms).toISOString();
}

/** Turns flags (after any prompts filled them) into options, reporting every problem at once. */
export function migrateOptionsFromFlags(flags: MigrateFlags, env: NodeJS.ProcessEnv): MigrateOptions {
  const problems: string[] = [];
  const workspace = flags.workspace ?? env.NEPTUNE_PROJECT?.split('/')[0];
  if (!workspace) problems.push('no Neptune workspace: pass --workspace or set NEPTUNE_PROJECT=workspace/project');
  const include = new Set<IncludeOption>();
  for (const item of (flags.include ?? []).flatMap((s) => list(s) ?? [])) {
    if ((INCLUDE_OPTIONS as readonly string[]).includes(item)) include.add(item as IncludeOption);
    else problems.push(`--include ${item}: expected one of ${INCLUDE_OPTIONS.join(', ')}`);
  }
  const filter: RunFilter = {
    runIds: list(flags.runs),
    states: list(flags.state),
    tags: list(flags.tags),
    createdAfter: isoDate('--since', flags.since, problems),
    createdBefore: isoDate('--until', flags.until, problems),
  };
  const projectsList = list(flags.projects);
  let projectMap = new Map<string, string>();
  try {
    projectMap = parseProjectMap(flags.projectMap);
  } catch (e) {
    if (e instanceof ConfigError) problems.push(...e.problems);
    else throw e;
  }
  const opts: MigrateOptions = {
    source: flags.source ?? 'api',
    entity: flags.entity,
    workspace: workspace ?? '',
    projects: !projectsList || projectsList.includes('all') ? 'all' : projectsList,
    projectMap,
    filter,
    concurrency: positiveInt('--concurrency', flags.concurrency, 4, problems),
    fileConcurrency: positiveInt('--file-concurrency', flags.fileConcurrency, 4, problems),
    include,
    dryRun: flags.dryRun ?? false,
    ledgerPath: flags.ledger ?? DEFAULT_LEDGER,
    strict: flags.strict ?? false,
    batchPoints: positiveInt('--batch-points', flags.batchPoints, 20_000, problems),
  };
  const protocol = flags.protocol ?? 'auto';
  if (protocol !== 'a' && protocol !== 'b' && protocol !== 'auto') problems.push(`--protocol must be a, b or auto, got "${protocol}"`);
  else opts.protocol = protocol;
  const nan = flags.nan ?? 'drop';
  if (nan !== 'drop' && nan !== 'send') problems.push(`--nan must be drop or send, got "${nan}"`);
  else if (nan === 'send' && protocol === 'a') problems.push('--nan send needs Protocol B: Protocol A cannot carry NaN/±Infinity');
  else opts.nan = nan;
  if (problems.length) throw new ConfigError(problems);
  return opts;
}
