/**
 * Float series points written over Protocol B land first as one packed chunk per series and request
 * (a row per point costs SQLite ~2–5 µs here, far below the ≥ 2 M points/s the B bench needs from the
 * emulator, issue 10 "Fast"). Before anything reads points — A's routes, B's read routes, either
 * inspect — pending chunks are moved into A's `series_points`, the one place reads look at.
 * A chunk is Float64Array [steps…, timestamps (ms)…, values…] (NaN kept as NaN).
 */
import { insertPoints, stmt, type Db } from '../neptune/store.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS b_chunks(
  series_id INTEGER NOT NULL, first_step REAL NOT NULL, last_step REAL NOT NULL, n INTEGER NOT NULL, data BLOB NOT NULL,
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
  pending.set(db, stmt(db, 'SELECT 1 FROM b_chunks LIMIT 1').get() !== undefined);
}

/**
 * The float points of one series within one request: gathered point by point into typed arrays, or
 * handed over as one column of a batch (addColumn), which is laid out straight into the chunk.
 */
export class ChunkBuilder {
  n = 0;
  private steps: Float64Array<ArrayBuffer> | undefined;
  private ts: Float64Array<ArrayBuffer> | undefined;
  private vals: Float64Array<ArrayBuffer> | undefined;
  private column: { steps: Float64Array; ts: Float64Array; rows: Int32Array; values: Float64Array } | undefined;

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
   * steps[rows[k]], ts[rows[k]], with values[k]; rows increase, so they are in the order add() takes.
   */
  addColumn(steps: Float64Array, ts: Float64Array, rows: Int32Array, values: Float64Array, count: number): void {
    if (this.n > 0 || this.column) {
      for (let k = 0; k < count; k++) this.add(steps[rows[k]], ts[rows[k]], values[k]);
      return;
    }
    this.column = { steps, ts, rows, values };
    this.n = count;
  }

  /** A column followed by single points: its points become the builder's own. */
  private unpackColumn(): void {
    const c = this.column!;
    const n = this.n;
    this.column = undefined;
    this.n = 0;
    for (let k = 0; k < n; k++) this.add(c.steps[c.rows[k]], c.ts[c.rows[k]], c.values[k]);
  }

  /** Step, timestamp and value of the k-th point. */
  private point(k: number): [number, number, number] {
    const c = this.column;
    if (c) return [c.steps[c.rows[k]], c.ts[c.rows[k]], c.values[k]];
    return [this.steps![k], this.ts![k], this.vals![k]];
  }

  /** Writes the gathered points as one chunk and starts over. */
  write(db: Db, seriesId: number): void {
    const n = this.n;
    if (n === 0) return;
    // Laid out in a reused buffer: SQLite copies a bound blob (better-sqlite3 binds it SQLITE_TRANSIENT).
    if (packed.length < 3 * n) packed = new Float64Array(Math.max(3 * n, packed.length * 2));
    const data = packed.subarray(0, 3 * n);
    const c = this.column;
    if (c) {
      for (let k = 0; k < n; k++) {
        const i = c.rows[k];
        data[k] = c.steps[i];
        data[n + k] = c.ts[i];
      }
      data.set(c.values.subarray(0, n), 2 * n);
    } else {
      data.set(this.steps!.subarray(0, n), 0);
      data.set(this.ts!.subarray(0, n), n);
      data.set(this.vals!.subarray(0, n), 2 * n);
    }
    const [first] = this.point(0);
    const [step, ts, v] = this.point(n - 1);
    stmt(db, 'INSERT INTO b_chunks(series_id, first_step, last_step, n, data) VALUES (?, ?, ?, ?, ?)')
      .run(seriesId, first, step, n, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    pending.set(db, true);
    // Points are added in increasing steps (ingest.ts refuses any other), so this chunk's last is the series' newest.
    lastPointsOf(db).set(seriesId, { step, ts, num: Number.isNaN(v) ? null : v, str: null });
    this.n = 0;
    this.column = undefined;
  }
}

/** A builder's first arrays hold at most this many points (3 × 512 KiB); more grow them. */
const MAX_INITIAL_POINTS = 65_536;
let packed = new Float64Array(0);

function grown(a: Float64Array<ArrayBuffer>): Float64Array<ArrayBuffer> {
  const b = new Float64Array(a.length * 2);
  b.set(a);
  return b;
}

function unpack(data: Buffer, n: number): Float64Array {
  // Copied: a Buffer from SQLite need not be 8-byte aligned.
  return new Float64Array(new Uint8Array(data).buffer, 0, 3 * n);
}

function point(f: Float64Array, n: number, i: number): ChunkPoint {
  const v = f[2 * n + i];
  return { step: f[i], ts: f[n + i], num: Number.isNaN(v) ? null : v, str: null };
}

/** The newest point of a series' chunks: only its 24 bytes are read (a chunk holds up to a request's points). */
export function lastChunkPoint(db: Db, seriesId: number): ChunkPoint | undefined {
  const known = lastPointsOf(db);
  const p = known.get(seriesId);
  if (p !== undefined) return p === null ? undefined : { ...p }; // a copy: callers move their own `last` on
  const read = readLastChunkPoint(db, seriesId);
  known.set(seriesId, read ? { ...read } : null);
  return read;
}

function readLastChunkPoint(db: Db, seriesId: number): ChunkPoint | undefined {
  const r = stmt(db, `SELECT substr(data, 8 * (n - 1) + 1, 8) AS step, substr(data, 8 * (2 * n - 1) + 1, 8) AS ts, substr(data, 8 * (3 * n - 1) + 1, 8) AS val
    FROM b_chunks WHERE series_id = ? ORDER BY first_step DESC LIMIT 1`).get(seriesId) as { step: Buffer; ts: Buffer; val: Buffer } | undefined;
  if (!r) return undefined;
  const v = r.val.readDoubleLE(0);
  return { step: r.step.readDoubleLE(0), ts: r.ts.readDoubleLE(0), num: Number.isNaN(v) ? null : v, str: null };
}

export function chunkPointAt(db: Db, seriesId: number, step: number): ChunkPoint | undefined {
  const r = stmt(db, 'SELECT n, data FROM b_chunks WHERE series_id = ? AND first_step <= ? AND last_step >= ?').get(seriesId, step, step) as
    | { n: number; data: Buffer } | undefined;
  if (!r) return undefined;
  const f = unpack(r.data, r.n);
  let lo = 0;
  let hi = r.n - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (f[mid] === step) return point(f, r.n, mid);
    if (f[mid] < step) lo = mid + 1;
    else hi = mid - 1;
  }
  return undefined;
}

/** Moves every pending chunk into series_points (SQLite stores NaN as NULL, as A's reads expect). */
export function materialize(db: Db): void {
  if (!pending.get(db)) return;
  db.transaction(() => {
    const chunks = stmt(db, 'SELECT series_id, n, data FROM b_chunks ORDER BY series_id, first_step').all() as Array<{ series_id: number; n: number; data: Buffer }>;
    const rows: unknown[] = [];
    for (const c of chunks) {
      const f = unpack(c.data, c.n);
      for (let i = 0; i < c.n; i++) {
        const v = f[2 * c.n + i];
        rows.push(c.series_id, f[i], f[c.n + i], Number.isNaN(v) ? null : v, null);
      }
      if (rows.length >= 50_000) { insertPoints(db, rows); rows.length = 0; }
    }
    insertPoints(db, rows);
    stmt(db, 'DELETE FROM b_chunks').run();
  })();
  lastPoints.delete(db);
  pending.set(db, false);
}
