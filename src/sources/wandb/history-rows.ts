import { SourceDataError } from '../../core/errors.ts';
import type { HistoryRow } from '../../core/records.ts';
import { parseExtendedJsonObject } from '../extended-json.ts';
import type { RawRow } from './parquet-rows.ts';

/** One `history` string (extended JSON) → a raw row with a numeric `_step`; names run and step on failure. */
export function parseHistoryString(text: string, where: string, windowStart: number): RawRow {
  let row: Record<string, unknown>;
  try {
    row = parseExtendedJsonObject(text);
  } catch (error) {
    const m = /"_step"\s*:\s*(-?\d+(?:\.\d+)?)/.exec(text);
    const at = m ? `step ${m[1]}` : `a step at or after ${windowStart}`;
    throw new SourceDataError(`${where}: the history row at ${at} is not valid JSON (${error instanceof Error ? error.message : String(error)})`, { cause: error });
  }
  const step = row._step;
  // The backend sometimes returns `_step` as a float (wandb-core livedata.go); it is an integer step.
  if (typeof step !== 'number' || !Number.isFinite(step)) {
    throw new SourceDataError(`${where}: a history row at or after step ${windowStart} has no numeric _step`);
  }
  row._step = Math.trunc(step);
  return row;
}

/** Raw row → HistoryRow: `_step` → step, `_timestamp` → timestamp, everything else (incl. `_runtime`) in values. */
export function toHistoryRow(raw: RawRow): HistoryRow {
  const values: Record<string, unknown> = {};
  let timestamp: number | undefined;
  for (const key of Object.keys(raw)) {
    if (key === '_step') continue;
    if (key === '_timestamp') {
      const t = raw[key];
      if (typeof t === 'number') {
        timestamp = t;
        continue;
      }
    }
    values[key] = raw[key];
  }
  const row: HistoryRow = { step: raw._step as number, values };
  if (timestamp !== undefined) row.timestamp = timestamp;
  return row;
}
