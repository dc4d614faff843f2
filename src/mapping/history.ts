import type { HistoryRow } from '../core/records.ts';
import type { Omission, SeriesKind, SeriesPoint } from '../core/target.ts';
import { capabilitiesOf, type MappingOptions } from './options.ts';
import type { SeriesPathPlanner } from './series-paths.ts';
import { emptyMedia, mapListValue, mapMediaValue, type MappedMedia } from './media.ts';
import { addOmission, isPlainObject, mediaType } from './values.ts';

export interface MappedPoints {
  floats: Array<{ path: string; point: SeriesPoint<number> }>;
  strings: Array<{ path: string; point: SeriesPoint<string> }>;
  omissions: Omission[];
  /** Media and lists of the row (media.ts): images, files to upload, list points are in `strings`. */
  media: MappedMedia;
}

export function emptyPoints(): MappedPoints {
  return { floats: [], strings: [], omissions: [], media: emptyMedia() };
}

/** Seconds (W&B `_timestamp`) → Neptune milliseconds; rows without one use the fallback (run start). */
export function timestampMs(seconds: number | undefined, fallbackMs: number): number {
  return seconds !== undefined && Number.isFinite(seconds) ? Math.round(seconds * 1000) : fallbackMs;
}

/** The omission of numbers logged under a key whose series holds another kind. */
export function numberMismatch(key: string, kind: SeriesKind, count: number): Omission {
  return { reason: 'type-mismatch', subject: key, count, detail: `number in ${kind === 'image' ? 'an' : 'a'} ${kind} series` };
}

/**
 * One history row → series points (mapping.md, Series). Every key not starting with `_` becomes a
 * series at `<key>` with step `_step` and the row's timestamp. Numbers and booleans go to float series,
 * strings to string series; NaN/±Infinity are dropped and counted unless the target takes them
 * (Protocol A never does; B with `--nan send`); nulls are counted; media, tables, histograms and
 * lists become media instructions (media.ts); nested dicts become namespaces.
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
        addOmission(out.omissions, numberMismatch(key, sp.kind, 1));
        return;
      }
      out.floats.push({ path: sp.path, point: { step: row.step, timestampMs: ts, value: n } });
      return;
    }
    if (typeof value === 'string') {
      const sp = planner.assign(key, 'string');
      if (sp.kind !== 'string') {
        addOmission(out.omissions, { reason: 'type-mismatch', subject: key, count: 1, detail: `string in a ${sp.kind} series` });
        return;
      }
      out.strings.push({ path: sp.path, point: { step: row.step, timestampMs: ts, value } });
      return;
    }
    const where = { root: 'history' as const, step: row.step, timestampMs: ts };
    if (mediaType(value)) {
      mapMediaValue(key, value as Record<string, unknown>, where, planner, opts, out.media);
      return;
    }
    if (isPlainObject(value)) {
      for (const [k, v] of Object.entries(value)) visit(`${key}/${k}`, v);
      return;
    }
    if (Array.isArray(value)) {
      mapListValue(key, value, where, planner, opts, out.media);
      return;
    }
    addOmission(out.omissions, { reason: 'unsupported-value', subject: key, count: 1, detail: `${typeof value} value` });
  };
  const internal = opts.include.has('internal');
  // Keys, not entries: no [key, value] pair per history value.
  for (const key of Object.keys(row.values)) {
    if (!internal && key.charCodeAt(0) === 0x5f /* _ */) continue;
    visit(key, row.values[key]);
  }
  for (const o of out.media.omissions) addOmission(out.omissions, o);
  out.strings.push(...out.media.strings);
  out.media.omissions = [];
  out.media.strings = [];
  return out;
}
