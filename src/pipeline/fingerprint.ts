import { createHash } from 'node:crypto';
import type { RunInfo } from '../core/records.ts';

/**
 * What a run looked like when it was migrated. A finished run whose fingerprint is unchanged is
 * skipped without a single request to the target; any change (new steps, a new summary, new files,
 * a rename, a file saved after the run ended) brings it up to date incrementally.
 */
export function runFingerprint(run: RunInfo): string {
  const h = createHash('sha256');
  h.update(
    JSON.stringify([
      run.lastStep ?? null,
      run.historyLineCount ?? null,
      run.state ?? null,
      run.heartbeatAt ?? null,
      run.displayName ?? null,
      run.notes ?? null,
      run.tags,
      run.group ?? null,
      run.extra ?? null,
    ]),
  );
  h.update(stableJson(run.config));
  h.update(stableJson(run.summary));
  // A file saved to a finished run (`run.upload_file`, `wandb.save` after a resume) changes only this.
  if (run.fileCount !== undefined) h.update(`files:${run.fileCount}`);
  return h.digest('hex').slice(0, 32);
}

function stableJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
    if (typeof v === 'bigint') return v.toString();
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    return v;
  });
}
