import { formatBytes } from '../pipeline/report.ts';

const n = (v: number | undefined) => (v ?? 0).toLocaleString('en-US');

/** The request counts of both ends, for people (`--json` keeps the raw numbers). */
export function formatRequests(requests: { source?: Record<string, number>; target: Record<string, number> }, dryRun: boolean): string {
  const s = requests.source;
  const source = s
    ? `W&B ${n((s.apiRequests ?? 0) + (s.storageRequests ?? 0))} (API ${n(s.apiRequests)}, storage ${n(s.storageRequests)}${s.rateLimited ? `, ${n(s.rateLimited)} rate-limited` : ''})`
    : 'W&B none (run folders on disk)';
  const t = requests.target;
  const target = dryRun
    ? 'Neptune: none (dry run)'
    : `Neptune ${n(t.requests)} (${n(t.batches)} batches, ${formatBytes(t.bytes ?? 0)} sent` +
      `${t.failedAttempts ? `, ${n(t.failedAttempts)} failed attempts retried` : ''}${t.rateLimited ? `, ${n(t.rateLimited)} rate-limited` : ''}` +
      `${t.tokenRefreshes ? `, ${n(t.tokenRefreshes)} token refreshes` : ''})`;
  return `requests: ${source}; ${target}`;
}
