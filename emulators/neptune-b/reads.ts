/**
 * Protocol B's read side over HTTP: the protobuf read endpoints of the 3.x API that neptune-query uses
 * (neptune-query@00fcb6b `.../swagger/retrieval.json`, messages in `.../proto/neptune_pb/api/v1/model/
 * {series_values.proto, leaderboard_entries.proto}`), served from the same store as A's reads.
 */
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { HttpError, isPlainObject } from '../neptune/http-util.ts';
import { findProject, getAttr, listAttrs, resolveContainer, setValues, stmt, type AttrRow, type ContainerRow, type Db } from '../neptune/store.ts';
import { bRun } from './store.ts';
import { type FloatPoint, type ObjectPoint, type PointObject } from './encode.ts';

/** A run by uuid, `workspace/project/SHORT-ID` (A's identifiers) or `workspace/project/<B run id>`. */
export function resolveRun(db: Db, ident: string): ContainerRow {
  const c = resolveContainer(db, ident);
  if (c) return c;
  const cut = ident.lastIndexOf('/');
  const p = cut > 0 ? findProject(db, ident.slice(0, cut)) : undefined;
  const byRunId = p
    ? (stmt(db, "SELECT * FROM containers WHERE project_id = ? AND custom_id = ? AND type = 'run'").get(p.id, ident.slice(cut + 1)) as ContainerRow | undefined)
    : undefined;
  if (!byRunId) throw new HttpError(404, `Run '${ident}' not found`, { errorType: 'EXPERIMENT_NOT_FOUND' });
  return byRunId;
}

interface Row { step: number; ts: number; num: number | null; str: string | null }

/** One run of a read's lineage and the highest step of its own points the read takes (its child's fork step). */
export interface Segment { cid: string; to: number }

/**
 * The runs a series read covers (retrieval.json `TimeSeries.lineage` FULL|NONE and `lineageEntityType`
 * RUN|EXPERIMENT, no default given). neptune-query always sends both (`internal/retrieval/metrics.py`,
 * `series.py`); a request without `lineage` reads the run's own points, as this emulator always did.
 * What each means is what neptune-query 1.11.0's e2e tests, run against the real server, assert:
 * - FULL: the run's own points, then its fork parent's up to and including the fork step, and so on to
 *   the root (`tests/e2e/v1/runs/test_runs_fetch_metrics.py`: a fork at 4 read over steps 0..4 gives
 *   the parent's 2, 3, 4);
 * - NONE with RUN: the run's own points only;
 * - NONE with EXPERIMENT: the ancestors that belong to the same experiment (`sys/experiment/name`), not
 *   those of another (`tests/e2e/v1/test_fetch_metrics.py` `test__fetch_metrics__lineage`).
 * A run's own points all lie after its fork step (ingest code 26), so the segments' steps never overlap
 * and are ordered: own points highest, the root's lowest.
 */
export function lineageOf(db: Db, c: ContainerRow, lineage: unknown, entityType: unknown): Segment[] {
  const out: Segment[] = [{ cid: c.id, to: Infinity }];
  const full = lineage === 'FULL';
  if (!full && (lineage !== 'NONE' || entityType !== 'EXPERIMENT')) return out;
  const experiment = full ? undefined : getAttr(db, c.id, 'sys/experiment/name')?.value;
  if (!full && typeof experiment !== 'string') return out;
  let to = Infinity;
  for (let cur = c; ;) {
    const b = bRun(db, cur.id);
    if (!b?.fork_run_id || b.fork_step === null) return out;
    const p = findProject(db, b.fork_project ?? '');
    const parent = p
      ? (stmt(db, "SELECT * FROM containers WHERE project_id = ? AND custom_id = ? AND type = 'run'").get(p.id, b.fork_run_id) as ContainerRow | undefined)
      : undefined;
    if (!parent || out.some((x) => x.cid === parent.id)) return out;
    if (!full && getAttr(db, parent.id, 'sys/experiment/name')?.value !== experiment) return out;
    to = Math.min(to, b.fork_step);
    out.push({ cid: parent.id, to });
    cur = parent;
  }
}

/**
 * Points with from ≤ step ≤ to, and strictly past `after` (a page token, or neptune-query's `afterStep`)
 * in the reading direction: below it when descending. Segments are read in step order and their points
 * joined, at most `limit` in all.
 */
function points(db: Db, segs: Segment[], path: string, from: number, to: number, limit: number, desc: boolean, after?: number): Row[] {
  const past = after === undefined ? '' : desc ? 'AND p.step < ?' : 'AND p.step > ?';
  const q = stmt(db, `SELECT p.step, p.ts, p.num, p.str FROM series_points p JOIN series s ON s.id = p.series_id
    WHERE s.container_id = ? AND s.path = ? AND p.step >= ? AND p.step <= ? ${past} ORDER BY p.step ${desc ? 'DESC' : 'ASC'} LIMIT ?`);
  const out: Row[] = [];
  for (const seg of desc ? segs : [...segs].reverse()) {
    if (out.length >= limit) break;
    const args: unknown[] = [seg.cid, path, from, Math.min(to, seg.to), ...(after === undefined ? [] : [after]), limit - out.length];
    out.push(...(q.all(...args) as Row[]));
  }
  return out;
}

function countPoints(db: Db, segs: Segment[], path: string): number {
  const q = stmt(db, 'SELECT COUNT(*) AS n FROM series_points p JOIN series s ON s.id = p.series_id WHERE s.container_id = ? AND s.path = ? AND p.step <= ?');
  return segs.reduce((n, seg) => n + (q.get(seg.cid, path, seg.to) as { n: number }).n, 0);
}

function preview(db: Db, cid: string, path: string): FloatPoint | undefined {
  const r = stmt(db, 'SELECT v.step, v.ts, v.num, v.ratio FROM b_previews v JOIN series s ON s.id = v.series_id WHERE s.container_id = ? AND s.path = ?')
    .get(cid, path) as { step: number; ts: number; num: number | null; ratio: number } | undefined;
  return r ? { step: r.step, timestampMillis: r.ts, value: r.num ?? NaN, isPreview: true, completionRatio: r.ratio } : undefined;
}

/**
 * Points of a float series (SQLite keeps NaN as NULL) over a lineage (its first segment is the run read).
 * Previews follow the committed points when asked for; only the run's own preview is shown.
 */
export function floatPoints(db: Db, segs: Segment[], path: string, opts: { from?: number; to?: number; limit?: number; desc?: boolean; after?: number; includePreview?: boolean }): { total: number; points: FloatPoint[] } {
  const rows = points(db, segs, path, opts.from ?? -Infinity, opts.to ?? Infinity, opts.limit ?? 10_000, opts.desc ?? false, opts.after);
  const out: FloatPoint[] = rows.map((r) => ({ step: r.step, timestampMillis: r.ts, value: r.num ?? NaN }));
  const pv = opts.includePreview ? preview(db, segs[0].cid, path) : undefined;
  if (pv) out.push(pv);
  return { total: countPoints(db, segs, path) + (pv ? 1 : 0), points: out };
}

export function objectOf(type: string, r: Row): PointObject {
  if (type === 'stringSeries') return { kind: 'string', value: r.str ?? '' };
  if (type === 'histogramSeries') return { kind: 'histogram', ...(JSON.parse(r.str ?? '{}') as { type: string; edges: number[]; values: number[] }) };
  if (type === 'fileRefSeries') return { kind: 'fileRef', ...(JSON.parse(r.str ?? '{}') as { path: string; sizeBytes: number; mimeType: string }) };
  throw new HttpError(400, `Series of type ${type} are read with the float series endpoints`);
}

/** The attribute in the first run of the lineage that has it (a fork may inherit a series it never wrote). */
export function attrOf(db: Db, segs: Segment[], path: string): AttrRow {
  for (const seg of segs) {
    const a = stmt(db, 'SELECT * FROM attrs WHERE container_id = ? AND path = ?').get(seg.cid, path) as AttrRow | undefined;
    if (a) return a;
  }
  throw new HttpError(404, `Attribute '${path}' not found`);
}

/**
 * One entry of `SeriesValuesRequest.requests` / `FloatTimeSeriesValuesRequest.requests` (retrieval.json:
 * `{requestId, series: TimeSeries{holder: AttributesHolderIdentifier{identifier, type}, attribute, includePreview}}`)
 * with its run and attribute.
 */
export function seriesRequest(db: Db, rq: unknown): { rq: Record<string, unknown> & { requestId: string; series: Record<string, unknown> }; c: ContainerRow; segs: Segment[]; a: AttrRow } {
  if (!isPlainObject(rq) || typeof rq.requestId !== 'string' || !isPlainObject(rq.series) || !isPlainObject(rq.series.holder)
    || typeof rq.series.holder.identifier !== 'string' || typeof rq.series.attribute !== 'string') {
    throw new HttpError(400, 'Each request needs requestId and series{holder{identifier,type}, attribute}');
  }
  const c = resolveRun(db, rq.series.holder.identifier);
  const segs = lineageOf(db, c, rq.series.lineage, rq.series.lineageEntityType);
  return { rq: rq as Record<string, unknown> & { requestId: string; series: Record<string, unknown> }, c, segs, a: attrOf(db, segs, rq.series.attribute) };
}

/** Points in one answer of a series that no `perSeriesPointsLimit` caps (the emulator's own page size). */
const SERIES_PAGE = 10_000;

/**
 * `SeriesValuesRequest` (JSON) → points per request, paged by `searchAfter.token` (the last step read).
 * `perSeriesPointsLimit` caps each series' points in the query, not the size of a page: neptune-query
 * 1.11.0 (`internal/retrieval/series.py`) sends its `tail_limit` there, asks again until `finished` and
 * never cuts the result itself, and its e2e test against the real server (`tests/e2e/v1/test_fetch_series.py`,
 * 6 steps, tail_limit 3 and 5) gets exactly the last 3 or 5 points. So an answer under a limit is
 * `finished`; without one, pages of `SERIES_PAGE` continue from the token.
 */
export function seriesValues(db: Db, body: unknown): Array<{ requestId: string; finished: boolean; token: string; points: ObjectPoint[] }> {
  if (!isPlainObject(body) || !Array.isArray(body.requests)) throw new HttpError(400, 'Body must be a SeriesValuesRequest {requests: [...]}');
  const capped = typeof body.perSeriesPointsLimit === 'number';
  const limit = capped ? body.perSeriesPointsLimit as number : SERIES_PAGE;
  const desc = body.order === 'descending';
  const range = isPlainObject(body.stepRange) ? body.stepRange : {};
  return body.requests.map((raw: unknown) => {
    const { rq, segs, a } = seriesRequest(db, raw);
    const after = isPlainObject(rq.searchAfter) && typeof rq.searchAfter.token === 'string' && rq.searchAfter.token !== '' ? Number(rq.searchAfter.token) : undefined;
    const from = typeof range.from === 'number' ? range.from : -Infinity;
    const to = typeof range.to === 'number' ? range.to : Infinity;
    const rows = points(db, segs, a.path, from, to, limit + 1, desc, after);
    const page = rows.slice(0, limit);
    const finished = capped || rows.length <= limit;
    const token = page.length > 0 ? String(page[page.length - 1].step) : '';
    return {
      requestId: rq.requestId, finished, token,
      points: page.map((r) => ({ step: r.step, timestampMillis: r.ts, object: objectOf(a.type, r) })),
    };
  });
}

/**
 * `POST /api/leaderboard/v1/proto/attributes/attributes` → `ProtoAttributesDTO{experiment_id=1, type=2, project_id=3,
 * organization_id=4, project_name=5, organization_name=6, attributes=7 [ProtoAttributeDTO{name=1, type=2, <type>_properties}]}`.
 * Property field numbers: int=3, float=4, string=5, bool=6, datetime=7, string_set=8, float_series=9, file_ref=10,
 * string_series=11, file_ref_series=12, histogram_series=13 (leaderboard_entries.proto). A-only types (file, fileSet,
 * experimentState, ...) are listed with name and type only: the 3.x proto has no properties for them.
 */
export function encodeAttributes(db: Db, c: ContainerRow, filter: string[] | undefined): Uint8Array {
  const p = findProject(db, c.project_id);
  const w = new BinaryWriter();
  w.tag(1, 2).string(c.id).tag(2, 2).string(c.type).tag(3, 2).string(c.project_id)
    .tag(4, 2).string(p?.workspace_id ?? '').tag(5, 2).string(p?.name ?? '').tag(6, 2).string(p?.workspace ?? '');
  for (const a of listAttrs(db, c.id)) {
    if (filter && !filter.includes(a.path)) continue;
    writeAttribute(w, 7, db, c, a);
  }
  return w.finish();
}

/** One `ProtoAttributeDTO` as field `field` of the message `w` is writing. */
export function writeAttribute(w: BinaryWriter, field: number, db: Db, c: ContainerRow, a: AttrRow): void {
  w.tag(field, 2).fork().tag(1, 2).string(a.path).tag(2, 2).string(a.type);
  writeProperties(w, db, c, a);
  w.join();
}

function writeProperties(w: BinaryWriter, db: Db, c: ContainerRow, a: AttrRow): void {
  const head = (field: number) => w.tag(field, 2).fork().tag(1, 2).string(a.path).tag(2, 2).string(a.type);
  const v = a.value;
  const last = () => stmt(db, 'SELECT p.step, p.ts, p.num, p.str FROM series_points p JOIN series s ON s.id = p.series_id WHERE s.container_id = ? AND s.path = ? ORDER BY p.step DESC LIMIT 1')
    .get(c.id, a.path) as Row | undefined;
  switch (a.type) {
    case 'int': head(3).tag(3, 0).int64(v ?? '0').join(); return;
    case 'float': {
      const x = v === null ? 0 : (JSON.parse(v) as number | string);
      head(4).tag(3, 1).double(typeof x === 'string' ? Number(x) : x).join();
      return;
    }
    case 'string': head(5).tag(3, 2).string(v === null ? '' : (JSON.parse(v) as string)).join(); return;
    case 'bool': head(6).tag(3, 0).bool(v === 'true').join(); return;
    case 'datetime': head(7).tag(3, 0).int64(v === null ? 0 : (JSON.parse(v) as number)).join(); return;
    case 'stringSet': {
      head(8);
      for (const s of setValues(db, c.id, a.path)) w.tag(3, 2).string(s);
      w.join();
      return;
    }
    case 'floatSeries': {
      const l = last();
      head(9);
      if (l) w.tag(3, 1).double(l.step).tag(4, 1).double(l.num ?? NaN);
      w.tag(9, 2).fork().join();
      w.join();
      return;
    }
    case 'fileRef': {
      const f = JSON.parse(v ?? '{}') as { path: string; sizeBytes: number; mimeType: string };
      head(10).tag(3, 2).string(f.path).tag(4, 0).int64(f.sizeBytes).tag(5, 2).string(f.mimeType).join();
      return;
    }
    case 'stringSeries': {
      const l = last();
      head(11);
      if (l) w.tag(3, 1).double(l.step).tag(4, 2).string(l.str ?? '');
      w.join();
      return;
    }
    case 'fileRefSeries': case 'histogramSeries': {
      const l = last();
      head(a.type === 'fileRefSeries' ? 12 : 13);
      if (l) {
        w.tag(3, 1).double(l.step).tag(4, 2).fork();
        const o = objectOf(a.type, l);
        if (o.kind === 'fileRef') w.tag(1, 2).string(o.path).tag(2, 0).int64(o.sizeBytes).tag(3, 2).string(o.mimeType);
        else if (o.kind === 'histogram') {
          w.tag(1, 2).string(o.type).tag(2, 2).fork();
          for (const e of o.edges) w.double(e);
          w.join().tag(3, 2).fork();
          for (const x of o.values) w.double(x);
          w.join();
        }
        w.join();
      }
      w.join();
      return;
    }
    default:
  }
}
