/**
 * Float series points written over Protocol B land first as packed chunks, one per series and request
 * (a row per point costs SQLite ~2–5 µs here, far below the ≥ 2 M points/s the B bench needs from the
 * emulator, issue 10 "Fast"). Before anything reads points — A's routes, B's read routes, either
 * inspect — pending chunks are moved into A's `series_points`, the one place reads look at.
 * A chunk holds its values (Float64Array, NaN kept as NaN) and points at the steps and timestamps
 * it shares with the other chunks of its request (`b_chunk_steps`: Float64Array [steps…, timestamps
 * (ms)…], one per request of history rows, whose metrics share each row's step and timestamp); `idx`
 * (Int32Array) says which of those rows a series has points in, when not in all of them. Stored so,
 * a request of 10 metrics writes ~9.6 bytes a point instead of 24: SQLite's cost follows the bytes.
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

/** Databases with chunks not yet moved into series_points (checked once per db at start-up). */
const pending = new WeakMap<Db, boolean>();

/**
 * The newest chunk point of each series written or looked up since the chunks were last moved, by
 * series id (null: the series has no chunk). Every request asks it of every series it appends to, and
 * SQLite had to walk the whole blob's overflow pages to reach its last 24 bytes (the emulator's largest
 * apply cost in the B bench). Only this process writes b_chunks, so the map stays true; it is dropped
 * with the chunks (materialize) and when a request's transaction rolls back (forgetLastChunkPoints).
 */
const lastPoints = new WeakMap<Db, Map<number, ChunkPoint | null>>();

function lastPointsOf(db: Db): Map<number, ChunkPoint | null> {
  let m = lastPoints.get(db);
  if (!m) lastPoints.set(db, (m = new Map()));
  return m;
}

/** After a rolled-back transaction: chunks it wrote are gone, so what was remembered of them goes too. */
export function forgetLastChunkPoints(db: Db): void {
  lastPoints.delete(db);
}

export function openChunks(db: Db): void {
  db.exec(SCHEMA);
  pending.set(db, stmt(db, 'SELECT 1 FROM b_float_chunks LIMIT 1').get() !== undefined);
}

/**
 * The steps and timestamps of a batch's rows (Float64Array [steps…, timestamps…], `n` of each), shared
 * by the chunks of its columns: written with the first of them.
 */
export class RowSteps {
  id: number | undefined;
  constructor(readonly n: number, readonly data: Float64Array) {}

  idIn(db: Db): number {
    this.id ??= insertSteps(db, this.data);
    return this.id;
  }
}

function insertSteps(db: Db, data: Float64Array): number {
  return Number(stmt(db, 'INSERT INTO b_chunk_steps(n, data) VALUES (?, ?)').run(data.length / 2, bytesOf(data)).lastInsertRowid);
}

/** A typed array's bytes, not copied (SQLite copies a bound blob: better-sqlite3 binds it SQLITE_TRANSIENT). */
function bytesOf(a: Float64Array | Int32Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
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
   * the batch row idx[k] (its step and timestamp in `rows`), with values[k]; idx increases.
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

  /** Writes the gathered points as one chunk and starts over. */
  write(db: Db, seriesId: number): void {
    const n = this.n;
    if (n === 0) return;
    let stepsId: number;
    let idx: Int32Array | null = null;
    let vals: Float64Array;
    let first: number;
    let last: ChunkPoint;
    const c = this.column;
    if (c) {
      stepsId = c.rows.idIn(db);
      // Every row of the batch: the rows are 0…n-1 and need not be stored.
      if (n < c.rows.n) idx = c.idx;
      vals = c.values;
      const d = c.rows.data;
      first = d[c.idx[0]];
      last = chunkPoint(d[c.idx[n - 1]], d[c.rows.n + c.idx[n - 1]], vals[n - 1]);
    } else {
      // Laid out in a reused buffer: SQLite copies a bound blob.
      if (packed.length < 2 * n) packed = new Float64Array(Math.max(2 * n, packed.length * 2));
      const data = packed.subarray(0, 2 * n);
      data.set(this.steps!.subarray(0, n), 0);
      data.set(this.ts!.subarray(0, n), n);
      stepsId = insertSteps(db, data);
      vals = this.vals!.subarray(0, n);
      first = this.steps![0];
      last = chunkPoint(this.steps![n - 1], this.ts![n - 1], vals[n - 1]);
    }
    stmt(db, 'INSERT INTO b_float_chunks(series_id, first_step, last_step, n, steps_id, idx, vals) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(seriesId, first, last.step, n, stepsId, idx ? bytesOf(idx) : null, bytesOf(vals));
    pending.set(db, true);
    // Points are added in increasing steps (ingest.ts refuses any other), so this chunk's last is the series' newest.
    lastPointsOf(db).set(seriesId, last);
    this.n = 0;
    this.column = undefined;
  }
}

function chunkPoint(step: number, ts: number, v: number): ChunkPoint {
  return { step, ts, num: Number.isNaN(v) ? null : v, str: null };
}

/** A builder's first arrays hold at most this many points (3 × 512 KiB); more grow them. */
const MAX_INITIAL_POINTS = 65_536;
let packed = new Float64Array(0);

function grown(a: Float64Array<ArrayBuffer>): Float64Array<ArrayBuffer> {
  const b = new Float64Array(a.length * 2);
  b.set(a);
  return b;
}

/** A blob as a typed array (copied: a Buffer from SQLite need not be aligned). */
function float64s(data: Buffer): Float64Array {
  return new Float64Array(new Uint8Array(data).buffer);
}

function int32s(data: Buffer): Int32Array {
  return new Int32Array(new Uint8Array(data).buffer);
}

/** The newest point of a series' chunks (only its own bytes are read: a chunk holds up to a request's points). */
export function lastChunkPoint(db: Db, seriesId: number): ChunkPoint | undefined {
  const known = lastPointsOf(db);
  const p = known.get(seriesId);
  if (p !== undefined) return p === null ? undefined : { ...p }; // a copy: callers move their own `last` on
  const read = readLastChunkPoint(db, seriesId);
  known.set(seriesId, read ? { ...read } : null);
  return read;
}

function readLastChunkPoint(db: Db, seriesId: number): ChunkPoint | undefined {
  const c = stmt(db, `SELECT n, steps_id, substr(idx, 4 * (n - 1) + 1, 4) AS row, substr(vals, 8 * (n - 1) + 1, 8) AS val
    FROM b_float_chunks WHERE series_id = ? ORDER BY first_step DESC LIMIT 1`).get(seriesId) as { n: number; steps_id: number; row: Buffer | null; val: Buffer } | undefined;
  if (!c) return undefined;
  const row = c.row ? c.row.readInt32LE(0) : c.n - 1;
  const s = stmt(db, 'SELECT substr(data, 8 * ? + 1, 8) AS step, substr(data, 8 * (n + ?) + 1, 8) AS ts FROM b_chunk_steps WHERE id = ?')
    .get(row, row, c.steps_id) as { step: Buffer; ts: Buffer };
  return chunkPoint(s.step.readDoubleLE(0), s.ts.readDoubleLE(0), c.val.readDoubleLE(0));
}

interface StoredChunk { series_id: number; n: number; steps_id: number; idx: Buffer | null; vals: Buffer }

/** A stored chunk's points: the k-th at row(k) of its steps, with values[k]. */
function chunkReader(c: StoredChunk, steps: Float64Array) {
  const rows = steps.length / 2;
  const idx = c.idx ? int32s(c.idx) : undefined;
  const values = float64s(c.vals);
  const row = (k: number) => (idx ? idx[k] : k);
  return {
    step: (k: number) => steps[row(k)],
    point: (k: number) => chunkPoint(steps[row(k)], steps[rows + row(k)], values[k]),
  };
}

function stepsById(db: Db, id: number): Float64Array {
  return float64s((stmt(db, 'SELECT data FROM b_chunk_steps WHERE id = ?').get(id) as { data: Buffer }).data);
}

export function chunkPointAt(db: Db, seriesId: number, step: number): ChunkPoint | undefined {
  const c = stmt(db, 'SELECT series_id, n, steps_id, idx, vals FROM b_float_chunks WHERE series_id = ? AND first_step <= ? AND last_step >= ?')
    .get(seriesId, step, step) as StoredChunk | undefined;
  if (!c) return undefined;
  const r = chunkReader(c, stepsById(db, c.steps_id));
  let lo = 0;
  let hi = c.n - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = r.step(mid);
    if (s === step) return r.point(mid);
    if (s < step) lo = mid + 1;
    else hi = mid - 1;
  }
  return undefined;
}

/** Moves every pending chunk into series_points (SQLite stores NaN as NULL, as A's reads expect). */
export function materialize(db: Db): void {
  if (!pending.get(db)) return;
  db.transaction(() => {
    const chunks = stmt(db, 'SELECT series_id, n, steps_id, idx, vals FROM b_float_chunks ORDER BY series_id, first_step').all() as StoredChunk[];
    const steps = new Map<number, Float64Array>();
    const rows: unknown[] = [];
    for (const c of chunks) {
      let s = steps.get(c.steps_id);
      if (!s) steps.set(c.steps_id, (s = stepsById(db, c.steps_id)));
      const r = chunkReader(c, s);
      for (let k = 0; k < c.n; k++) {
        const p = r.point(k);
        rows.push(c.series_id, p.step, p.ts, p.num, null);
      }
      if (rows.length >= 50_000) { insertPoints(db, rows); rows.length = 0; }
    }
    insertPoints(db, rows);
    stmt(db, 'DELETE FROM b_float_chunks').run();
    stmt(db, 'DELETE FROM b_chunk_steps').run();
  })();
  lastPoints.delete(db);
  pending.set(db, false);
}
