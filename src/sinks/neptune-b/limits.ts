import type { AtomValue, OmissionReason } from '../../core/target.ts';

/** Protocol B limits (neptune-api.md §3.8; neptune-query `ingest.proto` IngestCode comments). */
export const B_LIMITS = {
  pathBytes: 1024,
  stringBytes: 1024 * 1024,
  stringSetBytes: 1024 * 1024,
  /** Steps: 0 ≤ step < 1e12 (SERIES_STEP_TOO_LARGE). */
  maxStep: 1e12,
  /** Datetimes: 1900-01-01 … 2299-12-31 (DATETIME_VALUE_OUT_OF_RANGE). */
  minDatetimeMs: Date.UTC(1900, 0, 1),
  maxDatetimeMs: Date.UTC(2300, 0, 1) - 1,
} as const;

/**
 * `sys/` paths the migration writes and B lets clients set (neptune-scale writes `sys/name` through
 * experiment_name, Neptune's own 3.x migrator `sys/description`, tags and group tags via modify_sets).
 */
const WRITABLE_SYS = new Set(['sys/name', 'sys/description', 'sys/tags', 'sys/group_tags']);

export interface Refusal {
  reason: OmissionReason;
  detail: string;
}

export function checkPath(path: string): Refusal | undefined {
  if (!path) return { reason: 'invalid-path', detail: 'empty path' };
  if (Buffer.byteLength(path, 'utf8') > B_LIMITS.pathBytes) return { reason: 'invalid-path', detail: `path longer than ${B_LIMITS.pathBytes} bytes` };
  if (path.startsWith('sys/') && !WRITABLE_SYS.has(path)) return { reason: 'invalid-path', detail: 'sys/ fields are set by Neptune' };
  return undefined;
}

export function checkDatetime(ms: number): Refusal | undefined {
  if (!Number.isFinite(ms) || ms < B_LIMITS.minDatetimeMs || ms > B_LIMITS.maxDatetimeMs) {
    return { reason: 'unsupported-value', detail: 'datetime outside 1900-01-01 … 2299-12-31' };
  }
  return undefined;
}

export function checkAtom(v: AtomValue, nonFinite: 'drop' | 'send'): Refusal | undefined {
  switch (v.type) {
    case 'string':
      return Buffer.byteLength(v.value, 'utf8') > B_LIMITS.stringBytes ? { reason: 'too-large', detail: 'string longer than 1 MiB' } : undefined;
    case 'stringSet': {
      const bytes = v.values.reduce((n, s) => n + Buffer.byteLength(s, 'utf8'), 0);
      return bytes > B_LIMITS.stringSetBytes ? { reason: 'too-large', detail: 'string set larger than 1 MiB' } : undefined;
    }
    case 'float':
      return !Number.isFinite(v.value) && nonFinite === 'drop' ? { reason: 'non-finite', detail: 'NaN/±Infinity (--nan drop)' } : undefined;
    case 'int':
      if (typeof v.value === 'bigint') return BigInt.asIntN(64, v.value) === v.value ? undefined : { reason: 'int-out-of-range', detail: 'outside int64' };
      return Number.isSafeInteger(v.value) ? undefined : { reason: 'int-out-of-range', detail: 'not an exact integer' };
    case 'datetime':
      return checkDatetime(v.value);
    case 'bool':
      return undefined;
  }
}

export function checkStep(step: number): Refusal | undefined {
  if (!Number.isFinite(step) || step < 0 || step >= B_LIMITS.maxStep) return { reason: 'unsupported-value', detail: 'step outside 0 ≤ step < 1e12' };
  return undefined;
}
