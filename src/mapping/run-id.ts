import { createHash } from 'node:crypto';
import { PROTOCOL_A_CAPABILITIES, type TargetCapabilities } from './capabilities.ts';

type RunIdLimit = Pick<TargetCapabilities, 'customRunIdLength' | 'customRunIdUnit'>;

const sizeOf = (s: string, unit: RunIdLimit['customRunIdUnit']) => (unit === 'bytes' ? Buffer.byteLength(s, 'utf8') : s.length);

/**
 * W&B run id → Neptune custom run id (mapping.md, `run.id`). W&B's generated ids (8 characters) pass
 * unchanged, and so does any id within the target's limit (A: 36 characters; B: 128 bytes). A longer
 * user-chosen id is shortened deterministically — a prefix and a hash of the whole id — so every
 * migration of that run still reaches the same Neptune run; the full id stays in `wandb/run_id`.
 */
export function neptuneCustomRunId(runId: string, limit: RunIdLimit = PROTOCOL_A_CAPABILITIES): string {
  const max = limit.customRunIdLength;
  if (sizeOf(runId, limit.customRunIdUnit) <= max) return runId;
  const hash = createHash('sha256').update(runId).digest('hex').slice(0, 12);
  if (limit.customRunIdUnit === 'chars') return `${runId.slice(0, max - hash.length - 1)}~${hash}`;
  // Bytes: whole code points only, so the prefix stays valid UTF-8.
  const prefix = Array.from(runId);
  while (prefix.length && sizeOf(`${prefix.join('')}~${hash}`, 'bytes') > max) prefix.pop();
  return `${prefix.join('')}~${hash}`;
}
