import type { AtomValue, Omission } from '../core/target.ts';

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/** A W&B media/table value: an object with a `_type` (image-file, histogram, table-file, …). */
export function mediaType(value: unknown): string | undefined {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const t = (value as Record<string, unknown>)._type;
    if (typeof t === 'string') return t;
  }
  return undefined;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return !!value && typeof value === 'object' && !Array.isArray(value) && mediaType(value) === undefined;
}

/** W&B's extended JSON text for values Neptune atoms cannot hold (lists, null, NaN). */
export function jsonText(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (typeof v === 'number' && !Number.isFinite(v)) return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
    if (typeof v === 'bigint') return v.toString();
    return v;
  });
}

/**
 * A config or summary leaf as a Neptune atom (mapping.md, `run.config` row): int/float/bool/str keep
 * their type (ints within the target's range: int32 for A, int64 for B, beyond 2^53 as a `bigint`);
 * an int beyond it becomes a float when that loses nothing, else a string of all its digits; lists,
 * null, NaN/±Infinity and other values become their JSON text. Sources hand integers that do not fit
 * a double as `bigint` (see extended-json); a `number` is already a double, so one beyond the range
 * (`1e308`, `2**40` under A) is a float as it stands.
 */
export function toAtom(value: unknown, intRange: 'int32' | 'int64' = 'int32'): AtomValue {
  switch (typeof value) {
    case 'string':
      return { type: 'string', value };
    case 'boolean':
      return { type: 'bool', value };
    case 'bigint':
      if (BigInt(Number(value)) === value) return toAtom(Number(value), intRange);
      // Every digit kept: an int64 target holds it as it is, else its text.
      return intRange === 'int64' && BigInt.asIntN(64, value) === value ? { type: 'int', value } : { type: 'string', value: value.toString() };
    case 'number':
      if (!Number.isFinite(value)) return { type: 'string', value: String(value) };
      if (Number.isInteger(value) && (intRange === 'int64' ? Number.isSafeInteger(value) : value >= INT32_MIN && value <= INT32_MAX)) return { type: 'int', value };
      return { type: 'float', value };
    default:
      return { type: 'string', value: jsonText(value ?? null) };
  }
}

/** Adds `count` to the omission line for (reason, subject), keeping the list short. */
export function addOmission(list: Omission[], o: Omission): void {
  const same = list.find((x) => x.reason === o.reason && x.subject === o.subject);
  if (same) same.count += o.count;
  else list.push({ ...o });
}
