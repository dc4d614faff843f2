import { SourceDataError } from '../../core/errors.ts';
import { unwrapConfig } from '../config.ts';
import { isoUtc as toIsoUtc } from '../dates.ts';
import type { RunInfo, SourceProject } from '../../core/records.ts';
import { numberFromJsonField, parseExtendedJson } from '../extended-json.ts';

/** The run node as `RunFragment` selects it. JSONString fields are strings; `historyKeys` is real JSON. */
export interface RunNode {
  id: string;
  name: string;
  projectId?: string;
  tags?: string[] | null;
  displayName?: string | null;
  sweepName?: string | null;
  state?: string | null;
  config?: string | null;
  group?: string | null;
  jobType?: string | null;
  commit?: string | null;
  readOnly?: boolean | null;
  createdAt: string;
  heartbeatAt?: string | null;
  description?: string | null;
  notes?: string | null;
  systemMetrics?: string | null;
  summaryMetrics?: string | null;
  historyLineCount?: number | null;
  user?: { name?: string | null; username?: string | null } | null;
  historyKeys?: unknown;
}

export interface ProjectNode {
  id?: string;
  name: string;
  entityName?: string | null;
  createdAt?: string | null;
}

export { toIsoUtc };

/** Parses a JSONString field (extended JSON) into an object; names the run and field when it is broken. */
export function parseJsonStringField(text: string | null | undefined, where: string, field: string): Record<string, unknown> {
  if (text === null || text === undefined || text === '') return {};
  let v: unknown;
  try {
    v = parseExtendedJson(text);
  } catch (error) {
    throw new SourceDataError(`${where}: ${field} is not valid JSON (${error instanceof Error ? error.message : String(error)})`, { cause: error });
  }
  // Some writers double-encode: a JSON string holding the JSON object.
  if (typeof v === 'string') return parseJsonStringField(v, where, field);
  if (v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new SourceDataError(`${where}: ${field} is not a JSON object`);
  return v as Record<string, unknown>;
}

/** `historyKeys.lastStep`, or -1 when absent (SDK `lastHistoryStep`). */
export function lastStepOf(historyKeys: unknown): number {
  let hk = historyKeys;
  if (typeof hk === 'string') {
    try {
      hk = JSON.parse(hk);
    } catch {
      return -1;
    }
  }
  if (!hk || typeof hk !== 'object') return -1;
  const n = numberFromJsonField((hk as { lastStep?: unknown }).lastStep);
  return n === undefined || !Number.isFinite(n) ? -1 : Math.trunc(n);
}

export function runNodeToInfo(
  node: RunNode,
  entity: string,
  project: string,
  appUrl: string,
  onInvalid?: (message: string, field: 'config' | 'summary') => void,
): RunInfo {
  const where = `run ${entity}/${project}/${node.name}`;
  // One run's unreadable config or summary must not stop the listing of the others, nor lose the run:
  // the run goes on with the field empty, its raw text kept under wandb/, and the report says why.
  const raw: Record<string, string> = {};
  const tolerant = (text: string | null | undefined, field: 'config' | 'summary', name: string) => {
    try {
      return parseJsonStringField(text, where, name);
    } catch (error) {
      if (!(error instanceof SourceDataError) || !onInvalid) throw error;
      onInvalid(error.message, field);
      raw[`${field}Raw`] = String(text);
      return {};
    }
  };
  const info: RunInfo = {
    key: { entity, project, runId: node.name },
    tags: node.tags ?? [],
    config: unwrapConfig(tolerant(node.config, 'config', 'config')),
    summary: tolerant(node.summaryMetrics, 'summary', 'summaryMetrics'),
    url: `${appUrl}/${encodeURIComponent(entity)}/${encodeURIComponent(project)}/runs/${encodeURIComponent(node.name)}`,
    lastStep: lastStepOf(node.historyKeys),
  };
  const opt = <K extends keyof RunInfo>(k: K, v: RunInfo[K] | null | undefined) => {
    if (v !== null && v !== undefined && v !== '') info[k] = v;
  };
  opt('displayName', node.displayName);
  opt('notes', node.notes ?? node.description);
  opt('group', node.group);
  opt('jobType', node.jobType);
  opt('state', node.state);
  opt('sweep', node.sweepName);
  opt('createdAt', toIsoUtc(node.createdAt));
  opt('heartbeatAt', toIsoUtc(node.heartbeatAt));
  opt('commit', node.commit);
  opt('user', node.user?.username ?? node.user?.name);
  if (typeof node.historyLineCount === 'number') info.historyLineCount = node.historyLineCount;
  const extra: Record<string, string | number | boolean> = { storageId: node.id };
  if (node.projectId !== undefined) extra.projectId = String(node.projectId);
  if (typeof node.readOnly === 'boolean') extra.readOnly = node.readOnly;
  info.extra = { ...extra, ...raw };
  return info;
}

export function projectNodeToSource(node: ProjectNode, entity: string, appUrl: string): SourceProject {
  const e = node.entityName ?? entity;
  const p: SourceProject = { entity: e, name: node.name, url: `${appUrl}/${encodeURIComponent(e)}/${encodeURIComponent(node.name)}` };
  const created = toIsoUtc(node.createdAt);
  if (created) p.createdAt = created;
  return p;
}

/**
 * The provenance W&B keeps only in the run's `wandb-metadata.json` (the run queries select no host):
 * the host, as the W&B importer read it, and the scalars the local source reports under the same names.
 */
export function provenanceOf(meta: unknown): { host?: string; extra?: Record<string, string | number | boolean> } {
  if (!meta || typeof meta !== 'object' || Array.isArray(meta)) return {};
  const m = meta as Record<string, unknown>;
  const extra: Record<string, string | number | boolean> = {};
  const take = (from: unknown, to: string) => {
    if (typeof from === 'string' ? from !== '' : typeof from === 'number' || typeof from === 'boolean') extra[to] = from as string | number | boolean;
  };
  take(m.os, 'os');
  take(m.python, 'python');
  take(m.program, 'program');
  take(m.codePath, 'codePath');
  take(m.gpu, 'gpu');
  take(m.gpu_count, 'gpuCount');
  take(m.cpu_count, 'cpuCount');
  const git = m.git && typeof m.git === 'object' ? (m.git as Record<string, unknown>) : undefined;
  take(git?.remote, 'gitRemote');
  return { host: typeof m.host === 'string' && m.host ? m.host : undefined, extra };
}
