/**
 * The emulator's own decoding of Protocol B request bodies (neptune-api.md §3.2). Field numbers are
 * those of neptune-ai/neptune-query@00fcb6b `src/neptune_query/generated/neptune_api_spec/proto/
 * neptune_pb/ingest/v1/{common.proto, pub/ingest.proto, pub/client.proto}`; the message shapes
 * here are written for the emulator (nothing is generated, nothing comes from src/).
 * Only @bufbuild/protobuf's low-level BinaryReader is used (varints, lengths, UTF-8).
 */
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';

export class Malformed extends Error {}

export interface Step { whole: bigint; micro: bigint }
/** google.protobuf.Timestamp{seconds=1 int64, nanos=2 int32}. */
export interface Timestamp { seconds: bigint; nanos: number }
export interface FileRef { path: string; sizeBytes: bigint; mimeType: string }
export interface Histogram { edges: number[]; counts?: bigint[]; densities?: number[] }

/** common.proto `Value` oneof (float64=1, int64=3, bool=5, string=6, timestamp=8, string_set=12, file_ref=13, histogram=14). */
export type Value =
  | { kind: 'float64'; v: number }
  | { kind: 'int64'; v: bigint }
  | { kind: 'bool'; v: boolean }
  | { kind: 'string'; v: string; bytes: number }
  | { kind: 'timestamp'; v: Timestamp }
  | { kind: 'stringSet'; v: string[]; bytes: number }
  | { kind: 'fileRef'; v: FileRef; bytes: number }
  | { kind: 'histogram'; v: Histogram }
  | { kind: 'none' };

/**
 * A map key as sent. `valid` is false when the key is not UTF-8 (FIELD_PATH_INVALID, §3.8);
 * `bytes` is its UTF-8 length (FIELD_PATH_EXCEEDS_SIZE_LIMIT counts bytes, not characters).
 */
export interface Path { text: string; bytes: number; valid: boolean }

/** common.proto `ForkPoint{parent_project=1, parent_run_id=2, step=4}`. */
export interface ForkPoint { parentProject?: string; parentRunId: string; step?: Step }

/** common.proto `Run` (CreateRun). */
export interface RunCreate {
  runId?: string; experimentId?: string; forkPoint?: ForkPoint; family?: string; creationTime?: Timestamp;
  owner?: string; requestId?: string; tracker?: string; inheritConfigs?: boolean;
}

export type SetOp = 0 | 1 | 2; // SET_OPERATION{NOOP, ADD, REMOVE}

/** common.proto `UpdateRunSnapshot` (step=1, timestamp=2, assign=4, modify_sets=5, append=8, request_id=9, preview=10). */
export interface Snapshot {
  step?: Step; timestamp?: Timestamp; preview?: { isPreview: boolean; completionRatio: number };
  assign: Array<[Path, Value]>; modifySets: Array<[Path, Array<[string, SetOp]>]>; append: Array<[Path, Value]>;
  requestId?: string;
  /** Encoded size of this snapshot (the 2 MiB per-snapshot limit, §3.8). */
  encodedBytes: number;
}

/** pub/ingest.proto `RunOperation{project=1, run_id=2, create_missing_project=3, create=6 | update=7 | update_batch=8, api_key=12}`. */
export interface RunOperation {
  project: string; runId: string; createMissingProject: boolean;
  create?: RunCreate; snapshots?: Snapshot[];
}

const utf8Strict = new TextDecoder('utf-8', { fatal: true });

function sub(r: BinaryReader): BinaryReader {
  return new BinaryReader(r.bytes());
}

function str(r: BinaryReader): string {
  try {
    return r.string(true);
  } catch {
    throw new Malformed('a string field is not valid UTF-8');
  }
}

/** Runs `each(fieldNo, wireType)` over every field; unknown fields must be skipped by the callback returning false. */
function fields(r: BinaryReader, each: (no: number, wt: WireType) => boolean): void {
  while (r.pos < r.len) {
    const [no, wt] = r.tag();
    if (!each(no, wt)) r.skip(wt, no);
  }
}

function guard<T>(what: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof Malformed) throw e;
    throw new Malformed(`cannot decode ${what}: ${(e as Error).message}`);
  }
}

export function decodeStep(r: BinaryReader): Step {
  const s: Step = { whole: 0n, micro: 0n };
  fields(r, (no, wt) => {
    if (no === 1 && wt === WireType.Varint) { s.whole = BigInt(r.uint64()); return true; }
    if (no === 2 && wt === WireType.Varint) { s.micro = BigInt(r.uint64()); return true; }
    return false;
  });
  return s;
}

export function decodeTimestamp(r: BinaryReader): Timestamp {
  const t: Timestamp = { seconds: 0n, nanos: 0 };
  fields(r, (no, wt) => {
    if (no === 1 && wt === WireType.Varint) { t.seconds = BigInt(r.int64()); return true; }
    if (no === 2 && wt === WireType.Varint) { t.nanos = r.int32(); return true; }
    return false;
  });
  return t;
}

/** Packed or unpacked repeated scalars (proto3 packs by default; parsers must accept both). */
function repeated<T>(r: BinaryReader, wt: WireType, out: T[], one: () => T): void {
  if (wt === WireType.LengthDelimited) {
    const end = r.uint32() + r.pos;
    while (r.pos < end) out.push(one());
  } else out.push(one());
}

function decodeHistogram(r: BinaryReader): Histogram {
  const h: Histogram = { edges: [] };
  fields(r, (no, wt) => {
    if (no === 1) { repeated(r, wt, h.edges, () => r.double()); return true; }
    if (no === 4 && wt === WireType.LengthDelimited) {
      const c: bigint[] = [];
      const s = sub(r);
      fields(s, (n2, w2) => { if (n2 === 1) { repeated(s, w2, c, () => BigInt(s.uint64())); return true; } return false; });
      h.counts = c; h.densities = undefined;
      return true;
    }
    if (no === 5 && wt === WireType.LengthDelimited) {
      const d: number[] = [];
      const s = sub(r);
      fields(s, (n2, w2) => { if (n2 === 1) { repeated(s, w2, d, () => s.double()); return true; } return false; });
      h.densities = d; h.counts = undefined;
      return true;
    }
    return false;
  });
  return h;
}

export function decodeValue(buf: Uint8Array): Value {
  const r = new BinaryReader(buf);
  let v: Value = { kind: 'none' };
  fields(r, (no, wt) => {
    switch (no) {
      case 1: if (wt !== WireType.Bit64) return false; v = { kind: 'float64', v: r.double() }; return true;
      case 3: if (wt !== WireType.Varint) return false; v = { kind: 'int64', v: BigInt(r.int64()) }; return true;
      case 5: if (wt !== WireType.Varint) return false; v = { kind: 'bool', v: r.bool() }; return true;
      case 6: {
        if (wt !== WireType.LengthDelimited) return false;
        const b = r.bytes();
        let s: string;
        try { s = utf8Strict.decode(b); } catch { throw new Malformed('a string value is not valid UTF-8'); }
        v = { kind: 'string', v: s, bytes: b.length };
        return true;
      }
      case 8: if (wt !== WireType.LengthDelimited) return false; v = { kind: 'timestamp', v: decodeTimestamp(sub(r)) }; return true;
      case 12: {
        if (wt !== WireType.LengthDelimited) return false;
        const b = r.bytes();
        const s = new BinaryReader(b);
        const values: string[] = [];
        fields(s, (n2, w2) => { if (n2 === 1 && w2 === WireType.LengthDelimited) { values.push(str(s)); return true; } return false; });
        v = { kind: 'stringSet', v: values, bytes: b.length };
        return true;
      }
      case 13: {
        if (wt !== WireType.LengthDelimited) return false;
        const b = r.bytes();
        const s = new BinaryReader(b);
        const f: FileRef = { path: '', sizeBytes: 0n, mimeType: '' };
        fields(s, (n2, w2) => {
          if (n2 === 1 && w2 === WireType.LengthDelimited) { f.path = str(s); return true; }
          if (n2 === 2 && w2 === WireType.Varint) { f.sizeBytes = BigInt(s.int64()); return true; }
          if (n2 === 3 && w2 === WireType.LengthDelimited) { f.mimeType = str(s); return true; }
          return false;
        });
        v = { kind: 'fileRef', v: f, bytes: b.length };
        return true;
      }
      case 14: if (wt !== WireType.LengthDelimited) return false; v = { kind: 'histogram', v: decodeHistogram(sub(r)) }; return true;
      default: return false;
    }
  });
  return v;
}

function decodePath(b: Uint8Array): Path {
  try {
    return { text: utf8Strict.decode(b), bytes: b.length, valid: true };
  } catch {
    return { text: new TextDecoder().decode(b), bytes: b.length, valid: false };
  }
}

/** A map<string, X> entry: key=1, value=2 (protobuf map encoding). */
function mapEntry<T>(r: BinaryReader, value: (r: BinaryReader, wt: WireType) => T, empty: T): [Path, T] {
  const s = sub(r);
  let key: Path = { text: '', bytes: 0, valid: true };
  let val = empty;
  fields(s, (no, wt) => {
    if (no === 1 && wt === WireType.LengthDelimited) { key = decodePath(s.bytes()); return true; }
    if (no === 2) { val = value(s, wt); return true; }
    return false;
  });
  return [key, val];
}

function valueField(r: BinaryReader, wt: WireType): Value {
  if (wt !== WireType.LengthDelimited) throw new Malformed('a map value is not a message');
  return decodeValue(r.bytes());
}

function decodeModifySet(r: BinaryReader, wt: WireType): Array<[string, SetOp]> {
  if (wt !== WireType.LengthDelimited) throw new Malformed('ModifySet is not a message');
  const out: Array<[string, SetOp]> = [];
  const ms = sub(r);
  fields(ms, (no, w) => {
    if (no !== 1 || w !== WireType.LengthDelimited) return false; // ModifySet.string = 1
    const mss = sub(ms);
    fields(mss, (n2, w2) => {
      if (n2 !== 1 || w2 !== WireType.LengthDelimited) return false; // ModifyStringSet.values = 1
      const [k, op] = mapEntry(mss, (e, ew) => (ew === WireType.Varint ? (e.int32() as SetOp) : 0), 0 as SetOp);
      out.push([k.text, op]);
      return true;
    });
    return true;
  });
  return out;
}

export function decodeSnapshot(b: Uint8Array): Snapshot {
  const r = new BinaryReader(b);
  const s: Snapshot = { assign: [], modifySets: [], append: [], encodedBytes: b.length };
  fields(r, (no, wt) => {
    if (wt !== WireType.LengthDelimited) return false;
    switch (no) {
      case 1: s.step = decodeStep(sub(r)); return true;
      case 2: s.timestamp = decodeTimestamp(sub(r)); return true;
      case 4: s.assign.push(mapEntry(r, valueField, { kind: 'none' } as Value)); return true;
      case 5: s.modifySets.push(mapEntry(r, decodeModifySet, [])); return true;
      case 8: s.append.push(mapEntry(r, valueField, { kind: 'none' } as Value)); return true;
      case 9: s.requestId = str(r); return true;
      case 10: {
        const p = sub(r);
        const pv = { isPreview: false, completionRatio: 0 };
        fields(p, (n2, w2) => {
          if (n2 === 1 && w2 === WireType.Varint) { pv.isPreview = p.bool(); return true; }
          if (n2 === 2 && w2 === WireType.Bit32) { pv.completionRatio = p.float(); return true; }
          return false;
        });
        s.preview = pv;
        return true;
      }
      default: return false;
    }
  });
  return s;
}

function decodeRun(r: BinaryReader): RunCreate {
  const c: RunCreate = {};
  fields(r, (no, wt) => {
    switch (no) {
      case 1: if (wt !== WireType.LengthDelimited) return false; c.runId = str(r); return true;
      case 2: {
        if (wt !== WireType.LengthDelimited) return false;
        const f: ForkPoint = { parentRunId: '' };
        const s = sub(r);
        fields(s, (n2, w2) => {
          if (w2 !== WireType.LengthDelimited) return false;
          if (n2 === 1) { f.parentProject = str(s); return true; }
          if (n2 === 2) { f.parentRunId = str(s); return true; }
          if (n2 === 4) { f.step = decodeStep(sub(s)); return true; }
          return false;
        });
        c.forkPoint = f;
        return true;
      }
      case 3: if (wt !== WireType.LengthDelimited) return false; c.creationTime = decodeTimestamp(sub(r)); return true;
      case 4: if (wt !== WireType.LengthDelimited) return false; c.family = str(r); return true;
      case 5: if (wt !== WireType.LengthDelimited) return false; c.experimentId = str(r); return true;
      case 6: {
        if (wt !== WireType.LengthDelimited) return false;
        const s = sub(r);
        fields(s, (n2, w2) => { if ((n2 === 1 || n2 === 2) && w2 === WireType.LengthDelimited) { c.owner = str(s); return true; } return false; });
        return true;
      }
      case 7: if (wt !== WireType.LengthDelimited) return false; c.requestId = str(r); return true;
      case 8: if (wt !== WireType.LengthDelimited) return false; c.tracker = str(r); return true;
      case 9: if (wt !== WireType.Varint) return false; c.inheritConfigs = r.bool(); return true;
      default: return false;
    }
  });
  return c;
}

export function decodeRunOperation(buf: Uint8Array): RunOperation {
  return guard('RunOperation', () => {
    const r = new BinaryReader(buf);
    const op: RunOperation = { project: '', runId: '', createMissingProject: false };
    fields(r, (no, wt) => {
      switch (no) {
        case 1: if (wt !== WireType.LengthDelimited) return false; op.project = str(r); return true;
        case 2: if (wt !== WireType.LengthDelimited) return false; op.runId = str(r); return true;
        case 3: if (wt !== WireType.Varint) return false; op.createMissingProject = r.bool(); return true;
        case 6: if (wt !== WireType.LengthDelimited) return false; op.create = decodeRun(sub(r)); op.snapshots = undefined; return true;
        case 7: if (wt !== WireType.LengthDelimited) return false; op.snapshots = [decodeSnapshot(r.bytes())]; op.create = undefined; return true;
        case 8: {
          if (wt !== WireType.LengthDelimited) return false;
          const s = sub(r);
          const list: Snapshot[] = [];
          fields(s, (n2, w2) => { if (n2 === 1 && w2 === WireType.LengthDelimited) { list.push(decodeSnapshot(s.bytes())); return true; } return false; });
          op.snapshots = list; op.create = undefined;
          return true;
        }
        default: return false; // api_key=12 and unknown fields: the Bearer header is what authenticates (§3.1 notes)
      }
    });
    return op;
  });
}

/** pub/client.proto `RequestIdList{ids=1 [RequestId{value=1}]}` ≡ `BulkStatusCheck{ids=1, project=2}` on the wire. */
export function decodeRequestIds(buf: Uint8Array): { ids: string[]; project?: string } {
  return guard('RequestIdList', () => {
    const r = new BinaryReader(buf);
    const out: { ids: string[]; project?: string } = { ids: [] };
    fields(r, (no, wt) => {
      if (wt !== WireType.LengthDelimited) return false;
      if (no === 1) { out.ids.push(requestId(sub(r))); return true; }
      if (no === 2) { out.project = str(r); return true; }
      return false;
    });
    return out;
  });
}

function requestId(r: BinaryReader): string {
  let v = '';
  fields(r, (no, wt) => { if (no === 1 && wt === WireType.LengthDelimited) { v = str(r); return true; } return false; });
  return v;
}

/** pub/client.proto `BulkCheckDetail{project=1, ids=2, next_cursor=3, limit=4}`. */
export function decodeBulkCheckDetail(buf: Uint8Array): { project: string; ids: string[]; cursor?: string; limit?: number } {
  return guard('BulkCheckDetail', () => {
    const r = new BinaryReader(buf);
    const out: { project: string; ids: string[]; cursor?: string; limit?: number } = { project: '', ids: [] };
    fields(r, (no, wt) => {
      if (no === 1 && wt === WireType.LengthDelimited) { out.project = str(r); return true; }
      if (no === 2 && wt === WireType.LengthDelimited) { out.ids.push(requestId(sub(r))); return true; }
      if (no === 3 && wt === WireType.LengthDelimited) { out.cursor = str(r); return true; }
      if (no === 4 && wt === WireType.Varint) { out.limit = r.int32(); return true; }
      return false;
    });
    return out;
  });
}
