/**
 * Random-access history: row i of a run is a pure function of (seed, i), so the generator can
 * stream 5M points, jump to any step, and list the media files the rows reference, without state.
 */
import { createHash } from 'node:crypto';
import { mediaKindFiles, mediaKindValue, type MediaKind } from './media-kinds.ts';
import { hash01, hashString, pseudoBytes } from './prng.ts';

export type KeyKind =
  | 'float' | 'int' | 'string' | 'special' | 'bool' | 'nested' | 'image' | 'histogram' | 'table' | 'media';

export interface KeyPlan {
  key: string;
  kind: KeyKind;
  /** kind `media`: which other media kind (media-kinds.ts). */
  media?: MediaKind;
  /** Logged on rows where i % every === offset (sparse keys); default every row. */
  every?: number;
  offset?: number;
}

export interface HistoryPlan {
  seed: number;
  rows: number;
  stepStart: number;
  stepStride: number;
  /** Every `gapEvery` rows the step jumps by an extra `gapSize`. */
  gapEvery?: number;
  gapSize?: number;
  keys: KeyPlan[];
  /** Unix seconds of row 0. */
  startSec: number;
  /** Seconds between rows. */
  rowSeconds: number;
}

export function stepOf(p: HistoryPlan, i: number): number {
  const gaps = p.gapEvery ? Math.floor(i / p.gapEvery) * (p.gapSize ?? 0) : 0;
  return p.stepStart + i * p.stepStride + gaps;
}

/** First row index whose step is >= minStep (binary search; steps are strictly increasing). */
export function rowIndexAtOrAfter(p: HistoryPlan, minStep: number): number {
  let lo = 0;
  let hi = p.rows;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (stepOf(p, mid) < minStep) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function keyPresent(k: KeyPlan, i: number): boolean {
  const every = k.every ?? 1;
  return every === 1 || i % every === (k.offset ?? 0) % every;
}

/** Last row index carrying the key, or -1. */
export function lastRowOf(k: KeyPlan, rows: number): number {
  const every = k.every ?? 1;
  const off = (k.offset ?? 0) % every;
  if (rows - 1 < off) return -1;
  return rows - 1 - ((rows - 1 - off) % every);
}

/** Row indices carrying the key (used for media, which is always sparse). */
export function* rowsOf(k: KeyPlan, rows: number): Iterable<number> {
  const every = k.every ?? 1;
  for (let i = (k.offset ?? 0) % every; i < rows; i += every) yield i;
}

function safeName(key: string): string {
  return key.replace(/[^A-Za-z0-9_.-]/g, '_');
}

/** Bytes of a media file referenced by a row (tiny fake PNG / table JSON). */
export function mediaBytes(p: HistoryPlan, k: KeyPlan, i: number): Buffer {
  const seed = hashString(k.key) ^ (p.seed * 7919 + i);
  if (k.kind === 'table') {
    const rows = [[i, 'cat'], [i + 1, 'dög'], [i + 2, null]];
    return Buffer.from(JSON.stringify({ columns: ['n', 'label'], data: rows }), 'utf8');
  }
  const header = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([header, pseudoBytes(seed, 64 + (seed % 97))]);
}

/** The run files the key's value at row i names (media values only). */
export function keyFiles(p: HistoryPlan, k: KeyPlan, i: number): Array<{ name: string; bytes: Buffer }> {
  if (k.kind === 'image' || k.kind === 'table') return [{ name: mediaPath(p, k, i), bytes: mediaBytes(p, k, i) }];
  if (k.kind === 'media' && k.media) return mediaKindFiles(p.seed, k.key, k.media, i, stepOf(p, i));
  return [];
}

export function mediaPath(p: HistoryPlan, k: KeyPlan, i: number): string {
  const step = stepOf(p, i);
  const h = createHash('sha256').update(`${p.seed}:${k.key}:${i}`).digest('hex').slice(0, 20);
  return k.kind === 'table'
    ? `media/table/${safeName(k.key)}_${step}_${h}.table.json`
    : `media/images/${safeName(k.key)}_${step}_${h}.png`;
}

function valueOf(p: HistoryPlan, k: KeyPlan, ki: number, i: number): unknown {
  const h = hash01(p.seed, ki, i);
  switch (k.kind) {
    case 'float':
      return Math.sin(i / 37 + ki) * Math.exp(-i / (p.rows + 1)) + h * 0.01;
    case 'int':
      return Math.floor(h * 100000);
    case 'string':
      return i % 3 === 0 ? `phase-${Math.floor(h * 5)}` : `ラベル-${i % 7}-é`;
    case 'special':
      return [NaN, Infinity, -Infinity, h][i % 4];
    case 'bool':
      return h < 0.5;
    case 'media':
      return mediaKindValue(p.seed, k.key, ki, k.media!, i, stepOf(p, i));
    case 'nested':
      return { inner: { v: h, tag: `t${i % 4}` }, list: [i, i + 1, h] };
    case 'histogram': {
      const values = Array.from({ length: 8 }, (_, j) => Math.floor(hash01(p.seed, ki, i, j) * 50));
      const bins = Array.from({ length: 9 }, (_, j) => -1 + j * 0.25);
      return { _type: 'histogram', values, bins };
    }
    case 'image':
    case 'table': {
      const bytes = mediaBytes(p, k, i);
      const base = {
        path: mediaPath(p, k, i),
        sha256: createHash('sha256').update(bytes).digest('hex'),
        size: bytes.length,
      };
      return k.kind === 'image'
        ? { _type: 'image-file', ...base, format: 'png', width: 8, height: 8, caption: `step ${stepOf(p, i)}` }
        : { _type: 'table-file', ...base, ncols: 2, nrows: 3, log_mode: 'IMMUTABLE' };
    }
  }
}

export function rowAt(p: HistoryPlan, i: number): Record<string, unknown> {
  const runtime = i * p.rowSeconds + hash01(p.seed, -1, i) * 0.01;
  const row: Record<string, unknown> = {
    _step: stepOf(p, i),
    _runtime: runtime,
    _timestamp: p.startSec + runtime,
  };
  for (let ki = 0; ki < p.keys.length; ki++) {
    const k = p.keys[ki];
    if (keyPresent(k, i)) row[k.key] = valueOf(p, k, ki, i);
  }
  return row;
}

export function* rowsFrom(p: HistoryPlan, minStep: number): Iterable<Record<string, unknown>> {
  for (let i = rowIndexAtOrAfter(p, minStep); i < p.rows; i++) yield rowAt(p, i);
}

/** Last logged value of every key, plus `_step/_runtime/_timestamp` (a summary's history part). */
export function lastValues(p: HistoryPlan): Record<string, unknown> {
  if (p.rows === 0) return {};
  const last = rowAt(p, p.rows - 1);
  const out: Record<string, unknown> = { _step: last._step, _runtime: last._runtime, _timestamp: last._timestamp };
  for (let ki = 0; ki < p.keys.length; ki++) {
    const i = lastRowOf(p.keys[ki], p.rows);
    if (i >= 0) out[p.keys[ki].key] = valueOf(p, p.keys[ki], ki, i);
  }
  return out;
}
