import { createHash, type Hash } from 'node:crypto';

export interface DigestPoint {
  step: number;
  timestampMs: number;
  value: number | string;
}

/** The text one point contributes to a checksum: the same on both sides for the same point. */
export function pointText(p: DigestPoint): string {
  return `${p.step}\t${p.timestampMs}\t${JSON.stringify(p.value)}\n`;
}

/** Whether two points are the same point (step, timestamp and value). */
export function samePoint(a: DigestPoint, b: DigestPoint): boolean {
  return a.step === b.step && a.timestampMs === b.timestampMs && a.value === b.value;
}

export interface SeriesSummary {
  count: number;
  firstStep?: number;
  lastStep?: number;
  /** sha256 over every point's text, in step order. */
  checksum: string;
}

/**
 * A series seen one point at a time, in step order: its count, first and last step and a checksum
 * over (step, timestamp, value). Constant memory, however long the series.
 */
export class SeriesDigest {
  private readonly hash: Hash = createHash('sha256');
  count = 0;
  firstStep?: number;
  lastStep?: number;

  add(p: DigestPoint): void {
    this.count++;
    this.firstStep ??= p.step;
    this.lastStep = p.step;
    this.hash.update(pointText(p));
  }

  summary(): SeriesSummary {
    return { count: this.count, firstStep: this.firstStep, lastStep: this.lastStep, checksum: this.hash.copy().digest('hex') };
  }
}

export function sameSummary(a: SeriesSummary, b: SeriesSummary): boolean {
  return a.count === b.count && a.firstStep === b.firstStep && a.lastStep === b.lastStep && a.checksum === b.checksum;
}
