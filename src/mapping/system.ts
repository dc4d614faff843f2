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
): { points: Array<{ path: string; point: SeriesPoint<number> }>; nonFinite: number } {
  const points: Array<{ path: string; point: SeriesPoint<number> }> = [];
  let nonFinite = 0;
  const ts = Math.round(sample.timestamp * 1000);
  for (const [key, value] of Object.entries(sample.values)) {
    if (typeof value !== 'number' || (!Number.isFinite(value) && nonFiniteValues === 'drop')) {
      nonFinite++;
      continue;
    }
    points.push({ path: monitoringPath(key), point: { step, timestampMs: ts, value } });
  }
  return { points, nonFinite };
}
