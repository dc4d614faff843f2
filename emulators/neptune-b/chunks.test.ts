/**
 * The newest chunk point of a series is remembered between requests (chunks.ts): what a later request
 * checks its steps against must be what the database holds, also after a request rolled back.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDb, ensureWorkspace, seriesId } from '../neptune/store.ts';
import { IngestCode } from './codes.ts';
import { ChunkBuilder, materialize } from './chunks.ts';
import { applyRunOperation } from './ingest.ts';
import { openBTables, runByRunId } from './store.ts';
import { encodeCreate, encodeUpdate, type TSnapshot } from './test-wire.ts';
import { decodeRunOperation } from './wire.ts';

const PROJECT = 'demo/chunks';
const rules = { nanInf: 'refuse' as const };

function setup() {
  const db = openDb(':memory:');
  ensureWorkspace(db, 'demo');
  openBTables(db);
  const created = applyRunOperation(db, rules, decodeRunOperation(encodeCreate(PROJECT, 'r1', {}, true)), 'u', 1);
  expect(created.ok).toBe(1);
  const apply = (steps: number[]) =>
    applyRunOperation(db, rules, decodeRunOperation(encodeUpdate(PROJECT, 'r1', steps.map((s) => ({ step: s, timestamp: 1000 + s, append: { m: { float: s / 10 } } })))), 'u', 2);
  return { db, apply };
}

describe('chunks: the newest point of a series across requests', () => {
  it('refuses a step at or below the last one of an earlier request, as the database holds it', () => {
    const { apply } = setup();
    expect(apply([1, 2, 3]).pointsStored).toBe(3);
    const again = apply([3, 2, 4]);
    expect(again.issues.map((i) => i.code)).toEqual([IngestCode.SERIES_POINT_DUPLICATE, IngestCode.SERIES_POINT_DUPLICATE]);
    expect(again.pointsStored).toBe(1);
    expect(apply([4]).issues.map((i) => i.code)).toEqual([IngestCode.SERIES_POINT_DUPLICATE]);
  });

  it('forgets the points of a request that rolled back', () => {
    const { db, apply } = setup();
    expect(apply([1, 2, 3]).pointsStored).toBe(3);
    // The request's chunk is written, then its transaction fails (at the run's modification time).
    db.exec(`CREATE TRIGGER boom BEFORE UPDATE ON attrs WHEN NEW.path = 'sys/modification_time' BEGIN SELECT RAISE(ABORT, 'boom'); END;`);
    expect(() => apply([4, 5])).toThrow(/boom/);
    db.exec('DROP TRIGGER boom');
    // Steps 4 and 5 never landed: sending them again stores them (not "lower than the last step 5").
    const resent = apply([4, 5]);
    expect(resent.issues).toEqual([]);
    expect(resent.pointsStored).toBe(2);
    materialize(db);
    const run = runByRunId(db, db.prepare('SELECT id FROM projects').pluck().get() as string, 'r1')!;
    const rows = db.prepare('SELECT step, ts, num FROM series_points WHERE series_id = ? ORDER BY step').all(seriesId(db, run.id, 'm'));
    expect(rows).toEqual([1, 2, 3, 4, 5].map((s) => ({ step: s, ts: 1000 + s, num: s / 10 })));
    // And the newest point after the move is still step 5.
    expect(apply([5]).issues.map((i) => i.code)).toEqual([IngestCode.SERIES_POINT_DUPLICATE]);
  });

  it('stores every point of a request as sent, whether its builder was sized for them or grew', () => {
    const { db, apply } = setup();
    const steps = Array.from({ length: 700 }, (_, i) => i * 2);
    expect(apply(steps).pointsStored).toBe(700);
    const run = runByRunId(db, db.prepare('SELECT id FROM projects').pluck().get() as string, 'r1')!;
    const sid = seriesId(db, run.id, 'g');
    // A builder that starts with room for one point and grows to 1,000, next to the sized ones.
    const b = new ChunkBuilder(1);
    for (let i = 0; i < 1000; i++) b.add(2000 + i, 5000 + i, i % 17 === 3 ? NaN : -(i + 1) / 7);
    b.write(db, sid);
    materialize(db);
    const rows = (id: number) => db.prepare('SELECT step, ts, num FROM series_points WHERE series_id = ? ORDER BY step').all(id);
    expect(rows(seriesId(db, run.id, 'm'))).toEqual(steps.map((s) => ({ step: s, ts: 1000 + s, num: s / 10 })));
    expect(rows(sid)).toEqual(Array.from({ length: 1000 }, (_, i) => ({ step: 2000 + i, ts: 5000 + i, num: i % 17 === 3 ? null : -(i + 1) / 7 })));
  });

  it('a series in some rows of a batch, in a file: after a restart its newest and older points are found in the chunk its request shares', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'b-chunks-')), 'store.db');
    const open = () => {
      const db = openDb(file);
      openBTables(db);
      return db;
    };
    let db = open();
    ensureWorkspace(db, 'demo');
    expect(applyRunOperation(db, rules, decodeRunOperation(encodeCreate(PROJECT, 'r1', {}, true)), 'u', 1).ok).toBe(1);
    const rowsOf = (steps: number[], sparse: (s: number) => boolean): TSnapshot[] => steps.map((s) => ({
      step: s, timestamp: 1000 + s, append: { k: { float: -s }, ...(sparse(s) ? { m: { float: s / 10 } } : {}) },
    }));
    const apply = (snapshots: TSnapshot[]) => applyRunOperation(db, rules, decodeRunOperation(encodeUpdate(PROJECT, 'r1', snapshots)), 'u', 2);
    expect(apply(rowsOf([1, 2, 3, 4, 5, 6], (s) => s % 2 === 0)).pointsStored).toBe(9);
    // A new process on the same file: m's newest is step 6 of its request's shared rows.
    db.close();
    db = open();
    const again = apply([{ step: 6, timestamp: 1006, append: { m: { float: 0.6 } } }, { step: 4, timestamp: 1004, append: { m: { float: 0.4 } } },
      { step: 3, timestamp: 1003, append: { m: { float: 0.3 } } }, { step: 5, timestamp: 1005, append: { k: { float: -5 } } }]);
    expect(again.issues.map((i) => [i.path, i.code])).toEqual([
      ['m', IngestCode.SERIES_POINT_DUPLICATE], ['m', IngestCode.SERIES_POINT_DUPLICATE], ['m', IngestCode.SERIES_STEP_NON_INCREASING], ['k', IngestCode.SERIES_POINT_DUPLICATE],
    ]);
    expect(apply([{ step: 7, timestamp: 1005, append: { m: { float: 1 } } }]).issues.map((i) => i.code)).toEqual([IngestCode.SERIES_TIMESTAMP_DECREASING]);
    expect(apply([{ step: 7, timestamp: 1007, append: { m: { float: 0.7 } } }]).pointsStored).toBe(1);
    db.close();
    db = open();
    materialize(db);
    const run = runByRunId(db, db.prepare('SELECT id FROM projects').pluck().get() as string, 'r1')!;
    const rows = (path: string) => db.prepare('SELECT step, ts, num FROM series_points WHERE series_id = ? ORDER BY step').all(seriesId(db, run.id, path));
    expect(rows('m')).toEqual([2, 4, 6, 7].map((s) => ({ step: s, ts: 1000 + s, num: s / 10 })));
    expect(rows('k')).toEqual([1, 2, 3, 4, 5, 6].map((s) => ({ step: s, ts: 1000 + s, num: -s })));
    expect(db.prepare('SELECT COUNT(*) FROM b_float_chunks').pluck().get()).toBe(0);
    expect(db.prepare('SELECT COUNT(*) FROM b_chunk_steps').pluck().get()).toBe(0);
    db.close();
    rmSync(dirname(file), { recursive: true, force: true });
  });

  it('an in-memory database keeps its chunks in memory only', () => {
    const { db, apply } = setup();
    expect(apply([1, 2, 3]).pointsStored).toBe(3);
    expect(db.prepare('SELECT COUNT(*) FROM b_float_chunks').pluck().get()).toBe(0);
    materialize(db);
    expect(db.prepare('SELECT COUNT(*) FROM series_points').pluck().get()).toBe(3);
  });
});
