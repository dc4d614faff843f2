/**
 * Protobuf encoding of the emulator's Protocol B responses, written by hand on @bufbuild/protobuf's
 * BinaryWriter. Field numbers: neptune-ai/neptune-query@00fcb6b `.../proto/neptune_pb/ingest/v1/pub/
 * {client.proto, request_status.proto}` and `.../proto/neptune_pb/api/v1/model/series_values.proto`.
 */
import { BinaryWriter } from '@bufbuild/protobuf/wire';

/** request_status.proto `RequestStatus.CodeByCount{code=1 google_rpc.Code, count=2, detail=3 IngestCode}`. */
export interface CodeByCount { code: number; count: number; detail: number }
export interface RequestStatus { codeByCount: CodeByCount[]; sharedErrorMessage?: string }

function writeStatus(w: BinaryWriter, s: RequestStatus): void {
  for (const c of s.codeByCount) {
    w.tag(1, 2).fork();
    if (c.code !== 0) w.tag(1, 0).int32(c.code);
    if (c.count !== 0) w.tag(2, 0).int64(c.count);
    if (c.detail !== 0) w.tag(3, 0).int32(c.detail);
    w.join();
  }
  if (s.sharedErrorMessage !== undefined) w.tag(2, 2).string(s.sharedErrorMessage);
}

/** client.proto `SubmitResponse{request_id=1, request_ids=2}` (field 1 kept for old clients, §3.1 notes). */
export function encodeSubmitResponse(id: string): Uint8Array {
  return new BinaryWriter().tag(1, 2).string(id).tag(2, 2).string(id).finish();
}

/** client.proto `BulkRequestStatus{statuses=1}`: one per requested id, same order (the proto's own guarantee). */
export function encodeBulkRequestStatus(statuses: RequestStatus[]): Uint8Array {
  const w = new BinaryWriter();
  for (const s of statuses) {
    w.tag(1, 2).fork();
    writeStatus(w, s);
    w.join();
  }
  return w.finish();
}

export function encodeRequestStatus(s: RequestStatus): Uint8Array {
  const w = new BinaryWriter();
  writeStatus(w, s);
  return w.finish();
}

export interface ResultDetail { requestId: string; path: string; code: number; message: string }

/** client.proto `BulkIngestResultDetail{details=1 [IngestResultDetail{request_id=1 RequestId, path=2, ingest_code=3, error_detail=4}], next_cursor=2}`. */
export function encodeBulkIngestResultDetail(details: ResultDetail[], nextCursor: string): Uint8Array {
  const w = new BinaryWriter();
  for (const d of details) {
    w.tag(1, 2).fork();
    w.tag(1, 2).fork().tag(1, 2).string(d.requestId).join();
    w.tag(2, 2).string(d.path);
    if (d.code !== 0) w.tag(3, 0).int32(d.code);
    w.tag(4, 2).string(d.message);
    w.join();
  }
  if (nextCursor !== '') w.tag(2, 2).string(nextCursor);
  return w.finish();
}

export interface FloatPoint { timestampMillis: number; step: number; value: number; isPreview?: boolean; completionRatio?: number }

/** series_values.proto `ProtoFloatPointValueDTO{timestamp_millis=1, step=2, value=3, is_preview=4, completion_ratio=5}`. */
function writeFloatPoint(w: BinaryWriter, p: FloatPoint): void {
  w.tag(2, 2).fork();
  w.tag(1, 0).int64(p.timestampMillis).tag(2, 1).double(p.step).tag(3, 1).double(p.value);
  if (p.isPreview) w.tag(4, 0).bool(true).tag(5, 5).float(p.completionRatio ?? 0);
  w.join();
}

/** series_values.proto `ProtoFloatSeriesValuesDTO{total_item_count=1, values=2}`. */
export function writeFloatSeriesValues(w: BinaryWriter, total: number, points: FloatPoint[]): void {
  w.tag(1, 0).int64(total);
  for (const p of points) writeFloatPoint(w, p);
}

export function encodeFloatSeriesValues(total: number, points: FloatPoint[]): Uint8Array {
  const w = new BinaryWriter();
  writeFloatSeriesValues(w, total, points);
  return w.finish();
}

/** `ProtoFloatSeriesValuesResponseDTO{series=1 [ProtoFloatSeriesValuesSingleSeriesResponseDTO{requestId=1, series=2}]}`. */
export function encodeFloatSeriesResponse(series: Array<{ requestId: string; total: number; points: FloatPoint[] }>): Uint8Array {
  const w = new BinaryWriter();
  for (const s of series) {
    w.tag(1, 2).fork().tag(1, 2).string(s.requestId).tag(2, 2).fork();
    writeFloatSeriesValues(w, s.total, s.points);
    w.join().join();
  }
  return w.finish();
}

export type PointObject =
  | { kind: 'string'; value: string }
  | { kind: 'histogram'; type: string; edges: number[]; values: number[] }
  | { kind: 'fileRef'; path: string; sizeBytes: number; mimeType: string };

export interface ObjectPoint { timestampMillis: number; step: number; object: PointObject; isPreview?: boolean; completionRatio?: number }

/**
 * `ProtoPointValueDTO{timestamp_millis=1, step=2, value=3 (deprecated string), is_preview=4, completion_ratio=5,
 * object=6 ProtoSeriesPointValueObjectDTO{stringValue=1 | histogram=2 ProtoHistogram{type=1, edges=2, values=3} |
 * fileRef=3 ProtoFileRef{path=1, sizeBytes=2, mimeType=3}}}`.
 */
function writeObjectPoint(w: BinaryWriter, p: ObjectPoint, deprecatedStrings: boolean): void {
  w.tag(1, 2).fork();
  w.tag(1, 0).int64(p.timestampMillis).tag(2, 1).double(p.step);
  if (deprecatedStrings && p.object.kind === 'string') w.tag(3, 2).string(p.object.value);
  if (p.isPreview) w.tag(4, 0).bool(true).tag(5, 5).float(p.completionRatio ?? 0);
  w.tag(6, 2).fork();
  const o = p.object;
  if (o.kind === 'string') w.tag(1, 2).string(o.value);
  else if (o.kind === 'histogram') {
    w.tag(2, 2).fork().tag(1, 2).string(o.type);
    w.tag(2, 2).fork();
    for (const e of o.edges) w.double(e);
    w.join().tag(3, 2).fork();
    for (const v of o.values) w.double(v);
    w.join().join();
  } else {
    w.tag(3, 2).fork().tag(1, 2).string(o.path).tag(2, 0).int64(o.sizeBytes).tag(3, 2).string(o.mimeType).join();
  }
  w.join();
  w.join();
}

/**
 * `ProtoSeriesValuesResponseDTO{series=1 [ProtoSeriesValuesSingleSeriesResponseDTO{requestId=1,
 * searchAfter=2 {finished=1, token=2}, seriesValues=4 ProtoSeriesValuesDTO{values=1}}]}`.
 */
export function encodeSeriesValuesResponse(
  series: Array<{ requestId: string; finished: boolean; token: string; points: ObjectPoint[] }>, deprecatedStrings: boolean,
): Uint8Array {
  const w = new BinaryWriter();
  for (const s of series) {
    w.tag(1, 2).fork().tag(1, 2).string(s.requestId);
    w.tag(2, 2).fork().tag(1, 0).bool(s.finished).tag(2, 2).string(s.token).join();
    w.tag(4, 2).fork();
    for (const p of s.points) writeObjectPoint(w, p, deprecatedStrings);
    w.join().join();
  }
  return w.finish();
}
