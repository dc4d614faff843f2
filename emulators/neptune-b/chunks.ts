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

export function openChunks(db: Db): void {
  db.exec(SCHEMA);
  pending.set(db, stmt(db, 'SELECT 1 FROM b_chunks LIMIT 1').get() !== undefined);
}

export function writeChunk(db: Db, seriesId: number, steps: number[], ts: number[], vals: number[]): void {
  const n = steps.length;
  if (n === 0) return;
  const data = new Float64Array(3 * n);
  data.set(steps, 0);
  data.set(ts, n);
  data.set(vals, 2 * n);
  stmt(db, 'INSERT INTO b_chunks(series_id, first_step, last_step, n, data) VALUES (?, ?, ?, ?, ?)')
    .run(seriesId, steps[0], steps[n - 1], n, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  pending.set(db, true);
}

function unpack(data: Buffer, n: number): Float64Array {
  // Copied: a Buffer from SQLite need not be 8-byte aligned.
  return new Float64Array(new Uint8Array(data).buffer, 0, 3 * n);
}

function point(f: Float64Array, n: number, i: number): ChunkPoint {
  const v = f[2 * n + i];
  return { step: f[i], ts: f[n + i], num: Number.isNaN(v) ? null : v, str: null };
}

export function lastChunkPoint(db: Db, seriesId: number): ChunkPoint | undefined {
  const r = stmt(db, 'SELECT n, data FROM b_chunks WHERE series_id = ? ORDER BY first_step DESC LIMIT 1').get(seriesId) as { n: number; data: Buffer } | undefined;
  return r ? point(unpack(r.data, r.n), r.n, r.n - 1) : undefined;
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
  pending.set(db, false);
}
