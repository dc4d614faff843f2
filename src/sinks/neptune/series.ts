/**
 * Pending points of one series, in columns (typed arrays for floats), so millions of buffered points
 * stay compact. `sent` marks points acknowledged by the server; they are dropped on compaction.
 */
export class SeriesBuffer<T extends number | string> {
  steps: Float64Array;
  times: Float64Array;
  values: T extends number ? Float64Array : string[];
  length = 0;
  /** Points before this index are acknowledged. */
  committed = 0;

  constructor(readonly kind: T extends number ? 'float' : 'string', capacity = 64) {
    this.steps = new Float64Array(capacity);
    this.times = new Float64Array(capacity);
    this.values = (kind === 'float' ? new Float64Array(capacity) : []) as SeriesBuffer<T>['values'];
  }

  get pending(): number {
    return this.length - this.committed;
  }

  push(step: number, timeMs: number, value: T): void {
    if (this.length === this.steps.length) this.grow();
    this.steps[this.length] = step;
    this.times[this.length] = timeMs;
    if (this.values instanceof Float64Array) this.values[this.length] = value as number;
    else (this.values as string[])[this.length] = value as string;
    this.length++;
  }

  value(i: number): T {
    return (this.values as unknown as ArrayLike<T>)[i];
  }

  /** Marks points up to `index` (exclusive) acknowledged. Indices stay valid until `compact()`. */
  commit(index: number): void {
    this.committed = Math.max(this.committed, index);
  }

  /** Drops acknowledged points. Call only when no batch plan holds indices into this buffer. */
  compact(): void {
    if (this.committed === 0) return;
    if (this.committed === this.length) {
      this.length = 0;
      this.committed = 0;
      if (!(this.values instanceof Float64Array)) (this.values as string[]).length = 0;
      return;
    }
    if (this.committed > 4096 && this.committed * 2 > this.length) this.shift();
  }

  private shift(): void {
    const c = this.committed;
    this.steps.copyWithin(0, c, this.length);
    this.times.copyWithin(0, c, this.length);
    if (this.values instanceof Float64Array) this.values.copyWithin(0, c, this.length);
    else (this.values as string[]).splice(0, c);
    this.length -= c;
    this.committed = 0;
  }

  private grow(): void {
    const cap = Math.max(64, this.steps.length * 2);
    const s = new Float64Array(cap);
    s.set(this.steps);
    this.steps = s;
    const t = new Float64Array(cap);
    t.set(this.times);
    this.times = t;
    if (this.values instanceof Float64Array) {
      const v = new Float64Array(cap);
      v.set(this.values);
      this.values = v as SeriesBuffer<T>['values'];
    }
  }
}
