import { createHash } from 'node:crypto';
import { PROTOCOL_A_LIMITS } from '../core/target.ts';

/**
 * W&B run id → Neptune custom run id (mapping.md, `run.id`). W&B's generated ids (8 characters) pass
 * unchanged. A user-chosen id longer than Neptune keeps is shortened deterministically — a prefix and
 * a hash of the whole id — so every migration of that run still reaches the same Neptune run; the
 * full id stays in `wandb/run_id`.
 */
export function neptuneCustomRunId(runId: string, limit = PROTOCOL_A_LIMITS.customRunIdLength): string {
  if (runId.length <= limit) return runId;
  const hash = createHash('sha256').update(runId).digest('hex').slice(0, 12);
  return `${runId.slice(0, limit - hash.length - 1)}~${hash}`;
}
