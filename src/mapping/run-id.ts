import { createHash } from 'node:crypto';

/** Protocol A keeps at most 36 characters of a custom run id (neptune-client 1.x `limits.py`). */
export const CUSTOM_RUN_ID_LIMIT = 36;

/**
 * W&B run id → Neptune custom run id (mapping.md, `run.id`). W&B's generated ids (8 characters) pass
 * unchanged. A user-chosen id longer than Neptune keeps is shortened deterministically — a prefix and
 * a hash of the whole id — so every migration of that run still reaches the same Neptune run; the
 * full id stays in `wandb/run_id`.
 */
export function neptuneCustomRunId(runId: string, limit = CUSTOM_RUN_ID_LIMIT): string {
  if (runId.length <= limit) return runId;
  const hash = createHash('sha256').update(runId).digest('hex').slice(0, 12);
  return `${runId.slice(0, limit - hash.length - 1)}~${hash}`;
}
