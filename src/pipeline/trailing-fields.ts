import type { TargetRun, TargetRunState } from '../core/sink.ts';
import type { FieldAssignment, FileSetAnswer, FileSetEntry, FloatSeriesBlock, HistogramPoint, ImagePoint, Omission, SeriesPoint } from '../core/target.ts';

/**
 * A run's target with fields that go last (the migration fields, which say the run is complete): once
 * armed, they ride with the next flush, so a small run's last batch and its completion share one
 * request instead of two. They are not the batch's: what the target refuses of them is kept apart
 * (`refused`), for the caller to report with the run's fields, not counted against the batch. Arm them
 * only when everything else of the run has landed or is in that last flush; `flushRest` sends them on
 * their own when no flush came.
 */
export class TrailingFields implements TargetRun {
  private armed: readonly FieldAssignment[] | undefined;
  /** What the target refused of the trailing fields (a run at the server's field cap). */
  readonly refused: Omission[] = [];

  constructor(private readonly inner: TargetRun) {}

  get id(): string {
    return this.inner.id;
  }

  arm(fields: readonly FieldAssignment[]): void {
    this.armed = fields;
  }

  /** Sends the armed fields if no flush carried them. */
  async flushRest(signal?: AbortSignal): Promise<void> {
    if (this.armed) await this.flush(signal);
  }

  async flush(signal?: AbortSignal): Promise<Omission[]> {
    const trailing = this.armed;
    this.armed = undefined;
    if (!trailing) return this.inner.flush(signal);
    this.inner.assign(trailing);
    const paths = new Set(trailing.map((f) => f.path));
    const answer = await this.inner.flush(signal);
    this.refused.push(...answer.filter((o) => paths.has(o.subject)));
    return answer.filter((o) => !paths.has(o.subject));
  }

  state(signal?: AbortSignal): Promise<TargetRunState> {
    return this.inner.state(signal);
  }

  assign(fields: readonly FieldAssignment[]): void {
    this.inner.assign(fields);
  }

  appendFloats(path: string, points: readonly SeriesPoint<number>[]): void {
    this.inner.appendFloats(path, points);
  }

  appendStrings(path: string, points: readonly SeriesPoint<string>[]): void {
    this.inner.appendStrings(path, points);
  }

  // The optional members are the inner run's, present only where it has them: the batcher tells a
  // writer by columns (history's fast path) and one that takes appends during a flush by them, and a
  // wrapper that hid them sent Protocol B's history point by point, one batch at a time.
  get appendFloatBlock(): ((block: FloatSeriesBlock) => void) | undefined {
    return this.inner.appendFloatBlock?.bind(this.inner);
  }

  get unassign(): TargetRun['unassign'] {
    return this.inner.unassign?.bind(this.inner);
  }

  get appendsDuringFlush(): boolean | undefined {
    return this.inner.appendsDuringFlush;
  }

  uploadFileSet(path: string, entries: readonly FileSetEntry[], signal?: AbortSignal): Promise<FileSetAnswer> {
    return this.inner.uploadFileSet(path, entries, signal);
  }

  get uploadFileSets(): TargetRun['uploadFileSets'] {
    return this.inner.uploadFileSets?.bind(this.inner);
  }

  get listFileSet(): ((path: string, signal?: AbortSignal) => Promise<ReadonlyMap<string, number>>) | undefined {
    return this.inner.listFileSet?.bind(this.inner);
  }

  get provenSame(): TargetRun['provenSame'] {
    return this.inner.provenSame?.bind(this.inner);
  }

  get logImages(): TargetRun['logImages'] {
    return this.inner.logImages?.bind(this.inner);
  }

  get logHistograms(): ((path: string, points: readonly HistogramPoint[], signal?: AbortSignal) => Promise<Omission[]>) | undefined {
    return this.inner.logHistograms?.bind(this.inner);
  }
}
