/**
 * Metric buckets: `POST /api/leaderboard/v1/proto/attributes/timeseries/buckets` (neptune-query@00fcb6b
 * retrieval.json `getTimeseriesBucketsProto`; request and answer in requests.proto / series_values.proto),
 * which neptune-query 1.11.0's `fetch_metric_buckets` asks (`internal/retrieval/metric_buckets.py`).
 * The bucketing is the one neptune-query's e2e tests assert against the real server
 * (`tests/e2e/metric_buckets.py`, `tests/e2e/v1/test_fetch_metric_buckets.py`):
 * - the x range is the view's `from`/`to`, else the lowest and highest step of every requested series;
 * - `maxBuckets` = L gives L + 1 buckets of width (to − from) / (L − 1): (−∞, from], then right-closed
 *   intervals from `from` on, and (from + (L − 1)·width, +∞); a range of one point is one bucket
 *   (from, +∞) that also holds x = from (the reference calls it a backend quirk);
 * - a bucket lists its first and last finite point and counts its points; empty buckets are left out.
 * Only the x axis of steps and formulas naming one attribute (`${name}`, metric_buckets.py
 * `attribute_name_to_formula`) are served: no other axis or expression has a public source.
 */
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { HttpError } from '../neptune/http-util.ts';
import type { Db } from '../neptune/store.ts';
import { attrOf, floatPoints, lineageOf, resolveRun } from './reads.ts';
import type { BucketsRequest } from './wire.ts';

interface Bucket {
  index: number; fromX: number; toX: number; first?: [number, number]; last?: [number, number];
  min?: number; max?: number; sum?: number; finite: number; nan: number; posInf: number; negInf: number;
}

/** `${name}` with `\`, `$`, `{`, `}` escaped by a backslash → the attribute name. */
export function formulaAttribute(formula: string): string {
  const m = /^\$\{((?:\\[\\${}]|[^\\${}])*)\}$/.exec(formula);
  if (!m) throw new HttpError(400, `Only a formula naming one attribute, \${name}, is served: ${formula}`);
  return m[1].replace(/\\([\\${}])/g, '$1');
}

/** metric_buckets.py (tests/e2e) `calculate_metric_bucket_ranges`. */
export function bucketRanges(from: number, to: number, maxBuckets: number): Array<[number, number]> {
  if (from === to) return [[from, Infinity]];
  const width = (to - from) / (maxBuckets - 1);
  return Array.from({ length: maxBuckets + 1 }, (_, i): [number, number] => [
    i === 0 ? -Infinity : from + width * (i - 1),
    i === maxBuckets ? Infinity : from + width * i,
  ]);
}

/** metric_buckets.py (tests/e2e) `aggregate_metric_buckets`, with the statistics the answer also carries. */
export function aggregate(points: ReadonlyArray<{ step: number; value: number }>, ranges: ReadonlyArray<[number, number]>): Bucket[] {
  const out: Bucket[] = [];
  ranges.forEach(([fromX, toX], index) => {
    const b: Bucket = { index, fromX, toX, finite: 0, nan: 0, posInf: 0, negInf: 0 };
    for (const { step: x, value: y } of points) {
      if (!((fromX < x && x <= toX) || (index === 0 && x === fromX))) continue;
      if (Number.isNaN(y)) b.nan += 1;
      else if (y === Infinity) b.posInf += 1;
      else if (y === -Infinity) b.negInf += 1;
      else {
        b.first ??= [x, y];
        b.last = [x, y];
        b.min = Math.min(b.min ?? y, y);
        b.max = Math.max(b.max ?? y, y);
        b.sum = (b.sum ?? 0) + y;
        b.finite += 1;
      }
    }
    if (b.finite + b.nan + b.posInf + b.negInf > 0) out.push(b);
  });
  return out;
}

/**
 * series_values.proto `ProtoTimeseriesBucketsDTO{entries=1 [TimeseriesBuckets{requestId=1, bucket=2 [TimeseriesBucket{
 * index=1, fromX=2, toX=3, first=4, last=5 FinitePoint{x=1, y=2}, localMin=6, localMax=7, finitePointCount=8,
 * nanCount=9, positiveInfCount=10, negativeInfCount=11, localSum=12}]}]}`: one entry per expression, in order.
 */
export function timeseriesBuckets(db: Db, rq: BucketsRequest): Uint8Array {
  if (rq.view.xAxis !== undefined && rq.view.xAxis !== 1) throw new HttpError(400, 'Only the x axis of steps is served');
  if (rq.view.maxBuckets < 2) throw new HttpError(400, 'view.maxBuckets must be at least 2');
  const series = rq.expressions.map((e) => {
    const c = resolveRun(db, e.runId);
    const segs = lineageOf(db, c, e.lineage === 1 ? 'NONE' : 'FULL', e.entityType === 1 ? 'RUN' : 'EXPERIMENT');
    const a = attrOf(db, segs, formulaAttribute(e.formula));
    if (a.type !== 'floatSeries') throw new HttpError(400, `Attribute '${a.path}' is not a float series`);
    const { points } = floatPoints(db, segs, a.path, { from: rq.view.stepFrom, to: rq.view.stepTo, limit: Number.MAX_SAFE_INTEGER, includePreview: e.includePreview });
    return { requestId: e.requestId, points };
  });
  const steps = series.flatMap((s) => s.points.map((p) => p.step));
  const from = rq.view.from ?? (steps.length ? Math.min(...steps) : 0);
  const to = rq.view.to ?? (steps.length ? Math.max(...steps) : 0);
  const ranges = bucketRanges(from, to, rq.view.maxBuckets);
  const w = new BinaryWriter();
  for (const s of series) {
    w.tag(1, 2).fork().tag(1, 2).string(s.requestId);
    for (const b of aggregate(s.points, ranges)) {
      w.tag(2, 2).fork().tag(1, 0).int64(b.index).tag(2, 1).double(b.fromX).tag(3, 1).double(b.toX);
      if (b.first) w.tag(4, 2).fork().tag(1, 1).double(b.first[0]).tag(2, 1).double(b.first[1]).join();
      if (b.last) w.tag(5, 2).fork().tag(1, 1).double(b.last[0]).tag(2, 1).double(b.last[1]).join();
      if (b.min !== undefined) w.tag(6, 1).double(b.min);
      if (b.max !== undefined) w.tag(7, 1).double(b.max);
      w.tag(8, 0).int64(b.finite).tag(9, 0).int64(b.nan).tag(10, 0).int64(b.posInf).tag(11, 0).int64(b.negInf);
      if (b.sum !== undefined) w.tag(12, 1).double(b.sum);
      w.join();
    }
    w.join();
  }
  return w.finish();
}
