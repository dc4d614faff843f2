import type { AtomValue } from '../../core/target.ts';
import type { SeriesBuffer } from './series.ts';

/** One `Operation` on the wire: `path` plus exactly one key naming the operation (swagger model `Operation`). */
export type WireOp = { path: string } & (
  | { assignString: { value: string } }
  | { assignInt: { value: number } }
  | { assignFloat: { value: number } }
  | { assignBool: { value: boolean } }
  | { assignDatetime: { valueMilliseconds: number } }
  | { insertStrings: { values: string[] } }
  | { removeStrings: { values: string[] } }
  | { logFloats: { entries: LogEntry<number>[] } }
  | { logStrings: { entries: LogEntry<string>[] } }
  /** swagger `LogImages`: `Image.data` is the image file base64-encoded. */
  | { logImages: { entries: LogEntry<{ data: string; name?: string; description?: string }>[] } }
  | { deleteAttribute: Record<string, never> }
);

export interface LogEntry<T> {
  value: T;
  step: number;
  timestampMilliseconds: number;
}

/**
 * A `logFloats`/`logStrings` operation not yet written out: points `[from, to)` of a series buffer.
 * It stands for `{ path, logFloats: { entries } }` with one entry per point (`timestampMilliseconds`
 * rounded), and is encoded straight from the buffer's columns (`body.ts`), without an object per point.
 * Valid while the buffer is not compacted (the writer compacts only after a flush).
 */
export interface SeriesSlice {
  path: string;
  buf: SeriesBuffer<number> | SeriesBuffer<string>;
  from: number;
  to: number;
}

/** One operation of an `executeOperations` request as the writer holds it. */
export type BatchOp = WireOp | SeriesSlice;

export function isSlice(op: BatchOp): op is SeriesSlice {
  return 'buf' in op;
}

/** The series points of an operation (0 for an atom). */
export function opPoints(op: BatchOp): number {
  return isSlice(op) ? op.to - op.from : (logEntries(op)?.length ?? 0);
}

/** The entries a slice stands for, as objects (for the rare paths that pick points apart). */
export function sliceEntries(s: SeriesSlice): LogEntry<number | string>[] {
  const out: LogEntry<number | string>[] = [];
  for (let i = s.from; i < s.to; i++) out.push({ value: s.buf.value(i), step: s.buf.steps[i], timestampMilliseconds: Math.round(s.buf.times[i]) });
  return out;
}

/** The wire operation a slice stands for (what `JSON.stringify` of it gives is what `body.ts` writes). */
export function sliceOp(s: SeriesSlice): WireOp {
  const entries = sliceEntries(s);
  return (s.buf.kind === 'float' ? { path: s.path, logFloats: { entries } } : { path: s.path, logStrings: { entries } }) as WireOp;
}

/** The points of a series operation as entries; undefined for an atom. */
export function opEntries(op: BatchOp): LogEntry<number | string>[] | undefined {
  return isSlice(op) ? sliceEntries(op) : logEntries(op);
}

/** `OperationError` as the server returns it, plus the path we could attribute it to. */
export interface OperationFailure {
  /** The operation's path when the error could be attributed to one (the wire format carries no path). */
  path?: string;
  errorType: string;
  description: string;
  /** Values this failure stands for (series points of `path` the server does not hold). @default 1 */
  count?: number;
}

/** The wire operation for an atom (checked beforehand by rules.ts). `stringSet` → `insertStrings`, as the client does. */
export function atomOp(path: string, v: AtomValue): WireOp {
  switch (v.type) {
    case 'string':
      return { path, assignString: { value: v.value } };
    case 'int':
      // rules.ts let only int32 values through.
      return { path, assignInt: { value: Number(v.value) } };
    case 'float':
      return { path, assignFloat: { value: v.value } };
    case 'bool':
      return { path, assignBool: { value: v.value } };
    case 'datetime':
      return { path, assignDatetime: { valueMilliseconds: Math.round(v.value) } };
    case 'stringSet':
      return { path, insertStrings: { values: [...v.values] } };
  }
}

/** The points of a `logFloats`/`logStrings` operation; undefined for any other operation. */
export function logEntries(op: WireOp): LogEntry<number | string>[] | undefined {
  if ('logFloats' in op) return op.logFloats.entries;
  if ('logStrings' in op) return op.logStrings.entries;
  return undefined;
}

/** Rough JSON size of an atom op, for the request byte cap. */
export function estimateAtomBytes(op: WireOp): number {
  let n = op.path.length + 48;
  if ('assignString' in op) n += op.assignString.value.length * 1.1;
  if ('insertStrings' in op) for (const s of op.insertStrings.values) n += s.length * 1.1 + 3;
  return Math.ceil(n);
}

/**
 * The server's per-operation errors carry no path. Attribute each to the longest path of the request
 * that its description mentions; a request with a single path gets that path.
 */
export function attributeErrors(raw: unknown, paths: readonly string[]): OperationFailure[] {
  if (!Array.isArray(raw)) return [];
  const unique = [...new Set(paths)].sort((a, b) => b.length - a.length);
  return raw.map((e: unknown) => {
    const o = (typeof e === 'object' && e !== null ? e : {}) as Record<string, unknown>;
    const description = typeof o.errorDescription === 'string' ? o.errorDescription : JSON.stringify(e);
    const errorType = typeof o.errorType === 'string' ? o.errorType : 'unknown';
    const explicit = typeof o.path === 'string' ? o.path : undefined;
    const path = explicit ?? (unique.length === 1 ? unique[0] : unique.find((p) => description.includes(p)));
    return { path, errorType, description };
  });
}
