/** The figures every scenario prints: throughput, requests per run by kind, 429s, CPU, memory. */
import type { CliRun } from './children.ts';
import type { MemoryGrowth, SeriesGrowth, TenthFigures } from './memory-growth.ts';
import type { migrationFigures } from './migration-figures.ts';
import { mb, type Row } from './table.ts';

type Figures = ReturnType<typeof migrationFigures>;

/** CPU seconds of the migration process per million points it wrote (undefined without points). */
export function cpuPerMillion(cli: CliRun, points: number | undefined): number | undefined {
  return points ? cli.cpuSeconds / (points / 1e6) : undefined;
}

export function figureRows(cli: CliRun, m: Figures, runs: number): Row[] {
  const perRun = (n: number) => +(n / runs).toFixed(2);
  const byKind = (o: Record<string, number>) => Object.entries(o).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k} ${perRun(v)}`).join(', ') || '-';
  const cpm = cpuPerMillion(cli, m.pointsWritten);
  return [
    ['exit code', cli.code],
    ['runs', runs],
    ['wall time (s, incl. process start; machine shared)', +cli.seconds.toFixed(1)],
    ['runs/min', +(runs / (cli.seconds / 60)).toFixed(1)],
    ['client CPU (s, user+system, process.cpuUsage)', +cli.cpuSeconds.toFixed(2)],
    ['points written', m.pointsWritten ?? 0],
    ['client CPU per million points (s)', cpm === undefined ? '-' : +cpm.toFixed(2)],
    ['peak RSS (MB)', mb(cli.peakRssBytes)],
    ['W&B requests per run', perRun(m.wandbRequests)],
    ['  GraphQL per run', perRun(m.wandbGraphql)],
    ['    by operation', byKind(m.wandbByOperation)],
    ['  downloads per run', perRun(m.wandbDownloads)],
    ['W&B 429s', m.wandb429],
    ['Neptune requests per run', perRun(m.neptuneRequests)],
    ['  by endpoint', byKind(m.neptuneByEndpoint)],
    ['Neptune 429s', m.neptune429],
    ['node flags of the migration process', cli.execArgv.join(' ') || '(none)'],
  ];
}

/** Memory against the run count: first and last tenth of the runs, the slope past the first tenth, and each tenth's medians. */
export function growthRows(g: MemoryGrowth & { byTenth?: TenthFigures[] }, prefix = ''): Row[] {
  const show = (s: SeriesGrowth) => (s.samples === 0 ? '- (no samples)' : `${s.firstTenthMb ?? '-'} -> ${s.lastTenthMb ?? '-'} MB, ${s.slopeBytesPerRun ?? '-'} B/run (${s.samples} samples)`);
  const tenths = (pick: (t: TenthFigures) => number | undefined) => g.byTenth?.map((t) => (pick(t) === undefined ? '-' : pick(t)!.toFixed(1))).join(' ') ?? '-';
  return [
    [`${prefix}live heap after full GC, first -> last tenth of runs`, show(g.liveHeapAfterFullGc)],
    [`${prefix}RSS, first -> last tenth of runs`, show(g.rss)],
    ...(prefix ? [] : ([
      ['  by tenth of runs (MB): live heap', tenths((t) => t.liveHeapMb)],
      ['    V8 heap committed', tenths((t) => t.heapCommittedMb)],
      ['    external (buffers)', tenths((t) => t.externalMb)],
      ['    RSS', tenths((t) => t.rssMb)],
    ] as Row[])),
  ];
}
