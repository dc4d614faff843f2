/**
 * The per-folder streams: history rows, console lines and system samples, each a fresh pass over
 * the log (or the legacy JSONL / output.log), decoding only the records it needs.
 */
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import type { ConsoleLine, HistoryRow, SystemSample } from '../../core/records.ts';
import { ByteConsole } from '../console-bytes.ts';
import type { ConsoleAssembler } from '../console-lines.ts';
import { liftRow, rowFromRecord, type StepSequencer } from './history-rows.ts';
import type { LoadedFolder } from './run-model.ts';
import { safeJsonLines } from './run-model.ts';
import { flattenNumbers, parseValue } from './values.ts';
import { readLogRecords } from './wandb-log/container.ts';
import { decodeRecord, type RecordKind } from './wandb-log/proto.ts';

const HISTORY: ReadonlySet<RecordKind> = new Set<RecordKind>(['history']);
const CONSOLE: ReadonlySet<RecordKind> = new Set<RecordKind>(['output', 'output_raw']);
const STATS: ReadonlySet<RecordKind> = new Set<RecordKind>(['stats']);

/** Log records of the wanted kinds. Damage was reported by the scan pass, so it is not reported again. */
async function* records(lf: LoadedFolder, want: ReadonlySet<RecordKind>, signal?: AbortSignal) {
  if (!lf.folder.logPath) return;
  for await (const { payload } of readLogRecords(lf.folder.logPath, { signal })) {
    let r;
    try {
      r = decodeRecord(payload, want);
    } catch {
      continue; // counted as damage by the scan pass
    }
    yield r;
  }
}

/** What a history pass could not read as it is: legacy lines that are not JSON, log values that are not. */
export interface HistoryProblems {
  /** Legacy `wandb-history.jsonl`: line numbers (1-based) skipped, by folder name. */
  badLines: Map<string, number[]>;
  /** Log `value_json`s that are not JSON (kept as their text): how many, and the first keys. */
  badValues: { count: number; keys: string[] };
}

export async function* folderHistory(
  lf: LoadedFolder,
  seq: StepSequencer,
  problems: HistoryProblems,
  signal?: AbortSignal,
): AsyncGenerator<HistoryRow> {
  if (lf.folder.format === 'legacy') {
    const onBadLine = (no: number): void => {
      const list = problems.badLines.get(lf.folder.name) ?? [];
      list.push(no);
      problems.badLines.set(lf.folder.name, list);
    };
    for await (const obj of safeJsonLines(join(lf.folder.dir, 'wandb-history.jsonl'), signal, onBadLine)) {
      const row = seq.accept(liftRow(obj));
      if (row) yield row;
    }
    return;
  }
  for await (const r of records(lf, HISTORY, signal)) {
    if (r.kind !== 'history') continue;
    const row = seq.accept(rowFromRecord(r.history, (key) => {
      problems.badValues.count++;
      if (problems.badValues.keys.length < 5 && !problems.badValues.keys.includes(key)) problems.badValues.keys.push(key);
    }));
    if (row) yield row;
  }
}

/** What a console pass over `output.log` could not read as it is: how many lines held bytes that are not UTF-8. */
export interface ConsoleProblems {
  notUtf8Lines: number;
}

/** Console from the log's output records; from `output.log` when the log has none (legacy, or lost). */
export async function* folderConsole(lf: LoadedFolder, asm: ConsoleAssembler, problems: ConsoleProblems, signal?: AbortSignal): AsyncGenerator<ConsoleLine> {
  if (lf.scan && lf.scan.consoleRecords > 0) {
    for await (const r of records(lf, CONSOLE, signal)) {
      if (r.kind === 'output' || r.kind === 'output_raw') yield* asm.push(r.output.stream, r.output.line, r.output.timestamp);
    }
    yield* asm.end();
    return;
  }
  const input = createReadStream(join(lf.folder.filesDir, 'output.log'));
  const text = new ByteConsole(asm);
  try {
    yield* text.lines('output.log', input as AsyncIterable<Buffer>, signal);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  } finally {
    input.destroy();
  }
  yield* text.end();
  problems.notUtf8Lines += text.notUtf8Lines;
}

/**
 * System samples. Log: one StatsRecord per item set, keys prefixed `system.` (as the cloud's
 * events stream has them); records sharing a timestamp (wandb-core splits one sample) are merged.
 * Object values (`network: {sent, recv}` in 0.10–0.13) are flattened; non-numbers go to the sample's
 * `unsupported` (a report line each, by metric).
 */
/** What a legacy events pass could not place: lines (1-based) that are not JSON or have no numeric `_timestamp`, and other keys. */
export interface SystemProblems {
  badJson: number[];
  noTimestamp: number[];
  otherKeys: Map<string, number>;
}

/** Bookkeeping keys of `wandb-events.jsonl` lines (W@v0.9.7 `wandb/stats.py`), not metrics. */
const EVENT_BOOKKEEPING = new Set(['_timestamp', '_runtime', '_wandb']);

export async function* folderSystem(lf: LoadedFolder, startTime: number | undefined, problems: SystemProblems, signal?: AbortSignal): AsyncGenerator<SystemSample> {
  if (lf.folder.format === 'legacy') {
    let no = 0;
    const lines = safeJsonLines(join(lf.folder.dir, 'wandb-events.jsonl'), signal, (n) => problems.badJson.push(n), (n) => (no = n));
    for await (const obj of lines) {
      const ts = obj['_timestamp'];
      if (typeof ts !== 'number' || !Number.isFinite(ts)) {
        problems.noTimestamp.push(no);
        continue;
      }
      const values: Record<string, number> = {};
      const unsupported: Record<string, string> = {};
      for (const [k, v] of Object.entries(obj)) {
        if (k.startsWith('system.')) flattenNumbers(k, v, values, unsupported);
        else if (!EVENT_BOOKKEEPING.has(k)) problems.otherKeys.set(k, (problems.otherKeys.get(k) ?? 0) + 1);
      }
      const s: SystemSample = { timestamp: ts, values };
      if (Object.keys(unsupported).length > 0) s.unsupported = unsupported;
      if (typeof obj['_runtime'] === 'number') s.runtime = obj['_runtime'];
      yield s;
    }
    return;
  }
  let cur: SystemSample | undefined;
  for await (const r of records(lf, STATS, signal)) {
    if (r.kind !== 'stats' || r.stats.timestamp === undefined) continue;
    const ts = r.stats.timestamp;
    if (cur && cur.timestamp !== ts) {
      yield cur;
      cur = undefined;
    }
    if (!cur) {
      cur = { timestamp: ts, values: {} };
      if (startTime !== undefined) cur.runtime = Math.max(0, ts - startTime);
    }
    for (const it of r.stats.items) {
      const v = parseValue(it.valueJson);
      const key = `system.${it.key}`;
      const unsupported: Record<string, string> = {};
      // Text that is not JSON is not a number either: reported with its text, as any other non-number.
      if (v.ok) flattenNumbers(key, v.value, cur.values, unsupported);
      else unsupported[key] = v.value;
      if (Object.keys(unsupported).length > 0) cur.unsupported = { ...cur.unsupported, ...unsupported };
    }
  }
  if (cur) yield cur;
}
