/**
 * One pass over a `.wandb` log that gathers everything a RunInfo needs (run record, config,
 * summary, exit, versions, history counts) without keeping the streams: history, console and
 * system metrics are read again, lazily, by their own passes.
 */
import type { LogDamage } from './wandb-log/container.ts';
import { readLogRecords } from './wandb-log/container.ts';
import type { EnvironmentMsg, ExitMsg, HeaderMsg, MetricMsg, RunMsg, TelemetryMsg, UpdateMsg } from './wandb-log/proto.ts';
import { decodeRecord, type RecordKind } from './wandb-log/proto.ts';
import { rowFromRecord, StepSequencer } from './history-rows.ts';
import { itemPath, parseValue, removePath, setPath } from './values.ts';

export interface LogScan {
  records: number;
  run?: RunMsg;
  runRecords: number;
  config: Record<string, unknown>;
  configUpdates: number;
  summary: Record<string, unknown>;
  summaryRecords: number;
  exit?: ExitMsg;
  header?: HeaderMsg;
  telemetry: Partial<TelemetryMsg>;
  environment?: EnvironmentMsg;
  metrics: MetricMsg[];
  historyRows: number;
  lastStep: number;
  droppedRows: number;
  /** Last value per top-level history key: the summary of a run whose log has no summary record. */
  lastHistoryValues: Record<string, unknown>;
  statsSamples: number;
  consoleRecords: number;
  invalidValues: number;
  damage: LogDamage[];
}

// The console fragments are only counted here; decoding them is the console pass's job.
const WANT: ReadonlySet<RecordKind> = new Set<RecordKind>([
  'history', 'summary', 'config', 'stats', 'telemetry', 'metric', 'run', 'exit', 'header', 'environment',
]);

export async function scanLog(path: string, signal?: AbortSignal): Promise<LogScan> {
  const s: LogScan = {
    records: 0, runRecords: 0, config: {}, configUpdates: 0, summary: {}, summaryRecords: 0, telemetry: {}, metrics: [],
    historyRows: 0, lastStep: -1, droppedRows: 0, lastHistoryValues: {}, statsSamples: 0, consoleRecords: 0,
    invalidValues: 0, damage: [],
  };
  const seq = new StepSequencer();
  let lastStatsTs: number | undefined;
  for await (const { payload } of readLogRecords(path, { onDamage: (d) => s.damage.push(d), signal })) {
    s.records++;
    let r;
    try {
      r = decodeRecord(payload, WANT);
    } catch {
      // CRC-valid but undecodable: a writer bug, not disk damage. Count it as damage all the same.
      s.damage.push({ offset: -1, bytes: payload.length, records: 1, reason: 'record is not a decodable protobuf' });
      continue;
    }
    switch (r.kind) {
      case 'run':
        s.runRecords++;
        s.run = mergeRun(s.run, r.run);
        if (r.run.config) s.configUpdates += applyUpdate(s.config, r.run.config, s);
        if (r.run.summary) applyUpdate(s.summary, r.run.summary, s);
        if (r.run.telemetry) mergeTelemetry(s.telemetry, r.run.telemetry);
        break;
      case 'config':
        s.configUpdates += applyUpdate(s.config, r.config, s);
        break;
      case 'summary':
        s.summaryRecords++;
        applyUpdate(s.summary, r.summary, s);
        break;
      case 'history': {
        const row = seq.accept(rowFromRecord(r.history, () => s.invalidValues++));
        if (row) {
          s.historyRows++;
          Object.assign(s.lastHistoryValues, row.values);
          s.lastHistoryValues['_step'] = row.step;
          if (row.timestamp !== undefined) s.lastHistoryValues['_timestamp'] = row.timestamp;
        }
        break;
      }
      case 'stats':
        if (r.stats.timestamp !== undefined && r.stats.timestamp !== lastStatsTs) s.statsSamples++;
        lastStatsTs = r.stats.timestamp;
        break;
      case 'telemetry':
        mergeTelemetry(s.telemetry, r.telemetry);
        break;
      case 'metric':
        s.metrics.push(r.metric);
        break;
      case 'exit':
        s.exit = r.exit; // the last exit record wins
        break;
      case 'header':
        s.header = r.header;
        break;
      case 'environment':
        // Field 26 meant another message in SDK 0.16.5–0.16.x; only trust it from other versions.
        if (!s.telemetry.cliVersion?.startsWith('0.16.')) s.environment = mergeEnv(s.environment, r.environment);
        break;
      case 'undecoded':
        // Console bodies are not decoded here; counting them tells the console pass to use the log.
        if (r.of === 'output' || r.of === 'output_raw') s.consoleRecords++;
        break;
      default:
        break;
    }
  }
  s.lastStep = seq.lastStep;
  s.droppedRows = seq.dropped;
  return s;
}

/** Replays an update/remove record onto `target`; returns how many updates it applied. */
export function applyUpdate(target: Record<string, unknown>, u: UpdateMsg, s?: { invalidValues: number }): number {
  for (const it of u.update) {
    const v = parseValue(it.valueJson);
    if (!v.ok && s) s.invalidValues++;
    setPath(target, itemPath(it), v.value);
  }
  for (const it of u.remove) removePath(target, itemPath(it));
  return u.update.length;
}

/** Python-era logs can hold several run records (a later one renames the run): last non-empty wins. */
function mergeRun(prev: RunMsg | undefined, next: RunMsg): RunMsg {
  if (!prev) return { ...next, config: undefined, summary: undefined };
  const out: RunMsg = { ...prev };
  for (const [k, v] of Object.entries(next) as [keyof RunMsg, unknown][]) {
    if (k === 'config' || k === 'summary') continue;
    if (v === '' || v === 0 || v === false || v === undefined || (Array.isArray(v) && v.length === 0)) continue;
    (out as unknown as Record<string, unknown>)[k] = v;
  }
  return out;
}

function mergeTelemetry(into: Partial<TelemetryMsg>, t: TelemetryMsg): void {
  for (const [k, v] of Object.entries(t) as [keyof TelemetryMsg, string][]) if (v) into[k] = v;
}

function mergeEnv(prev: EnvironmentMsg | undefined, next: EnvironmentMsg): EnvironmentMsg {
  if (!prev) return next;
  const out = { ...prev } as Record<string, unknown>;
  for (const [k, v] of Object.entries(next)) if (v !== '' && v !== 0 && v !== undefined) out[k] = v;
  return out as unknown as EnvironmentMsg;
}
