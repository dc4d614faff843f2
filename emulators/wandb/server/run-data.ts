/**
 * Derived per-run data the server needs (historyKeys type counts, parquet column types, console
 * line count) and lazy row access (step ranges, even down-sampling). One cache per emulator.
 */
import type { GenRun } from '../generator/types.ts';

export type ColumnKind = 'int64' | 'double' | 'bool' | 'string' | 'json';

export interface RunStats {
  historyKeys: { lastStep: number; keys: Record<string, { typeCounts: { type: string; count: number }[] }> };
  /** Top-level history keys in first-seen order with their parquet column kind. */
  columns: Map<string, ColumnKind>;
}

function typeName(v: unknown): string {
  if (v === null || v === undefined) return 'nil';
  if (typeof v === 'number') return 'number';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return 'list';
  const t = (v as Record<string, unknown>)._type;
  return typeof t === 'string' ? t : 'map';
}

function kindOf(v: unknown): ColumnKind {
  if (typeof v === 'number') return 'double';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  return 'json';
}

export function consoleLinesOf(run: GenRun): Iterable<string> {
  return typeof run.consoleLines === 'function' ? run.consoleLines() : run.consoleLines;
}

export function rowsFrom(run: GenRun, minStep: number): Iterable<Record<string, unknown>> {
  if (run.historyFrom) return run.historyFrom(minStep);
  return (function* () {
    for (const r of run.history()) if ((r._step as number) >= minStep) yield r;
  })();
}

/** Rows with minStep <= _step < maxStep (maxStep exclusive, as `history(minStep,maxStep)`). */
export function* rowsInRange(run: GenRun, minStep: number, maxStep: number): Iterable<Record<string, unknown>> {
  for (const r of rowsFrom(run, minStep)) {
    if ((r._step as number) >= maxStep) return;
    yield r;
  }
}

/** Picks `samples` evenly spaced items (first and last included) from a stream of known length. */
export function* evenSample<T>(items: Iterable<T>, count: number, samples: number): Iterable<T> {
  if (samples <= 0) return;
  if (count <= samples) {
    yield* items;
    return;
  }
  let want = 0;
  let next = 0;
  let i = 0;
  for (const it of items) {
    if (i === next) {
      yield it;
      want++;
      if (want >= samples) return;
      next = samples === 1 ? count : Math.round((want * (count - 1)) / (samples - 1));
    }
    i++;
  }
}

export class RunDataCache {
  private stats = new WeakMap<GenRun, RunStats>();
  private lines = new WeakMap<GenRun, number>();

  consoleCount(run: GenRun): number {
    let n = this.lines.get(run);
    if (n === undefined) {
      n = 0;
      for (const _ of consoleLinesOf(run)) n++;
      this.lines.set(run, n);
    }
    return n;
  }

  /** One full pass over history, cached: type counts per flattened key and column kinds per top-level key. */
  statsOf(run: GenRun): RunStats {
    const cached = this.stats.get(run);
    if (cached) return cached;
    const counts = new Map<string, Map<string, number>>();
    // null = only nulls seen so far (kind decided by the first real value)
    const columns = new Map<string, ColumnKind | null>();
    const bump = (key: string, t: string): void => {
      let m = counts.get(key);
      if (!m) counts.set(key, (m = new Map()));
      m.set(t, (m.get(t) ?? 0) + 1);
    };
    const visit = (prefix: string, v: unknown): void => {
      const t = typeName(v);
      // nested plain dicts are flattened to dotted names in historyKeys (wandb-api.md §4.2)
      if (t === 'map') for (const [k, x] of Object.entries(v as Record<string, unknown>)) visit(`${prefix}.${k}`, x);
      else bump(prefix, t);
    };
    for (const row of run.history()) {
      for (const [k, v] of Object.entries(row)) {
        visit(k, v);
        if (k === '_step') { columns.set(k, 'int64'); continue; }
        if (v === null || v === undefined) { if (!columns.has(k)) columns.set(k, null); continue; }
        const kind = kindOf(v);
        const prev = columns.get(k);
        columns.set(k, prev === undefined || prev === null || prev === kind ? kind : 'json');
      }
    }
    const keys: RunStats['historyKeys']['keys'] = {};
    for (const [k, m] of counts) keys[k] = { typeCounts: [...m].map(([type, count]) => ({ type, count })) };
    const kinds = new Map<string, ColumnKind>();
    for (const [k, kind] of columns) kinds.set(k, kind ?? 'double');
    const s: RunStats = { historyKeys: { lastStep: run.lastStep, keys }, columns: kinds };
    this.stats.set(run, s);
    return s;
  }
}
