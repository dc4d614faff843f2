import { runPath } from '../core/records.ts';
import type { RunInfo, SourceProject } from '../core/records.ts';
import type { FieldAssignment, Omission } from '../core/target.ts';
import { capabilitiesOf, type MappingOptions } from './options.ts';
import { joinPath, sanitizeSegment } from './paths.ts';
import { SeriesPathPlanner } from './series-paths.ts';
import { addOmission, isPlainObject, mediaType, toAtom } from './values.ts';

export interface MappedFields {
  fields: FieldAssignment[];
  omissions: Omission[];
}

/** Fields of the Neptune project's own container (mapping.md, Projects). */
export function mapProjectFields(project: SourceProject): FieldAssignment[] {
  return project.url ? [{ path: 'wandb_url', value: { type: 'string', value: project.url } }] : [];
}

export function projectDescription(project: SourceProject): string {
  return `Exported from ${project.url ?? `W&B ${project.entity}/${project.name}`}`;
}

function datetime(iso: string | undefined): number | undefined {
  if (!iso) return undefined;
  // W&B sends naive UTC timestamps ("2024-01-02T03:04:05"): read them as UTC, not local time.
  const ms = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(iso) ? iso : `${iso}Z`);
  return Number.isFinite(ms) ? ms : undefined;
}

interface Leaf {
  subject: string;
  raw: string[];
  value: unknown;
}

/** mapping.md: summary keys starting with `_` are W&B internals; in config only `_wandb` is. */
function isInternal(root: 'config' | 'summary', key: string): boolean {
  return root === 'config' ? key === '_wandb' : key.startsWith('_');
}

/**
 * The leaves of a config or summary tree: nested dicts become namespaces; internal keys (unless
 * `--include internal`) and media values (not atoms) are left out and counted.
 */
function collectLeaves(root: 'config' | 'summary', tree: Record<string, unknown>, opts: MappingOptions, out: MappedFields, prefix: string[], leaves: Leaf[]): void {
  for (const [key, value] of Object.entries(tree)) {
    const raw = [...prefix, ...key.split('/')];
    const subject = `${root}/${raw.join('/')}`;
    if (prefix.length === 0 && isInternal(root, key) && !opts.include.has('internal')) {
      addOmission(out.omissions, { reason: 'excluded-by-default', subject, count: 1, detail: 'W&B internal key' });
      continue;
    }
    // Media values are not atoms: they land as files under summary/media/… (media.ts, mapSummaryMedia),
    // which also reports those that cannot.
    if (mediaType(value)) continue;
    if (isPlainObject(value) && Object.keys(value).length > 0) collectLeaves(root, value, opts, out, raw, leaves);
    else leaves.push({ subject, raw, value });
  }
}

/**
 * Flattens a config or summary tree under `root` with the history keys' collision rule
 * (SeriesPathPlanner): invalid segments made valid, a key clashing with another's field or namespace
 * renamed with `_`, each rename reported. Keys whose text is already a valid path go first, then the
 * rest, each group in code-unit order: the outcome depends on the keys alone, not on the order a
 * source listed them in, and a clean key never gives way to a sanitized twin (`"spaced"` vs `" spaced "`).
 */
function flattenTree(root: 'config' | 'summary', tree: Record<string, unknown>, opts: MappingOptions, out: MappedFields): void {
  const leaves: Leaf[] = [];
  collectLeaves(root, tree, opts, out, [], leaves);
  const clean = (l: Leaf) => l.raw.every((r) => sanitizeSegment(r) === r);
  const ordered = leaves
    .map((l) => ({ l, clean: clean(l) }))
    .sort((a, b) => Number(b.clean) - Number(a.clean) || (a.l.subject < b.l.subject ? -1 : a.l.subject > b.l.subject ? 1 : 0));
  const planner = new SeriesPathPlanner([], [root]);
  ordered.forEach(({ l }, i) => {
    const sp = planner.assignSegments(String(i), l.raw, 'string');
    out.fields.push({ path: sp.path, value: toAtom(l.value, capabilitiesOf(opts).intRange) });
  });
  for (const r of planner.renames) {
    const l = ordered[Number(r.key)].l;
    addOmission(out.omissions, { reason: 'renamed', subject: l.subject, count: 1, detail: `→ ${r.path}: ${r.why}` });
  }
}

/** A run's fields (mapping.md, Runs): sys/…, config/…, summary/…, wandb/… provenance. */
export function mapRunFields(run: RunInfo, opts: MappingOptions): MappedFields {
  const out: MappedFields = { fields: [], omissions: [] };
  const { intRange } = capabilitiesOf(opts);
  const str = (path: string, v: string | undefined) => {
    if (v !== undefined && v !== '') out.fields.push({ path, value: { type: 'string', value: v } });
  };
  str('sys/name', run.displayName);
  str('sys/description', run.notes);
  if (run.tags.length) out.fields.push({ path: 'sys/tags', value: { type: 'stringSet', values: [...run.tags] } });
  if (run.group) out.fields.push({ path: 'sys/group_tags', value: { type: 'stringSet', values: [run.group] } });

  flattenTree('config', run.config, opts, out);
  flattenTree('summary', run.summary, opts, out);

  const { runId } = run.key;
  str('wandb/run_id', runId);
  str('wandb/path', runPath(run.key));
  str('wandb/url', run.url);
  str('wandb/job_type', run.jobType);
  str('wandb/state', run.state);
  str('wandb/sweep', run.sweep);
  str('wandb/host', run.host);
  str('wandb/commit', run.commit);
  str('wandb/user', run.user);
  str('wandb/group', run.group);
  const created = datetime(run.createdAt);
  if (created !== undefined) out.fields.push({ path: 'wandb/created_at', value: { type: 'datetime', value: created } });
  const heartbeat = datetime(run.heartbeatAt);
  if (heartbeat !== undefined) out.fields.push({ path: 'wandb/heartbeat_at', value: { type: 'datetime', value: heartbeat } });
  if (run.historyLineCount !== undefined)
    out.fields.push({ path: 'wandb/history_line_count', value: toAtom(run.historyLineCount, intRange) });
  for (const [k, v] of Object.entries(run.extra ?? {})) out.fields.push({ path: joinPath('wandb', k), value: toAtom(v, intRange) });
  return out;
}

/** Written last, so a run without `completed_at` is visibly an interrupted migration. */
export function mapMigrationFields(info: { toolVersion: string; fingerprint: string; completedAtMs: number }): FieldAssignment[] {
  return [
    { path: 'wandb/migration/tool_version', value: { type: 'string', value: info.toolVersion } },
    { path: 'wandb/migration/source_fingerprint', value: { type: 'string', value: info.fingerprint } },
    { path: 'wandb/migration/completed_at', value: { type: 'datetime', value: info.completedAtMs } },
  ];
}

export { datetime as parseWandbDate };

/**
 * mapping.md, `run.name` over B: a W&B name another run of the W&B project shares is not made
 * Neptune's experiment name (unique per project, it would move from run to run); it is sent as a plain
 * `sys/name`, and the report says so with this line (nothing is lost where the server keeps it; a
 * server that refuses the plain field adds its own line).
 */
export function sharedNameLine(name: string, wandbProject: string): Omission {
  return {
    reason: 'renamed', subject: 'sys/name', count: 1,
    detail: `→ sys/name without the experiment name: W&B name "${name}" is shared with another run of W&B project ${wandbProject}; ` +
      'a Neptune 3.x experiment name is unique per project and moves between runs, so it is sent as a plain sys/name',
  };
}
