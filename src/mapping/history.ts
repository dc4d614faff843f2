import type { HistoryRow } from '../core/records.ts';
import type { Omission, SeriesPoint } from '../core/target.ts';
import { capabilitiesOf, type MappingOptions } from './options.ts';
import type { SeriesPathPlanner } from './series-paths.ts';
import { addOmission, isPlainObject, mediaType } from './values.ts';

export interface MappedPoints {
  floats: Array<{ path: string; point: SeriesPoint<number> }>;
  strings: Array<{ path: string; point: SeriesPoint<string> }>;
  omissions: Omission[];
}

export function emptyPoints(): MappedPoints {
  return { floats: [], strings: [], omissions: [] };
}

/** Seconds (W&B `_timestamp`) → Neptune milliseconds; rows without one use the fallback (run start). */
export function timestampMs(seconds: number | undefined, fallbackMs: number): number {
  return seconds !== undefined && Number.isFinite(seconds) ? Math.round(seconds * 1000) : fallbackMs;
}

/**
 * One history row → series points (mapping.md, Series). Every key not starting with `_` becomes a
 * series at `<key>` with step `_step` and the row's timestamp. Numbers and booleans go to float series,
 * strings to string series; NaN/±Infinity are dropped and counted unless the target takes them
 * (Protocol A never does; B with `--nan send`); nulls are counted;
 * media and tables are left out by default and counted per kind; nested dicts become namespaces.
 */
export function mapHistoryRow(
  row: HistoryRow,
  planner: SeriesPathPlanner,
  opts: MappingOptions,
  fallbackTimestampMs: number,
  out: MappedPoints = emptyPoints(),
): MappedPoints {
  const ts = timestampMs(row.timestamp, fallbackTimestampMs);
  const sendNonFinite = capabilitiesOf(opts).nonFinite === 'send';
  const visit = (key: string, value: unknown) => {
    if (value === null || value === undefined) {
      // W&B keeps a logged None as null: there is no point to write, but the user logged something.
      addOmission(out.omissions, { reason: 'null-value', subject: key, count: 1, detail: 'null value: no point to write' });
      return;
    }
    if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
      const n = Number(value);
      if (!Number.isFinite(n) && !sendNonFinite) {
        addOmission(out.omissions, { reason: 'non-finite', subject: key, count: 1 });
        return;
      }
      const sp = planner.assign(key, 'float');
      if (sp.kind !== 'float') {
        addOmission(out.omissions, { reason: 'type-mismatch', subject: key, count: 1, detail: 'number in a string series' });
        return;
      }
      out.floats.push({ path: sp.path, point: { step: row.step, timestampMs: ts, value: n } });
      return;
    }
    if (typeof value === 'string') {
      const sp = planner.assign(key, 'string');
      if (sp.kind !== 'string') {
        addOmission(out.omissions, { reason: 'type-mismatch', subject: key, count: 1, detail: 'string in a float series' });
        return;
      }
      out.strings.push({ path: sp.path, point: { step: row.step, timestampMs: ts, value } });
      return;
    }
    const media = mediaType(value);
    if (media) {
      const included = media === 'table-file' ? opts.include.has('tables') : opts.include.has('media');
      // Carrying media as file series is Protocol B's job; under A it stays counted, never silent.
      addOmission(out.omissions, {
        reason: included ? 'unsupported-value' : 'excluded-by-default',
        subject: `${media}`,
        count: 1,
        detail: included ? 'media values are not carried by Protocol A' : undefined,
      });
      return;
    }
    if (isPlainObject(value)) {
      for (const [k, v] of Object.entries(value)) visit(`${key}/${k}`, v);
      return;
    }
    addOmission(out.omissions, { reason: 'unsupported-value', subject: key, count: 1, detail: 'list value' });
  };
  for (const [key, value] of Object.entries(row.values)) {
    if (key.startsWith('_') && !opts.include.has('internal')) continue;
    visit(key, value);
  }
  return out;
}
