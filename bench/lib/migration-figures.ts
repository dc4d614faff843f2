/** Figures of one CLI migration, from its `--json` report line and the emulators' own counters. */
import type { NeptuneStats } from '../../emulators/neptune/index.ts';
import type { EmulatorStats } from '../../emulators/wandb/index.ts';
import type { CliRun } from './children.ts';

interface ReportLine {
  type: 'report';
  report: { totals?: Record<string, number> };
  requests: { source?: Record<string, number>; target: Record<string, number> };
}

export function migrationFigures(cli: CliRun, before: EmulatorStats, after: EmulatorStats, neptune: NeptuneStats) {
  const report = cli.lines.find((l): l is ReportLine => (l as { type?: string }).type === 'report');
  if (cli.code !== 0 || !report) {
    // Shown, not thrown: a failed migration is a figure too, but the reason must be visible.
    console.error(`migration exit code ${cli.code}; stderr tail:\n${cli.stderr.slice(-2000)}`);
  }
  return {
    exitCode: cli.code,
    peakRssBytes: cli.peakRssBytes,
    totals: report?.report.totals,
    productRequests: report?.requests,
    pointsWritten: report?.requests.target.points,
    wandbRequests: after.requests - before.requests,
    wandbGraphql: after.graphql - before.graphql,
    wandbDownloads: after.downloads - before.downloads,
    wandb429: after.status429 - before.status429,
    wandbByOperation: Object.fromEntries(Object.entries(after.byOperation).map(([k, v]) => [k, v - (before.byOperation[k] ?? 0)]).filter(([, v]) => (v as number) > 0)),
    neptuneRequests: neptune.requests,
    neptuneByEndpoint: neptune.byEndpoint,
    neptune429: neptune.status429,
  };
}
