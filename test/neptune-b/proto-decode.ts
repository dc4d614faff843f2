/**
 * Test-side Protocol B decoder, independent of the writer's encoder: built on @bufbuild/protobuf's
 * BinaryReader with the field numbers of neptune-query's protos (common.proto, pub/ingest.proto).
 */
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';

export type DecodedValue =
  | { float64: number }
  | { int64: bigint }
  | { bool: boolean }
  | { string: string }
  | { timestamp: { seconds: bigint; nanos: number } }
  | { stringSet: string[] }
  | { fileRef: { path: string; sizeBytes: bigint; mimeType: string } };

export interface DecodedSnapshot {
  step?: { whole: bigint; micro: bigint };
  timestamp?: { seconds: bigint; nanos: number };
  assign: Record<string, DecodedValue>;
  modifySets: Record<string, Record<string, number>>;
  append: Array<[string, DecodedValue]>;
}

export interface DecodedOperation {
  project: string;
  runId: string;
  create?: { creationTime?: { seconds: bigint; nanos: number }; family?: string; experimentId?: string; inheritConfigs?: boolean };
  snapshots: DecodedSnapshot[];
}

function sub(r: BinaryReader): BinaryReader {
  return new BinaryReader(r.bytes());
}

function each(r: BinaryReader, fn: (field: number, wire: WireType) => boolean): void {
  while (r.pos < r.len) {
    const [field, wire] = r.tag();
    if (!fn(field, wire)) r.skip(wire);
  }
}

function big(v: bigint | string): bigint {
  return BigInt(v);
}

function timestamp(r: BinaryReader): { seconds: bigint; nanos: number } {
  const out = { seconds: 0n, nanos: 0 };
  each(r, (f) => {
    if (f === 1) out.seconds = big(r.int64());
    else if (f === 2) out.nanos = r.int32();
    else return false;
    return true;
  });
  return out;
}

function value(r: BinaryReader): DecodedValue {
  let out: DecodedValue | undefined;
  each(r, (f) => {
    if (f === 1) out = { float64: r.double() };
    else if (f === 3) out = { int64: big(r.int64()) };
    else if (f === 5) out = { bool: r.bool() };
    else if (f === 6) out = { string: r.string() };
    else if (f === 8) out = { timestamp: timestamp(sub(r)) };
    else if (f === 12) {
      const s = sub(r);
      const values: string[] = [];
      each(s, (g) => (g === 1 ? (values.push(s.string()), true) : false));
      out = { stringSet: values };
    } else if (f === 13) {
      const s = sub(r);
      const ref = { path: '', sizeBytes: 0n, mimeType: '' };
      each(s, (g) => {
        if (g === 1) ref.path = s.string();
        else if (g === 2) ref.sizeBytes = big(s.int64());
        else if (g === 3) ref.mimeType = s.string();
        else return false;
        return true;
      });
      out = { fileRef: ref };
    } else return false;
    return true;
  });
  if (!out) throw new Error('Value without a member');
  return out;
}

function entry<T>(r: BinaryReader, read: (r: BinaryReader) => T): [string, T] {
  let key = '';
  let v: T | undefined;
  each(r, (f) => {
    if (f === 1) key = r.string();
    else if (f === 2) v = read(sub(r));
    else return false;
    return true;
  });
  return [key, v as T];
}

function modifySet(r: BinaryReader): Record<string, number> {
  const out: Record<string, number> = {};
  each(r, (f) => {
    if (f !== 1) return false;
    const ms = sub(r);
    each(ms, (g) => {
      if (g !== 1) return false;
      const e = sub(ms);
      let k = '';
      let op = 0;
      each(e, (h) => {
        if (h === 1) k = e.string();
        else if (h === 2) op = e.int32();
        else return false;
        return true;
      });
      out[k] = op;
      return true;
    });
    return true;
  });
  return out;
}

function snapshot(r: BinaryReader): DecodedSnapshot {
  const s: DecodedSnapshot = { assign: {}, modifySets: {}, append: [] };
  each(r, (f) => {
    if (f === 1) {
      const st = sub(r);
      const step = { whole: 0n, micro: 0n };
      each(st, (g) => {
        if (g === 1) step.whole = big(st.uint64());
        else if (g === 2) step.micro = big(st.uint64());
        else return false;
        return true;
      });
      s.step = step;
    } else if (f === 2) s.timestamp = timestamp(sub(r));
    else if (f === 4) {
      const [k, v] = entry(sub(r), value);
      s.assign[k] = v;
    } else if (f === 5) {
      const [k, v] = entry(sub(r), modifySet);
      s.modifySets[k] = v;
    } else if (f === 8) s.append.push(entry(sub(r), value));
    else return false;
    return true;
  });
  return s;
}

export function decodeRunOperation(bytes: Uint8Array): DecodedOperation {
  const r = new BinaryReader(bytes);
  const op: DecodedOperation = { project: '', runId: '', snapshots: [] };
  each(r, (f) => {
    if (f === 1) op.project = r.string();
    else if (f === 2) op.runId = r.string();
    else if (f === 6) {
      const c = sub(r);
      const create: NonNullable<DecodedOperation['create']> = {};
      each(c, (g) => {
        if (g === 3) create.creationTime = timestamp(sub(c));
        else if (g === 4) create.family = c.string();
        else if (g === 5) create.experimentId = c.string();
        else if (g === 9) create.inheritConfigs = c.bool();
        else return false;
        return true;
      });
      op.create = create;
    } else if (f === 7) op.snapshots.push(snapshot(sub(r)));
    else if (f === 8) {
      const b = sub(r);
      each(b, (g) => (g === 1 ? (op.snapshots.push(snapshot(sub(b))), true) : false));
    } else return false;
    return true;
  });
  return op;
}
