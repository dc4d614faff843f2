/**
 * The hot path: series points and atoms of one flush → `RunOperation{update_batch}` request bodies,
 * written straight into one reused buffer. Each path's encoded map key (and, for floats, the whole
 * entry head) is prepared once per run; a float point then costs a copy of that head and 8 bytes.
 * Points of one step and timestamp share a snapshot (one W&B history row → one snapshot); snapshots
 * go out in step order, so every series' steps increase within and across requests.
 */
import {
  MAP_ENTRY,
  RUN_OPERATION,
  SNAPSHOT,
  SNAPSHOTS_FIELD,
  VALUE,
  decomposeStep,
  microOf,
  modifySetEntrySize,
  nanosOf,
  splitTimestamp,
  stepPayloadSize,
  timestampPayloadSize,
  valueEntrySize,
  writeModifySetEntry,
  writeOperationHead,
  writeStep,
  writeTimestamp,
  writeValueEntry,
  type BValue,
} from './messages.ts';
import { ProtoWriter, WIRE_I64, WIRE_LEN, lenFieldSize, tag, varintSize } from './wire.ts';

/** A path's encoded map key, prepared once. */
export class PathKey {
  /** `key` field of a map entry: tag, length, UTF-8 path. */
  readonly keyField: Buffer;
  /** Whole head of an `append` entry holding a float: entry tag + length, key, value tag + length, `float64` tag. */
  readonly floatHead: Buffer;

  constructor(readonly path: string) {
    const key = Buffer.from(path, 'utf8');
    const w = new ProtoWriter(key.length + 32);
    w.tag(MAP_ENTRY.key, WIRE_LEN);
    w.varint(key.length);
    w.bytes(key);
    this.keyField = Buffer.from(w.view());
    const entry = this.keyField.length + 2 + 9;
    w.reset();
    w.tag(SNAPSHOT.append, WIRE_LEN);
    w.varint(entry);
    w.bytes(this.keyField);
    w.tag(MAP_ENTRY.value, WIRE_LEN);
    w.varint(9);
    w.tag(VALUE.float64, WIRE_I64);
    this.floatHead = Buffer.from(w.view());
  }

  get floatEntrySize(): number {
    return this.floatHead.length + 8;
  }

  stringEntrySize(bytes: number): number {
    const value = 1 + varintSize(bytes) + bytes;
    return lenFieldSize(SNAPSHOT.append, this.keyField.length + 1 + varintSize(value) + value);
  }
}

/** The points of one step and timestamp. */
interface Row {
  step: number;
  ts: number;
  keys: PathKey[];
  values: Array<number | string>;
  /** Encoded sizes of each entry (strings vary). */
  sizes: number[];
  /** Another row at the same step with a different timestamp. */
  other?: Row;
}

interface Atom {
  kind: 'assign' | 'modifySet';
  path: string;
  value?: BValue;
  /** A set's values to add, and to take out. */
  values?: readonly string[];
  removes?: readonly string[];
  size: number;
}

/**
 * Float points by column, as the run checked them (run.ts): row i of column k is a point where
 * `masks[k]` is undefined or `masks[k][i]` is 1. One snapshot per row, as for points added one by one.
 */
export interface FloatBlockEntries {
  steps: Float64Array;
  timestampsMs: Float64Array;
  keys: PathKey[];
  values: Float64Array[];
  masks: (Uint8Array | undefined)[];
}

/** One snapshot to write: a row's entries [from, to), a block row's columns [from, to), or atoms [from, to). */
interface Piece {
  row?: Row;
  block?: FloatBlockEntries;
  /** The block's row. */
  index: number;
  /** Step and timestamp of a row's or block row's snapshot (snapshots go out in this order). */
  step: number;
  ts: number;
  from: number;
  to: number;
  payload: number;
}

export interface EncoderLimits {
  /** One `UpdateRunSnapshot` (neptune-scale: 2 MiB). */
  maxSnapshotBytes: number;
  /** One request body (neptune-scale: 16 MiB). */
  maxRequestBytes: number;
}

export const DEFAULT_ENCODER_LIMITS: EncoderLimits = { maxSnapshotBytes: 2 * 1024 * 1024, maxRequestBytes: 16 * 1024 * 1024 - 64 * 1024 };

/** Every entry head of a block's row, each followed by room for its double, and where the doubles go. */
interface RowTemplate {
  bytes: Uint8Array;
  at: Int32Array;
}

const templates = new WeakMap<FloatBlockEntries, RowTemplate | null>();

/**
 * A block's row template, made once per block: a row with every column then costs one copy and its
 * doubles. None (undefined) for a block with a mask: its rows may leave columns out.
 */
function rowTemplate(b: FloatBlockEntries): RowTemplate | undefined {
  let t = templates.get(b);
  if (t !== undefined) return t ?? undefined;
  if (b.masks.some((m) => m !== undefined)) {
    templates.set(b, null);
    return undefined;
  }
  let size = 0;
  for (const k of b.keys) size += k.floatEntrySize;
  const bytes = new Uint8Array(size);
  const at = new Int32Array(b.keys.length);
  let p = 0;
  b.keys.forEach((k, i) => {
    bytes.set(k.floatHead, p);
    at[i] = p + k.floatHead.length;
    p += k.floatEntrySize;
  });
  templates.set(b, (t = { bytes, at }));
  return t;
}

/** Bytes of a block row's step and timestamp fields (as `writeBlockRow` writes them, no object made). */
function blockRowHead(step: number, ms: number): number {
  const whole = Math.floor(step);
  const seconds = Math.floor(ms / 1000);
  return lenFieldSize(SNAPSHOT.step, stepPayloadSize(whole, microOf(step, whole))) + lenFieldSize(SNAPSHOT.timestamp, timestampPayloadSize(seconds, nanosOf(ms, seconds)));
}

/** The first size of an encoder's request buffer: a small run's whole request. */
export const ENCODER_START_BYTES = 16 * 1024;

export class SnapshotEncoder {
  private readonly keys = new Map<string, PathKey>();
  private rows = new Map<number, Row>();
  private blocks: FloatBlockEntries[] = [];
  private atoms: Atom[] = [];
  private points = 0;
  /**
   * Starts small and doubles to the requests' size (reused by the run's later batches). Each run opens an
   * encoder: at 1 MB each, a small run's few KB cost a 1 MB buffer, which made V8 collect the whole heap
   * every few runs (external memory) and, on Node 20, glibc serve such blocks from its main heap, which
   * then grew with the run count (bench (c) over Protocol B).
   */
  private readonly writer = new ProtoWriter(ENCODER_START_BYTES);
  /** Block rows to write (blockRows): which block, which row, the snapshot's payload size. Reused. */
  private rowBlock = new Int32Array(0);
  private rowIndex = new Int32Array(0);
  private rowPayload = new Int32Array(0);

  constructor(private readonly limits: EncoderLimits = DEFAULT_ENCODER_LIMITS) {}

  get pendingPoints(): number {
    return this.points;
  }

  get empty(): boolean {
    return this.points === 0 && this.atoms.length === 0;
  }

  key(path: string): PathKey {
    let k = this.keys.get(path);
    if (!k) this.keys.set(path, (k = new PathKey(path)));
    return k;
  }

  assign(path: string, value: BValue): void {
    this.atoms.push({ kind: 'assign', path, value, size: valueEntrySize(SNAPSHOT.assign, path, value) });
  }

  addToSet(path: string, values: readonly string[]): void {
    this.modifySet(path, values, []);
  }

  /** Values to take out of a set (`SET_OPERATION.REMOVE`). */
  removeFromSet(path: string, values: readonly string[]): void {
    this.modifySet(path, [], values);
  }

  /**
   * One `ModifySet` per set and flush: `modify_sets` is a map, and of two entries with one key in a
   * snapshot a protobuf reader keeps the last, so adds and removes of a set share one entry.
   */
  private modifySet(path: string, add: readonly string[], remove: readonly string[]): void {
    const held = this.atoms.find((a) => a.kind === 'modifySet' && a.path === path);
    const values = [...(held?.values ?? []), ...add];
    const removes = [...(held?.removes ?? []), ...remove];
    const atom: Atom = { kind: 'modifySet', path, values, removes, size: modifySetEntrySize(path, [...values, ...removes]) };
    if (held) Object.assign(held, atom);
    else this.atoms.push(atom);
  }

  private row(step: number, ts: number): Row {
    let r = this.rows.get(step);
    if (!r) {
      r = { step, ts, keys: [], values: [], sizes: [] };
      this.rows.set(step, r);
      return r;
    }
    while (r.ts !== ts) {
      if (!r.other) return (r.other = { step, ts, keys: [], values: [], sizes: [] });
      r = r.other;
    }
    return r;
  }

  appendFloat(key: PathKey, step: number, ts: number, value: number): void {
    const r = this.row(step, ts);
    r.keys.push(key);
    r.values.push(value);
    r.sizes.push(key.floatEntrySize);
    this.points++;
  }

  appendString(key: PathKey, step: number, ts: number, value: string): void {
    const r = this.row(step, ts);
    r.keys.push(key);
    r.values.push(value);
    r.sizes.push(key.stringEntrySize(Buffer.byteLength(value, 'utf8')));
    this.points++;
  }

  /** Float points by column (`points` of them); the arrays are kept, not copied, until `clear`. */
  appendFloatBlock(block: FloatBlockEntries, points: number): void {
    this.blocks.push(block);
    this.points += points;
  }

  clear(): void {
    this.rows = new Map();
    this.blocks = [];
    this.atoms = [];
    this.points = 0;
  }

  /**
   * The request bodies for everything added since the last `clear`. Each yielded buffer is a view of
   * the encoder's own buffer: use it (send it) before asking for the next one.
   */
  *requests(project: string, runId: string, nowMs: number): Generator<Buffer> {
    const headSize = lenFieldSize(RUN_OPERATION.project, Buffer.byteLength(project)) + lenFieldSize(RUN_OPERATION.runId, Buffer.byteLength(runId));
    const now = splitTimestamp(nowMs);
    const atomHead = lenFieldSize(SNAPSHOT.timestamp, timestampPayloadSize(now.seconds, now.nanos));
    const atoms = [...this.atomPieces(atomHead)];
    // History blocks alone (the fast path) go out from typed arrays; anything else as Piece objects.
    const rows = this.rows.size === 0 ? this.blockRows() : 0;
    const pieces = rows > 0 ? atoms : [...atoms, ...this.snapshotPieces()];
    const count = pieces.length + rows;
    const payloadOf = (k: number) => (k < pieces.length ? pieces[k].payload : this.rowPayload[k - pieces.length]);
    // Room left for snapshots in one request: the head and the update_batch tag + length.
    const budget = this.limits.maxRequestBytes - headSize - 6;
    let i = 0;
    while (i < count) {
      let size = 0;
      let j = i;
      while (j < count) {
        const s = lenFieldSize(SNAPSHOTS_FIELD, payloadOf(j));
        if (j > i && size + s > budget) break;
        size += s;
        j++;
      }
      const w = this.writer;
      w.reset();
      writeOperationHead(w, project, runId);
      w.lenField(RUN_OPERATION.updateBatch, size, () => {
        for (let k = i; k < j; k++) {
          if (k < pieces.length) this.writePiece(pieces[k], now);
          else {
            const r = k - pieces.length;
            this.writeBlockRow(this.blocks[this.rowBlock[r]], this.rowIndex[r], 0, Infinity, this.rowPayload[r]);
          }
        }
      });
      yield w.view();
      i = j;
    }
  }

  /**
   * The snapshots of the blocks as three typed arrays (block, row, payload; no object per row), when
   * nothing needs the general path: steps strictly increasing across the blocks (so this is their
   * order) and no snapshot over the size limit. Returns how many, or 0 to use the general path.
   */
  private blockRows(): number {
    let total = 0;
    for (const b of this.blocks) total += b.steps.length;
    if (this.rowPayload.length < total) {
      const size = Math.max(total, this.rowPayload.length * 2);
      this.rowBlock = new Int32Array(size);
      this.rowIndex = new Int32Array(size);
      this.rowPayload = new Int32Array(size);
    }
    let m = 0;
    let prev = -Infinity;
    for (let bi = 0; bi < this.blocks.length; bi++) {
      const { steps, timestampsMs, keys, masks } = this.blocks[bi];
      const masked = masks.some((x) => x !== undefined);
      let all = 0;
      for (const k of keys) all += k.floatEntrySize;
      for (let i = 0; i < steps.length; i++) {
        const step = steps[i];
        if (!(step > prev)) return 0;
        prev = step;
        let payload = all;
        if (masked) {
          payload = 0;
          for (let k = 0; k < keys.length; k++) {
            const mk = masks[k];
            if (!mk || mk[i] === 1) payload += keys[k].floatEntrySize;
          }
          if (payload === 0) continue;
        } else if (keys.length === 0) continue;
        payload += blockRowHead(step, timestampsMs[i]);
        if (payload > this.limits.maxSnapshotBytes) return 0;
        this.rowBlock[m] = bi;
        this.rowIndex[m] = i;
        this.rowPayload[m] = payload;
        m++;
      }
    }
    return m;
  }

  private *atomPieces(head: number): Generator<Piece> {
    let from = 0;
    let payload = head;
    for (let k = 0; k < this.atoms.length; k++) {
      const s = this.atoms[k].size;
      if (k > from && payload + s > this.limits.maxSnapshotBytes) {
        yield { from, to: k, payload, index: 0, step: 0, ts: 0 };
        from = k;
        payload = head;
      }
      payload += s;
    }
    if (this.atoms.length > from) yield { from, to: this.atoms.length, payload, index: 0, step: 0, ts: 0 };
  }

  /** The snapshots of points, rows and block rows alike, in step (then timestamp) order. */
  private snapshotPieces(): Piece[] {
    const pieces = [...this.rowPieces()];
    const fromRows = pieces.length;
    for (const b of this.blocks) this.blockPieces(b, pieces);
    // Blocks come in step order (history, read in order); points added one by one may lie between them.
    let sorted = fromRows === 0 || fromRows === pieces.length;
    for (let k = fromRows + 1; sorted && k < pieces.length; k++) sorted = pieces[k - 1].step <= pieces[k].step;
    if (!sorted) pieces.sort((a, b) => a.step - b.step || a.ts - b.ts);
    return pieces;
  }

  private blockPieces(b: FloatBlockEntries, out: Piece[]): void {
    const { steps, timestampsMs, keys, masks } = b;
    for (let i = 0; i < steps.length; i++) {
      const step = steps[i];
      const ts = timestampsMs[i];
      const { whole, micro } = decomposeStep(step);
      const t = splitTimestamp(ts);
      const head = lenFieldSize(SNAPSHOT.step, stepPayloadSize(whole, micro)) + lenFieldSize(SNAPSHOT.timestamp, timestampPayloadSize(t.seconds, t.nanos));
      let from = 0;
      let payload = head;
      let entries = 0;
      for (let k = 0; k < keys.length; k++) {
        const m = masks[k];
        if (m && m[i] !== 1) continue;
        const s = keys[k].floatEntrySize;
        if (entries > 0 && payload + s > this.limits.maxSnapshotBytes) {
          out.push({ block: b, index: i, step, ts, from, to: k, payload });
          from = k;
          payload = head;
          entries = 0;
        }
        payload += s;
        entries++;
      }
      if (entries > 0) out.push({ block: b, index: i, step, ts, from, to: keys.length, payload });
    }
  }

  private *rowPieces(): Generator<Piece> {
    const rows: Row[] = [];
    for (const r of this.rows.values()) {
      for (let x: Row | undefined = r; x; x = x.other) rows.push(x);
    }
    rows.sort((a, b) => a.step - b.step || a.ts - b.ts);
    for (const row of rows) {
      const { whole, micro } = decomposeStep(row.step);
      const t = splitTimestamp(row.ts);
      const head = lenFieldSize(SNAPSHOT.step, stepPayloadSize(whole, micro)) + lenFieldSize(SNAPSHOT.timestamp, timestampPayloadSize(t.seconds, t.nanos));
      let from = 0;
      let payload = head;
      for (let k = 0; k < row.sizes.length; k++) {
        const s = row.sizes[k];
        if (k > from && payload + s > this.limits.maxSnapshotBytes) {
          yield { row, from, to: k, payload, index: 0, step: row.step, ts: row.ts };
          from = k;
          payload = head;
        }
        payload += s;
      }
      if (row.sizes.length > from) yield { row, from, to: row.sizes.length, payload, index: 0, step: row.step, ts: row.ts };
    }
  }

  /** The snapshot of a block's row `i` (its entries of columns [from, to)), tag and length first. */
  private writeBlockRow(b: FloatBlockEntries, i: number, from: number, to: number, payload: number): void {
    const w = this.writer;
    w.tag(SNAPSHOTS_FIELD, WIRE_LEN);
    w.varint(payload);
    const start = w.pos;
    const { keys, values, masks } = b;
    // Step and timestamp as numbers, not decomposeStep's and splitTimestamp's objects: two a row.
    const step = b.steps[i];
    const whole = Math.floor(step);
    const ms = b.timestampsMs[i];
    const seconds = Math.floor(ms / 1000);
    w.ensure(payload);
    writeStep(w, SNAPSHOT.step, whole, microOf(step, whole));
    writeTimestamp(w, SNAPSHOT.timestamp, seconds, nanosOf(ms, seconds));
    const end = Math.min(to, keys.length);
    const tpl = from === 0 && end === keys.length ? rowTemplate(b) : undefined;
    if (tpl) w.templateAndDoubles(tpl.bytes, tpl.at, values, i);
    else for (let k = from; k < end; k++) {
      const m = masks[k];
      if (m && m[i] !== 1) continue;
      w.headAndDouble(keys[k].floatHead, values[k][i]);
    }
    if (w.pos - start !== payload) throw new Error(`snapshot: announced ${payload} bytes, wrote ${w.pos - start}`);
  }

  private writePiece(p: Piece, now: { seconds: number; nanos: number }): void {
    if (p.block) return this.writeBlockRow(p.block, p.index, p.from, p.to, p.payload);
    const w = this.writer;
    w.tag(SNAPSHOTS_FIELD, WIRE_LEN);
    w.varint(p.payload);
    const start = w.pos;
    if (!p.row) {
      writeTimestamp(w, SNAPSHOT.timestamp, now.seconds, now.nanos);
      for (let k = p.from; k < p.to; k++) {
        const a = this.atoms[k];
        if (a.kind === 'assign') writeValueEntry(w, SNAPSHOT.assign, a.path, a.value!);
        else writeModifySetEntry(w, a.path, a.values!, a.removes);
      }
    } else {
      const row = p.row;
      const { whole, micro } = decomposeStep(row.step);
      const t = splitTimestamp(row.ts);
      writeStep(w, SNAPSHOT.step, whole, micro);
      writeTimestamp(w, SNAPSHOT.timestamp, t.seconds, t.nanos);
      for (let k = p.from; k < p.to; k++) {
        const key = row.keys[k];
        const v = row.values[k];
        if (typeof v === 'number') {
          w.ensure(key.floatHead.length + 8);
          w.headAndDouble(key.floatHead, v);
        } else {
          const bytes = Buffer.byteLength(v, 'utf8');
          const value = 1 + varintSize(bytes) + bytes;
          w.tag(SNAPSHOT.append, WIRE_LEN);
          w.varint(key.keyField.length + 1 + varintSize(value) + value);
          w.bytes(key.keyField);
          w.tag(MAP_ENTRY.value, WIRE_LEN);
          w.varint(value);
          w.stringField(VALUE.string, v);
        }
      }
    }
    if (w.pos - start !== p.payload) throw new Error(`snapshot: announced ${p.payload} bytes, wrote ${w.pos - start}`);
  }
}

