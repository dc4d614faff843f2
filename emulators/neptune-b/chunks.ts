/**
 * Float series points written over Protocol B are held first as packed chunks, one per series and
 * request (a row per point costs SQLite ~2–5 µs here, far below the ≥ 2 M points/s the B bench needs
 * from the emulator, issue 10 "Fast"). Before anything reads points — A's routes, B's read routes,
 * either inspect — pending chunks are moved into A's `series_points`, the one place reads look at.
 *
 * A chunk holds its values (Float64Array, NaN kept as NaN) and the steps and timestamps it shares with
 * the other chunks of its request (RowSteps: one per request of history rows, whose metrics share each
 * row's step and timestamp); `idx` says which of those rows a series has points in, when not in all.
 * Pending chunks live in this process's memory, where the ingest's rules look a series' newest and
 * older points up (SQLite took ~20 ns a point to store them, most of the apply's cost). A database in
 * a file also gets them, in the request's transaction (`b_chunk_steps`, `b_float_chunks`), so that an
 * emulator restarted on it still holds what it acknowledged: they are read back at start-up. An
 * in-memory database ends with its process: nothing could ever read them there.
 */
import { insertPoints, stmt, type Db } from '../neptune/store.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS b_chunk_steps(id INTEGER PRIMARY KEY, n INTEGER NOT NULL, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS b_float_chunks(
  series_id INTEGER NOT NULL, first_step REAL NOT NULL, last_step REAL NOT NULL, n INTEGER NOT NULL,
  steps_id INTEGER NOT NULL, idx BLOB, vals BLOB NOT NULL,
  PRIMARY KEY(series_id, first_step)) WITHOUT ROWID;
`;

export interface ChunkPoint { step: number; ts: number; num: number | null; str: null }

/**
 * The steps and timestamps of a batch's rows (Float64Array [steps…, timestamps…], `n` of each), shared
 * by the chunks of its columns. `id`: its row in b_chunk_steps, once written (file databases only).
 */
export class RowSteps {
  id: number | undefined;
  constructor(readonly n: number, readonly data: Float64Array) {}
}

/** `n` points: the k-th at row idx[k] (k without idx) of `rows`, with vals[k]; steps increase. */
interface Chunk { seriesId: number; n: number; rows: RowSteps; idx: Int32Array | undefined; vals: Float64Array }

function rowOf(c: Chunk, k: number): number {
  return c.idx ? c.idx[k] : k;
}

function stepOf(c: Chunk, k: number): number {
  return c.rows.data[rowOf(c, k)];
}

function pointOf(c: Chunk, k: number): ChunkPoint {
  const r = rowOf(c, k);
  return chunkPoint(c.rows.data[r], c.rows.data[c.rows.n + r], c.vals[k]);
}

function chunkPoint(step: number, ts: number, v: number): ChunkPoint {
  return { step, ts, num: Number.isNaN(v) ? null : v, str: null };
}

/** The pending chunks of one database, by series in step order. */
class Pending {
  readonly bySeries = new Map<number, Chunk[]>();
  /** Chunks of the request being applied: taken back if its transaction rolls back. */
  added: Chunk[] = [];

  add(c: Chunk): void {
    const list = this.bySeries.get(c.seriesId);
    if (list) list.push(c);
    else this.bySeries.set(c.seriesId, [c]);
    this.added.push(c);
  }

  rollBack(): void {
    for (const c of this.added.reverse()) {
      const list = this.bySeries.get(c.seriesId)!;
      list.pop();
      if (list.length === 0) this.bySeries.delete(c.seriesId);
    }
    this.added = [];
  }
}

const pendingByDb = new WeakMap<Db, Pending>();

function pendingOf(db: Db): Pending {
  let p = pendingByDb.get(db);
  if (!p) pendingByDb.set(db, (p = new Pending()));
  return p;
}

/** A request starts being applied: what it adds is what a rollback takes back. */
export function beginChunks(db: Db): void {
  pendingOf(db).added = [];
}

/** After a rolled-back transaction: the chunks it added are gone (from SQLite by the rollback itself). */
export function rollBackChunks(db: Db): void {
  pendingOf(db).rollBack();
}

/** Creates the tables and takes up the chunks a previous process left in a file database. */
export function openChunks(db: Db): void {
  db.exec(SCHEMA);
  const p = pendingOf(db);
  const steps = new Map<number, RowSteps>();
  const stored = stmt(db, 'SELECT series_id, n, steps_id, idx, vals FROM b_float_chunks ORDER BY series_id, first_step').all() as
    Array<{ series_id: number; n: number; steps_id: number; idx: Buffer | null; vals: Buffer }>;
  for (const c of stored) {
    let rows = steps.get(c.steps_id);
    if (!rows) {
      const data = float64s((stmt(db, 'SELECT data FROM b_chunk_steps WHERE id = ?').get(c.steps_id) as { data: Buffer }).data);
      rows = new RowSteps(data.length / 2, data);
      rows.id = c.steps_id;
      steps.set(c.steps_id, rows);
    }
    p.add({ seriesId: c.series_id, n: c.n, rows, idx: c.idx ? int32s(c.idx) : undefined, vals: float64s(c.vals) });
  }
  p.added = [];
}

/** A blob as a typed array (copied: a Buffer from SQLite need not be aligned). */
function float64s(data: Buffer): Float64Array {
  return new Float64Array(new Uint8Array(data).buffer);
}

function int32s(data: Buffer): Int32Array {
  return new Int32Array(new Uint8Array(data).buffer);
}

/** A typed array's bytes, not copied (SQLite copies a bound blob: better-sqlite3 binds it SQLITE_TRANSIENT). */
function bytesOf(a: Float64Array | Int32Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

/** Keeps a chunk pending; a file database also stores it, in the transaction under way. */
function addChunk(db: Db, c: Chunk): void {
  pendingOf(db).add(c);
  if (db.memory) return;
  c.rows.id ??= Number(stmt(db, 'INSERT INTO b_chunk_steps(n, data) VALUES (?, ?)').run(c.rows.n, bytesOf(c.rows.data)).lastInsertRowid);
  stmt(db, 'INSERT INTO b_float_chunks(series_id, first_step, last_step, n, steps_id, idx, vals) VALUES (?, ?, ?, ?, ?, ?, ?)')
    .run(c.seriesId, stepOf(c, 0), stepOf(c, c.n - 1), c.n, c.rows.id, c.idx ? bytesOf(c.idx) : null, bytesOf(c.vals));
}

/**
 * The float points of one series within one request: gathered point by point into typed arrays, or
 * handed over as one column of a batch (addColumn), whose chunk then shares the batch's RowSteps.
 */
export class ChunkBuilder {
  n = 0;
  private steps: Float64Array<ArrayBuffer> | undefined;
  private ts: Float64Array<ArrayBuffer> | undefined;
  private vals: Float64Array<ArrayBuffer> | undefined;
  private column: { rows: RowSteps; idx: Int32Array; values: Float64Array } | undefined;

  /**
   * `capacity`: the points the request can hold for one series at most (its snapshot count), capped;
   * sized so, the arrays do not grow (growing them from 64 cost the B bench ~5% of the emulator's CPU).
   * They are made on the first add(): a builder handed a column needs none.
   */
  constructor(private readonly capacity = 64) {}

  add(step: number, ts: number, val: number): void {
    if (this.column) this.unpackColumn();
    if (!this.steps || !this.ts || !this.vals) {
      const c = Math.max(1, Math.min(this.capacity, MAX_INITIAL_POINTS));
      this.steps = new Float64Array(c);
      this.ts = new Float64Array(c);
      this.vals = new Float64Array(c);
    } else if (this.n === this.steps.length) {
      this.steps = grown(this.steps);
      this.ts = grown(this.ts);
      this.vals = grown(this.vals);
    }
    this.steps[this.n] = step;
    this.ts[this.n] = ts;
    this.vals[this.n] = val;
    this.n += 1;
  }

  /**
   * The `count` points of one column of a batch (wire.ts FloatColumn), kept by reference: the k-th at
   * the batch row idx[k] (its step and timestamp in `rows`), with values[k]; idx increases. The arrays
   * must not change afterwards (the decoded request is not reused).
   */
  addColumn(rows: RowSteps, idx: Int32Array, values: Float64Array, count: number): void {
    if (this.n > 0 || this.column) {
      for (let k = 0; k < count; k++) this.add(rows.data[idx[k]], rows.data[rows.n + idx[k]], values[k]);
      return;
    }
    this.column = { rows, idx: idx.subarray(0, count), values: values.subarray(0, count) };
    this.n = count;
  }

  /** A column followed by single points: its points become the builder's own. */
  private unpackColumn(): void {
    const { rows, idx, values } = this.column!;
    this.column = undefined;
    this.n = 0;
    for (let k = 0; k < idx.length; k++) this.add(rows.data[idx[k]], rows.data[rows.n + idx[k]], values[k]);
  }

  /** The gathered points become one pending chunk; the builder starts over. */
  write(db: Db, seriesId: number): void {
    const n = this.n;
    if (n === 0) return;
    const c = this.column;
    if (c) {
      // In every row of the batch: the rows are 0…n-1 and need no index, and the column's arrays are
      // exactly its points. In some rows: copied to their size (the column's arrays have room for all).
      const dense = n === c.rows.n;
      addChunk(db, { seriesId, n, rows: c.rows, idx: dense ? undefined : c.idx.slice(), vals: dense ? c.values : c.values.slice() });
    } else {
      // Copied: the builder's arrays take the next points.
      const data = new Float64Array(2 * n);
      data.set(this.steps!.subarray(0, n), 0);
      data.set(this.ts!.subarray(0, n), n);
      addChunk(db, { seriesId, n, rows: new RowSteps(n, data), idx: undefined, vals: this.vals!.slice(0, n) });
    }
    this.n = 0;
    this.column = undefined;
  }
}

/** A builder's first arrays hold at most this many points (3 × 512 KiB); more grow them. */
const MAX_INITIAL_POINTS = 65_536;

function grown(a: Float64Array<ArrayBuffer>): Float64Array<ArrayBuffer> {
  const b = new Float64Array(a.length * 2);
  b.set(a);
  return b;
}

/** The newest point of a series' pending chunks (a copy: callers move their own `last` on). */
export function lastChunkPoint(db: Db, seriesId: number): ChunkPoint | undefined {
  const list = pendingOf(db).bySeries.get(seriesId);
  if (!list) return undefined;
  const c = list[list.length - 1];
  return pointOf(c, c.n - 1);
}

/** The pending point of a series at `step`, if any. */
export function chunkPointAt(db: Db, seriesId: number, step: number): ChunkPoint | undefined {
  const list = pendingOf(db).bySeries.get(seriesId);
  const c = list?.find((x) => stepOf(x, 0) <= step && step <= stepOf(x, x.n - 1));
  if (!c) return undefined;
  let lo = 0;
  let hi = c.n - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = stepOf(c, mid);
    if (s === step) return pointOf(c, mid);
    if (s < step) lo = mid + 1;
    else hi = mid - 1;
  }
  return undefined;
}

/** Moves every pending chunk into series_points (SQLite stores NaN as NULL, as A's reads expect). */
export function materialize(db: Db): void {
  const p = pendingOf(db);
  if (p.bySeries.size === 0) return;
  db.transaction(() => {
    const rows: unknown[] = [];
    for (const sid of [...p.bySeries.keys()].sort((a, b) => a - b)) {
      for (const c of p.bySeries.get(sid)!) {
        for (let k = 0; k < c.n; k++) {
          const pt = pointOf(c, k);
          rows.push(sid, pt.step, pt.ts, pt.num, null);
        }
        if (rows.length >= 50_000) { insertPoints(db, rows); rows.length = 0; }
      }
    }
    insertPoints(db, rows);
    if (!db.memory) {
      stmt(db, 'DELETE FROM b_float_chunks').run();
      stmt(db, 'DELETE FROM b_chunk_steps').run();
    }
  })();
  p.bySeries.clear();
  p.added = [];
}
