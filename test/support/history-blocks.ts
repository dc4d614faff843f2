import type { HistoryBlock, HistoryNumbers, HistoryRow } from '../../src/core/records.ts';

/** A block of rows whose `numeric` keys are columns (their values must be numbers where present). */
export function blockOf(rows: readonly HistoryRow[], numeric: readonly string[]): HistoryBlock {
  const n = rows.length;
  const keys: string[] = [];
  for (const r of rows) for (const k of Object.keys(r.values)) if (!keys.includes(k)) keys.push(k);
  const numbers: HistoryNumbers[] = numeric.map((key) => {
    const values = new Float64Array(n);
    const present = new Uint8Array(n);
    rows.forEach((r, i) => {
      if (key in r.values) {
        values[i] = r.values[key] as number;
        present[i] = 1;
      }
    });
    return { key, values, present };
  });
  const rest = rows.map((r) => {
    const o = Object.fromEntries(Object.entries(r.values).filter(([k]) => !numeric.includes(k)));
    return Object.keys(o).length ? o : undefined;
  });
  const ts: HistoryNumbers = { key: '_timestamp', values: Float64Array.from(rows, (r) => r.timestamp ?? 0), present: Uint8Array.from(rows, (r) => (r.timestamp === undefined ? 0 : 1)) };
  return { length: n, steps: Float64Array.from(rows, (r) => r.step), timestamps: ts, numbers, rest, keys };
}
