/** Figures of one CLI migration, from its `--json` report line and the emulators' own counters. */
import type { NeptuneStats } from '../../emulators/neptune/index.ts';
import type { EmulatorStats } from '../../emulators/wandb/index.ts';
import type { CliRun } from './children.ts';

interface ReportLine {
  type: 'report';
  report: { totals?: Record<string, number> };
  requests: { source?: Record<string, number>; target: Record<string, number> };
}

const ZERO: Pick<NeptuneStats, 'requests' | 'byEndpoint' | 'status429'> = { requests: 0, byEndpoint: {}, status429: 0 };

/** Counter differences (after − before), without the zeros. */
function delta(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]).filter(([, v]) => (v as number) > 0));
}

/** `neptuneBefore`: the Neptune emulator's counters before this migration (zero for a fresh emulator). */
export function migrationFigures(cli: CliRun, before: EmulatorStats, after: EmulatorStats, neptune: NeptuneStats, neptuneBefore: Pick<NeptuneStats, 'requests' | 'byEndpoint' | 'status429'> = ZERO) {
  const report = cli.lines.find((l): l is ReportLine => (l as { type?: string }).type === 'report');
  if (cli.code !== 0 || !report) {
    // Shown, not thrown: a failed migration is a figure too, but the reason must be visible.
    console.error(`migration exit code ${cli.code}; stderr tail:\n${cli.stderr.slice(-2000)}`);
  }
  return {
    exitCode: cli.code,
    peakRssBytes: cli.peakRssBytes,
    cpuSeconds: cli.cpuSeconds,
    totals: report?.report.totals,
    productRequests: report?.requests,
    pointsWritten: report?.requests.target.points,
    wandbRequests: after.requests - before.requests,
    wandbGraphql: after.graphql - before.graphql,
    wandbDownloads: after.downloads - before.downloads,
    wandb429: after.status429 - before.status429,
    wandbByOperation: delta(after.byOperation, before.byOperation),
    neptuneRequests: neptune.requests - neptuneBefore.requests,
    neptuneByEndpoint: delta(neptune.byEndpoint, neptuneBefore.byEndpoint),
    neptune429: neptune.status429 - neptuneBefore.status429,
  };
}
