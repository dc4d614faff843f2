import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import { TargetError } from '../../core/errors.ts';
import type { NeptuneApi } from '../neptune/api.ts';
import type { NeptuneSession } from '../neptune/client.ts';
import { getProject, type ProjectInfo } from '../neptune/projects.ts';
import { digestStream, type HeldField, type HeldImage, type HeldPoint } from '../neptune/read-back.ts';
import { decomposeStep } from './messages.ts';

/**
 * Read-only access to what a Neptune 3.x server holds, through the read API neptune-query uses
 * (neptune-query@00fcb6b `src/neptune_query/generated/neptune_api_spec/swagger/retrieval.json`,
 * messages in `.../proto/neptune_pb/api/v1/model/{leaderboard_entries,series_values}.proto`;
 * callers in `src/neptune_query/internal/retrieval/{metrics,series,files}.py`):
 *  - fields: `getAttributesWithPathsFilterProto` → `ProtoAttributesDTO` (int64 kept exact);
 *  - float series: `getMultipleFloatSeriesValuesProto`, paged with `afterStep`;
 *  - string, file and histogram series: `getSeriesValuesProto`, paged with `searchAfter`;
 *  - files (`FileRef`s point at storage objects uploaded on their own): `signedUrl` with
 *    `permission: read` (storagebridge_openapi.json, `files.py fetch_signed_urls`), then a GET of the
 *    signed URL without Neptune credentials.
 * The run itself is found by custom run id with `searchLeaderboardEntriesProto` (`findSysId`) and named
 * `<workspace>/<project>/<sys/id>` as neptune-query names it (`RunIdentifier`). The one place for B's
 * reads: `verify` reads runs through `NeptuneBReader`, the writer's resume what a run holds through
 * `readHeld` — the same lookup and the same attribute decoding. It never writes.
 */

/** Points per page: neptune-query pages float series by `perSeriesPointsLimit` (≤ 1,000,000 in total). */
export const B_SERIES_PAGE = 10_000;
/** Points asked for in one multi-series request, and series per request (neptune-query: 1,000,000 points in total). */
const B_POINTS_PER_REQUEST = 100_000;
const B_SERIES_PER_REQUEST = 500;
/** Files signed per storage-bridge request (neptune-scale asks for at most 50 URLs at once). */
const SIGN_AT_ONCE = 50;
/** Runs whose read URLs are kept (a few more than verify's runs at once). */
const URL_RUNS_KEPT = 16;

const PROTO = { 'content-type': 'application/json', accept: 'application/x-protobuf' };

export interface HeldFileRef {
  path: string;
  sizeBytes: number;
  mimeType: string;
}

export interface HeldHistogram {
  step: number;
  timestampMs: number;
  type: string;
  edges: number[];
  values: number[];
}

/** An object point of `getSeriesValuesProto` (series_values.proto `ProtoPointValueDTO`). */
interface ObjectPoint {
  step: number;
  timestampMs: number;
  string?: string;
  histogram?: { type: string; edges: number[]; values: number[] };
  fileRef?: HeldFileRef;
}

function int64(r: BinaryReader): bigint {
  return BigInt(r.int64());
}

/** Reads the fields of one length-delimited message with `each(field, wire)`; unknown fields are skipped. */
function message(r: BinaryReader, end: number, each: (field: number, wire: WireType) => boolean): void {
  while (r.pos < end) {
    const [field, wire] = r.tag();
    if (!each(field, wire)) r.skip(wire);
  }
}

function sub(r: BinaryReader): number {
  return r.uint32() + r.pos;
}

/** `repeated double`, packed (proto3's default) or not. */
function doubles(r: BinaryReader, wire: WireType, into: number[]): void {
  if (wire === WireType.LengthDelimited) {
    const end = sub(r);
    while (r.pos < end) into.push(r.double());
  } else into.push(r.double());
}

/** `ProtoFileRef{path=1, sizeBytes=2, mimeType=3}` (also `ProtoFileRefAttributeDTO` fields 3, 4, 5). */
function fileRef(r: BinaryReader, end: number, base = 0): HeldFileRef {
  const f: HeldFileRef = { path: '', sizeBytes: 0, mimeType: '' };
  message(r, end, (n) => {
    if (n === base + 1) f.path = r.string();
    else if (n === base + 2) f.sizeBytes = Number(int64(r));
    else if (n === base + 3) f.mimeType = r.string();
    else return false;
    return true;
  });
  return f;
}

/** `ProtoHistogram{type=1, edges=2, values=3}`. */
function histogram(r: BinaryReader, end: number): { type: string; edges: number[]; values: number[] } {
  const h = { type: '', edges: [] as number[], values: [] as number[] };
  message(r, end, (n, wire) => {
    if (n === 1) h.type = r.string();
    else if (n === 2) doubles(r, wire, h.edges);
    else if (n === 3) doubles(r, wire, h.values);
    else return false;
    return true;
  });
  return h;
}

/** One `ProtoAttributeDTO{name=1, type=2, <type>_properties=3..13}` as a held field. */
function attribute(r: BinaryReader, end: number): { name: string; field: HeldField } {
  let name = '';
  const field: HeldField = { type: '' };
  const set: string[] = [];
  message(r, end, (n) => {
    if (n === 1) name = r.string();
    else if (n === 2) field.type = r.string();
    else if (n >= 3 && n <= 13) {
      const e = sub(r);
      // Every `Proto<Type>AttributeDTO` has attribute_name=1, attribute_type=2, then its value fields from 3.
      if (n === 10) {
        field.value = fileRef(r, e, 2);
        return true;
      }
      message(r, e, (m) => {
        if (m === 3 && (n === 3 || n === 7)) field.value = n === 3 ? int64(r) : Number(int64(r));
        else if (m === 3 && n === 4) field.value = r.double();
        else if (m === 3 && n === 5) field.value = r.string();
        else if (m === 3 && n === 6) field.value = r.bool();
        else if (m === 3 && n === 8) set.push(r.string());
        else if (m === 3 && (n === 9 || n === 11 || n === 12 || n === 13)) field.lastStep = r.double();
        else return false;
        return true;
      });
      if (n === 8) field.value = set.sort();
    } else return false;
    return true;
  });
  return { name, field };
}

/** `ProtoAttributesDTO{…, attributes=7}`. */
export function decodeAttributes(bytes: Uint8Array): Map<string, HeldField> {
  const r = new BinaryReader(bytes);
  const out = new Map<string, HeldField>();
  message(r, bytes.length, (n) => {
    if (n !== 7) return false;
    const a = attribute(r, sub(r));
    out.set(a.name, a.field);
    return true;
  });
  return out;
}

/**
 * `ProtoLeaderboardEntriesSearchResultDTO{entries = 3}` → each entry's `sys/id` (an entry is a
 * `ProtoAttributesDTO`, decoded as the run's attributes are).
 */
export function decodeSysIds(bytes: Uint8Array): string[] {
  const r = new BinaryReader(bytes);
  const out: string[] = [];
  message(r, bytes.length, (n, wire) => {
    if (n !== 3 || wire !== WireType.LengthDelimited) return false;
    const id = decodeAttributes(r.bytes()).get('sys/id')?.value;
    if (typeof id === 'string' && id) out.push(id);
    return true;
  });
  return out;
}

/** An NQL string literal, escaped as neptune-query does (`internal/filters.py`). */
const nqlString = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

/**
 * The run's `sys/id`, found as neptune-query finds a run by its custom run id: a leaderboard search
 * (`searchLeaderboardEntriesProto`) with the filter `` `sys/custom_run_id`:string == "<run id>" ``
 * projecting `sys/id` (neptune-query `internal/retrieval/search.py`). Undefined when no run has it;
 * two runs with it are an error (neither a resume nor a check can tell which one is meant).
 */
export async function findSysId(api: NeptuneApi, project: string, runId: string, signal?: AbortSignal): Promise<string | undefined> {
  const res = await api.call({
    method: 'POST',
    path: '/api/leaderboard/v1/proto/leaderboard/entries/search/',
    query: { projectIdentifier: project, type: 'run' },
    json: {
      attributeFilters: [{ path: 'sys/id' }],
      pagination: { limit: 2 },
      experimentLeader: false,
      query: { query: `\`sys/custom_run_id\`:string == ${nqlString(runId)}` },
    },
    headers: { accept: 'application/x-protobuf' },
    signal,
    what: `the run ${runId} of ${project}`,
  });
  const ids = decodeSysIds(res.body);
  if (ids.length > 1) throw new TargetError(`${project} holds ${ids.length} runs with the custom run id ${runId}; cannot tell which one to resume`);
  return ids[0];
}

/** Every attribute of a run (`holder` = `<workspace>/<project>/<sys/id>`) with its value (`getAttributesWithPathsFilterProto`). */
async function readAttributes(api: NeptuneApi, holder: string, what: string, signal?: AbortSignal): Promise<Map<string, HeldField>> {
  const res = await api.call({
    method: 'POST', path: '/api/leaderboard/v1/proto/attributes/attributes', query: { holderIdentifier: holder, holderType: 'experiment' },
    json: {}, headers: PROTO, signal, what,
  });
  return decodeAttributes(res.body);
}

/** What a run holds, as the writer's resume needs it. */
export interface BRunHeld {
  /** Series path → last step the server holds (float, string, file and histogram series). */
  lastSteps: Map<string, number>;
  /** File attribute path → size in bytes. */
  fileRefs: Map<string, number>;
  /** Every attribute path, with its type name as the server gives it. */
  types: Map<string, string>;
  /** String sets (`sys/tags`, …) with their values. */
  sets: Map<string, string[]>;
  /** `sys/name`: the experiment name the run was created with. */
  name?: string;
}

/** The resume's view of a run's attributes: each series' `last_step`, each `FileRef`'s size, every type. */
export function heldOf(fields: ReadonlyMap<string, HeldField>): BRunHeld {
  const held: BRunHeld = { lastSteps: new Map(), fileRefs: new Map(), types: new Map(), sets: new Map() };
  for (const [name, f] of fields) {
    if (!name) continue;
    held.types.set(name, f.type);
    if (f.type === 'stringSet' && Array.isArray(f.value)) held.sets.set(name, f.value as string[]);
    if (name === 'sys/name' && typeof f.value === 'string') held.name = f.value;
    if (f.lastStep !== undefined) held.lastSteps.set(name, f.lastStep);
    if (f.type === 'fileRef' && f.value !== undefined) held.fileRefs.set(name, (f.value as HeldFileRef).sizeBytes);
  }
  return held;
}

/**
 * What the run holds, for a resume: found by its custom run id (`findSysId`), then its attributes
 * (two requests per run give the base of a resume: the last step of every series and the files
 * present). A run the search does not find holds nothing.
 */
export async function readHeld(api: NeptuneApi, project: string, runId: string, signal?: AbortSignal): Promise<BRunHeld> {
  const sysId = await findSysId(api, project, runId, signal);
  if (sysId === undefined) return heldOf(new Map());
  return heldOf(await readAttributes(api, `${project}/${sysId}`, `attributes of run ${runId}`, signal));
}

type FloatPage = { total: number; points: Array<HeldPoint & { value: number }> };

/** `ProtoFloatSeriesValuesResponseDTO{series=1 [{requestId=1, series=2 {total_item_count=1, values=2 [{timestamp_millis=1, step=2, value=3, is_preview=4}]}}]}`, by request id. */
export function decodeFloatSeriesResponse(bytes: Uint8Array): Map<string, FloatPage> {
  const r = new BinaryReader(bytes);
  const pages = new Map<string, FloatPage>();
  message(r, bytes.length, (n) => {
    if (n !== 1) return false;
    let id = '';
    const out: FloatPage = { total: 0, points: [] };
    message(r, sub(r), (m) => {
      if (m === 1) {
        id = r.string();
        return true;
      }
      if (m !== 2) return false;
      message(r, sub(r), (k) => {
        if (k === 1) out.total = Number(int64(r));
        else if (k === 2) {
          const p = { step: 0, timestampMs: 0, value: 0 };
          let preview = false;
          message(r, sub(r), (f) => {
            if (f === 1) p.timestampMs = Number(int64(r));
            else if (f === 2) p.step = r.double();
            else if (f === 3) p.value = r.double();
            else if (f === 4) preview = r.bool();
            else return false;
            return true;
          });
          // A preview point is not committed data (leaderboard docs: `includePreview`); it is not asked for either.
          if (!preview) out.points.push(p);
        } else return false;
        return true;
      });
      return true;
    });
    pages.set(id, out);
    return true;
  });
  return pages;
}

/** `ProtoSeriesValuesResponseDTO{series=1 [{requestId=1, searchAfter=2 {finished=1, token=2}, seriesValues=4 {values=1 [ProtoPointValueDTO]}}]}`. */
export function decodeObjectSeries(bytes: Uint8Array): { finished: boolean; token?: string; points: ObjectPoint[] } {
  const r = new BinaryReader(bytes);
  const out: { finished: boolean; token?: string; points: ObjectPoint[] } = { finished: true, points: [] };
  message(r, bytes.length, (n) => {
    if (n !== 1) return false;
    out.finished = false;
    message(r, sub(r), (m) => {
      if (m === 2) {
        message(r, sub(r), (k) => {
          if (k === 1) out.finished = r.bool();
          else if (k === 2) out.token = r.string();
          else return false;
          return true;
        });
      } else if (m === 4 || m === 3) {
        message(r, sub(r), (k) => {
          if (k !== 1) return false;
          const p: ObjectPoint = { step: 0, timestampMs: 0 };
          message(r, sub(r), (f) => {
            if (f === 1) p.timestampMs = Number(int64(r));
            else if (f === 2) p.step = r.double();
            else if (f === 3) p.string ??= r.string();
            else if (f === 6) {
              message(r, sub(r), (o) => {
                if (o === 1) p.string = r.string();
                else if (o === 2) p.histogram = histogram(r, sub(r));
                else if (o === 3) p.fileRef = fileRef(r, sub(r));
                else return false;
                return true;
              });
            } else return false;
            return true;
          });
          out.points.push(p);
          return true;
        });
      } else return false;
      return true;
    });
    return true;
  });
  return out;
}

export class NeptuneBReader {
  readonly protocol = 'b' as const;
  /** Container id → `workspace/project`, for the storage bridge's signed URLs. */
  private readonly projects = new Map<string, string>();
  /** Container id → read URLs of its `FileRef`s (storage path → URL). */
  private readonly urls = new Map<string, Promise<Map<string, string>>>();

  constructor(private readonly session: NeptuneSession) {}

  private get api(): NeptuneApi {
    return this.session.api;
  }

  project(workspace: string, name: string, signal?: AbortSignal): Promise<ProjectInfo | undefined> {
    return getProject(this.api, workspace, name, signal);
  }

  /**
   * By custom run id (= B's run id), as the writer's resume finds it (`findSysId`): the migration's
   * ledger names the run by that id, not a short id. The run is then `<workspace>/<project>/<sys/id>`.
   */
  async findRun(project: ProjectInfo, ref: { customRunId: string }, signal?: AbortSignal): Promise<string | undefined> {
    const qualified = `${project.workspace}/${project.name}`;
    const sysId = await findSysId(this.api, qualified, ref.customRunId, signal);
    if (sysId === undefined) return undefined;
    const holder = `${qualified}/${sysId}`;
    this.projects.set(holder, qualified);
    return holder;
  }

  /** A step as B keeps it: whole + micro (millionths), truncated as the writer sends it. */
  heldStep(step: number): number {
    const { whole, micro } = decomposeStep(step);
    return whole + micro / 1e6;
  }

  /** Every field of the run with its value; int64 as a `bigint`, datetimes as Unix ms, FileRefs as {path, sizeBytes, mimeType}. */
  fields(containerId: string, signal?: AbortSignal): Promise<Map<string, HeldField>> {
    return readAttributes(this.api, containerId, 'fields', signal);
  }

  /** `TimeSeries` of one request (retrieval.json), as neptune-query builds it. */
  private timeSeries(containerId: string, path: string) {
    return { holder: { identifier: containerId, type: 'experiment' }, attribute: path, lineage: 'NONE' };
  }

  /** A series' points in step order, a page at a time (memory: one page). */
  async *series(containerId: string, path: string, kind: 'float' | 'string', signal?: AbortSignal): AsyncGenerator<HeldPoint> {
    if (kind === 'string') {
      for await (const p of this.objectPoints(containerId, path, signal)) yield { step: p.step, timestampMs: p.timestampMs, value: p.string ?? '' };
      return;
    }
    let after: number | undefined;
    let read = 0;
    for (;;) {
      const res = await this.api.call({
        method: 'POST', path: '/api/leaderboard/v1/proto/attributes/series/float', headers: PROTO,
        json: {
          perSeriesPointsLimit: B_SERIES_PAGE, order: 'ascending',
          requests: [{ requestId: '0', series: this.timeSeries(containerId, path), ...(after !== undefined ? { afterStep: after } : {}) }],
        },
        acceptStatus: [404], signal, what: `points of ${path}`,
      });
      if (res.status === 404) return;
      const page = decodeFloatSeriesResponse(res.body).get('0') ?? { total: 0, points: [] };
      for (const p of page.points) yield p;
      read += page.points.length;
      if (page.points.length === 0 || read >= page.total) return;
      after = page.points[page.points.length - 1].step;
    }
  }

  /**
   * The points of many float series with `getMultipleFloatSeriesValuesProto`, as neptune-query's
   * `fetch_multiple_series_values` reads them: all series in one request, `perSeriesPointsLimit` a
   * share of a total budget, and the series whose page came back full asked again `afterStep` their
   * last step until each has all its points (`total_item_count`). Each series' points arrive in step
   * order; memory is one response.
   */
  async floatSeriesMany(
    containerId: string, paths: readonly string[], onPoint: (path: string, p: HeldPoint & { value: number }) => void, signal?: AbortSignal,
  ): Promise<void> {
    for (let i = 0; i < paths.length; i += B_SERIES_PER_REQUEST) {
      // requestId = index into this chunk, as neptune-query numbers its requests.
      const chunk = paths.slice(i, i + B_SERIES_PER_REQUEST);
      const state = chunk.map(() => ({ after: undefined as number | undefined, read: 0, done: false }));
      const limit = Math.max(1, Math.min(B_SERIES_PAGE, Math.floor(B_POINTS_PER_REQUEST / chunk.length)));
      for (;;) {
        const open = state.map((s, k) => ({ s, k })).filter((x) => !x.s.done);
        if (open.length === 0) break;
        const res = await this.api.call({
          method: 'POST', path: '/api/leaderboard/v1/proto/attributes/series/float', headers: PROTO,
          json: {
            perSeriesPointsLimit: limit, order: 'ascending',
            requests: open.map(({ s, k }) => ({ requestId: String(k), series: this.timeSeries(containerId, chunk[k]), ...(s.after !== undefined ? { afterStep: s.after } : {}) })),
          },
          signal, what: `points of ${open.length} series`,
        });
        const pages = decodeFloatSeriesResponse(res.body);
        for (const { s, k } of open) {
          const page = pages.get(String(k)) ?? { total: 0, points: [] };
          for (const p of page.points) onPoint(chunk[k], p);
          s.read += page.points.length;
          if (page.points.length === 0 || s.read >= page.total) s.done = true;
          else s.after = page.points[page.points.length - 1].step;
        }
      }
    }
  }

  /**
   * Points of a string, file or histogram series in step order, paged by `searchAfter` as neptune-query
   * does, with no `perSeriesPointsLimit`: that is a cap (neptune-query series.py `tail_limit`; its e2e
   * test gets exactly the tail), so a page size there read a series of 12,000 console lines as 10,000.
   */
  private async *objectPoints(containerId: string, path: string, signal?: AbortSignal): AsyncGenerator<ObjectPoint> {
    let token: string | undefined;
    for (;;) {
      const res = await this.api.call({
        method: 'POST', path: '/api/leaderboard/v1/proto/attributes/series', query: { useDeprecatedStringFields: false }, headers: PROTO,
        json: {
          order: 'ascending',
          requests: [{ requestId: '0', series: this.timeSeries(containerId, path), ...(token !== undefined ? { searchAfter: { finished: false, token } } : {}) }],
        },
        acceptStatus: [404], signal, what: `points of ${path}`,
      });
      if (res.status === 404) return;
      const page = decodeObjectSeries(res.body);
      yield* page.points;
      if (page.finished || page.points.length === 0 || page.token === undefined || page.token === token) return;
      token = page.token;
    }
  }

  /** A histogram series' points in step order. */
  async *histograms(containerId: string, path: string, signal?: AbortSignal): AsyncGenerator<HeldHistogram> {
    for await (const p of this.objectPoints(containerId, path, signal)) {
      if (p.histogram) yield { step: p.step, timestampMs: p.timestampMs, ...p.histogram };
    }
  }

  /** B has no file sets: the files of `set` are the `FileRef` fields under `set/` (relative path → size the ref records). */
  async fileSet(_containerId: string, set: string, held: ReadonlyMap<string, HeldField>): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const [path, f] of held) {
      if (f.type === 'fileRef' && path.startsWith(`${set}/`)) out.set(path.slice(set.length + 1), (f.value as HeldFileRef).sizeBytes);
    }
    return out;
  }

  /**
   * Base64 MD5 and size of the stored object a `FileRef` field points at (downloaded through a signed
   * URL, streamed); undefined when storage does not have it. A `FileRef` is written after its upload,
   * not with it (neptune-api.md §3.6), so the bytes are checked, not only the size the ref records.
   */
  async fileDigest(containerId: string, set: string, subPath: string, held: ReadonlyMap<string, HeldField>, signal?: AbortSignal): Promise<{ md5: string; size: number } | undefined> {
    const ref = held.get(`${set}/${subPath}`)?.value as HeldFileRef | undefined;
    return ref ? this.objectDigest(containerId, ref.path, held, signal) : undefined;
  }

  /** The images of a file series (B's form of an image series), in step order, each hashed as it downloads. */
  async *images(containerId: string, path: string, held: ReadonlyMap<string, HeldField>, signal?: AbortSignal): AsyncGenerator<HeldImage> {
    if (held.get(path)?.type !== 'fileRefSeries') return;
    const page: ObjectPoint[] = [];
    const drain = async function* (this: NeptuneBReader): AsyncGenerator<HeldImage> {
      // One signing request per page of points, as neptune-query signs the files it downloads in bulk.
      const urls = await this.sign(containerId, page.map((p) => p.fileRef!.path), signal);
      for (const p of page.splice(0)) {
        const d = await this.download(urls.get(p.fileRef!.path), p.fileRef!.path, signal);
        yield { step: p.step, ...(d ?? { size: -1, md5: 'missing in storage' }) };
      }
    };
    for await (const p of this.objectPoints(containerId, path, signal)) {
      if (!p.fileRef) continue;
      page.push(p);
      if (page.length >= SIGN_AT_ONCE) yield* drain.call(this);
    }
    yield* drain.call(this);
  }

  /** Read URLs for storage paths of a run, `SIGN_AT_ONCE` per request (storagebridge_openapi.json `signedUrlGeneric`). */
  private async sign(containerId: string, storagePaths: readonly string[], signal?: AbortSignal): Promise<Map<string, string>> {
    const project = this.projects.get(containerId);
    if (!project) throw new Error(`run ${containerId} was not looked up through this reader`);
    const out = new Map<string, string>();
    for (let i = 0; i < storagePaths.length; i += SIGN_AT_ONCE) {
      const chunk = storagePaths.slice(i, i + SIGN_AT_ONCE);
      const { data } = await this.api.json<{ files?: Array<{ path?: unknown; url?: unknown }> }>({
        method: 'POST', path: '/api/storagebridge/v1/signedUrl',
        json: { files: chunk.map((path) => ({ project_identifier: project, path, permission: 'read' })) }, signal, what: `read URLs of ${chunk.length} files`,
      });
      for (const f of data?.files ?? []) if (typeof f.path === 'string' && typeof f.url === 'string') out.set(f.path, f.url);
    }
    return out;
  }

  /** Read URLs for every `FileRef` field of a run, asked once per run (the last few runs' are kept). */
  private runUrls(containerId: string, held: ReadonlyMap<string, HeldField>, signal?: AbortSignal): Promise<Map<string, string>> {
    let urls = this.urls.get(containerId);
    if (!urls) {
      const paths = [...held.values()].filter((f) => f.type === 'fileRef').map((f) => (f.value as HeldFileRef).path);
      this.urls.set(containerId, (urls = this.sign(containerId, paths, signal)));
      urls.catch(() => this.urls.delete(containerId));
      for (const k of this.urls.keys()) if (this.urls.size > URL_RUNS_KEPT) this.urls.delete(k);
    }
    return urls;
  }

  private async objectDigest(containerId: string, storagePath: string, held: ReadonlyMap<string, HeldField>, signal?: AbortSignal): Promise<{ md5: string; size: number } | undefined> {
    return this.download((await this.runUrls(containerId, held, signal)).get(storagePath), storagePath, signal);
  }

  private async download(url: string | undefined, storagePath: string, signal?: AbortSignal): Promise<{ md5: string; size: number } | undefined> {
    if (url === undefined) throw new Error(`the storage bridge gave no read URL for ${storagePath}`);
    // A signed URL carries its own authorisation: no Neptune credentials go to it.
    const res = await this.session.http.stream({ method: 'GET', url, signal, what: `download ${storagePath}`, headers: () => ({}), acceptStatus: [404] });
    if (res.status === 404) {
      for await (const _ of res.body) void _;
      return undefined;
    }
    return digestStream(res.body);
  }

  stats(): Record<string, number> {
    const s = this.session.stats;
    return { requests: s.requests, rateLimited: s.rateLimited, failedAttempts: s.failedAttempts, tokenRefreshes: s.tokenRefreshes };
  }
}
