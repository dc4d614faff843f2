import type { HistoryBlock, HistoryNumbers, HistoryRow } from '../core/records.ts';

/**
 * History blocks (`core/records.ts`) ↔ rows. `blockRows` is the definition of what a block stands for:
 * a column reader is right when `blockRows` of its blocks equals the row reader's rows.
 */

/** Whether row `i` of a column has a value. */
export function hasValue(c: HistoryNumbers, i: number): boolean {
  return c.present === undefined || c.present[i] === 1;
}

/** Row `i` of a block as the `HistoryRow` the row path gives: its keys in the block's key order. */
export function blockRow(block: HistoryBlock, i: number, byKey: ReadonlyMap<string, HistoryNumbers> = numbersByKey(block)): HistoryRow {
  const rest = block.rest?.[i];
  let values: Record<string, unknown>;
  if (byKey.size === 0) values = { ...rest };
  else {
    values = {};
    for (const key of block.keys) {
      const c = byKey.get(key);
      if (c) {
        if (hasValue(c, i)) values[key] = c.values[i];
      } else if (rest && key in rest) values[key] = rest[key];
    }
  }
  const row: HistoryRow = { step: block.steps[i], values };
  const ts = block.timestamps;
  if (ts && hasValue(ts, i)) row.timestamp = ts.values[i];
  return row;
}

export function numbersByKey(block: HistoryBlock): Map<string, HistoryNumbers> {
  return new Map(block.numbers.map((c) => [c.key, c]));
}

/** Every row of a block, in order. */
export function* blockRows(block: HistoryBlock): Generator<HistoryRow> {
  const byKey = numbersByKey(block);
  for (let i = 0; i < block.length; i++) yield blockRow(block, i, byKey);
}

/** Rows → one block holding them all as they are (`rest`: no column of numbers), for sources that read rows. */
export function rowsToBlock(rows: readonly HistoryRow[]): HistoryBlock {
  const n = rows.length;
  const steps = new Float64Array(n);
  const ts: HistoryNumbers = { key: '_timestamp', values: new Float64Array(n), present: new Uint8Array(n) };
  const rest = new Array<Record<string, unknown> | undefined>(n);
  const keys = new Set<string>();
  for (let i = 0; i < n; i++) {
    const r = rows[i];
    steps[i] = r.step;
    if (r.timestamp !== undefined) {
      ts.values[i] = r.timestamp;
      ts.present![i] = 1;
    }
    rest[i] = r.values;
    for (const k of Object.keys(r.values)) keys.add(k);
  }
  return { length: n, steps, timestamps: ts, numbers: [], rest, keys: [...keys] };
}

/** Rows → blocks of at most `size` rows each (`rowsToBlock`). */
export async function* rowBlocks(rows: AsyncIterable<HistoryRow>, size = 1000): AsyncGenerator<HistoryBlock> {
  let batch: HistoryRow[] = [];
  for await (const r of rows) {
    batch.push(r);
    if (batch.length >= size) {
      yield rowsToBlock(batch);
      batch = [];
    }
  }
  if (batch.length) yield rowsToBlock(batch);
}

/** Rows `[from, to)` of a block (views over its arrays, nothing copied but the rest's slice). */
export function sliceBlock(block: HistoryBlock, from: number, to: number): HistoryBlock {
  const cut = (c: HistoryNumbers): HistoryNumbers => ({ key: c.key, values: c.values.subarray(from, to), ...(c.present ? { present: c.present.subarray(from, to) } : {}) });
  const out: HistoryBlock = { length: to - from, steps: block.steps.subarray(from, to), numbers: block.numbers.map(cut), keys: block.keys };
  if (block.timestamps) out.timestamps = cut(block.timestamps);
  if (block.rest) out.rest = block.rest.slice(from, to);
  return out;
}
