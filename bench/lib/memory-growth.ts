/**
 * Whether the migration's memory grows with the run count (issue 13 (c)): the heap left after each full
 * collection (what is still reachable) and the RSS (what the allocator keeps), each placed against the
 * runs finished at that moment, and compared between the first and the last tenth of the runs, with the
 * least-squares slope in bytes per run over the runs after the first tenth (the first tenth is warm-up:
 * pools, caches and compiled code filling once).
 */

/** [epoch ms, runs finished so far] at each change; flat memory samples are [epoch ms, bytes, …]. */
export type Progress = ReadonlyArray<readonly [ms: number, runs: number]>;

export interface SeriesGrowth {
  samples: number;
  /** Median of the samples taken while the first tenth of the runs were finishing (MB). */
  firstTenthMb?: number;
  /** Median over the last tenth of the runs (MB). */
  lastTenthMb?: number;
  /** Least-squares slope over the runs after the first tenth (bytes per run). */
  slopeBytesPerRun?: number;
}

export interface MemoryGrowth {
  liveHeapAfterFullGc: SeriesGrowth;
  rss: SeriesGrowth;
}

/** Runs finished at `ms`: the last progress point at or before it (progress is in time order). */
export function runsAt(progress: Progress, ms: number): number {
  let lo = 0;
  let hi = progress.length - 1;
  let found = 0;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (progress[mid][0] <= ms) {
      found = progress[mid][1];
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

const median = (xs: number[]): number | undefined => {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const toMb = (b: number | undefined) => (b === undefined ? undefined : +(b / 1048576).toFixed(1));

/** Slope of y over x by least squares; undefined with fewer than two distinct x. */
export function slope(points: ReadonlyArray<readonly [x: number, y: number]>): number | undefined {
  const n = points.length;
  if (n < 2) return undefined;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (const [x, y] of points) {
    sxx += (x - mx) ** 2;
    sxy += (x - mx) * (y - my);
  }
  return sxx === 0 ? undefined : sxy / sxx;
}

/** `flat`: [epoch ms, bytes, …] with `stride` numbers per sample (the bytes second). */
export function seriesGrowth(flat: readonly number[], stride: number, progress: Progress, runs: number): SeriesGrowth {
  const points: Array<[number, number]> = [];
  for (let i = 0; i + 1 < flat.length; i += stride) points.push([runsAt(progress, flat[i]), flat[i + 1]]);
  // Before the first run finished the process is still starting (modules, listing's first pages).
  const during = points.filter(([r]) => r > 0);
  const tenth = runs / 10;
  const s = slope(during.filter(([r]) => r > tenth));
  return {
    samples: during.length,
    firstTenthMb: toMb(median(during.filter(([r]) => r <= tenth).map(([, y]) => y))),
    lastTenthMb: toMb(median(during.filter(([r]) => r >= runs - tenth).map(([, y]) => y))),
    slopeBytesPerRun: s === undefined ? undefined : Math.round(s),
  };
}

export function memoryGrowth(samples: { afterFullGc: readonly number[]; rss: readonly number[] }, progress: Progress, runs: number): MemoryGrowth {
  return { liveHeapAfterFullGc: seriesGrowth(samples.afterFullGc, 3, progress, runs), rss: seriesGrowth(samples.rss, 2, progress, runs) };
}
