import type { TargetRun } from '../core/sink.ts';
import type { Omission, SeriesPoint } from '../core/target.ts';
import { addOmission } from '../mapping/values.ts';

/** One batch of points for the target, with what the ledger must record once it is acknowledged. */
export class PointBatch {
  readonly floats = new Map<string, SeriesPoint<number>[]>();
  readonly strings = new Map<string, SeriesPoint<string>[]>();
  readonly omissions: Omission[] = [];
  points = 0;
  /** Points the target already held (resume): neither sent nor omitted. */
  alreadyPresent = 0;
  /** Cursor position this batch brings the stream to. */
  cursor: number | undefined;

  constructor(private readonly lastSteps: ReadonlyMap<string, number>) {}

  addFloat(path: string, point: SeriesPoint<number>): void {
    if (this.isPresent(path, point.step)) return;
    let list = this.floats.get(path);
    if (!list) this.floats.set(path, (list = []));
    list.push(point);
    this.points++;
  }

  addString(path: string, point: SeriesPoint<string>): void {
    if (this.isPresent(path, point.step)) return;
    let list = this.strings.get(path);
    if (!list) this.strings.set(path, (list = []));
    list.push(point);
    this.points++;
  }

  omit(o: Omission): void {
    addOmission(this.omissions, o);
  }

  private isPresent(path: string, step: number): boolean {
    const last = this.lastSteps.get(path);
    if (last !== undefined && step <= last) {
      this.alreadyPresent++;
      return true;
    }
    return false;
  }
}

/**
 * Double-buffered writing of one stream: while the target acknowledges batch N, the source is read
 * and mapped into batch N+1. `onAcknowledged` (the ledger commit) runs strictly in batch order and only
 * after the target's acknowledgement.
 */
export class StreamWriter<B extends PointBatch = PointBatch> {
  private inflight: Promise<void> = Promise.resolve();

  constructor(
    private readonly run: TargetRun,
    private readonly signal: AbortSignal | undefined,
    private readonly onAcknowledged: (batch: B, refused: Omission[]) => void,
  ) {}

  async submit(batch: B): Promise<void> {
    await this.inflight;
    this.inflight = this.send(batch);
    // Surface a failure of this batch at the next submit/drain; keep the promise chain alive meanwhile.
    this.inflight.catch(() => {});
  }

  async drain(): Promise<void> {
    await this.inflight;
  }

  private async send(batch: B): Promise<void> {
    for (const [path, points] of batch.floats) this.run.appendFloats(path, points);
    for (const [path, points] of batch.strings) this.run.appendStrings(path, points);
    const refused = batch.points > 0 ? await this.run.flush(this.signal) : [];
    this.onAcknowledged(batch, refused);
  }
}
