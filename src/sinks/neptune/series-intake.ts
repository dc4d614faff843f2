import type { Omission, OmissionReason } from '../../core/target.ts';
import { charLength, checkTimestamp, type FieldRegistry, type FieldType, type StepTracker } from './rules.ts';
import type { SeriesBuffer } from './series.ts';

/** What happened to the values handed to one call. Omissions are for the caller's report. */
export interface WriteOutcome {
  accepted: number;
  /** Series points at or below the step the server already held when the writer loaded it. */
  alreadyPresent: number;
  omissions: Omission[];
}

export type Refuse = (reason: OmissionReason, detail: string) => void;

/**
 * Neptune's rule for a series point's step (strictly increasing, per series): true when the point is
 * new; a step the server already holds counts as already present, one that goes back is refused.
 */
export function placeStep(steps: StepTracker, path: string, step: number, out: WriteOutcome, refuse: Refuse): boolean {
  const c = steps.classify(path, step);
  if (c === 'present') out.alreadyPresent++;
  else if (c === 'not-increasing') refuse('step-not-increasing', `step ${step} is not after ${steps.lastAccepted(path)}`);
  return c === 'ok';
}

/**
 * The points one call hands a series, checked one by one and buffered: the one place of the rules a
 * series point meets before it is sent (finite step and timestamp, timestamp in range, a finite float,
 * a string entry within the length limit, the step after the series' last). Points of a list
 * (`logFloats`) and of a block's column (`logFloatBlock`) go through it alike. `close` adds up what
 * was refused, one omission per reason with the first point's detail, and records the field once a
 * point of it was taken.
 */
export class SeriesIntake<T extends number | string> {
  /** Points this intake buffered. */
  accepted = 0;
  private readonly counts = new Map<OmissionReason, { count: number; detail: string }>();
  private readonly refuse: Refuse = (reason, detail) => {
    const c = this.counts.get(reason);
    if (c) c.count++;
    else this.counts.set(reason, { count: 1, detail });
  };

  constructor(
    private readonly path: string,
    private readonly type: FieldType,
    private readonly buf: SeriesBuffer<T>,
    private readonly fields: FieldRegistry,
    private readonly steps: StepTracker,
    private readonly out: WriteOutcome,
    /** Tests only (`unsafeSkipChecks`): what JSON cannot carry is still refused. */
    private readonly skip: boolean,
    private readonly maxStringLength: number,
  ) {}

  take(step: number, timestampMs: number, value: T): void {
    if (!Number.isFinite(step) || !Number.isFinite(timestampMs)) return this.refuse('non-finite', 'step or timestamp is not a finite number');
    const badTime = this.skip ? undefined : checkTimestamp(timestampMs);
    if (badTime) return this.refuse(badTime.reason, badTime.detail);
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) return this.refuse('non-finite', 'NaN/±Infinity cannot be sent as JSON');
    } else if (!this.skip && charLength(value, this.maxStringLength) > this.maxStringLength) {
      return this.refuse('too-large', `entry longer than ${this.maxStringLength} characters (split lines before writing)`);
    }
    if (!this.skip && !placeStep(this.steps, this.path, step, this.out, this.refuse)) return;
    this.buf.push(step, timestampMs, value);
    this.accepted++;
    this.out.accepted++;
  }

  close(): void {
    if (this.accepted > 0) this.fields.add(this.path, this.type);
    for (const [reason, c] of this.counts) this.out.omissions.push({ reason, subject: this.path, count: c.count, detail: c.detail });
  }
}
