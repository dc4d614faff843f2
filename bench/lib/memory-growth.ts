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

/** [runs finished, value] of column `column` of `flat` ([epoch ms, v1, v2, …], `stride` numbers a sample), after the first run finished (before, the process is still starting). */
function placed(flat: readonly number[], stride: number, column: number, progress: Progress): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let i = 0; i + stride <= flat.length; i += stride) out.push([runsAt(progress, flat[i]), flat[i + column]]);
  return out.filter(([r]) => r > 0);
}

/** Median (MB) of the values placed in the runs (from, to]. */
const medianIn = (points: ReadonlyArray<readonly [number, number]>, from: number, to: number) => toMb(median(points.filter(([r]) => r > from && r <= to).map(([, y]) => y)));

export function seriesGrowth(during: ReadonlyArray<readonly [number, number]>, runs: number): SeriesGrowth {
  const tenth = runs / 10;
  const s = slope(during.filter(([r]) => r > tenth));
  return {
    samples: during.length,
    firstTenthMb: medianIn(during, 0, tenth),
    lastTenthMb: medianIn(during, runs - tenth, runs),
    slopeBytesPerRun: s === undefined ? undefined : Math.round(s),
  };
}

/** Flat samples of usage-probe.mjs: after each full GC [ms, heapUsed, external]; each second [ms, rss, heapTotal, external]. */
export interface ProbeSamples {
  afterFullGc: readonly number[];
  rss: readonly number[];
}

export function memoryGrowth(samples: ProbeSamples, progress: Progress, runs: number): MemoryGrowth & { byTenth: TenthFigures[] } {
  const live = placed(samples.afterFullGc, 3, 1, progress);
  const rss = placed(samples.rss, 4, 1, progress);
  const heapTotal = placed(samples.rss, 4, 2, progress);
  const external = placed(samples.rss, 4, 3, progress);
  const byTenth = Array.from({ length: 10 }, (_, k): TenthFigures => {
    const [from, to] = [(k * runs) / 10, ((k + 1) * runs) / 10];
    return { runs: Math.round(to), liveHeapMb: medianIn(live, from, to), rssMb: medianIn(rss, from, to), heapCommittedMb: medianIn(heapTotal, from, to), externalMb: medianIn(external, from, to) };
  });
  return { liveHeapAfterFullGc: seriesGrowth(live, runs), rss: seriesGrowth(rss, runs), byTenth };
}

/** Medians over one tenth of the runs (up to `runs` finished): the memory over the migration. */
export interface TenthFigures {
  runs: number;
  liveHeapMb?: number;
  rssMb?: number;
  /** V8's heap as committed (heapTotal). */
  heapCommittedMb?: number;
  /** Memory outside V8's heap that V8 knows of (buffers). */
  externalMb?: number;
}
