import { formatBytes } from '../pipeline/report.ts';

const n = (v: number | undefined) => (v ?? 0).toLocaleString('en-US');

/**
 * What carried the data: Protocol A's `executeOperations` batches, or Protocol B's ingest requests and
 * the status checks that waited for them (B has no batches: showing "0 batches" read as nothing sent).
 */
function writes(t: Record<string, number>): string {
  if (t.ingestRequests !== undefined) return `${n(t.ingestRequests)} ingest requests, ${n(t.statusChecks)} status checks`;
  return `${n(t.batches)} batches`;
}

/** The request counts of both ends, for people (`--json` keeps the raw numbers). */
export function formatRequests(requests: { source?: Record<string, number>; target: Record<string, number> }, dryRun: boolean): string {
  const s = requests.source;
  const source = s
    ? `W&B ${n((s.apiRequests ?? 0) + (s.storageRequests ?? 0))} (API ${n(s.apiRequests)}, storage ${n(s.storageRequests)}${s.rateLimited ? `, ${n(s.rateLimited)} rate-limited` : ''})`
    : 'W&B none (run folders on disk)';
  const t = requests.target;
  const target = dryRun
    ? t.requests ? `Neptune ${n(t.requests)} (asked which protocol it speaks; nothing written: dry run)` : 'Neptune: none (dry run)'
    : `Neptune ${n(t.requests)} (${writes(t)}, ${formatBytes(t.bytes ?? 0)} sent` +
      `${t.failedAttempts ? `, ${n(t.failedAttempts)} failed attempts retried` : ''}${t.rateLimited ? `, ${n(t.rateLimited)} rate-limited` : ''}` +
      `${t.tokenRefreshes ? `, ${n(t.tokenRefreshes)} token refreshes` : ''})`;
  return `requests: ${source}; ${target}`;
}
