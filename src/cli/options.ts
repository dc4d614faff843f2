import type { Command } from 'commander';
import { ConfigError } from '../core/errors.ts';
import type { RunFilter } from '../core/source.ts';
import { EXCLUDE_OPTIONS, INCLUDE_OPTIONS, type ExcludeOption, type IncludeOption } from '../mapping/options.ts';
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
  exclude?: string[];
  projectMap?: string;
  ledger?: string;
  dryRun?: boolean;
  json?: boolean;
  strict?: boolean;
  yes?: boolean;
  batchPoints?: string;
  artifactMaxSize?: string;
  timeout?: string;
  retries?: string;
  protocol?: string;
  nan?: string;
  /** `--html FILE`: also write the report as an HTML page. */
  html?: string;
  /** Flags given more than once with different values (`noteRepeats`): each is a usage error. */
  repeated?: string[];
}

/**
 * A flag that takes one value, given twice with two values, is a mistake: commander keeps the last
 * without a word (`--source ./a --source ./b` migrated ./b alone). Counts each occurrence as commander
 * parses it (its `option:<name>` events); lists that repeat by design (`--include`, `--exclude`) are
 * left alone. Returns the problems, one per such flag, for the command's action to report.
 */
export function noteRepeats(cmd: Command, repeatable: readonly string[] = ['include', 'exclude']): () => string[] {
  const given = new Map<string, string[]>();
  for (const o of cmd.options) {
    if (!(o.required || o.optional) || o.variadic || repeatable.includes(o.attributeName())) continue;
    cmd.on(`option:${o.name()}`, (value: string) => {
      const values = given.get(o.long ?? o.name()) ?? [];
      given.set(o.long ?? o.name(), [...values, value]);
    });
  }
  return () =>
    [...given]
      .filter(([, values]) => new Set(values).size > 1)
      .map(([flag, values]) => `${flag} was given ${values.length} times (${values.map((v) => JSON.stringify(v)).join(', ')}): it takes one value; run one command per ${flag.replace(/^--/, '')}`);
}

export const DEFAULT_LEDGER = 'wandb-to-neptune.sqlite';

const list = (s: string | undefined) => (s ? s.split(',').map((x) => x.trim()).filter(Boolean) : undefined);

/** W&B's run states (the SDK's `RunState`): anything else selects nothing and is a typo. */
export const RUN_STATES = ['running', 'finished', 'crashed', 'failed', 'killed', 'preempting', 'preempted', 'pending'] as const;

/**
 * A list flag that was given but holds nothing (`--runs ,,,`, `--projects ""`) must not turn into
 * "no filter" (everything): it is a usage error.
 */
function givenList(name: string, value: string | undefined, problems: string[]): string[] | undefined {
  if (value === undefined) return undefined;
  const items = list(value);
  if (!items?.length) problems.push(`${name} was given but names nothing (got "${value}")`);
  return items?.length ? items : undefined;
}

function positiveInt(name: string, value: string | undefined, fallback: number, problems: string[]): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    problems.push(`${name} must be a positive whole number, got "${value}"`);
    return fallback;
  }
  return n;
}

/** `--artifact-max-size <MiB>` limits what `--include artifacts` copies: alone it would do nothing, which is said. */
function artifactMaxBytes(value: string, include: ReadonlySet<IncludeOption>, problems: string[]): number {
  if (!include.has('artifacts')) problems.push('--artifact-max-size limits the artifacts --include artifacts copies: add --include artifacts, or leave the option out');
  return positiveInt('--artifact-max-size', value, 1, problems) * 1024 * 1024;
}

function nonNegativeInt(name: string, value: string, problems: string[]): number | undefined {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) {
    problems.push(`${name} must be a whole number (0 or more), got "${value}"`);
    return undefined;
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
  const problems: string[] = [...(flags.repeated ?? [])];
  const workspace = flags.workspace ?? env.NEPTUNE_PROJECT?.split('/')[0];
  if (!workspace) problems.push('no Neptune workspace: pass --workspace or set NEPTUNE_PROJECT=workspace/project');
  const include = new Set<IncludeOption>();
  for (const item of (flags.include ?? []).flatMap((s) => list(s) ?? [])) {
    if ((INCLUDE_OPTIONS as readonly string[]).includes(item)) include.add(item as IncludeOption);
    else problems.push(`--include ${item}: expected one of ${INCLUDE_OPTIONS.join(', ')}`);
  }
  const exclude = new Set<ExcludeOption>();
  for (const item of (flags.exclude ?? []).flatMap((s) => list(s) ?? [])) {
    if ((EXCLUDE_OPTIONS as readonly string[]).includes(item)) exclude.add(item as ExcludeOption);
    else problems.push(`--exclude ${item}: expected one of ${EXCLUDE_OPTIONS.join(', ')}`);
  }
  const states = givenList('--state', flags.state, problems);
  for (const st of states ?? []) {
    if (!(RUN_STATES as readonly string[]).includes(st)) problems.push(`--state ${st}: expected one of ${RUN_STATES.join(', ')}`);
  }
  if (flags.entity !== undefined && !flags.entity.trim()) problems.push('--entity is empty: pass a W&B entity name, or leave the flag out for the key\'s default entity');
  if (flags.source !== undefined && !flags.source.trim()) problems.push('--source is empty: pass "api" or the path of a wandb/ folder or run folder');
  const filter: RunFilter = {
    runIds: givenList('--runs', flags.runs, problems),
    states,
    tags: givenList('--tags', flags.tags, problems),
    createdAfter: isoDate('--since', flags.since, problems),
    createdBefore: isoDate('--until', flags.until, problems),
  };
  const projectsList = givenList('--projects', flags.projects, problems);
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
    ...(exclude.size ? { exclude } : {}),
    dryRun: flags.dryRun ?? false,
    ledgerPath: flags.ledger ?? DEFAULT_LEDGER,
    strict: flags.strict ?? false,
    batchPoints: positiveInt('--batch-points', flags.batchPoints, 20_000, problems),
    ...(flags.artifactMaxSize === undefined ? {} : { artifactMaxBytes: artifactMaxBytes(flags.artifactMaxSize, include, problems) }),
    http: {
      timeoutMs: flags.timeout === undefined ? undefined : positiveInt('--timeout', flags.timeout, 60, problems) * 1000,
      retries: flags.retries === undefined ? undefined : nonNegativeInt('--retries', flags.retries, problems),
    },
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
