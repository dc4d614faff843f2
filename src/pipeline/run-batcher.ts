import type { RunKey } from '../core/records.ts';
import type { TargetRun } from '../core/sink.ts';
import { columnPoints, floatBlockPoints, type FieldAssignment, type FloatColumn, type FloatSeriesBlock, type Omission, type SeriesPoint } from '../core/target.ts';
import type { Ledger } from '../ledger/ledger.ts';
import { STDOUT_PATH } from '../mapping/console.ts';
import type { SeriesPath } from '../mapping/series-paths.ts';
import { anyStale, type StaleFields } from '../mapping/stale-fields.ts';
import { addOmission } from '../mapping/values.ts';
import type { EventSink } from './events.ts';

export type StreamScope = 'history' | 'system' | 'console';

/** What one stream reached within a batch; committed to the ledger once the batch is acknowledged. */
interface ScopeProgress {
  cursor?: number;
  points: number;
  alreadyPresent: number;
  counts: Record<string, number>;
  omissions: Omission[];
  /** History only: how many series-path assignments this batch covers. */
  pathsAt?: number;
}

class RunBatch {
  readonly floats = new Map<string, SeriesPoint<number>[]>();
  readonly strings = new Map<string, SeriesPoint<string>[]>();
  /** Float points by column (history's fast path), in the order they came. */
  readonly blocks: FloatSeriesBlock[] = [];
  readonly scopes = new Map<StreamScope, ScopeProgress>();
  /** The run's fields, and what the target holds from an earlier pass that W&B no longer has (taken away first). */
  fields: { assignments: readonly FieldAssignment[]; omissions: Omission[]; stale?: StaleFields } | undefined;
  points = 0;

  scope(s: StreamScope): ScopeProgress {
    let p = this.scopes.get(s);
    if (!p) this.scopes.set(s, (p = { points: 0, alreadyPresent: 0, counts: {}, omissions: [] }));
    return p;
  }

  get empty(): boolean {
    return this.points === 0 && !this.fields && this.scopes.size === 0;
  }

  /** Lets go of the points (handed to the target); counts, progress and fields stay for the acknowledgement. */
  release(): void {
    this.floats.clear();
    this.strings.clear();
    this.blocks.length = 0;
  }
}

const CURSOR_OF: Record<StreamScope, (position: number) => number> = {
  history: (p) => p,
  system: (p) => p,
  // The console cursor is the next line to send.
  console: (p) => p + 1,
};

const POINTS_COUNT: Record<StreamScope, string> = { history: 'historyPoints', system: 'systemPoints', console: 'consolePoints' };

/**
 * Batches in flight at once for a target that takes appends during a flush (Protocol B): the server
 * processes one while the next ones are encoded and sent, and the status of several is asked in one
 * check. With two, the client and the server took turns (each idle while the other worked: ~1 M points/s
 * on 2 cores, bench (a) over B); what a batch holds is let go once its requests went out, so a batch in
 * flight waiting for its status costs next to nothing.
 */
export const BATCHES_IN_FLIGHT = 8;

/**
 * Gathers one run's fields and the points of all its streams into shared batches, so a small run
 * costs one write request instead of one per stream. While the target acknowledges batch N, the
 * streams are read and mapped into batch N+1 (and, for a target that takes appends during a flush,
 * up to `BATCHES_IN_FLIGHT` batches are sent before the first is acknowledged). The ledger records
 * each stream's progress strictly in batch order, and only after the target acknowledged the batch.
 */
export class RunBatcher {
  private current = new RunBatch();
  /** Flushes not yet answered. */
  private readonly flushing = new Set<Promise<unknown>>();
  /** Acknowledgements of the batches in flight, oldest first. */
  private readonly inflight: Promise<void>[] = [];
  /** The last batch sent, acknowledged (each batch's acknowledgement follows the one before it). */
  private last: Promise<void> = Promise.resolve();
  private committedPaths: number;
  private readonly totals: Record<StreamScope, number> = { history: 0, system: 0, console: 0 };
  private rows = 0;

  constructor(
    private readonly key: RunKey,
    private readonly target: TargetRun,
    private readonly lastSteps: ReadonlyMap<string, number>,
    private readonly ledger: Ledger,
    private readonly emit: EventSink,
    /** The history planner's new assignments (grows as keys appear); committed up to each batch's `pathsAt`. */
    private readonly planned: readonly SeriesPath[],
    private readonly batchPoints: number,
    private readonly signal?: AbortSignal,
    /** The step the target holds for a source step (B keeps whole microsteps: mapping/steps.ts). */
    private readonly heldStep: (step: number) => number = (step) => step,
  ) {
    this.committedPaths = 0;
  }

  setFields(assignments: readonly FieldAssignment[], omissions: readonly Omission[], stale?: StaleFields): void {
    this.current.fields = { assignments, omissions: [...omissions], ...(stale && anyStale(stale) ? { stale } : {}) };
  }

  addFloat(scope: StreamScope, path: string, point: SeriesPoint<number>): void {
    this.add(this.current.floats, scope, path, point);
  }

  addString(scope: StreamScope, path: string, point: SeriesPoint<string>): void {
    this.add(this.current.strings, scope, path, point);
  }

  private add<T extends number | string>(series: Map<string, SeriesPoint<T>[]>, scope: StreamScope, path: string, point: SeriesPoint<T>): void {
    if (this.present(scope, path, point.step)) return;
    let list = series.get(path);
    if (!list) series.set(path, (list = []));
    list.push(point);
    this.current.points++;
    this.current.scope(scope).points++;
  }

  /**
   * Adds float points by column. As `addFloat` does point by point, points the target already holds
   * (their step as held at or below the series' last step) are counted as already present, not sent.
   */
  addFloatBlock(scope: StreamScope, block: FloatSeriesBlock): void {
    const { steps } = block;
    const n = steps.length;
    const series: FloatColumn[] = [];
    let points = 0;
    let alreadyPresent = 0;
    for (const c of block.series) {
      const last = this.lastSteps.get(c.path);
      // Steps increase, so the points the target holds are those of a prefix of rows.
      let held = 0;
      if (last !== undefined) while (held < n && this.heldStep(steps[held]) <= last) held++;
      let column = c;
      if (held > 0) {
        const present = c.present ? c.present.slice() : new Uint8Array(n).fill(1);
        for (let i = 0; i < held; i++) alreadyPresent += present[i];
        present.fill(0, 0, held);
        column = { path: c.path, values: c.values, present };
      }
      const count = columnPoints(column, n);
      if (count === 0) continue;
      points += count;
      series.push(column);
    }
    const progress = this.current.scope(scope);
    progress.alreadyPresent += alreadyPresent;
    if (points === 0) return;
    const same = series.length === block.series.length && series.every((c, k) => c === block.series[k]);
    this.current.blocks.push(same ? block : { ...block, series });
    this.current.points += points;
    progress.points += points;
  }

  /** Points the current batch can take before it is full. */
  get room(): number {
    return Math.max(0, this.batchPoints - this.current.points);
  }

  omit(scope: StreamScope, o: Omission): void {
    addOmission(this.current.scope(scope).omissions, o);
  }

  /** Records how far a stream got (its cursor) and counts that go with it. */
  progress(scope: StreamScope, p: { cursor?: number; counts?: Record<string, number>; pathsAt?: number }): void {
    const s = this.current.scope(scope);
    if (p.cursor !== undefined) s.cursor = p.cursor;
    if (p.pathsAt !== undefined) s.pathsAt = p.pathsAt;
    for (const [k, v] of Object.entries(p.counts ?? {})) s.counts[k] = (s.counts[k] ?? 0) + v;
  }

  /** True when the next `maybeSubmit` sends the current batch (what must land before its cursor, lands now). */
  get full(): boolean {
    return this.current.points >= this.batchPoints;
  }

  /** Sends the current batch once it is big enough. */
  async maybeSubmit(): Promise<void> {
    if (this.current.points >= this.batchPoints) await this.submit();
  }

  /**
   * Sends the current batch, waiting first for the one in flight; where the target takes appends while
   * a flush is in flight, only until fewer than `BATCHES_IN_FLIGHT` are (the target processes one while
   * the next ones are sent).
   */
  async submit(): Promise<void> {
    const batch = this.current;
    if (batch.empty) return;
    this.current = new RunBatch();
    const overlap = this.target.appendsDuringFlush === true;
    const depth = overlap ? BATCHES_IN_FLIGHT : 1;
    while (this.inflight.length >= depth) await this.inflight.shift();
    const sent = this.send(batch, overlap ? this.last : undefined);
    // A failure surfaces at a later submit or at drain; the chain itself must not be an unhandled rejection.
    sent.catch(() => {});
    this.inflight.push(sent);
    this.last = sent;
  }

  /**
   * Waits for the batches in flight (their acknowledgements reach the ledger); the batch being filled is
   * not sent. Every flush is waited for, not only the acknowledgement chain (which a failed batch ends
   * early): none may still be asking the server once the run returns and the target closes.
   */
  async settle(): Promise<void> {
    this.inflight.length = 0;
    await Promise.allSettled([...this.flushing, this.last]);
  }

  async drain(): Promise<void> {
    await this.submit();
    this.inflight.length = 0;
    await this.last;
  }

  private present(scope: StreamScope, path: string, step: number): boolean {
    const last = this.lastSteps.get(path);
    if (last !== undefined && this.heldStep(step) <= last) {
      this.current.scope(scope).alreadyPresent++;
      return true;
    }
    return false;
  }

  /** Appends the batch and flushes it; acknowledges it once flushed and once `before` (the batch before it) was. */
  private async send(batch: RunBatch, before?: Promise<void>): Promise<void> {
    if (batch.fields) {
      const { stale } = batch.fields;
      // A target that cannot take a field away says so (report lines); one without the method keeps what it holds.
      if (stale) batch.fields.omissions.push(...(this.target.unassign?.(stale) ?? []));
      this.target.assign(batch.fields.assignments);
    }
    const blocks = this.blocksFor(batch);
    for (const [path, points] of batch.floats) this.target.appendFloats(path, points);
    for (const b of blocks) this.target.appendFloatBlock!(b);
    for (const [path, points] of batch.strings) this.target.appendStrings(path, points);
    // The target holds what it needs of the points now; the batch keeps only its progress for the ledger.
    batch.release();
    const flushed = batch.points > 0 || batch.fields ? this.target.flush(this.signal) : Promise.resolve([]);
    this.flushing.add(flushed);
    // Handled below, after `before`: not an unhandled rejection meanwhile.
    flushed.catch(() => {}).finally(() => this.flushing.delete(flushed));
    // The ledger records batches strictly in order.
    if (before) await before;
    this.acknowledge(batch, await flushed);
  }

  /**
   * The batch's blocks for a target that takes them. A target without a block method gets their points
   * through `appendFloats`, and so does a series that also has points outside blocks: one call per
   * series, in step order, as the row path makes it.
   */
  private blocksFor(batch: RunBatch): FloatSeriesBlock[] {
    if (batch.blocks.length === 0) return [];
    const byPoints = !this.target.appendFloatBlock;
    const blocks: FloatSeriesBlock[] = [];
    for (const b of batch.blocks) {
      const kept = byPoints ? [] : b.series.filter((c) => !batch.floats.has(c.path));
      for (const c of b.series) {
        if (kept.includes(c)) continue;
        let list = batch.floats.get(c.path);
        if (!list) batch.floats.set(c.path, (list = []));
        const sorted = list.length === 0 || list[list.length - 1].step < b.steps[0];
        list.push(...floatBlockPoints(b, c));
        if (!sorted) list.sort((x, y) => x.step - y.step);
      }
      if (kept.length) blocks.push(kept.length === b.series.length ? b : { ...b, series: kept });
    }
    return blocks;
  }

  private scopeOf(subject: string, fieldPaths: ReadonlySet<string>): StreamScope | 'fields' {
    if (fieldPaths.has(subject)) return 'fields';
    if (subject === STDOUT_PATH) return 'console';
    if (subject.startsWith('monitoring/')) return 'system';
    return 'history';
  }

  private acknowledge(batch: RunBatch, refused: readonly Omission[]): void {
    const stale = batch.fields?.stale;
    const fieldPaths = new Set([...(batch.fields?.assignments ?? []).map((f) => f.path), ...(stale?.fields ?? []), ...(stale?.retyped ?? []), ...(stale?.fromSets ?? []).map((s) => s.path)]);
    const refusedBy = new Map<StreamScope | 'fields', Omission[]>();
    // A refusal goes with what it names. One that names nothing of this batch (a server error that names
    // no path) goes with its fields, else its first stream: never dropped, never beside a count it is not in.
    const holds = (s: StreamScope | 'fields') => (s === 'fields' ? batch.fields !== undefined : batch.scopes.has(s));
    const fallback: StreamScope | 'fields' | undefined = batch.fields ? 'fields' : batch.scopes.keys().next().value;
    for (const o of refused) {
      const named = this.scopeOf(o.subject, fieldPaths);
      const s = holds(named) ? named : (fallback ?? named);
      refusedBy.set(s, [...(refusedBy.get(s) ?? []), o]);
    }
    const sum = (list: readonly Omission[] | undefined) => (list ?? []).reduce((n, o) => n + o.count, 0);
    if (batch.fields) {
      const bad = refusedBy.get('fields');
      // A refused deletion of a field no longer assigned is a line, not a field less.
      const assigned = new Set(batch.fields.assignments.map((f) => f.path));
      const removedOnly = new Set([...(stale?.fields ?? []), ...(stale?.fromSets ?? []).map((x) => x.path)].filter((path) => !assigned.has(path)));
      const written = batch.fields.assignments.length - sum(bad?.filter((o) => !removedOnly.has(o.subject)));
      this.ledger.replaceScope(this.key, 'fields', { fields: written }, [...batch.fields.omissions, ...(bad ?? [])]);
      this.emit({ type: 'run.progress', run: this.key, stream: 'fields', points: 0, files: 0, bytes: 0 });
    }
    for (const [scope, p] of batch.scopes) {
      const bad = refusedBy.get(scope) ?? [];
      const written = p.points - sum(bad);
      const newPaths = scope === 'history' && p.pathsAt !== undefined ? this.planned.slice(this.committedPaths, p.pathsAt) : [];
      if (scope === 'history' && p.pathsAt !== undefined) this.committedPaths = Math.max(this.committedPaths, p.pathsAt);
      this.ledger.commit(this.key, scope, {
        cursor: p.cursor === undefined ? undefined : { stream: scope, position: CURSOR_OF[scope](p.cursor) },
        counts: {
          ...p.counts,
          points: written,
          [POINTS_COUNT[scope]]: written,
          // Points the target held before this pass (acknowledged before a kill, or a lost ledger): the
          // report adds them to tell what the target holds.
          pointsAlreadyPresent: p.alreadyPresent,
          [`${POINTS_COUNT[scope]}AlreadyPresent`]: p.alreadyPresent,
        },
        omissions: [...p.omissions, ...bad],
        seriesPaths: newPaths,
      });
      this.totals[scope] += written;
      this.rows += p.counts.historyRows ?? 0;
      this.emit({ type: 'run.progress', run: this.key, stream: scope, points: this.totals.history + this.totals.system + this.totals.console, files: 0, bytes: 0, rows: this.rows });
    }
  }
}

