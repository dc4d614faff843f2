import type { SystemSample } from '../core/records.ts';
import type { SeriesPoint } from '../core/target.ts';

/**
 * A system-metrics sample → `monitoring/<key without "system.">` points. The step is the sample's
 * runtime in seconds (else seconds since the first sample): it depends on the sample alone, not on
 * its position, so a second migration — even one that got a differently sampled set — never sends a
 * point twice, and steps stay strictly increasing.
 */
export function systemStep(sample: SystemSample, firstTimestamp: number): number {
  if (sample.runtime !== undefined && Number.isFinite(sample.runtime)) return sample.runtime;
  return Math.round((sample.timestamp - firstTimestamp) * 1000) / 1000;
}

export function monitoringPath(key: string): string {
  const bare = key.startsWith('system.') ? key.slice('system.'.length) : key;
  return `monitoring/${bare.split('/').map((s) => s || '_').join('/')}`;
}

export function mapSystemSample(
  sample: SystemSample,
  step: number,
  /** The target's NaN/±Infinity choice (capabilities): dropped and counted, or sent. */
  nonFiniteValues: 'drop' | 'send' = 'drop',
): { points: Array<{ path: string; point: SeriesPoint<number> }>; nonFinite: number; unsupported: Array<{ path: string; value: string }> } {
  const points: Array<{ path: string; point: SeriesPoint<number> }> = [];
  let nonFinite = 0;
  // A value that is not a number has no float series to go to: one report line per metric.
  const unsupported = Object.entries(sample.unsupported ?? {}).map(([key, value]) => ({ path: monitoringPath(key), value }));
  const ts = Math.round(sample.timestamp * 1000);
  for (const [key, value] of Object.entries(sample.values)) {
    if (typeof value !== 'number' || (!Number.isFinite(value) && nonFiniteValues === 'drop')) {
      nonFinite++;
      continue;
    }
    points.push({ path: monitoringPath(key), point: { step, timestampMs: ts, value } });
  }
  return { points, nonFinite, unsupported };
}

/**
 * Neptune wants each series' steps to increase, series by series. wandb-core (SDK ≥ 0.18) writes one
 * stats record per collector, and records of different collectors can carry timestamps a few µs out
 * of order: a sample may step back for some series and not for others. Points that do not step
 * forward in their own series are held back and counted per path; the others go.
 */
export class SeriesStepGuard {
  private readonly last = new Map<string, number>();

  accept<P extends { path: string; point: { step: number } }>(points: readonly P[]): { kept: P[]; backward: Map<string, number> } {
    const kept: P[] = [];
    const backward = new Map<string, number>();
    for (const p of points) {
      const last = this.last.get(p.path);
      if (last !== undefined && p.point.step <= last) {
        backward.set(p.path, (backward.get(p.path) ?? 0) + 1);
        continue;
      }
      this.last.set(p.path, p.point.step);
      kept.push(p);
    }
    return { kept, backward };
  }
}
