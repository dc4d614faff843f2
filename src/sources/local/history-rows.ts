/**
 * History rows from `HistoryRecord`s (and legacy JSONL objects): rebuild nesting from
 * `nested_key`, lift `_step` / `_timestamp`, and enforce "increasing step, each step once".
 */
import type { HistoryRow } from '../../core/records.ts';
import type { HistoryMsg } from './wandb-log/proto.ts';
import { itemPath, parseValue, setPath } from './values.ts';

export interface RawRow {
  /** Step as recorded; undefined when the row has none (shared-mode runs). */
  step?: number;
  timestamp?: number;
  values: Record<string, unknown>;
}

/** Builds a row from a log record; `onInvalid` is called per value_json that is not JSON. */
export function rowFromRecord(h: HistoryMsg, onInvalid?: (key: string) => void): RawRow {
  const values: Record<string, unknown> = {};
  for (const it of h.items) {
    const v = parseValue(it.valueJson);
    const path = itemPath(it);
    if (!v.ok) onInvalid?.(path.join('.'));
    setPath(values, path, v.value);
  }
  return liftRow(values, h.step);
}

/** Lifts `_step` and `_timestamp` out of a row's values (legacy JSONL rows and log rows alike). */
export function liftRow(values: Record<string, unknown>, recordStep?: number): RawRow {
  let step = recordStep;
  const s = values['_step'];
  if (step === undefined && typeof s === 'number' && Number.isInteger(s) && s >= 0) step = s;
  // `_step` is lifted only when it is a plain integer; anything else (seen in SDK fixtures) stays as data.
  if (typeof s === 'number' && Number.isInteger(s)) delete values['_step'];
  const row: RawRow = { step, values };
  const ts = values['_timestamp'];
  if (typeof ts === 'number' && Number.isFinite(ts)) {
    row.timestamp = ts;
    delete values['_timestamp'];
  }
  return row;
}

/**
 * Assigns final steps: rows without a step continue from the previous one; a row whose step is not
 * above the last accepted one (a rewind, a duplicate) is dropped and counted, so the stream keeps
 * the contract "increasing step order, each step once" without buffering.
 */
export class StepSequencer {
  private last = -1;
  dropped = 0;
  accept(raw: RawRow): HistoryRow | null {
    const step = raw.step ?? this.last + 1;
    if (step <= this.last) {
      this.dropped++;
      return null;
    }
    this.last = step;
    const row: HistoryRow = { step, values: raw.values };
    if (raw.timestamp !== undefined) row.timestamp = raw.timestamp;
    return row;
  }
  get lastStep(): number {
    return this.last;
  }
}
