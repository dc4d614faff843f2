/**
 * Protocol B's route table, merged into the emulator's (emulators/neptune/server.ts). Paths:
 * neptune-api.md §3.1 (ingestion_openapi.json, storagebridge_openapi.json) and the proto read
 * endpoints of retrieval.json (neptune-query@00fcb6b `src/neptune_query/generated/neptune_api_spec/swagger/`).
 * Authentication, client config, OpenID discovery and token refresh are A's routes: B clients use
 * the very same endpoints (§1.2–1.4, §3.9 "Start-up").
 */
import type { ServerResponse } from 'node:http';
import { BodyPool, HttpError, isPlainObject, parseJson, requireParam, sendJson } from '../neptune/http-util.ts';
import type { Ctx, Route } from '../neptune/routes.ts';
import {
  encodeBulkIngestResultDetail, encodeBulkRequestStatus, encodeFloatSeriesResponse, encodeFloatSeriesValues, encodeRequestStatus,
  encodeSeriesValuesResponse, encodeSubmitResponse,
} from './encode.ts';
import type { BFaults } from './faults.ts';
import type { IngestQueue } from './queue.ts';
import { attrOf, encodeAttributes, floatPoints, lineageOf, resolveRun, seriesRequest, seriesValues } from './reads.ts';
import { queryAttributeDefinitions, queryAttributeValues } from './query.ts';
import { searchEntries } from './search.ts';
import { StorageError, type StorageBridge } from './storage.ts';
import { decodeBucketsRequest, decodeBulkCheckDetail, decodeRequestIds, decodeRunOperation, Malformed, type RunOperation } from './wire.ts';
import { timeseriesBuckets } from './buckets.ts';

export interface BDeps { queue: IngestQueue; storage: StorageBridge; faults: BFaults; maxRequestBytes: number }

/** SCALE `sync/parameters.py MAX_REQUESTS_STATUS_BATCH_SIZE`; the same bound is enforced here (§3.5). */
export const MAX_STATUS_IDS = 1000;
/** SCALE `sync/parameters.py MAX_SINGLE_OPERATION_SIZE_BYTES` (one snapshot, §3.8). */
export const MAX_SNAPSHOT_BYTES = 2 * 1024 * 1024;

function sendProto(res: ServerResponse, body: Uint8Array): void {
  res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': body.length });
  res.end(body);
}

function decodeOr400<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof Malformed) throw new HttpError(400, `Malformed protobuf body: ${e.message}`);
    throw e;
  }
}

/** A snapshot over 2 MiB is refused with the whole request (400): SCALE never sends one, a server need not take it. */
function checkSnapshotSizes(op: RunOperation): void {
  const sizes = op.rows ? [op.rows.maxSnapshotBytes] : (op.snapshots ?? []).map((s) => s.encodedBytes);
  for (const bytes of sizes) {
    if (bytes > MAX_SNAPSHOT_BYTES) throw new HttpError(400, `A snapshot of ${bytes} bytes exceeds ${MAX_SNAPSHOT_BYTES} bytes`);
  }
}

function project(ctx: Ctx, fromBody?: string): string {
  const p = ctx.q.get('projectIdentifier') ?? fromBody;
  if (!p) throw new HttpError(400, "Missing required query parameter 'projectIdentifier'");
  return p;
}

/** Storage URLs are signed, not authenticated; their errors are the cloud store's XML. */
function storageRoute(name: string, d: BDeps, handle: (ctx: Ctx) => Promise<void> | void): Route {
  return {
    name, auth: 'none',
    async handle(ctx) {
      if (d.faults.hit(ctx, 'upload')) return;
      try {
        await handle(ctx);
      } catch (e) {
        if (e instanceof StorageError) return e.send(ctx.res);
        throw e;
      }
    },
  };
}

const header = (ctx: Ctx, h: string): string | undefined => {
  const v = ctx.req.headers[h];
  return Array.isArray(v) ? v[0] : v;
};

export function buildBRoutes(d: BDeps): Record<string, Route> {
  const { queue, storage, faults } = d;
  const bodies = new BodyPool();
  return {
    'POST /api/client/v1/ingest': { name: 'ingest', auth: 'bearer', async handle(ctx) {
      if (faults.hit(ctx, 'ingest')) return;
      const pooled = await ctx.body(d.maxRequestBytes, bodies); // 413 over 16 MiB (§3.8)
      let id: string;
      try {
        // A request the queue keeps for later keeps its body (decoded lazily): a copy of its own.
        const body = queue.appliesAtOnce() ? pooled : Buffer.from(pooled);
        const t0 = performance.now();
        const op = decodeOr400(() => decodeRunOperation(body));
        queue.counters.decodeMs += performance.now() - t0;
        // pub/ingest.proto: "Required. Operation to be performed on the run."
        if (!op.create && !op.rows && !op.snapshots) throw new HttpError(400, 'RunOperation has no operation (create, update or update_batch)');
        checkSnapshotSizes(op);
        id = queue.submit(op, body, ctx.user);
      } finally {
        bodies.giveBack(pooled);
      }
      sendProto(ctx.res, encodeSubmitResponse(id));
    } },
    'POST /api/client/v1/ingest/check': { name: 'bulkCheckStatus', auth: 'bearer', async handle(ctx) {
      if (faults.hit(ctx, 'check')) return;
      const body = await ctx.body(16 * 1024 * 1024);
      const { ids, project: inBody } = decodeOr400(() => decodeRequestIds(body));
      if (ids.length > MAX_STATUS_IDS) throw new HttpError(400, `At most ${MAX_STATUS_IDS} request ids per status check, got ${ids.length}`);
      sendProto(ctx.res, encodeBulkRequestStatus(queue.check(ids, project(ctx, inBody))));
    } },
    // The single-id form of older clients (NAPI-OLD check_request_status.py; ingestion_openapi.json `checkStatus`).
    'GET /api/client/v1/ingest/check': { name: 'checkStatus', auth: 'bearer', handle(ctx) {
      if (faults.hit(ctx, 'check')) return;
      const [status] = queue.check([requireParam(ctx.q, 'requestId')], project(ctx));
      sendProto(ctx.res, encodeRequestStatus(status));
    } },
    'POST /api/client/v1/ingest/checkDetails': { name: 'checkDetails', auth: 'bearer', async handle(ctx) {
      if (faults.hit(ctx, 'check')) return;
      const req = decodeBulkCheckDetailOr400(await ctx.body(16 * 1024 * 1024));
      if (req.ids.length > MAX_STATUS_IDS) throw new HttpError(400, `At most ${MAX_STATUS_IDS} request ids per call, got ${req.ids.length}`);
      const r = queue.details(req.ids, project(ctx, req.project || undefined), req.cursor, req.limit && req.limit > 0 ? req.limit : 1000);
      sendProto(ctx.res, encodeBulkIngestResultDetail(r.details, r.next));
    } },

    'POST /api/storagebridge/v1/signedUrl': { name: 'signedUrlGeneric', auth: 'bearer', async handle(ctx) {
      if (faults.hit(ctx, 'storage')) return;
      sendJson(ctx.res, 200, storage.signUrls(parseJson(await ctx.body(16 * 1024 * 1024))));
    } },
    // storagebridge_openapi.json: 410 when Azure is not configured — this server offers aws or gcp only.
    'POST /api/storagebridge/v1/azure/signedUrl': { name: 'signedUrlAzure', auth: 'bearer', handle() {
      throw new HttpError(410, 'Azure storage is not configured on this server');
    } },
    'POST /api/storagebridge/v1/s3/completeMultipartUpload': { name: 'completeMultipartUpload', auth: 'bearer', async handle(ctx) {
      if (faults.hit(ctx, 'storage')) return;
      storage.complete(parseJson(await ctx.body(16 * 1024 * 1024)));
      ctx.res.writeHead(204);
      ctx.res.end();
    } },
    'PUT /_storage/object': storageRoute('storagePutObject', d, async (ctx) => {
      const g = storage.grant(ctx.q.get('token'), 'put');
      storage.putObject(g, await ctx.body(), header(ctx, 'content-type'), ctx.res);
    }),
    'GET /_storage/object': storageRoute('storageGetObject', d, (ctx) => storage.getObject(storage.grant(ctx.q.get('token'), 'get'), header(ctx, 'range'), ctx.res)),
    'PUT /_storage/part': storageRoute('storagePutPart', d, async (ctx) => {
      const g = storage.grant(ctx.q.get('token'), 'part');
      storage.putPart(g, await ctx.body(), ctx.res);
    }),
    'POST /_storage/gcs': storageRoute('storageGcsStart', d, async (ctx) => {
      const g = storage.grant(ctx.q.get('token'), 'gcs-start');
      await ctx.body(1024 * 1024);
      storage.gcsStart(g, header(ctx, 'x-goog-resumable'), header(ctx, 'content-type'), ctx.res);
    }),
    'PUT /_storage/gcs/session': storageRoute('storageGcsChunk', d, async (ctx) => {
      const g = storage.grant(ctx.q.get('token'), 'gcs-session');
      storage.gcsChunk(g, header(ctx, 'content-range'), await ctx.body(), ctx.res);
    }),

    'GET /api/leaderboard/v1/proto/attributes/series/float': { name: 'getFloatSeriesValuesProto', auth: 'bearer', handle(ctx) {
      const c = resolveRun(ctx.state.db, requireParam(ctx.q, 'experimentId'));
      // retrieval.json getFloatSeriesValuesProto: `lineage` and `lineageEntityType` are query parameters here.
      const segs = lineageOf(ctx.state.db, c, ctx.q.get('lineage') ?? undefined, ctx.q.get('lineageEntityType') ?? undefined);
      const a = attrOf(ctx.state.db, segs, requireParam(ctx.q, 'attribute'));
      const skip = ctx.q.get('skipToStep');
      const r = floatPoints(ctx.state.db, segs, a.path, {
        from: skip !== null ? Number(skip) : undefined, limit: Number(ctx.q.get('limit') ?? 10_000) || 10_000,
        includePreview: ctx.q.get('includePreview') === 'true',
      });
      sendProto(ctx.res, encodeFloatSeriesValues(r.total, r.points));
    } },
    'POST /api/leaderboard/v1/proto/attributes/series/float': { name: 'getMultipleFloatSeriesValuesProto', auth: 'bearer', async handle(ctx) {
      const body = parseJson(await ctx.body());
      if (!isPlainObject(body) || !Array.isArray(body.requests)) throw new HttpError(400, 'Body must be a FloatTimeSeriesValuesRequest');
      const limit = typeof body.perSeriesPointsLimit === 'number' ? body.perSeriesPointsLimit : 10_000;
      const range = isPlainObject(body.stepRange) ? body.stepRange : {};
      const out = body.requests.map((raw: unknown) => {
        const { rq, segs, a } = seriesRequest(ctx.state.db, raw);
        // `afterStep` is the last step of the previous page in the reading order: with neptune-query's
        // `order: "descending"` the next page lies below it (metrics.py `_make_new_metrics_page_params`
        // sends the page's last step and reverses the collected pages at the end).
        const r = floatPoints(ctx.state.db, segs, a.path, {
          from: typeof range.from === 'number' ? range.from : undefined, to: typeof range.to === 'number' ? range.to : undefined,
          limit, desc: body.order === 'descending', after: typeof rq.afterStep === 'number' ? rq.afterStep : undefined,
          includePreview: rq.series.includePreview === true,
        });
        return { requestId: rq.requestId, total: r.total, points: r.points };
      });
      sendProto(ctx.res, encodeFloatSeriesResponse(out));
    } },
    // neptune-query's fetch_metric_buckets (./buckets.ts); the body is a protobuf ProtoGetTimeseriesBucketsRequest.
    'POST /api/leaderboard/v1/proto/attributes/timeseries/buckets': { name: 'getTimeseriesBucketsProto', auth: 'bearer', async handle(ctx) {
      const body = await ctx.body(16 * 1024 * 1024);
      sendProto(ctx.res, timeseriesBuckets(ctx.state.db, decodeOr400(() => decodeBucketsRequest(body))));
    } },
    'POST /api/leaderboard/v1/proto/attributes/series': { name: 'getSeriesValuesProto', auth: 'bearer', async handle(ctx) {
      const deprecated = ctx.q.get('useDeprecatedStringFields') !== 'false';
      sendProto(ctx.res, encodeSeriesValuesResponse(seriesValues(ctx.state.db, parseJson(await ctx.body())), deprecated));
    } },
    // retrieval.json spells the path with a trailing slash; the router matches paths without one.
    'POST /api/leaderboard/v1/proto/leaderboard/entries/search': { name: 'searchLeaderboardEntriesProto', auth: 'bearer', async handle(ctx) {
      sendProto(ctx.res, searchEntries(ctx.state.db, requireParam(ctx.q, 'projectIdentifier'), parseJson(await ctx.body())));
    } },
    // neptune-query's list_attributes / fetch_*_table (./query.ts).
    'POST /api/leaderboard/v1/leaderboard/attributes/definitions/query': { name: 'queryAttributeDefinitionsWithinProject', auth: 'bearer', async handle(ctx) {
      sendJson(ctx.res, 200, queryAttributeDefinitions(ctx.state.db, parseJson(await ctx.body())));
    } },
    'POST /api/leaderboard/v1/proto/leaderboard/attributes/query': { name: 'queryAttributesWithinProjectProto', auth: 'bearer', async handle(ctx) {
      sendProto(ctx.res, queryAttributeValues(ctx.state.db, requireParam(ctx.q, 'projectIdentifier'), parseJson(await ctx.body())));
    } },
    'POST /api/leaderboard/v1/proto/attributes/attributes': { name: 'getAttributesWithPathsFilterProto', auth: 'bearer', async handle(ctx) {
      const c = resolveRun(ctx.state.db, requireParam(ctx.q, 'holderIdentifier'));
      const body = parseJson(await ctx.body());
      const filter = isPlainObject(body) && Array.isArray(body.attributePathsFilter) ? body.attributePathsFilter.filter((x): x is string => typeof x === 'string') : undefined;
      sendProto(ctx.res, encodeAttributes(ctx.state.db, c, filter));
    } },
  };
}

function decodeBulkCheckDetailOr400(b: Uint8Array): ReturnType<typeof decodeBulkCheckDetail> {
  return decodeOr400(() => decodeBulkCheckDetail(b));
}
