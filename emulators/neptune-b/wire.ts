/**
 * The emulator's own decoding of Protocol B request bodies (neptune-api.md §3.2). Field numbers are
 * those of neptune-ai/neptune-query@00fcb6b `src/neptune_query/generated/neptune_api_spec/proto/
 * neptune_pb/ingest/v1/{common.proto, pub/ingest.proto, pub/client.proto}`; the message shapes
 * here are written for the emulator (nothing is generated, nothing comes from src/).
 * Hand-rolled over one Uint8Array with a cursor (protobuf wire format: varint / fixed64 /
 * length-delimited / fixed32): a reader object per nested message cost ~6 µs per metric point,
 * which made the emulator, not the client, the bottleneck of a bench.
 */

export class Malformed extends Error {}

/** common.proto `Step{whole=1 uint64, micro=2 uint64}`; numbers (anything ≥ 1e12 is refused anyway). */
export interface Step { whole: number; micro: number }
/** google.protobuf.Timestamp{seconds=1 int64, nanos=2 int32}. */
export interface Timestamp { seconds: number; nanos: number }
export interface FileRef { path: string; sizeBytes: number; mimeType: string }
export interface Histogram { edges: number[]; counts?: number[]; densities?: number[] }

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
  /**
   * When every append entry is a float64 (a history row), the entries packed: paths and values in
   * entry order, no tuple or Value object per point (the ingest's largest garbage at millions of points).
   * `append` then gives the same entries as tuples, made on first use (the ingest reads `floats`).
   */
  floats?: FloatAppends;
}

export interface FloatAppends { paths: Path[]; values: number[] }

/** pub/ingest.proto `RunOperation{project=1, run_id=2, create_missing_project=3, create=6 | update=7 | update_batch=8, api_key=12}`. */
export interface RunOperation {
  project: string; runId: string; createMissingProject: boolean;
  create?: RunCreate; snapshots?: Snapshot[];
  /**
   * An update_batch of history rows only, by column (see FloatRows); `snapshots` then gives the same
   * batch snapshot by snapshot, decoded on first use (the ingest falls back to them when a rule needs it).
   */
  rows?: FloatRows;
}

/** The float points of one path in a FloatRows batch: the snapshots it appears in (increasing) and its values. */
export interface FloatColumn { path: Path; count: number; rows: Int32Array; values: Float64Array }

/**
 * An update_batch whose every snapshot is a history row — only `step`, `timestamp` and float64 appends
 * of the usual entry shape (floatEntry), each path at most once per snapshot — held by column: no
 * object per snapshot or point (per point, the object decoding was the emulator's largest ingest cost,
 * issue 10 "Fast"). Steps and timestamps are kept as sent (the rules are the ingest's).
 */
export interface FloatRows {
  /** Snapshots in the batch. */
  count: number;
  /** Step{whole, micro} per snapshot; whole is -1 where a snapshot has no step. */
  stepWhole: Float64Array;
  stepMicro: Float64Array;
  /** Timestamp{seconds, nanos} per snapshot; seconds is NaN where a snapshot has no timestamp. */
  tsSeconds: Float64Array;
  tsNanos: Float64Array;
  /** One column per path, in the order the paths first appear. */
  columns: FloatColumn[];
  /** Encoded size of the largest snapshot (the 2 MiB per-snapshot limit, §3.8). */
  maxSnapshotBytes: number;
}

const VARINT = 0;
const I64 = 1;
const LEN = 2;
const I32 = 5;

const utf8Strict = new TextDecoder('utf-8', { fatal: true });
const utf8Lossy = new TextDecoder('utf-8');

/** A cursor over one buffer; nested messages are [pos, end) ranges of the same buffer. */
class Cur {
  pos: number;
  constructor(readonly buf: Uint8Array, pos = 0, public end = buf.length, private readonly view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)) {
    this.pos = pos;
  }

  /** A cursor over [s, e) of the same buffer (sharing the DataView: making one per message is costly). */
  at(s: number, e: number): Cur {
    return new Cur(this.buf, s, e, this.view);
  }

  more(): boolean {
    return this.pos < this.end;
  }

  /** A varint as a number (exact below 2^53; larger values only need to compare as large). */
  varint(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new Malformed('truncated varint');
      const b = this.buf[this.pos++];
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 128;
    }
    throw new Malformed('varint longer than 10 bytes');
  }

  /** A varint as a signed 64-bit integer (int64: negative values take 10 bytes, two's complement). */
  int64(): bigint {
    let lo = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new Malformed('truncated varint');
      const b = this.buf[this.pos++];
      lo |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return BigInt.asIntN(64, lo);
      shift += 7n;
    }
    throw new Malformed('varint longer than 10 bytes');
  }

  /** int32 fields (nanos, enums) are varints of the sign-extended 64-bit value. */
  int32(): number {
    const v = this.varint();
    return v < 2 ** 31 ? v : Number(BigInt.asIntN(32, BigInt(v % 2 ** 32)));
  }

  /** An int64 as a number: a varint of up to 8 bytes (< 2^56) is exact as is; longer ones (negative) go through BigInt. */
  int64Number(): number {
    const s = this.pos;
    for (let i = s; i < s + 8 && i < this.end; i++) {
      if (this.buf[i] < 0x80) return this.varint();
    }
    return Number(this.int64());
  }

  double(): number {
    if (this.pos + 8 > this.end) throw new Malformed('truncated double');
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** Whether the `len` bytes at `a` and at `b` are the same (4 at a time: this runs per point). */
  sameRange(a: number, b: number, len: number): boolean {
    const v = this.view;
    let i = 0;
    for (; i + 4 <= len; i += 4) if (v.getInt32(a + i, true) !== v.getInt32(b + i, true)) return false;
    for (; i < len; i++) if (this.buf[a + i] !== this.buf[b + i]) return false;
    return true;
  }

  /** The double at `at`, when the caller checked the bytes are there. */
  doubleAt(at: number): number {
    return this.view.getFloat64(at, true);
  }

  float(): number {
    if (this.pos + 4 > this.end) throw new Malformed('truncated float');
    const v = this.view.getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }

  /** Skips a length-delimited field and returns its end; its start is left in `start`. */
  start = 0;
  len(): number {
    const n = this.buf[this.pos] < 0x80 && this.pos < this.end ? this.buf[this.pos++] : this.varint();
    this.start = this.pos;
    const end = this.pos + n;
    if (end > this.end) throw new Malformed('length-delimited field runs past its message');
    this.pos = end;
    return end;
  }

  sub(): Cur {
    const e = this.len();
    return this.at(this.start, e);
  }

  /**
   * Enters a length-delimited field in place (no cursor object per nested message: this runs per
   * point); returns the enclosing end, which `leave` restores once the field is read.
   */
  enter(): number {
    const e = this.len();
    const outer = this.end;
    this.pos = this.start;
    this.end = e;
    return outer;
  }

  leave(outer: number): void {
    this.pos = this.end;
    this.end = outer;
  }

  string(): string {
    const e = this.len();
    return text(this.buf, this.start, e);
  }

  skip(wt: number): void {
    if (wt === VARINT) this.varint();
    else if (wt === I64) this.pos += 8;
    else if (wt === LEN) this.len();
    else if (wt === I32) this.pos += 4;
    else throw new Malformed(`unsupported wire type ${wt}`);
    if (this.pos > this.end) throw new Malformed('field runs past its message');
  }

  /** Field number of the next tag; its wire type is left in `wt` (no tuple per field: this runs per point). */
  wt = 0;
  tag(): number {
    const t = this.buf[this.pos] < 0x80 && this.pos < this.end ? this.buf[this.pos++] : this.varint();
    const no = Math.floor(t / 8);
    if (no === 0) throw new Malformed('field number 0');
    this.wt = t & 7;
    return no;
  }
}

function ascii(buf: Uint8Array, s: number, e: number): boolean {
  for (let i = s; i < e; i++) if (buf[i] >= 0x80) return false;
  return true;
}

function text(buf: Uint8Array, s: number, e: number): string {
  if (e - s < 64 && ascii(buf, s, e)) return String.fromCharCode(...buf.subarray(s, e));
  try {
    return utf8Strict.decode(buf.subarray(s, e));
  } catch {
    throw new Malformed('a string field is not valid UTF-8');
  }
}

/**
 * A decoded map key. `batch`/`column`: the FloatRows batch that last gave this key a column, and which
 * (a batch finds its column per point without a Map lookup).
 */
interface PathEntry { bytes: Uint8Array; path: Path; batch: number; column: number }

/** Map keys repeat in every snapshot: decoded once, found again by a hash of their bytes. */
const pathCache = new Map<number, PathEntry[]>();
let pathCacheSize = 0;
/** Counts the cache's clearings: a batch that saw one may hold two entries (two columns) for one key. */
let cacheGeneration = 0;

/**
 * The key at each position of the previous snapshot's append map: consecutive snapshots (history
 * rows) list the same metrics in the same order, so a byte comparison finds most keys without hashing.
 */
const recent: Array<PathEntry | undefined> = [];

function sameBytes(a: Uint8Array, buf: Uint8Array, s: number, e: number): boolean {
  if (a.length !== e - s) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== buf[s + i]) return false;
  return true;
}

function decodePathAt(buf: Uint8Array, s: number, e: number, index: number): Path {
  return pathEntryAt(buf, s, e, index).path;
}

function pathEntryAt(buf: Uint8Array, s: number, e: number, index: number): PathEntry {
  const r = recent[index];
  if (r !== undefined && sameBytes(r.bytes, buf, s, e)) return r;
  const entry = cachedPath(buf, s, e);
  if (index < 4096) recent[index] = entry;
  return entry;
}

function decodePath(buf: Uint8Array, s: number, e: number): Path {
  return cachedPath(buf, s, e).path;
}

function cachedPath(buf: Uint8Array, s: number, e: number): PathEntry {
  let h = 0x811c9dc5;
  for (let i = s; i < e; i++) h = Math.imul(h ^ buf[i], 0x01000193);
  const bucket = pathCache.get(h);
  if (bucket) {
    for (const c of bucket) if (sameBytes(c.bytes, buf, s, e)) return c;
  }
  let path: Path;
  try {
    path = { text: ascii(buf, s, e) && e - s < 64 ? String.fromCharCode(...buf.subarray(s, e)) : utf8Strict.decode(buf.subarray(s, e)), bytes: e - s, valid: true };
  } catch {
    path = { text: utf8Lossy.decode(buf.subarray(s, e)), bytes: e - s, valid: false };
  }
  if (pathCacheSize > 100_000) { pathCache.clear(); pathCacheSize = 0; recent.length = 0; cacheGeneration += 1; }
  // A copy (Buffer's slice is a view): the body's bytes are reused for later bodies (routes.ts BodyPool).
  const entry: PathEntry = { bytes: Uint8Array.prototype.slice.call(buf, s, e), path, batch: 0, column: 0 };
  const again = pathCache.get(h);
  if (again) again.push(entry);
  else pathCache.set(h, [entry]);
  pathCacheSize += 1;
  return entry;
}

/** Reads the length-delimited field at the cursor with `f`, in place (see Cur.enter). */
function nested<T>(c: Cur, f: (c: Cur) => T): T {
  const outer = c.enter();
  const v = f(c);
  c.leave(outer);
  return v;
}

function step(c: Cur): Step {
  const s: Step = { whole: 0, micro: 0 };
  while (c.more()) {
    const no = c.tag();
    const wt = c.wt;
    if (no === 1 && wt === VARINT) s.whole = c.varint();
    else if (no === 2 && wt === VARINT) s.micro = c.varint();
    else c.skip(wt);
  }
  return s;
}

function timestamp(c: Cur): Timestamp {
  const t: Timestamp = { seconds: 0, nanos: 0 };
  while (c.more()) {
    const no = c.tag();
    const wt = c.wt;
    if (no === 1 && wt === VARINT) t.seconds = c.int64Number();
    else if (no === 2 && wt === VARINT) t.nanos = c.int32();
    else c.skip(wt);
  }
  return t;
}

/** Packed or unpacked repeated scalars (proto3 packs by default; parsers must accept both). */
function repeated(c: Cur, wt: number, out: number[], one: (c: Cur) => number): void {
  if (wt === LEN) {
    const e = c.len();
      const s = c.start;
    const inner = c.at(s, e);
    while (inner.more()) out.push(one(inner));
  } else out.push(one(c));
}

const asDouble = (c: Cur) => c.double();
const asVarint = (c: Cur) => c.varint();

function numbers(c: Cur, one: (c: Cur) => number): number[] {
  const out: number[] = [];
  while (c.more()) {
    const no = c.tag();
    const wt = c.wt;
    if (no === 1) repeated(c, wt, out, one);
    else c.skip(wt);
  }
  return out;
}

function histogram(c: Cur): Histogram {
  const h: Histogram = { edges: [] };
  while (c.more()) {
    const no = c.tag();
    const wt = c.wt;
    if (no === 1) repeated(c, wt, h.edges, asDouble);
    else if (no === 4 && wt === LEN) { h.counts = numbers(c.sub(), asVarint); h.densities = undefined; }
    else if (no === 5 && wt === LEN) { h.densities = numbers(c.sub(), asDouble); h.counts = undefined; }
    else c.skip(wt);
  }
  return h;
}

const NONE: Value = { kind: 'none' };
const NO_PATH: Path = { text: '', bytes: 0, valid: true };

function value(c: Cur): Value {
  let v: Value = NONE;
  while (c.more()) {
    const no = c.tag();
    const wt = c.wt;
    if (no === 1 && wt === I64) v = { kind: 'float64', v: c.double() };
    else if (no === 3 && wt === VARINT) v = { kind: 'int64', v: c.int64() };
    else if (no === 5 && wt === VARINT) v = { kind: 'bool', v: c.varint() !== 0 };
    else if (no === 6 && wt === LEN) {
      const e = c.len();
      const s = c.start;
      v = { kind: 'string', v: text(c.buf, s, e), bytes: e - s };
    } else if (no === 8 && wt === LEN) v = { kind: 'timestamp', v: nested(c, timestamp) };
    else if (no === 12 && wt === LEN) {
      const e = c.len();
      const s = c.start;
      const inner = c.at(s, e);
      const values: string[] = [];
      while (inner.more()) {
        const n2 = inner.tag();
    const w2 = inner.wt;
        if (n2 === 1 && w2 === LEN) values.push(inner.string());
        else inner.skip(w2);
      }
      v = { kind: 'stringSet', v: values, bytes: e - s };
    } else if (no === 13 && wt === LEN) {
      const e = c.len();
      const s = c.start;
      const inner = c.at(s, e);
      const f: FileRef = { path: '', sizeBytes: 0, mimeType: '' };
      while (inner.more()) {
        const n2 = inner.tag();
    const w2 = inner.wt;
        if (n2 === 1 && w2 === LEN) f.path = inner.string();
        else if (n2 === 2 && w2 === VARINT) f.sizeBytes = Number(inner.int64());
        else if (n2 === 3 && w2 === LEN) f.mimeType = inner.string();
        else inner.skip(w2);
      }
      v = { kind: 'fileRef', v: f, bytes: e - s };
    } else if (no === 14 && wt === LEN) v = { kind: 'histogram', v: nested(c, histogram) };
    else c.skip(wt);
  }
  return v;
}

/**
 * A map<string, X> entry: key=1, value=2 (protobuf map encoding). `index` is the entry's place in
 * its snapshot's append map (decodePathAt), or -1.
 */
function mapEntry<T>(c: Cur, val: (c: Cur) => T, empty: T, index: number): [Path, T] {
  const outer = c.enter();
  let key = NO_PATH;
  let v = empty;
  while (c.more()) {
    const no = c.tag();
    const wt = c.wt;
    if (no === 1 && wt === LEN) {
      const ke = c.len();
      key = index < 0 ? decodePath(c.buf, c.start, ke) : decodePathAt(c.buf, c.start, ke, index);
    } else if (no === 2 && wt === LEN) v = nested(c, val);
    else c.skip(wt);
  }
  c.leave(outer);
  return [key, v];
}

/** ModifySet{string=1 ModifyStringSet{values=1 map<string, SET_OPERATION>}}. */
function modifySet(c: Cur): Array<[string, SetOp]> {
  const out: Array<[string, SetOp]> = [];
  while (c.more()) {
    const no = c.tag();
    const wt = c.wt;
    if (no !== 1 || wt !== LEN) { c.skip(wt); continue; }
    const mss = c.sub();
    while (mss.more()) {
      const n2 = mss.tag();
    const w2 = mss.wt;
      if (n2 !== 1 || w2 !== LEN) { mss.skip(w2); continue; }
      const entry = mss.sub();
      let key = '';
      let op: SetOp = 0;
      while (entry.more()) {
        const n3 = entry.tag();
    const w3 = entry.wt;
        if (n3 === 1 && w3 === LEN) key = entry.string();
        else if (n3 === 2 && w3 === VARINT) op = entry.varint() as SetOp;
        else entry.skip(w3);
      }
      out.push([key, op]);
    }
  }
  return out;
}

/**
 * An append entry that is exactly `key=1` then `value=2` holding only `float64=1` (what every writer
 * sends for a metric point): its value, with the key left in `floatKey`; undefined otherwise, the cursor
 * back at the entry, for mapEntry to read it (any other shape, field order or extra field).
 */
let floatKey: Path = { text: '', bytes: 0, valid: true };
function floatEntry(c: Cur, index: number): number | undefined {
  const at = c.pos;
  const outer = c.enter();
  const b = c.buf;
  if (c.pos < c.end && b[c.pos] === 0x0a) {
    c.pos++;
    const ke = c.len();
    const ks = c.start;
    // value=2 (LEN, 9 bytes) holding float64=1 (I64): 0x12 0x09 0x09 + 8 bytes, ending the entry.
    if (c.pos + 11 === c.end && b[c.pos] === 0x12 && b[c.pos + 1] === 0x09 && b[c.pos + 2] === 0x09) {
      floatKey = decodePathAt(b, ks, ke, index);
      const v = c.doubleAt(c.pos + 3);
      c.leave(outer);
      return v;
    }
  }
  c.pos = at;
  c.end = outer;
  return undefined;
}

/** The entries of packed float appends as tuples (Snapshot.append when `floats` is set). */
function floatTuples(f: FloatAppends): Array<[Path, Value]> {
  return f.paths.map((p, k) => [p, { kind: 'float64', v: f.values[k] }]);
}

/** A decoded snapshot: `append` gives packed float entries as tuples on first use (no closure per snapshot). */
class DecodedSnapshot implements Snapshot {
  step?: Step;
  timestamp?: Timestamp;
  preview?: { isPreview: boolean; completionRatio: number };
  requestId?: string;
  assign: Array<[Path, Value]> = [];
  modifySets: Array<[Path, Array<[string, SetOp]>]> = [];
  floats?: FloatAppends;
  private entries: Array<[Path, Value]> | undefined = [];

  constructor(readonly encodedBytes: number) {}

  get append(): Array<[Path, Value]> {
    return (this.entries ??= this.floats ? floatTuples(this.floats) : []);
  }

  set append(v: Array<[Path, Value]>) {
    this.entries = v;
  }

  /** The entries so far are all floats, packed: `append` is made from them when asked. */
  pack(f: FloatAppends): void {
    this.floats = f;
    this.entries = undefined;
  }
}

function snapshot(c: Cur): Snapshot {
  const s = new DecodedSnapshot(c.end - c.pos);
  let appended = 0;
  // Float entries are packed while every append entry so far is one; the first other entry unpacks them.
  let floats: FloatAppends | undefined = { paths: [], values: [] };
  while (c.more()) {
    const no = c.tag();
    const wt = c.wt;
    if (wt !== LEN) { c.skip(wt); continue; }
    switch (no) {
      case 1: s.step = nested(c, step); break;
      case 2: s.timestamp = nested(c, timestamp); break;
      case 4: s.assign.push(mapEntry(c, value, NONE, -1)); break;
      case 5: s.modifySets.push(mapEntry(c, modifySet, [] as Array<[string, SetOp]>, -1)); break;
      case 8: {
        const v = floats ? floatEntry(c, appended) : undefined;
        if (v !== undefined) {
          floats!.paths.push(floatKey);
          floats!.values.push(v);
          appended++;
          break;
        }
        if (floats) {
          s.append = floatTuples(floats);
          floats = undefined;
        }
        s.append.push(mapEntry(c, value, NONE, appended++));
        break;
      }
      case 9: s.requestId = c.string(); break;
      case 10: {
        const p = c.sub();
        const pv = { isPreview: false, completionRatio: 0 };
        while (p.more()) {
          const n2 = p.tag();
    const w2 = p.wt;
          if (n2 === 1 && w2 === VARINT) pv.isPreview = p.varint() !== 0;
          else if (n2 === 2 && w2 === I32) pv.completionRatio = p.float();
          else p.skip(w2);
        }
        s.preview = pv;
        break;
      }
      default: c.skip(wt);
    }
  }
  if (floats && floats.paths.length > 0) s.pack(floats);
  return s;
}

function run(c: Cur): RunCreate {
  const r: RunCreate = {};
  while (c.more()) {
    const no = c.tag();
    const wt = c.wt;
    if (no === 9 && wt === VARINT) { r.inheritConfigs = c.varint() !== 0; continue; }
    if (wt !== LEN) { c.skip(wt); continue; }
    switch (no) {
      case 1: r.runId = c.string(); break;
      case 2: {
        const f = c.sub();
        const fp: ForkPoint = { parentRunId: '' };
        while (f.more()) {
          const n2 = f.tag();
    const w2 = f.wt;
          if (n2 === 1 && w2 === LEN) fp.parentProject = f.string();
          else if (n2 === 2 && w2 === LEN) fp.parentRunId = f.string();
          else if (n2 === 4 && w2 === LEN) fp.step = step(f.sub());
          else f.skip(w2);
        }
        r.forkPoint = fp;
        break;
      }
      case 3: r.creationTime = timestamp(c.sub()); break;
      case 4: r.family = c.string(); break;
      case 5: r.experimentId = c.string(); break;
      case 6: {
        const o = c.sub();
        while (o.more()) {
          const n2 = o.tag();
    const w2 = o.wt;
          if ((n2 === 1 || n2 === 2) && w2 === LEN) r.owner = o.string();
          else o.skip(w2);
        }
        break;
      }
      case 7: r.requestId = c.string(); break;
      case 8: r.tracker = c.string(); break;
      default: c.skip(wt);
    }
  }
  return r;
}

/** UpdateRunSnapshots{snapshots=1} over [s, e) of the buffer, snapshot by snapshot. */
function snapshotList(c: Cur): Snapshot[] {
  const list: Snapshot[] = [];
  while (c.more()) {
    const no = c.tag();
    const wt = c.wt;
    if (no === 1 && wt === LEN) list.push(nested(c, snapshot));
    else c.skip(wt);
  }
  return list;
}

/** Gives each FloatRows batch its own mark on the path cache's entries. */
let batchSerial = 0;

/**
 * Per entry index of the snapshot before, in the batch being decoded (marked by its serial): where its
 * entry began, the length of its head (entry tag and length, key, value tag and length, float64 tag:
 * everything before the 8 value bytes) and its column. Rows list the same metrics in the same order,
 * so an entry whose head is byte for byte the one before at its index is known without parsing it.
 */
const HEADS = 4096;
const headBatch = new Int32Array(HEADS);
const headAt = new Int32Array(HEADS);
const headLen = new Int32Array(HEADS);
const headColumn = new Int32Array(HEADS);

/**
 * UpdateRunSnapshots over the cursor's range as FloatRows, or undefined as soon as a snapshot is not
 * a plain history row (then the batch is decoded snapshot by snapshot, which also reports what is
 * malformed). Map keys go through the same cache, in the same order, as snapshot() takes them.
 */
function floatRows(c: Cur): FloatRows | undefined {
  const { buf } = c;
  const start = c.pos;
  const generation = cacheGeneration;
  try {
    // First pass: the snapshot count (the columns' capacity) and the largest snapshot.
    let n = 0;
    let maxBytes = 0;
    while (c.more()) {
      if (buf[c.pos] !== 0x0a) return undefined; // snapshots=1, LEN
      c.pos++;
      const e = c.len();
      maxBytes = Math.max(maxBytes, e - c.start);
      n++;
    }
    c.pos = start;
    const rows: FloatRows = {
      count: n, stepWhole: new Float64Array(n).fill(-1), stepMicro: new Float64Array(n), tsSeconds: new Float64Array(n).fill(NaN),
      tsNanos: new Float64Array(n), columns: [], maxSnapshotBytes: maxBytes,
    };
    const columns = rows.columns;
    const serial = ++batchSerial;
    for (let i = 0; i < n; i++) {
      c.pos++; // the snapshot's tag, checked above
      const outer = c.enter();
      let index = 0;
      let stepSeen = false;
      let tsSeen = false;
      while (c.pos < c.end) {
        const p = c.pos;
        if (index < HEADS && headBatch[index] === serial) {
          const hl = headLen[index];
          if (p + hl + 8 <= c.end && c.sameRange(p, headAt[index], hl)) {
            const col = columns[headColumn[index]];
            if (col.rows[col.count - 1] === i) return undefined; // the same key twice in one snapshot
            col.rows[col.count] = i;
            col.values[col.count] = c.doubleAt(p + hl);
            col.count++;
            headAt[index] = p;
            index++;
            c.pos = p + hl + 8;
            continue;
          }
        }
        const t = buf[c.pos++];
        if (t === 0x42) { // append=8, LEN: key=1 then value=2 holding float64=1 and nothing else (floatEntry's shape)
          const entryOuter = c.enter();
          if (c.pos >= c.end || buf[c.pos] !== 0x0a) return undefined;
          c.pos++;
          const ke = c.len();
          const at = c.pos;
          if (at + 11 !== c.end || buf[at] !== 0x12 || buf[at + 1] !== 0x09 || buf[at + 2] !== 0x09) return undefined;
          const entry = pathEntryAt(buf, c.start, ke, index);
          let col: FloatColumn;
          if (entry.batch !== serial) {
            entry.batch = serial;
            entry.column = columns.length;
            col = { path: entry.path, count: 0, rows: new Int32Array(n), values: new Float64Array(n) };
            columns.push(col);
          } else {
            col = columns[entry.column];
            if (col.rows[col.count - 1] === i) return undefined; // the same key twice in one snapshot
          }
          col.rows[col.count] = i;
          col.values[col.count] = c.doubleAt(at + 3);
          col.count++;
          if (index < HEADS) {
            headBatch[index] = serial;
            headAt[index] = p;
            headLen[index] = at + 3 - p;
            headColumn[index] = entry.column;
          }
          index++;
          c.leave(entryOuter);
        } else if (t === 0x0a && !stepSeen) { // step=1: Step{whole=1, micro=2}
          stepSeen = true;
          const o = c.enter();
          let whole = 0;
          let micro = 0;
          while (c.pos < c.end) {
            const f = buf[c.pos++];
            if (f === 0x08) whole = c.varint();
            else if (f === 0x10) micro = c.varint();
            else return undefined;
          }
          c.leave(o);
          rows.stepWhole[i] = whole;
          rows.stepMicro[i] = micro;
        } else if (t === 0x12 && !tsSeen) { // timestamp=2: Timestamp{seconds=1 int64, nanos=2 int32}
          tsSeen = true;
          const o = c.enter();
          let seconds = 0;
          let nanos = 0;
          while (c.pos < c.end) {
            const f = buf[c.pos++];
            if (f === 0x08) seconds = c.int64Number();
            else if (f === 0x10) nanos = c.int32();
            else return undefined;
          }
          c.leave(o);
          rows.tsSeconds[i] = seconds;
          rows.tsNanos[i] = nanos;
        } else return undefined;
      }
      c.leave(outer);
    }
    return cacheGeneration === generation ? rows : undefined;
  } catch (e) {
    if (e instanceof Malformed) return undefined;
    throw e;
  }
}

export function decodeRunOperation(buf: Uint8Array): RunOperation {
  const c = new Cur(buf);
  const op: RunOperation = { project: '', runId: '', createMissingProject: false };
  let batch: { s: number; e: number } | undefined;
  while (c.more()) {
    const no = c.tag();
    const wt = c.wt;
    if (no === 1 && wt === LEN) op.project = c.string();
    else if (no === 2 && wt === LEN) op.runId = c.string();
    else if (no === 3 && wt === VARINT) op.createMissingProject = c.varint() !== 0;
    else if (no === 6 && wt === LEN) { op.create = run(c.sub()); op.snapshots = undefined; batch = undefined; }
    else if (no === 7 && wt === LEN) { op.snapshots = [snapshot(c.sub())]; op.create = undefined; batch = undefined; }
    else if (no === 8 && wt === LEN) {
      const e = c.len();
      batch = { s: c.start, e };
      op.snapshots = undefined; op.create = undefined;
    } else c.skip(wt); // api_key=12 and unknown fields: the Bearer header is what authenticates (§3.1 notes)
  }
  if (!batch) return op;
  const { s, e } = batch;
  const rows = floatRows(c.at(s, e));
  if (!rows) return { ...op, snapshots: snapshotList(c.at(s, e)) };
  let list: Snapshot[] | undefined;
  return {
    ...op, rows,
    get snapshots() { return (list ??= snapshotList(c.at(s, e))); },
  };
}

function requestId(c: Cur): string {
  let v = '';
  while (c.more()) {
    const no = c.tag();
    const wt = c.wt;
    if (no === 1 && wt === LEN) v = c.string();
    else c.skip(wt);
  }
  return v;
}

/** pub/client.proto `RequestIdList{ids=1 [RequestId{value=1}]}` ≡ `BulkStatusCheck{ids=1, project=2}` on the wire. */
export function decodeRequestIds(buf: Uint8Array): { ids: string[]; project?: string } {
  const c = new Cur(buf);
  const out: { ids: string[]; project?: string } = { ids: [] };
  while (c.more()) {
    const no = c.tag();
    const wt = c.wt;
    if (no === 1 && wt === LEN) out.ids.push(requestId(c.sub()));
    else if (no === 2 && wt === LEN) out.project = c.string();
    else c.skip(wt);
  }
  return out;
}

/** pub/client.proto `BulkCheckDetail{project=1, ids=2, next_cursor=3, limit=4}`. */
export function decodeBulkCheckDetail(buf: Uint8Array): { project: string; ids: string[]; cursor?: string; limit?: number } {
  const c = new Cur(buf);
  const out: { project: string; ids: string[]; cursor?: string; limit?: number } = { project: '', ids: [] };
  while (c.more()) {
    const no = c.tag();
    const wt = c.wt;
    if (no === 1 && wt === LEN) out.project = c.string();
    else if (no === 2 && wt === LEN) out.ids.push(requestId(c.sub()));
    else if (no === 3 && wt === LEN) out.cursor = c.string();
    else if (no === 4 && wt === VARINT) out.limit = c.int32();
    else c.skip(wt);
  }
  return out;
}

/** One series of a bucket request: requests.proto `ProtoCustomExpression`. */
export interface BucketExpression {
  requestId: string; runId: string; formula: string; includePreview: boolean;
  /** `ProtoLineage{FULL = 0, ONLY_OWNED = 1}`, `LineageEntityType{EXPERIMENT = 0, RUN = 1}`. */
  lineage: number; entityType: number;
}

export interface BucketsRequest {
  expressions: BucketExpression[];
  view: { from?: number; to?: number; maxBuckets: number; stepFrom?: number; stepTo?: number; xAxis?: number };
}

/**
 * requests.proto `ProtoGetTimeseriesBucketsRequest{expressions=1, view=2}`:
 * `ProtoCustomExpression{requestId=1, runId=2, customYFormula=3, includePreview=4, lineage=5, entityType=6}`,
 * `ProtoView{from=1 double, to=2 double, pointFilters=3 {stepRange=1 ProtoOpenRange{from=1, to=2}}, maxBuckets=4,
 * xScale=5, yScale=6, xAxis=7 ProtoXAxis{oneof steps=1 | epochMillis=2 | relativeTime=3 | custom=4}}`.
 */
export function decodeBucketsRequest(buf: Uint8Array): BucketsRequest {
  const c = new Cur(buf);
  const out: BucketsRequest = { expressions: [], view: { maxBuckets: 0 } };
  while (c.more()) {
    const no = c.tag();
    const wt = c.wt;
    if (no === 1 && wt === LEN) {
      const e = c.sub();
      const x: BucketExpression = { requestId: '', runId: '', formula: '', includePreview: false, lineage: 0, entityType: 0 };
      while (e.more()) {
        const f = e.tag();
        const ft = e.wt;
        if (f === 1 && ft === LEN) x.requestId = e.string();
        else if (f === 2 && ft === LEN) x.runId = e.string();
        else if (f === 3 && ft === LEN) x.formula = e.string();
        else if (f === 4 && ft === VARINT) x.includePreview = e.varint() !== 0;
        else if (f === 5 && ft === VARINT) x.lineage = e.int32();
        else if (f === 6 && ft === VARINT) x.entityType = e.int32();
        else e.skip(ft);
      }
      out.expressions.push(x);
    } else if (no === 2 && wt === LEN) {
      const v = c.sub();
      while (v.more()) {
        const f = v.tag();
        const ft = v.wt;
        if (f === 1 && ft === I64) out.view.from = v.double();
        else if (f === 2 && ft === I64) out.view.to = v.double();
        else if (f === 4 && ft === VARINT) out.view.maxBuckets = v.int32();
        else if (f === 3 && ft === LEN) {
          const pf = v.sub();
          while (pf.more()) {
            if (pf.tag() === 1 && pf.wt === LEN) {
              const r = pf.sub();
              while (r.more()) {
                const rf = r.tag();
                if (rf === 1 && r.wt === I64) out.view.stepFrom = r.double();
                else if (rf === 2 && r.wt === I64) out.view.stepTo = r.double();
                else r.skip(r.wt);
              }
            } else pf.skip(pf.wt);
          }
        } else if (f === 7 && ft === LEN) {
          const a = v.sub();
          while (a.more()) { out.view.xAxis = a.tag(); a.skip(a.wt); }
        } else v.skip(ft);
      }
    } else c.skip(wt);
  }
  return out;
}
