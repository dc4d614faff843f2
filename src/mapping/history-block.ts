import type { HistoryBlock, HistoryNumbers } from '../core/records.ts';
import type { FloatColumn, FloatSeriesBlock } from '../core/target.ts';
import { mapHistoryRow, numberMismatch, timestampMs, type MappedPoints } from './history.ts';
import { capabilitiesOf, type MappingOptions } from './options.ts';
import type { SeriesPathPlanner } from './series-paths.ts';
import { addOmission } from './values.ts';

/**
 * Rows `[from, to)` of a history block → series points, by exactly `mapHistoryRow`'s rules (mapping.md,
 * Series), without an object per point: the block's numeric columns become float columns of one
 * `FloatSeriesBlock` (returned; undefined when no column has a point), everything else of the rows
 * (strings, booleans, media, nested values) goes through `mapHistoryRow` into `out`.
 *
 * The planner is asked for paths in the row path's order (the later key is the one renamed on a
 * clash): rows are visited key by key, as `mapHistoryRow` visits them, until every numeric column that
 * gets a point in the range has its path; from there on only the rows' non-numeric values are visited.
 * `history-block.test.ts` checks points, omissions and paths against `mapHistoryRow` row by row.
 */
export function mapHistoryBlock(
  block: HistoryBlock,
  from: number,
  to: number,
  planner: SeriesPathPlanner,
  opts: MappingOptions,
  fallbackTimestampMs: number,
  out: MappedPoints,
): FloatSeriesBlock | undefined {
  const sendNonFinite = capabilitiesOf(opts).nonFinite === 'send';
  const internal = opts.include.has('internal');
  const columns = new Map<string, HistoryNumbers>();
  for (const c of block.numbers) if (internal || c.key.charCodeAt(0) !== 0x5f /* _ */) columns.set(c.key, c);
  const ts = block.timestamps;
  const timestampOf = (i: number) => (ts && (!ts.present || ts.present[i] === 1) ? ts.values[i] : undefined);

  // Rows up to the last one where a numeric column first gets a point and has no path yet.
  let cut = from;
  for (const c of columns.values()) {
    if (planner.get(c.key)) continue;
    const first = firstPoint(c, from, to, sendNonFinite);
    if (first >= cut) cut = first + 1;
  }
  const rest = block.rest;
  for (let i = from; i < cut; i++) {
    const r = rest?.[i];
    for (const key of block.keys) {
      const c = columns.get(key);
      if (c) {
        if ((!c.present || c.present[i] === 1) && (sendNonFinite || Number.isFinite(c.values[i]))) planner.assign(key, 'float');
      } else if (r && key in r) {
        mapHistoryRow({ step: block.steps[i], timestamp: timestampOf(i), values: { [key]: r[key] } }, planner, opts, fallbackTimestampMs, out);
      }
    }
  }
  if (rest) {
    for (let i = cut; i < to; i++) {
      const r = rest[i];
      if (r) mapHistoryRow({ step: block.steps[i], timestamp: timestampOf(i), values: r }, planner, opts, fallbackTimestampMs, out);
    }
  }

  const series: FloatColumn[] = [];
  for (const c of columns.values()) {
    const column = floatColumn(c, from, to, planner, sendNonFinite, out);
    if (column) series.push(column);
  }
  if (series.length === 0) return undefined;
  const timestampsMs = new Float64Array(to - from);
  for (let i = from; i < to; i++) timestampsMs[i - from] = timestampMs(timestampOf(i), fallbackTimestampMs);
  return { steps: block.steps.subarray(from, to), timestampsMs, series };
}

/** The first row in `[from, to)` where the column has a value that makes a point, or -1. */
function firstPoint(c: HistoryNumbers, from: number, to: number, sendNonFinite: boolean): number {
  for (let i = from; i < to; i++) {
    if ((!c.present || c.present[i] === 1) && (sendNonFinite || Number.isFinite(c.values[i]))) return i;
  }
  return -1;
}

/**
 * A numeric column's points in `[from, to)` as a float column (its values as they are, a presence mask
 * only where some row has none), counting what `mapHistoryRow` counts: NaN/±Infinity the target does
 * not take, and numbers under a key whose series holds another kind.
 */
function floatColumn(c: HistoryNumbers, from: number, to: number, planner: SeriesPathPlanner, sendNonFinite: boolean, out: MappedPoints): FloatColumn | undefined {
  const values = c.values.subarray(from, to);
  const present = c.present?.subarray(from, to);
  const n = to - from;
  let keep: Uint8Array | undefined;
  let nonFinite = 0;
  let points = 0;
  for (let i = 0; i < n; i++) {
    if (present && present[i] !== 1) {
      keep ??= new Uint8Array(n).fill(1, 0, i);
      continue;
    }
    if (!sendNonFinite && !Number.isFinite(values[i])) {
      nonFinite++;
      keep ??= new Uint8Array(n).fill(1, 0, i);
      continue;
    }
    points++;
    if (keep) keep[i] = 1;
  }
  if (nonFinite) addOmission(out.omissions, { reason: 'non-finite', subject: c.key, count: nonFinite });
  if (points === 0) return undefined;
  // Every value left makes a point, so the column has its path (assigned above, or by an earlier block).
  const sp = planner.get(c.key)!;
  if (sp.kind !== 'float') {
    addOmission(out.omissions, numberMismatch(c.key, sp.kind, points));
    return undefined;
  }
  return keep ? { path: sp.path, values, present: keep } : { path: sp.path, values };
}
