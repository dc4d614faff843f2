/**
 * Protocol B messages, by field number (neptune-ai/neptune-query@00fcb6b,
 * `neptune_pb/ingest/v1/{common,pub/ingest,pub/client,pub/request_status}.proto`; neptune-api.md §3.2).
 * Encoders for what the writer sends, decoders for what the server answers. The hot path (series
 * points) has its own encoder in ./snapshots.ts built on the same constants.
 */
import { ProtoReader, ProtoWriter, WIRE_I64, WIRE_LEN, WIRE_VARINT, lenFieldSize, varintSize } from './wire.ts';

/** `neptune.ingest.v1.pub.RunOperation`. */
export const RUN_OPERATION = { project: 1, runId: 2, createMissingProject: 3, create: 6, update: 7, updateBatch: 8 } as const;
/** `neptune.ingest.v1.Run` (CreateRun). */
export const RUN = { runId: 1, forkPoint: 2, creationTime: 3, family: 4, experimentId: 5, inheritConfigs: 9 } as const;
/** `UpdateRunSnapshot`; `UpdateRunSnapshots.snapshots` = 1. */
export const SNAPSHOT = { step: 1, timestamp: 2, assign: 4, modifySets: 5, append: 8 } as const;
export const SNAPSHOTS_FIELD = 1;
/** `Value` oneof. */
export const VALUE = { float64: 1, int64: 3, bool: 5, string: 6, timestamp: 8, stringSet: 12, fileRef: 13, histogram: 14 } as const;
/** `Step{whole, micro}`, `google.protobuf.Timestamp{seconds, nanos}`, map entries `{key, value}`. */
export const STEP = { whole: 1, micro: 2 } as const;
export const TIMESTAMP = { seconds: 1, nanos: 2 } as const;
export const MAP_ENTRY = { key: 1, value: 2 } as const;
/** `FileRef{path, size_bytes, mime_type}`, `StringSet{values}`, `ModifySet{string}`, `ModifyStringSet{values}`. */
export const FILE_REF = { path: 1, sizeBytes: 2, mimeType: 3 } as const;
export const SET_OPERATION = { ADD: 1, REMOVE: 2 } as const;

/** B's step rule lives with the mapping (one rule for the writer, resume and verify). */
export { decomposeStep, microOf } from '../../mapping/steps.ts';

/** Unix milliseconds → `Timestamp{seconds, nanos}` (nanos ≥ 0). */
export function splitTimestamp(ms: number): { seconds: number; nanos: number } {
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: nanosOf(ms, seconds) };
}

/** `splitTimestamp`'s nanos of `ms` above its whole seconds (`Math.floor(ms / 1000)`), without an object (the encoder's hot path). */
export function nanosOf(ms: number, seconds: number): number {
  return Math.round((ms - seconds * 1000) * 1e6);
}

export function stepPayloadSize(whole: number, micro: number): number {
  return (whole ? 1 + varintSize(whole) : 0) + (micro ? 1 + varintSize(micro) : 0);
}

export function writeStep(w: ProtoWriter, field: number, whole: number, micro: number): void {
  w.tag(field, WIRE_LEN);
  w.varint(stepPayloadSize(whole, micro));
  if (whole) {
    w.tag(STEP.whole, WIRE_VARINT);
    w.varint(whole);
  }
  if (micro) {
    w.tag(STEP.micro, WIRE_VARINT);
    w.varint(micro);
  }
}

export function timestampPayloadSize(seconds: number, nanos: number): number {
  return (seconds ? 1 + varintSize(seconds) : 0) + (nanos ? 1 + varintSize(nanos) : 0);
}

export function writeTimestamp(w: ProtoWriter, field: number, seconds: number, nanos: number): void {
  w.tag(field, WIRE_LEN);
  w.varint(timestampPayloadSize(seconds, nanos));
  if (seconds) {
    w.tag(TIMESTAMP.seconds, WIRE_VARINT);
    w.varint(seconds);
  }
  if (nanos) {
    w.tag(TIMESTAMP.nanos, WIRE_VARINT);
    w.varint(nanos);
  }
}

/** A value the writer assigns or appends (AtomValue's B form, plus file references). */
export type BValue =
  | { type: 'float'; value: number }
  | { type: 'int'; value: number | bigint }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string }
  | { type: 'datetime'; value: number }
  | { type: 'stringSet'; values: readonly string[] }
  | { type: 'fileRef'; path: string; sizeBytes: number; mimeType: string };

const utf8 = (s: string) => Buffer.byteLength(s, 'utf8');
const strField = (field: number, s: string) => lenFieldSize(field, utf8(s));

/** An int64 beyond 2^53 as its varint (two's complement for negatives, as protobuf encodes int64). */
export function int64Varint(n: bigint): Uint8Array {
  let v = BigInt.asUintN(64, n);
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return Uint8Array.from(out);
}

/** Size of a `Value` message's payload. */
export function valuePayloadSize(v: BValue): number {
  switch (v.type) {
    case 'float':
      return 9;
    case 'int':
      return 1 + (typeof v.value === 'bigint' ? int64Varint(v.value).length : varintSize(v.value));
    case 'bool':
      return 2;
    case 'string':
      return strField(VALUE.string, v.value);
    case 'datetime': {
      const t = splitTimestamp(v.value);
      return lenFieldSize(VALUE.timestamp, timestampPayloadSize(t.seconds, t.nanos));
    }
    case 'stringSet':
      return lenFieldSize(VALUE.stringSet, v.values.reduce((n, s) => n + strField(1, s), 0));
    case 'fileRef':
      return lenFieldSize(VALUE.fileRef, fileRefSize(v));
  }
}

function fileRefSize(v: Extract<BValue, { type: 'fileRef' }>): number {
  return strField(FILE_REF.path, v.path) + (v.sizeBytes ? 1 + varintSize(v.sizeBytes) : 0) + (v.mimeType ? strField(FILE_REF.mimeType, v.mimeType) : 0);
}

export function writeValuePayload(w: ProtoWriter, v: BValue): void {
  switch (v.type) {
    case 'float':
      w.tag(VALUE.float64, WIRE_I64);
      w.double(v.value);
      return;
    case 'int':
      w.tag(VALUE.int64, WIRE_VARINT);
      if (typeof v.value === 'bigint') w.bytes(int64Varint(v.value));
      else w.varint(v.value);
      return;
    case 'bool':
      w.tag(VALUE.bool, WIRE_VARINT);
      w.varint(v.value ? 1 : 0);
      return;
    case 'string':
      w.stringField(VALUE.string, v.value);
      return;
    case 'datetime': {
      const t = splitTimestamp(v.value);
      writeTimestamp(w, VALUE.timestamp, t.seconds, t.nanos);
      return;
    }
    case 'stringSet':
      w.lenField(VALUE.stringSet, v.values.reduce((n, s) => n + strField(1, s), 0), () => {
        for (const s of v.values) w.stringField(1, s);
      });
      return;
    case 'fileRef':
      w.lenField(VALUE.fileRef, fileRefSize(v), () => {
        w.stringField(FILE_REF.path, v.path);
        if (v.sizeBytes) {
          w.tag(FILE_REF.sizeBytes, WIRE_VARINT);
          w.varint(v.sizeBytes);
        }
        if (v.mimeType) w.stringField(FILE_REF.mimeType, v.mimeType);
      });
      return;
  }
}

/** Size of one `map<string, Value>` entry field (tag + length + `{key, value}`). */
export function valueEntrySize(mapField: number, path: string, v: BValue): number {
  return lenFieldSize(mapField, strField(MAP_ENTRY.key, path) + lenFieldSize(MAP_ENTRY.value, valuePayloadSize(v)));
}

export function writeValueEntry(w: ProtoWriter, mapField: number, path: string, v: BValue): void {
  const valueSize = valuePayloadSize(v);
  w.lenField(mapField, strField(MAP_ENTRY.key, path) + lenFieldSize(MAP_ENTRY.value, valueSize), () => {
    w.stringField(MAP_ENTRY.key, path);
    w.lenField(MAP_ENTRY.value, valueSize, () => writeValuePayload(w, v));
  });
}

/** `modify_sets[path] = ModifySet{string: ModifyStringSet{values: {member: op}}}`. */
function stringSetOpsSize(values: readonly string[]): number {
  return values.reduce((n, s) => n + lenFieldSize(1, strField(MAP_ENTRY.key, s) + 2), 0);
}

export function modifySetEntrySize(path: string, values: readonly string[]): number {
  const payload = lenFieldSize(1, stringSetOpsSize(values));
  return lenFieldSize(SNAPSHOT.modifySets, strField(MAP_ENTRY.key, path) + lenFieldSize(MAP_ENTRY.value, payload));
}

/** A `modify_sets` entry: `values` added, `removes` taken out (`ModifyStringSet{values: map<string, SET_OPERATION>}`). */
export function writeModifySetEntry(w: ProtoWriter, path: string, values: readonly string[], removes: readonly string[] = []): void {
  const ops = stringSetOpsSize(values) + stringSetOpsSize(removes);
  const payload = lenFieldSize(1, ops);
  const entry = (s: string, op: number) =>
    w.lenField(1, strField(MAP_ENTRY.key, s) + 2, () => {
      w.stringField(MAP_ENTRY.key, s);
      w.tag(MAP_ENTRY.value, WIRE_VARINT);
      w.varint(op);
    });
  w.lenField(SNAPSHOT.modifySets, strField(MAP_ENTRY.key, path) + lenFieldSize(MAP_ENTRY.value, payload), () => {
    w.stringField(MAP_ENTRY.key, path);
    w.lenField(MAP_ENTRY.value, payload, () => {
      w.lenField(1, ops, () => {
        for (const s of values) entry(s, SET_OPERATION.ADD);
        for (const s of removes) entry(s, SET_OPERATION.REMOVE);
      });
    });
  });
}

/** Writes the `RunOperation` head every request starts with. */
export function writeOperationHead(w: ProtoWriter, project: string, runId: string): void {
  w.stringField(RUN_OPERATION.project, project);
  w.stringField(RUN_OPERATION.runId, runId);
}

export interface CreateRunFields {
  project: string;
  runId: string;
  family: string;
  creationTimeMs: number;
  experimentId?: string;
}

/** `RunOperation{project, run_id, create: Run{creation_time, family, experiment_id?, inherit_configs}}` (§3.9). */
export function encodeCreateRun(c: CreateRunFields): Buffer {
  const w = new ProtoWriter(256);
  writeOperationHead(w, c.project, c.runId);
  const t = splitTimestamp(c.creationTimeMs);
  const runSize =
    lenFieldSize(RUN.creationTime, timestampPayloadSize(t.seconds, t.nanos)) +
    strField(RUN.family, c.family) +
    (c.experimentId !== undefined ? strField(RUN.experimentId, c.experimentId) : 0) +
    2;
  w.lenField(RUN_OPERATION.create, runSize, () => {
    writeTimestamp(w, RUN.creationTime, t.seconds, t.nanos);
    w.stringField(RUN.family, c.family);
    if (c.experimentId !== undefined) w.stringField(RUN.experimentId, c.experimentId);
    w.tag(RUN.inheritConfigs, WIRE_VARINT);
    w.varint(1);
  });
  return Buffer.from(w.view());
}

/** `RequestIdList{ids: [RequestId{value}]}` (wire-compatible with `BulkStatusCheck`). */
export function encodeRequestIdList(ids: readonly string[]): Buffer {
  const w = new ProtoWriter(64 + ids.length * 48);
  for (const id of ids) w.lenField(1, strField(1, id), () => w.stringField(1, id));
  return Buffer.from(w.view());
}

/** `SubmitResponse{request_id = 1, request_ids = 2}`: the id to poll (the last of `request_ids`, else `request_id`). */
export function decodeSubmitResponse(body: Uint8Array): string | undefined {
  const r = new ProtoReader(body);
  let single: string | undefined;
  let last: string | undefined;
  for (let f = r.next(); f; f = r.next()) {
    if (f.field === 1 && f.wire === WIRE_LEN) single = r.string();
    else if (f.field === 2 && f.wire === WIRE_LEN) last = r.string();
    else r.skip(f.wire);
  }
  return last || single || undefined;
}

export interface CodeCount {
  /** `google_rpc.Code`: 0 OK, 14 UNAVAILABLE… */
  code: number;
  count: number;
  /** `IngestCode`. */
  detail: number;
}

export interface RequestStatus {
  codes: CodeCount[];
  sharedErrorMessage?: string;
}

/** `BulkRequestStatus{statuses: [RequestStatus{code_by_count: [{code, count, detail}], shared_error_message}]}`. */
export function decodeBulkRequestStatus(body: Uint8Array): RequestStatus[] {
  const out: RequestStatus[] = [];
  const r = new ProtoReader(body);
  for (let f = r.next(); f; f = r.next()) {
    if (f.field !== 1 || f.wire !== WIRE_LEN) {
      r.skip(f.wire);
      continue;
    }
    const { start, end } = r.len();
    const s = new ProtoReader(body, start, end);
    const status: RequestStatus = { codes: [] };
    for (let g = s.next(); g; g = s.next()) {
      if (g.field === 1 && g.wire === WIRE_LEN) {
        const range = s.len();
        const c = new ProtoReader(body, range.start, range.end);
        const cc: CodeCount = { code: 0, count: 0, detail: 0 };
        for (let h = c.next(); h; h = c.next()) {
          if (h.wire !== WIRE_VARINT) c.skip(h.wire);
          else if (h.field === 1) cc.code = c.varint();
          else if (h.field === 2) cc.count = c.varint();
          else if (h.field === 3) cc.detail = c.varint();
          else c.varint();
        }
        status.codes.push(cc);
      } else if (g.field === 2 && g.wire === WIRE_LEN) status.sharedErrorMessage = s.string();
      else s.skip(g.wire);
    }
    out.push(status);
  }
  return out;
}

/** `BulkCheckDetail{project = 1, ids = 2, next_cursor = 3, limit = 4}`. */
export function encodeBulkCheckDetail(project: string, ids: readonly string[], cursor?: string): Buffer {
  const w = new ProtoWriter(256 + ids.length * 48);
  w.stringField(1, project);
  for (const id of ids) w.lenField(2, strField(1, id), () => w.stringField(1, id));
  if (cursor) w.stringField(3, cursor);
  return Buffer.from(w.view());
}

export interface IngestDetail {
  requestId: string;
  path: string;
  code: number;
  message: string;
}

/** `BulkIngestResultDetail{details: [IngestResultDetail{request_id, path, ingest_code, error_detail}], next_cursor}`. */
export function decodeBulkIngestResultDetail(body: Uint8Array): { details: IngestDetail[]; nextCursor?: string } {
  const details: IngestDetail[] = [];
  let nextCursor: string | undefined;
  const r = new ProtoReader(body);
  for (let f = r.next(); f; f = r.next()) {
    if (f.field === 1 && f.wire === WIRE_LEN) {
      const { start, end } = r.len();
      const d = new ProtoReader(body, start, end);
      const item: IngestDetail = { requestId: '', path: '', code: 0, message: '' };
      for (let g = d.next(); g; g = d.next()) {
        if (g.field === 1 && g.wire === WIRE_LEN) {
          const range = d.len();
          const id = new ProtoReader(body, range.start, range.end);
          for (let h = id.next(); h; h = id.next()) {
            if (h.field === 1 && h.wire === WIRE_LEN) item.requestId = id.string();
            else id.skip(h.wire);
          }
        } else if (g.field === 2 && g.wire === WIRE_LEN) item.path = d.string();
        else if (g.field === 3 && g.wire === WIRE_VARINT) item.code = d.varint();
        else if (g.field === 4 && g.wire === WIRE_LEN) item.message = d.string();
        else d.skip(g.wire);
      }
      details.push(item);
    } else if (f.field === 2 && f.wire === WIRE_LEN) nextCursor = r.string() || undefined;
    else r.skip(f.wire);
  }
  return { details, nextCursor };
}
