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
  // `_step` / `_timestamp` are held apart rather than set and deleted (deleting slows objects down).
  let stepValue: unknown;
  let tsValue: unknown;
  for (const it of h.items) {
    const v = parseValue(it.valueJson);
    const path = itemPath(it);
    if (!v.ok) onInvalid?.(path.join('.'));
    if (path.length === 1 && path[0] === '_step') stepValue = v.value;
    else if (path.length === 1 && path[0] === '_timestamp') tsValue = v.value;
    else setPath(values, path, v.value);
  }
  return finishRow(values, stepValue, tsValue, h.step);
}

/** Lifts `_step` and `_timestamp` out of a legacy JSONL row. */
export function liftRow(obj: Record<string, unknown>): RawRow {
  const { _step: stepValue, _timestamp: tsValue, ...values } = obj;
  return finishRow(values, stepValue, tsValue, undefined);
}

function finishRow(values: Record<string, unknown>, stepValue: unknown, tsValue: unknown, recordStep?: number): RawRow {
  const intStep = typeof stepValue === 'number' && Number.isInteger(stepValue);
  // `_step` is lifted only when it is a plain integer; anything else (seen in SDK fixtures) stays as data.
  if (stepValue !== undefined && !intStep) values['_step'] = stepValue;
  const step = recordStep ?? (intStep && (stepValue as number) >= 0 ? (stepValue as number) : undefined);
  const row: RawRow = { step, values };
  if (typeof tsValue === 'number' && Number.isFinite(tsValue)) row.timestamp = tsValue;
  else if (tsValue !== undefined) values['_timestamp'] = tsValue;
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
