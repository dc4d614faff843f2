import { runPath } from '../core/records.ts';
import type { RunInfo, SourceProject } from '../core/records.ts';
import type { FieldAssignment, Omission } from '../core/target.ts';
import { capabilitiesOf, type MappingOptions } from './options.ts';
import { joinPath, keySegments } from './paths.ts';
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

/**
 * Flattens a config or summary tree under `root`: nested dicts become namespaces, leaves become atoms.
 * Keys starting with `_` are W&B internals (left out unless `--include internal`); media and table
 * values in a summary are left out unless `--include media`/`tables` (they are not atoms anyway).
 */
function flattenTree(
  root: 'config' | 'summary',
  tree: Record<string, unknown>,
  opts: MappingOptions,
  out: MappedFields,
  prefix: string[] = [],
): void {
  for (const [key, value] of Object.entries(tree)) {
    const subject = `${root}/${[...prefix, key].join('/')}`;
    if (prefix.length === 0 && key.startsWith('_') && !opts.include.has('internal')) {
      addOmission(out.omissions, { reason: 'excluded-by-default', subject, count: 1, detail: 'W&B internal key' });
      continue;
    }
    const media = mediaType(value);
    if (media) {
      addOmission(out.omissions, { reason: 'excluded-by-default', subject, count: 1, detail: `${media} value` });
      continue;
    }
    if (isPlainObject(value) && Object.keys(value).length > 0) {
      flattenTree(root, value, opts, out, [...prefix, ...keySegments(key)]);
      continue;
    }
    out.fields.push({ path: joinPath(root, ...prefix, ...keySegments(key)), value: toAtom(value, capabilitiesOf(opts).intRange) });
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
