/**
 * Test-side protobuf encoder/decoder for Protocol B, independent of the emulator's decoder (wire.ts)
 * and of the product's writer. Field numbers: neptune-query@00fcb6b `.../neptune_pb/ingest/v1/`
 * (common.proto, pub/ingest.proto, pub/client.proto, pub/request_status.proto) and
 * `.../neptune_pb/api/v1/model/{series_values.proto, leaderboard_entries.proto}`.
 */
import { BinaryReader, BinaryWriter, WireType } from '@bufbuild/protobuf/wire';

export type TStep = number | { whole: number | bigint; micro: number };
export type TTime = Date | number | { seconds: number | bigint; nanos: number };
export type TValue =
  | { float: number } | { int: bigint | number } | { bool: boolean } | { string: string } | { time: TTime }
  | { stringSet: string[] } | { fileRef: { path: string; sizeBytes?: number; mimeType?: string } }
  | { histogram: { edges: number[]; counts?: number[]; densities?: number[] } }
  | { raw: Uint8Array };

export interface TSnapshot {
  step?: TStep; timestamp?: TTime; preview?: { completionRatio: number };
  assign?: Record<string, TValue>; modifySets?: Record<string, Record<string, 'ADD' | 'REMOVE'>>; append?: Record<string, TValue>;
  /** Map keys given as raw bytes (for invalid UTF-8). */
  rawAppendKeys?: Array<[Uint8Array, TValue]>;
}

export interface TCreate {
  family?: string; experimentId?: string; creationTime?: TTime; runIdInside?: string;
  fork?: { parentProject?: string; parentRunId: string; step?: TStep }; inheritConfigs?: boolean;
}

function step(w: BinaryWriter, s: TStep): void {
  const { whole, micro } = typeof s === 'number' ? { whole: Math.floor(s), micro: Math.round((s - Math.floor(s)) * 1e6) } : s;
  w.fork();
  if (BigInt(whole) !== 0n) w.tag(1, WireType.Varint).uint64(whole);
  if (micro !== 0) w.tag(2, WireType.Varint).uint64(micro);
  w.join();
}

function time(w: BinaryWriter, t: TTime): void {
  const ms = t instanceof Date ? t.getTime() : typeof t === 'number' ? t : undefined;
  const { seconds, nanos } = ms !== undefined ? { seconds: Math.floor(ms / 1000), nanos: (ms - Math.floor(ms / 1000) * 1000) * 1e6 } : (t as { seconds: number; nanos: number });
  w.fork().tag(1, WireType.Varint).int64(seconds).tag(2, WireType.Varint).int32(Math.round(nanos)).join();
}

function value(w: BinaryWriter, v: TValue): void {
  w.fork();
  if ('float' in v) w.tag(1, WireType.Bit64).double(v.float);
  else if ('int' in v) w.tag(3, WireType.Varint).int64(v.int);
  else if ('bool' in v) w.tag(5, WireType.Varint).bool(v.bool);
  else if ('string' in v) w.tag(6, WireType.LengthDelimited).string(v.string);
  else if ('time' in v) { w.tag(8, WireType.LengthDelimited); time(w, v.time); }
  else if ('stringSet' in v) {
    w.tag(12, WireType.LengthDelimited).fork();
    for (const s of v.stringSet) w.tag(1, WireType.LengthDelimited).string(s);
    w.join();
  } else if ('fileRef' in v) {
    w.tag(13, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).string(v.fileRef.path);
    if (v.fileRef.sizeBytes) w.tag(2, WireType.Varint).int64(v.fileRef.sizeBytes);
    if (v.fileRef.mimeType) w.tag(3, WireType.LengthDelimited).string(v.fileRef.mimeType);
    w.join();
  } else if ('histogram' in v) {
    w.tag(14, WireType.LengthDelimited).fork();
    w.tag(1, WireType.LengthDelimited).fork();
    for (const e of v.histogram.edges) w.double(e);
    w.join();
    if (v.histogram.counts) {
      w.tag(4, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).fork();
      for (const c of v.histogram.counts) w.uint64(c);
      w.join().join();
    } else if (v.histogram.densities) {
      w.tag(5, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).fork();
      for (const c of v.histogram.densities) w.double(c);
      w.join().join();
    }
    w.join();
  } else w.raw(v.raw);
  w.join();
}

function mapEntry(w: BinaryWriter, field: number, key: string | Uint8Array, val: (w: BinaryWriter) => void): void {
  w.tag(field, WireType.LengthDelimited).fork();
  if (typeof key === 'string') w.tag(1, WireType.LengthDelimited).string(key);
  else w.tag(1, WireType.LengthDelimited).bytes(key);
  w.tag(2, WireType.LengthDelimited);
  val(w);
  w.join();
}

function snapshot(w: BinaryWriter, s: TSnapshot): void {
  w.fork();
  if (s.step !== undefined) { w.tag(1, WireType.LengthDelimited); step(w, s.step); }
  if (s.timestamp !== undefined) { w.tag(2, WireType.LengthDelimited); time(w, s.timestamp); }
  for (const [k, v] of Object.entries(s.assign ?? {})) mapEntry(w, 4, k, (x) => value(x, v));
  for (const [k, ops] of Object.entries(s.modifySets ?? {})) {
    mapEntry(w, 5, k, (x) => {
      x.fork().tag(1, WireType.LengthDelimited).fork();
      for (const [tag, op] of Object.entries(ops)) {
        x.tag(1, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).string(tag).tag(2, WireType.Varint).int32(op === 'ADD' ? 1 : 2).join();
      }
      x.join().join();
    });
  }
  for (const [k, v] of Object.entries(s.append ?? {})) mapEntry(w, 8, k, (x) => value(x, v));
  for (const [k, v] of s.rawAppendKeys ?? []) mapEntry(w, 8, k, (x) => value(x, v));
  if (s.preview) w.tag(10, WireType.LengthDelimited).fork().tag(1, WireType.Varint).bool(true).tag(2, WireType.Bit32).float(s.preview.completionRatio).join();
  w.join();
}

export function encodeCreate(project: string, runId: string, c: TCreate = {}, createMissingProject = false): Uint8Array {
  const w = new BinaryWriter().tag(1, WireType.LengthDelimited).string(project).tag(2, WireType.LengthDelimited).string(runId);
  if (createMissingProject) w.tag(3, WireType.Varint).bool(true);
  w.tag(6, WireType.LengthDelimited).fork();
  if (c.runIdInside !== undefined) w.tag(1, WireType.LengthDelimited).string(c.runIdInside);
  if (c.fork) {
    w.tag(2, WireType.LengthDelimited).fork();
    if (c.fork.parentProject) w.tag(1, WireType.LengthDelimited).string(c.fork.parentProject);
    w.tag(2, WireType.LengthDelimited).string(c.fork.parentRunId);
    if (c.fork.step !== undefined) { w.tag(4, WireType.LengthDelimited); step(w, c.fork.step); }
    w.join();
  }
  if (c.creationTime !== undefined) { w.tag(3, WireType.LengthDelimited); time(w, c.creationTime); }
  w.tag(4, WireType.LengthDelimited).string(c.family ?? runId);
  if (c.experimentId !== undefined) w.tag(5, WireType.LengthDelimited).string(c.experimentId);
  if (c.inheritConfigs) w.tag(9, WireType.Varint).bool(true);
  w.join();
  return w.finish();
}

export function encodeUpdate(project: string, runId: string, snapshots: TSnapshot[]): Uint8Array {
  const w = new BinaryWriter().tag(1, WireType.LengthDelimited).string(project).tag(2, WireType.LengthDelimited).string(runId);
  w.tag(8, WireType.LengthDelimited).fork();
  for (const s of snapshots) { w.tag(1, WireType.LengthDelimited); snapshot(w, s); }
  w.join();
  return w.finish();
}

export function encodeRequestIds(ids: string[]): Uint8Array {
  const w = new BinaryWriter();
  for (const id of ids) w.tag(1, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).string(id).join();
  return w.finish();
}

export function encodeCheckDetail(project: string, ids: string[], cursor?: string, limit?: number): Uint8Array {
  const w = new BinaryWriter().tag(1, WireType.LengthDelimited).string(project);
  for (const id of ids) w.tag(2, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).string(id).join();
  if (cursor !== undefined) w.tag(3, WireType.LengthDelimited).string(cursor);
  if (limit !== undefined) w.tag(4, WireType.Varint).int32(limit);
  return w.finish();
}

// ---- decoding of responses ----

type Fields = Map<number, Array<number | bigint | Uint8Array>>;

/** Generic field dump: varints as bigint, fixed64 as the double, fixed32 as the float, length-delimited as bytes. */
export function fieldsOf(buf: Uint8Array): Fields {
  const r = new BinaryReader(buf);
  const out: Fields = new Map();
  while (r.pos < r.len) {
    const [no, wt] = r.tag();
    let v: number | bigint | Uint8Array;
    if (wt === WireType.Varint) v = BigInt(r.uint64());
    else if (wt === WireType.Bit64) v = r.double();
    else if (wt === WireType.Bit32) v = r.float();
    else if (wt === WireType.LengthDelimited) v = r.bytes();
    else { r.skip(wt); continue; }
    out.set(no, [...(out.get(no) ?? []), v]);
  }
  return out;
}

const text = (b: unknown) => new TextDecoder().decode(b as Uint8Array);

export function decodeSubmit(buf: Uint8Array): { requestId: string; requestIds: string[] } {
  const f = fieldsOf(buf);
  return { requestId: text(f.get(1)?.[0] ?? new Uint8Array()), requestIds: (f.get(2) ?? []).map(text) };
}

export interface TStatus { codes: Array<{ code: number; count: number; detail: number }>; message?: string }

export function decodeStatus(buf: Uint8Array): TStatus {
  const f = fieldsOf(buf);
  return {
    codes: (f.get(1) ?? []).map((b) => {
      const c = fieldsOf(b as Uint8Array);
      return { code: Number(c.get(1)?.[0] ?? 0n), count: Number(c.get(2)?.[0] ?? 0n), detail: Number(c.get(3)?.[0] ?? 0n) };
    }),
    ...(f.has(2) ? { message: text(f.get(2)?.[0]) } : {}),
  };
}

export function decodeBulkStatus(buf: Uint8Array): TStatus[] {
  return (fieldsOf(buf).get(1) ?? []).map((b) => decodeStatus(b as Uint8Array));
}

export function decodeDetails(buf: Uint8Array): { details: Array<{ requestId: string; path: string; code: number; message: string }>; next: string } {
  const f = fieldsOf(buf);
  return {
    details: (f.get(1) ?? []).map((b) => {
      const d = fieldsOf(b as Uint8Array);
      return {
        requestId: text(fieldsOf(d.get(1)?.[0] as Uint8Array).get(1)?.[0]), path: text(d.get(2)?.[0] ?? new Uint8Array()),
        code: Number(d.get(3)?.[0] ?? 0n), message: text(d.get(4)?.[0] ?? new Uint8Array()),
      };
    }),
    next: text(f.get(2)?.[0] ?? new Uint8Array()),
  };
}

/** Packed doubles. */
function doubles(b: unknown): number[] {
  const u = b as Uint8Array;
  const view = new DataView(u.buffer, u.byteOffset, u.byteLength);
  return Array.from({ length: u.byteLength / 8 }, (_, i) => view.getFloat64(i * 8, true));
}

export interface TFloatPoint { timestampMillis: number; step: number; value: number; isPreview: boolean }

export function decodeFloatSeries(buf: Uint8Array): { total: number; points: TFloatPoint[] } {
  const f = fieldsOf(buf);
  return {
    total: Number(f.get(1)?.[0] ?? 0n),
    points: (f.get(2) ?? []).map((b) => {
      const p = fieldsOf(b as Uint8Array);
      return { timestampMillis: Number(p.get(1)?.[0] ?? 0n), step: (p.get(2)?.[0] as number) ?? 0, value: (p.get(3)?.[0] as number) ?? 0, isPreview: p.get(4)?.[0] === 1n };
    }),
  };
}

/** `ProtoFloatSeriesValuesResponseDTO{series=1 [{requestId=1, series=2 ProtoFloatSeriesValuesDTO}]}`. */
export function decodeFloatSeriesResponse(buf: Uint8Array): Array<{ requestId: string } & ReturnType<typeof decodeFloatSeries>> {
  return (fieldsOf(buf).get(1) ?? []).map((b) => {
    const s = fieldsOf(b as Uint8Array);
    return { requestId: text(s.get(1)?.[0]), ...decodeFloatSeries((s.get(2)?.[0] as Uint8Array) ?? new Uint8Array()) };
  });
}

export interface TObjectPoint {
  timestampMillis: number; step: number;
  string?: string; histogram?: { type: string; edges: number[]; values: number[] }; fileRef?: { path: string; sizeBytes: number; mimeType: string };
}

export function decodeSeriesValues(buf: Uint8Array): Array<{ requestId: string; finished: boolean; token: string; points: TObjectPoint[] }> {
  return (fieldsOf(buf).get(1) ?? []).map((b) => {
    const s = fieldsOf(b as Uint8Array);
    const after = fieldsOf((s.get(2)?.[0] as Uint8Array) ?? new Uint8Array());
    const values = fieldsOf((s.get(4)?.[0] as Uint8Array) ?? new Uint8Array());
    return {
      requestId: text(s.get(1)?.[0]), finished: after.get(1)?.[0] === 1n, token: text(after.get(2)?.[0] ?? new Uint8Array()),
      points: (values.get(1) ?? []).map((pb) => {
        const p = fieldsOf(pb as Uint8Array);
        const o = fieldsOf(p.get(6)?.[0] as Uint8Array);
        const pt: TObjectPoint = { timestampMillis: Number(p.get(1)?.[0] ?? 0n), step: (p.get(2)?.[0] as number) ?? 0 };
        if (o.has(1)) pt.string = text(o.get(1)?.[0]);
        if (o.has(2)) {
          const h = fieldsOf(o.get(2)?.[0] as Uint8Array);
          pt.histogram = { type: text(h.get(1)?.[0]), edges: doubles(h.get(2)?.[0] ?? new Uint8Array()), values: doubles(h.get(3)?.[0] ?? new Uint8Array()) };
        }
        if (o.has(3)) {
          const fr = fieldsOf(o.get(3)?.[0] as Uint8Array);
          pt.fileRef = { path: text(fr.get(1)?.[0]), sizeBytes: Number(fr.get(2)?.[0] ?? 0n), mimeType: text(fr.get(3)?.[0] ?? new Uint8Array()) };
        }
        return pt;
      }),
    };
  });
}

/**
 * ProtoAttributesDTO → {name: {type, value}} for the scalar kinds a test compares; `field` is where the
 * message keeps its `ProtoAttributeDTO`s (7 there, 3 in `ProtoQueryAttributesExperimentResultDTO`).
 */
export function decodeAttributes(buf: Uint8Array, field = 7): Record<string, { type: string; value?: unknown }> {
  const out: Record<string, { type: string; value?: unknown }> = {};
  for (const b of fieldsOf(buf).get(field) ?? []) {
    const a = fieldsOf(b as Uint8Array);
    const name = text(a.get(1)?.[0]);
    const type = text(a.get(2)?.[0]);
    const propField = [...a.keys()].find((k) => k >= 3);
    if (propField === undefined) { out[name] = { type }; continue; }
    const p = fieldsOf(a.get(propField)?.[0] as Uint8Array);
    let value: unknown;
    switch (propField) {
      case 3: value = p.has(3) ? BigInt.asIntN(64, p.get(3)?.[0] as bigint) : 0n; break;
      case 4: value = p.get(3)?.[0] ?? 0; break;
      case 5: value = p.has(3) ? text(p.get(3)?.[0]) : ''; break;
      case 6: value = p.get(3)?.[0] === 1n; break;
      case 7: value = Number(BigInt.asIntN(64, (p.get(3)?.[0] as bigint) ?? 0n)); break;
      case 8: value = (p.get(3) ?? []).map(text); break;
      case 10: value = { path: text(p.get(3)?.[0]), sizeBytes: Number(p.get(4)?.[0] ?? 0n), mimeType: text(p.get(5)?.[0] ?? new Uint8Array()) }; break;
      default: value = p.has(3) ? { lastStep: p.get(3)?.[0] } : undefined;
    }
    out[name] = { type, value };
  }
  return out;
}
