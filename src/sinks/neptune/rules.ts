import type { AtomValue, Omission, OmissionReason } from '../../core/target.ts';
import type { NeptuneLimits } from './limits.ts';

/** Neptune attribute types (AttributeTypeDTO names). */
export type FieldType =
  | 'string'
  | 'int'
  | 'float'
  | 'bool'
  | 'datetime'
  | 'stringSet'
  | 'floatSeries'
  | 'stringSeries'
  | 'file'
  | 'fileSet'
  | (string & {});

export interface Violation {
  reason: OmissionReason;
  detail: string;
}

export const INT32_MIN = -(2 ** 31);
export const INT32_MAX = 2 ** 31 - 1;

/** Server-managed `sys/*` fields a client may not write (sys/name, sys/description, sys/tags, sys/group_tags, sys/failed are writable). */
export const READ_ONLY_SYS = new Set([
  'sys/id', 'sys/custom_run_id', 'sys/creation_time', 'sys/modification_time', 'sys/state', 'sys/owner',
  'sys/ping_time', 'sys/running_time', 'sys/monitoring_time', 'sys/size', 'sys/trashed',
]);

/** Length in characters (code points) as Python counts them; UTF-16 length is an upper bound, so only count when it matters. */
export function charLength(s: string, max: number): number {
  return s.length <= max ? s.length : [...s].length;
}

export function omission(path: string, v: Violation, count = 1): Omission {
  return { reason: v.reason, subject: path, count, detail: v.detail };
}

/** Path rules: `/`-separated, no empty segment (so no leading/trailing/double slash), bounded UTF-8 length. */
export function checkPath(path: string, limits: NeptuneLimits): Violation | undefined {
  if (!path) return { reason: 'invalid-path', detail: 'empty path' };
  if (path.startsWith('/') || path.endsWith('/')) return { reason: 'invalid-path', detail: 'leading or trailing "/"' };
  if (path.split('/').some((s) => s.length === 0)) return { reason: 'invalid-path', detail: 'empty path segment ("//")' };
  if (path.split('/').some((s) => s.trim().length === 0)) return { reason: 'invalid-path', detail: 'blank path segment' };
  const bytes = Buffer.byteLength(path, 'utf8');
  if (bytes > limits.maxPathBytes) return { reason: 'invalid-path', detail: `path is ${bytes} bytes (max ${limits.maxPathBytes})` };
  if (/[\u0000-\u001f]/.test(path)) return { reason: 'invalid-path', detail: 'control character in path' };
  if (READ_ONLY_SYS.has(path)) return { reason: 'invalid-path', detail: 'read-only system field' };
  return undefined;
}

/**
 * A point's or datetime's milliseconds, as the server takes them: `timestampMilliseconds` is an
 * int64 in the served specs, and only integers within ±2^53 survive JSON exactly (the emulator, like
 * a strict server, refuses the whole operation otherwise). Rounded to an integer before sending.
 */
export function checkTimestamp(ms: number, what = 'timestamp'): Violation | undefined {
  if (!Number.isFinite(ms)) return { reason: 'non-finite', detail: `${what} is not a finite number of ms` };
  if (Math.abs(Math.round(ms)) > Number.MAX_SAFE_INTEGER) {
    return { reason: 'int-out-of-range', detail: `${what} ${ms} ms is outside the integers the server takes (±2^53)` };
  }
  return undefined;
}

export function atomFieldType(value: AtomValue): FieldType {
  return value.type;
}

/** Rules for one atom value, applied before anything is sent. */
export function checkAtom(value: AtomValue, limits: NeptuneLimits): Violation | undefined {
  switch (value.type) {
    case 'int':
      // Only an int64 target gets a bigint (mapping/values.ts); A holds int32.
      if (typeof value.value === 'bigint') return { reason: 'int-out-of-range', detail: `${value.value} is outside int32` };
      if (!Number.isInteger(value.value)) return { reason: 'int-out-of-range', detail: `${value.value} is not an integer` };
      if (value.value < INT32_MIN || value.value > INT32_MAX)
        return { reason: 'int-out-of-range', detail: `${value.value} is outside int32` };
      return undefined;
    case 'float':
      return Number.isFinite(value.value) ? undefined : { reason: 'non-finite', detail: `${value.value} cannot be sent as JSON` };
    case 'datetime':
      return checkTimestamp(value.value, 'datetime');
    case 'string':
      return charLength(value.value, limits.maxStringLength) > limits.maxStringLength
        ? { reason: 'too-large', detail: `string of ${charLength(value.value, Infinity)} characters (max ${limits.maxStringLength})` }
        : undefined;
    case 'stringSet': {
      const long = value.values.find((s) => charLength(s, limits.maxStringLength) > limits.maxStringLength);
      return long !== undefined
        ? { reason: 'too-large', detail: `set entry of ${charLength(long, Infinity)} characters (max ${limits.maxStringLength})` }
        : undefined;
    }
    case 'bool':
      return undefined;
  }
}

/**
 * Distinct fields of one container and their types, including what the server already holds, so the
 * 9000-field cap and "a field keeps its type" are checked before sending.
 */
export class FieldRegistry {
  private readonly types = new Map<string, FieldType>();

  constructor(private readonly maxFields: number) {}

  get size(): number {
    return this.types.size;
  }

  typeOf(path: string): FieldType | undefined {
    return this.types.get(path);
  }

  /** Records fields read back from the server (not subject to the cap: they exist already). */
  seed(fields: Iterable<[string, FieldType]>): void {
    for (const [p, t] of fields) this.types.set(p, t);
  }

  /** Would a write of `type` to `path` be allowed? Does not record it. */
  check(path: string, type: FieldType): Violation | undefined {
    const known = this.types.get(path);
    if (known !== undefined) {
      return known === type ? undefined : { reason: 'invalid-path', detail: `field already holds type ${known}, not ${type}` };
    }
    if (this.types.size >= this.maxFields) {
      return { reason: 'field-limit', detail: `run already has ${this.types.size} fields (max ${this.maxFields})` };
    }
    return undefined;
  }

  /** Forgets a field the writer deleted (its path takes any type again). */
  remove(path: string): void {
    this.types.delete(path);
  }

  /** Records a field once at least one value for it was accepted. */
  add(path: string, type: FieldType): void {
    this.types.set(path, type);
  }
}

/**
 * Last step per series: what the server reported (`serverLast`) and what this writer accepted since.
 * Steps must be strictly increasing; points at or below the server's last step are already stored.
 */
export class StepTracker {
  private readonly last = new Map<string, number>();
  private readonly server = new Map<string, number>();

  seedServer(path: string, step: number): void {
    this.server.set(path, step);
    const mine = this.last.get(path);
    if (mine === undefined || step > mine) this.last.set(path, step);
  }

  serverLast(path: string): number | undefined {
    return this.server.get(path);
  }

  lastAccepted(path: string): number | undefined {
    return this.last.get(path);
  }

  /**
   * 'ok' | 'present' (at/below what the server held at load) | 'not-increasing'.
   * Only 'ok' moves the tracker forward.
   */
  classify(path: string, step: number): 'ok' | 'present' | 'not-increasing' {
    const last = this.last.get(path);
    if (last === undefined || step > last) {
      this.last.set(path, step);
      return 'ok';
    }
    const s = this.server.get(path);
    return s !== undefined && step <= s ? 'present' : 'not-increasing';
  }
}
