/**
 * The run-folder model: what one folder says about its run (log first, the files around it as
 * fallback), and how the folders of one run (a resumed run gets a new folder with the same id)
 * combine into one RunInfo.
 */
import { join } from 'node:path';
import type { RunInfo, SourceNotice } from '../../core/records.ts';
import { unwrapConfig } from '../config.ts';
import type { RunFolder } from './discover.ts';
import { liftRow, StepSequencer } from './history-rows.ts';
import { readJsonLines, readJsonObjectFile, readTextIfExists } from './jsonl.ts';
import { scanLog, type LogScan } from './log-scan.ts';
import { isoUtc } from '../dates.ts';
import { isoFromSeconds, isPlainObject } from './values.ts';
import { parseConfigYaml } from './config-yaml.ts';

export interface LoadedFolder {
  folder: RunFolder;
  scan?: LogScan;
  metadata?: Record<string, unknown>;
  summaryFile?: Record<string, unknown>;
  /** config.yaml / config.json with the `{value, desc}` wrapping removed. */
  configFile?: Record<string, unknown>;
  /** Legacy folders: history counts from `wandb-history.jsonl`. */
  legacy?: { rows: number; lastStep: number; lastValues: Record<string, unknown>; events: number; droppedRows: number };
  description?: string;
  requirementsWandb?: string;
  /** What could not be read around the log (a config.yaml that is not YAML…), for the run's notices. */
  problems: Array<{ stream: 'run' | 'config' | 'summary' | 'history' | 'system'; kind: 'invalid' | 'skipped'; message: string; count?: number }>;
}

export async function loadFolder(folder: RunFolder, signal?: AbortSignal): Promise<LoadedFolder> {
  const f = folder.filesDir;
  const lf: LoadedFolder = { folder, problems: [] };
  if (folder.logPath) lf.scan = await scanLog(folder.logPath, signal);
  else if (folder.format === 'log') {
    lf.problems.push({ stream: 'history', kind: 'skipped', count: 1, message: `${folder.name}: no run-${folder.runId}.wandb: its history and system metrics are not on disk; what files/ holds (config, summary, console, files) is migrated` });
  }
  const metadata = await readJsonObjectFile(join(f, 'wandb-metadata.json'));
  lf.metadata = metadata.value;
  if (metadata.problem) {
    lf.problems.push({ stream: 'run', kind: 'invalid', count: 1, message: `${folder.name}: wandb-metadata.json ${metadata.problem}; what the run's metadata says (state, start, host, git...) is left out` });
  }
  const summary = await readJsonObjectFile(join(f, 'wandb-summary.json'));
  lf.summaryFile = summary.value;
  const yaml = await readTextIfExists(join(f, 'config.yaml'));
  let rawConfig: unknown;
  if (yaml !== undefined) {
    try {
      const parsed = parseConfigYaml(yaml);
      rawConfig = parsed.value;
      if (parsed.warnings.length) {
        lf.problems.push({ stream: 'config', kind: 'invalid', count: parsed.warnings.length, message: `${folder.name}: config.yaml read with ${parsed.warnings.length} warning(s), values kept as plain YAML: ${parsed.warnings.slice(0, 3).join('; ')}` });
      }
    } catch (error) {
      const why = (error instanceof Error ? error.message : String(error)).split('\n')[0];
      const from = lf.scan && lf.scan.configUpdates > 0 ? 'the config is read from the log instead' : 'its config is left out';
      lf.problems.push({ stream: 'config', kind: 'invalid', message: `${folder.name}: config.yaml is not valid YAML (${why}); ${from}`, count: 1 });
    }
  }
  if (rawConfig !== undefined && rawConfig !== null && !isPlainObject(rawConfig)) {
    lf.problems.push({ stream: 'config', kind: 'invalid', message: `${folder.name}: config.yaml holds no mapping of config keys; it is left out`, count: 1 });
    rawConfig = undefined;
  }
  if (rawConfig === undefined) {
    const json = await readJsonObjectFile(join(f, 'config.json'));
    rawConfig = json.value;
    if (json.problem) {
      const from = lf.scan && lf.scan.configUpdates > 0 ? 'the config is read from the log instead' : 'its config is left out';
      lf.problems.push({ stream: 'config', kind: 'invalid', count: 1, message: `${folder.name}: config.json ${json.problem}; ${from}` });
    }
  }
  if (isPlainObject(rawConfig)) lf.configFile = unwrapConfig(rawConfig);
  const req = await readTextIfExists(join(f, 'requirements.txt'));
  lf.requirementsWandb = req?.match(/^wandb==(\S+)/m)?.[1];
  if (folder.format === 'legacy') {
    lf.description = (await readTextIfExists(join(f, 'description.md')))?.trim() || undefined;
    lf.legacy = await scanLegacy(folder, signal);
  }
  // Said only where the summary would have come from the file (folderSummary): a log with summary records has its own.
  if (summary.problem && !logHasSummary(lf)) {
    const fallback = Object.keys(lf.scan?.lastHistoryValues ?? lf.legacy?.lastValues ?? {}).length > 0 ? 'the summary is the last history values instead' : 'the summary is left out';
    lf.problems.push({ stream: 'summary', kind: 'invalid', count: 1, message: `${folder.name}: wandb-summary.json ${summary.problem}; ${fallback}` });
  }
  return lf;
}

async function scanLegacy(folder: RunFolder, signal?: AbortSignal): Promise<LoadedFolder['legacy']> {
  const seq = new StepSequencer();
  const lastValues: Record<string, unknown> = {};
  let rows = 0;
  for await (const obj of safeJsonLines(join(folder.dir, 'wandb-history.jsonl'), signal)) {
    const row = seq.accept(liftRow(obj));
    if (!row) continue;
    rows++;
    Object.assign(lastValues, row.values);
  }
  let events = 0;
  for await (const _ of safeJsonLines(join(folder.dir, 'wandb-events.jsonl'), signal)) events++;
  return { rows, lastStep: seq.lastStep, lastValues, events, droppedRows: seq.dropped };
}

/** readJsonLines over a file that may not exist (legacy folders omit files freely). */
export async function* safeJsonLines(
  path: string,
  signal?: AbortSignal,
  onInvalid?: (n: number) => void,
  onLine?: (n: number) => void,
): AsyncGenerator<Record<string, unknown>> {
  try {
    yield* readJsonLines(path, onInvalid, signal, onLine);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

export interface IdentityDefaults {
  entity?: string;
  project?: string;
}

/** Identity of a folder: run record first, then legacy metadata, then the caller's defaults. */
export function folderIdentity(lf: LoadedFolder, d: IdentityDefaults): { entity: string; project: string; runId: string } {
  const run = lf.scan?.run;
  const metaProject = typeof lf.metadata?.['project'] === 'string' ? (lf.metadata['project'] as string) : '';
  return {
    entity: run?.entity || d.entity || 'local',
    project: run?.project || metaProject || d.project || 'uncategorized',
    runId: run?.runId || lf.folder.runId,
  };
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** Builds the RunInfo of a run from its folders, oldest first; later folders (resumes) win. */
export function buildRunInfo(segments: LoadedFolder[], d: IdentityDefaults, notify?: (n: SourceNotice) => void): RunInfo {
  const first = segments[0];
  const last = segments[segments.length - 1];
  const key = folderIdentity(first, d);
  const config: Record<string, unknown> = {};
  const summary: Record<string, unknown> = {};
  let historyLineCount = 0;
  let lastStep = -1;
  for (const s of segments) {
    Object.assign(config, folderConfig(s));
    Object.assign(summary, folderSummary(s));
    historyLineCount += s.scan?.historyRows ?? s.legacy?.rows ?? 0;
    lastStep = Math.max(lastStep, s.scan?.lastStep ?? s.legacy?.lastStep ?? -1);
  }
  const run = mergedRun(segments);
  const env = last.scan?.environment;
  const meta = last.metadata ?? first.metadata;
  const git = isPlainObject(meta?.['git']) ? (meta['git'] as Record<string, unknown>) : undefined;
  const exit = last.scan?.exit;
  const startTime = first.scan?.run?.startTime ?? first.scan?.environment?.startedAt;
  const createdAt = startTime !== undefined ? isoFromSeconds(startTime) : startedFromMeta(first) ?? timespecIso(first.folder.timespec);
  const info: RunInfo = {
    key,
    displayName: run.displayName || str(meta?.['name']) || key.runId,
    tags: run.tags,
    config,
    summary,
    historyLineCount,
    lastStep,
  };
  const set = <K extends keyof RunInfo>(k: K, v: RunInfo[K] | undefined): void => {
    if (v !== undefined && v !== '') info[k] = v;
  };
  set('notes', run.notes || last.description || first.description);
  set('group', run.runGroup || str(meta?.['group']));
  set('jobType', run.jobType || str(meta?.['jobType']));
  set('sweep', run.sweepId || undefined);
  set('state', runState(last));
  set('createdAt', createdAt);
  set('heartbeatAt', heartbeat(last));
  set('host', run.host || env?.host || str(meta?.['host']));
  set('commit', run.gitCommit || env?.gitCommit || str(git?.['commit']));
  set('user', env?.username || str(meta?.['username']));
  info.extra = extraOf(segments, run, meta, git);
  const dropped = segments.reduce((n, s) => n + (s.scan?.droppedRows ?? s.legacy?.droppedRows ?? 0), 0);
  if (dropped > 0) {
    notify?.({ run: key, stream: 'history', kind: 'skipped', count: dropped, message: `${dropped} history rows skipped: their step was not above the previous row's (rewind or duplicate)` });
  }
  return info;
}

function mergedRun(segments: LoadedFolder[]) {
  const out = { displayName: '', notes: '', tags: [] as string[], runGroup: '', jobType: '', sweepId: '', host: '', gitCommit: '', gitRemote: '' };
  for (const s of segments) {
    const r = s.scan?.run;
    if (!r) continue;
    for (const k of Object.keys(out) as (keyof typeof out)[]) {
      const v = r[k];
      if (Array.isArray(v) ? v.length > 0 : v) (out as Record<string, unknown>)[k] = v;
    }
  }
  return out;
}

function folderConfig(s: LoadedFolder): Record<string, unknown> {
  if (s.scan && s.scan.configUpdates > 0) return s.scan.config;
  return s.configFile ?? {};
}

/** Whether the folder's log holds the run's summary (then wandb-summary.json is not read for it). */
function logHasSummary(s: LoadedFolder): boolean {
  return !!s.scan && (s.scan.summaryRecords > 0 || Object.keys(s.scan.summary).length > 0);
}

/** Log summary; else wandb-summary.json; else the last history values (crashed Python-era runs). */
function folderSummary(s: LoadedFolder): Record<string, unknown> {
  if (logHasSummary(s)) return s.scan!.summary;
  if (s.summaryFile) return s.summaryFile;
  return s.scan?.lastHistoryValues ?? s.legacy?.lastValues ?? {};
}

/**
 * finished when the last exit code is 0, failed for any other code. Without an exit record:
 * crashed when the log is damaged or truncated (the writer died mid-write), running when the log is
 * intact — the writer may still be appending, as `wandb sync` also assumes ("sync again later").
 * Legacy folders: the state in wandb-metadata.json.
 */
export function runState(s: LoadedFolder): string {
  if (s.scan) {
    if (s.scan.exit) return s.scan.exit.exitCode === 0 ? 'finished' : 'failed';
    return s.scan.damage.length > 0 ? 'crashed' : 'running';
  }
  const st = str(s.metadata?.['state']);
  if (st) return st;
  const code = s.metadata?.['exitcode'];
  if (typeof code === 'number') return code === 0 ? 'finished' : 'failed';
  return 'crashed';
}

function startedFromMeta(s: LoadedFolder): string | undefined {
  const v = str(s.metadata?.['startedAt']);
  return v ? isoUtc(v) : undefined;
}

/** The folder name's local start time, read as UTC (its zone is not recorded anywhere). */
function timespecIso(t?: string): string | undefined {
  const m = t?.match(/^(\d{4})(\d\d)(\d\d)_(\d\d)(\d\d)(\d\d)$/);
  return m ? `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.000Z` : undefined;
}

/** Last sign of life: legacy metadata's heartbeat, else start + exit runtime (modern metadata's is written at start). */
function heartbeat(s: LoadedFolder): string | undefined {
  const hb = str(s.metadata?.['heartbeatAt']);
  if (s.folder.format === 'legacy') return hb ? isoUtc(hb) : undefined;
  const start = s.scan?.run?.startTime;
  return s.scan?.exit && start !== undefined ? isoFromSeconds(start + s.scan.exit.runtime) : undefined;
}

/** SDK version: header producer (core) → telemetry → config.yaml `_wandb` → requirements.txt. */
export function sdkVersion(s: LoadedFolder): string | undefined {
  const producer = s.scan?.header?.producer;
  if (producer) return producer.split('+')[0];
  if (s.scan?.telemetry.cliVersion) return s.scan.telemetry.cliVersion;
  const w = s.configFile?.['_wandb'];
  if (isPlainObject(w) && typeof w['cli_version'] === 'string') return w['cli_version'];
  return s.requirementsWandb;
}

function extraOf(
  segments: LoadedFolder[],
  run: ReturnType<typeof mergedRun>,
  meta: Record<string, unknown> | undefined,
  git: Record<string, unknown> | undefined,
): Record<string, string | number | boolean> {
  const first = segments[0];
  const last = segments[segments.length - 1];
  const e: Record<string, string | number | boolean | undefined> = {};
  const env = last.scan?.environment;
  e['sdkVersion'] = sdkVersion(last) ?? sdkVersion(first);
  e['writer'] = last.folder.format === 'legacy' ? 'legacy-jsonl' : last.scan?.header?.producer ? 'wandb-core' : last.scan?.records ? 'python' : undefined;
  e['localFolder'] = segments.map((s) => s.folder.name).join(',');
  e['offline'] = last.folder.offline;
  const exit = last.scan?.exit;
  if (exit) {
    e['exitCode'] = exit.exitCode;
    e['runtime'] = exit.runtime;
  } else if (typeof meta?.['exitcode'] === 'number') e['exitCode'] = meta['exitcode'] as number;
  e['os'] = env?.os || str(meta?.['os']);
  e['python'] = env?.python || str(meta?.['python']) || last.scan?.telemetry.pythonVersion;
  e['program'] = env?.program || str(meta?.['program']);
  e['gitRemote'] = run.gitRemote || env?.gitRemote || str(git?.['remote']);
  if (first.scan?.run?.resumed) e['resumed'] = true;
  if (first.scan?.run?.startingStep) e['startingStep'] = first.scan.run.startingStep;
  const damaged = segments.reduce((n, s) => n + (s.scan?.damage.length ?? 0), 0);
  // Said for every log, 0 too: a log read cut (its writer still at it, or crashed) and read again
  // complete must not leave the first read's count standing in the target.
  if (segments.some((s) => s.scan)) e['logDamagedRegions'] = damaged;
  const out: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(e)) if (v !== undefined && v !== '') out[k] = v;
  return out;
}
