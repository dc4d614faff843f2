/**
 * `fetch_metric_buckets` of neptune-query 1.11.0 (`internal/retrieval/metric_buckets.py`
 * `fetch_time_series_buckets`): a protobuf `ProtoGetTimeseriesBucketsRequest` to
 * `POST /api/leaderboard/v1/proto/attributes/timeseries/buckets` (retrieval.json `getTimeseriesBucketsProto`).
 * Tried by hand on 2026-11-30: the emulator answered 404. The expected buckets below are what
 * neptune-query's e2e reference (`tests/e2e/metric_buckets.py`, asserted against the real server in
 * `tests/e2e/v1/test_fetch_metric_buckets.py`) computes for the same two series, printed by running it.
 */
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNeptuneEmulator } from '../neptune/server.ts';
import type { NeptuneEmulator } from '../neptune/types.ts';
import { bSession, codes, PROJECT } from './test-session.ts';
import { encodeCreate, encodeUpdate, fieldsOf } from './test-wire.ts';

let emu: NeptuneEmulator;
let b: Awaited<ReturnType<typeof bSession>>;
const T0 = Date.UTC(2024, 5, 1);

beforeAll(async () => {
  emu = await startNeptuneEmulator({ protocolB: { statusDelayMs: 0, nanInf: 'accept' } });
  b = await bSession(emu);
  const series = {
    'bk-1': Array.from({ length: 11 }, (_, i) => [i, i === 3 ? NaN : i === 7 ? Infinity : i * 1.5]),
    'bk-2': Array.from({ length: 16 }, (_, k) => [k + 5, -(k + 5)]),
    'bk-one': [[4, 1]],
  };
  for (const [i, [run, pts]] of Object.entries(series).entries()) {
    await b.ingestProcessed(encodeCreate(PROJECT, run, { creationTime: T0 }, i === 0));
    const { status } = await b.ingestProcessed(encodeUpdate(PROJECT, run, pts.map(([s, v]) => ({ step: s, timestamp: T0 + s, append: { 'metrics/a': { float: v } } }))));
    expect(codes(status)).toEqual({ 0: pts.length });
  }
});
afterAll(async () => emu.close());

/** The request as metric_buckets.py builds it: `${name}` formulas, FULL / RUN lineage, linear scales, steps. */
function request(runs: string[], maxBuckets: number, range?: [number, number]): Buffer {
  const w = new BinaryWriter();
  runs.forEach((run, i) => {
    w.tag(1, 2).fork()
      .tag(1, 2).string(`00000000-0000-0000-0000-${String(i).padStart(12, '0')}`)
      .tag(2, 2).string(`${PROJECT}/${run}`)
      .tag(3, 2).string('${metrics/a}')
      .tag(4, 0).bool(false)
      .tag(6, 0).int32(1) // entityType RUN; lineage FULL is the default 0 and not written
      .join();
  });
  w.tag(2, 2).fork();
  if (range) w.tag(1, 1).double(range[0]).tag(2, 1).double(range[1]);
  w.tag(4, 0).int32(maxBuckets).tag(7, 2).fork().tag(1, 2).fork().join().join();
  w.join();
  return Buffer.from(w.finish());
}

interface Bucket { index: number; fromX: number; toX: number; first?: [number, number]; last?: [number, number]; finite: number; nan: number; posInf: number }

function decode(bytes: Uint8Array): Map<string, Bucket[]> {
  const out = new Map<string, Bucket[]>();
  const one = (f: ReturnType<typeof fieldsOf>, no: number) => f.get(no)?.[0];
  const num = (f: ReturnType<typeof fieldsOf>, no: number) => Number(one(f, no) ?? 0);
  const point = (v: unknown): [number, number] => { const f = fieldsOf(v as Uint8Array); return [num(f, 1), num(f, 2)]; };
  for (const e of fieldsOf(bytes).get(1) ?? []) {
    const ef = fieldsOf(e as Uint8Array);
    const id = Buffer.from(one(ef, 1) as Uint8Array).toString('utf8');
    out.set(id, (ef.get(2) ?? []).map((bk) => {
      const f = fieldsOf(bk as Uint8Array);
      return {
        index: num(f, 1), fromX: num(f, 2), toX: num(f, 3),
        ...(f.has(4) ? { first: point(one(f, 4)) } : {}), ...(f.has(5) ? { last: point(one(f, 5)) } : {}),
        finite: num(f, 8), nan: num(f, 9), posInf: num(f, 10),
      };
    }));
  }
  return out;
}

const post = (body: Buffer) => b.api('/api/leaderboard/v1/proto/attributes/timeseries/buckets', {}, { method: 'POST', raw: body, headers: { 'content-type': 'application/x-protobuf' } });

describe('metric buckets (getTimeseriesBucketsProto)', () => {
  it('buckets over the range of all requested series, as the e2e reference computes them', async () => {
    const r = await post(request(['bk-1', 'bk-2'], 5));
    expect(r.status).toBe(200);
    const got = decode(r.bytes);
    const fl = (bs: Bucket[]) => bs.map((x) => [x.index, x.fromX, x.toX, x.first, x.last]);
    expect(fl(got.get('00000000-0000-0000-0000-000000000000')!)).toEqual([
      [0, -Infinity, 0, [0, 0], [0, 0]],
      [1, 0, 5, [1, 1.5], [5, 7.5]],
      [2, 5, 10, [6, 9], [10, 15]],
    ]);
    expect(fl(got.get('00000000-0000-0000-0000-000000000001')!)).toEqual([
      [1, 0, 5, [5, -5], [5, -5]],
      [2, 5, 10, [6, -6], [10, -10]],
      [3, 10, 15, [11, -11], [15, -15]],
      [4, 15, 20, [16, -16], [20, -20]],
    ]);
    const s1 = got.get('00000000-0000-0000-0000-000000000000')!;
    expect(s1.map((x) => [x.finite, x.nan, x.posInf])).toEqual([[1, 0, 0], [4, 1, 0], [4, 0, 1]]);
  });

  it('a given range, and the one-point range the reference calls a backend quirk: one bucket (from, +inf)', async () => {
    const given = decode((await post(request(['bk-2'], 3, [6, 10]))).bytes).get('00000000-0000-0000-0000-000000000000')!;
    expect(given.map((x) => [x.index, x.fromX, x.toX, x.first, x.last])).toEqual([
      [0, -Infinity, 6, [5, -5], [6, -6]], [1, 6, 8, [7, -7], [8, -8]], [2, 8, 10, [9, -9], [10, -10]], [3, 10, Infinity, [11, -11], [20, -20]],
    ]);
    const one = decode((await post(request(['bk-one'], 5))).bytes).get('00000000-0000-0000-0000-000000000000')!;
    expect(one.map((x) => [x.index, x.fromX, x.toX, x.first, x.last])).toEqual([[0, 4, Infinity, [4, 1], [4, 1]]]);
  });
});
