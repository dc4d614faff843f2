/**
 * What a Protocol B run already holds, read back through the 3.x read API (the one neptune-query uses):
 * `POST /api/leaderboard/v1/proto/attributes/attributes?holderIdentifier=<project>/<run>` answers a
 * `ProtoAttributesDTO` listing every attribute with its type properties, among them each series'
 * `last_step` (neptune-query@00fcb6b `neptune_pb/api/v1/model/leaderboard_entries.proto`, `retrieval.json`
 * `getAttributesWithPathsFilterProto`), after a leaderboard search found the run's `sys/id` by its
 * custom run id. Two requests per run give the base of a resume: the last step of every series and the
 * files present.
 */
import { TargetError } from '../../core/errors.ts';
import type { NeptuneApi } from '../neptune/api.ts';
import { ProtoReader, WIRE_I64, WIRE_LEN, WIRE_VARINT } from './wire.ts';

export interface BRunHeld {
  /** Series path → last step the server holds (float, string, file and histogram series). */
  lastSteps: Map<string, number>;
  /** File attribute path → size in bytes. */
  fileRefs: Map<string, number>;
  /** Every attribute path, with its type name as the server gives it. */
  types: Map<string, string>;
}

/** `ProtoAttributeDTO` fields: name=1, type=2, then one `<type>_properties` message (leaderboard_entries.proto). */
const ATTRIBUTE = { name: 1, type: 2, fileRef: 10 } as const;
/** Properties of the four series types, each with `last_step = 3` (a double). */
const SERIES_PROPERTIES = new Set([9, 11, 12, 13]);
const LAST_STEP = 3;
/** `ProtoFileRefAttributeDTO{path = 3, sizeBytes = 4, mimeType = 5}`. */
const FILE_REF_SIZE = 4;

function double(r: ProtoReader): number {
  const v = Buffer.from(r.buf.buffer, r.buf.byteOffset + r.pos, 8).readDoubleLE(0);
  r.pos += 8;
  return v;
}

/** The `double last_step = 3` of a series properties message, when set. */
function lastStepOf(buf: Uint8Array, start: number, end: number): number | undefined {
  const r = new ProtoReader(buf, start, end);
  let last: number | undefined;
  for (let f = r.next(); f; f = r.next()) {
    if (f.field === LAST_STEP && f.wire === WIRE_I64) last = double(r);
    else r.skip(f.wire);
  }
  return last;
}

function sizeOf(buf: Uint8Array, start: number, end: number): number {
  const r = new ProtoReader(buf, start, end);
  let size = 0;
  for (let f = r.next(); f; f = r.next()) {
    if (f.field === FILE_REF_SIZE && f.wire === WIRE_VARINT) size = r.varint();
    else r.skip(f.wire);
  }
  return size;
}

/** `ProtoAttributesDTO{..., attributes = 7}` → what the run holds. */
export function decodeHeld(body: Uint8Array): BRunHeld {
  const held: BRunHeld = { lastSteps: new Map(), fileRefs: new Map(), types: new Map() };
  const r = new ProtoReader(body);
  for (let f = r.next(); f; f = r.next()) {
    if (f.field !== 7 || f.wire !== WIRE_LEN) {
      r.skip(f.wire);
      continue;
    }
    const { start, end } = r.len();
    const a = new ProtoReader(body, start, end);
    let name = '';
    let type = '';
    let last: number | undefined;
    let size: number | undefined;
    for (let g = a.next(); g; g = a.next()) {
      if (g.field === ATTRIBUTE.name && g.wire === WIRE_LEN) name = a.string();
      else if (g.field === ATTRIBUTE.type && g.wire === WIRE_LEN) type = a.string();
      else if (SERIES_PROPERTIES.has(g.field) && g.wire === WIRE_LEN) {
        const p = a.len();
        last = lastStepOf(body, p.start, p.end);
      } else if (g.field === ATTRIBUTE.fileRef && g.wire === WIRE_LEN) {
        const p = a.len();
        size = sizeOf(body, p.start, p.end);
      } else a.skip(g.wire);
    }
    if (!name) continue;
    held.types.set(name, type);
    if (last !== undefined) held.lastSteps.set(name, last);
    if (size !== undefined) held.fileRefs.set(name, size);
  }
  return held;
}

/** `ProtoAttributesDTO` → the value of its string attribute `name` (`string_properties = 5 {value = 3}`). */
function stringAttribute(body: Uint8Array, start: number, end: number, name: string): string | undefined {
  const r = new ProtoReader(body, start, end);
  for (let f = r.next(); f; f = r.next()) {
    if (f.field !== 7 || f.wire !== WIRE_LEN) {
      r.skip(f.wire);
      continue;
    }
    const a = r.len();
    const g = new ProtoReader(body, a.start, a.end);
    let attr = '';
    let value: string | undefined;
    for (let h = g.next(); h; h = g.next()) {
      if (h.field === ATTRIBUTE.name && h.wire === WIRE_LEN) attr = g.string();
      else if (h.field === 5 && h.wire === WIRE_LEN) {
        const p = g.len();
        const q = new ProtoReader(body, p.start, p.end);
        for (let k = q.next(); k; k = q.next()) {
          if (k.field === 3 && k.wire === WIRE_LEN) value = q.string();
          else q.skip(k.wire);
        }
      } else g.skip(h.wire);
    }
    if (attr === name) return value;
  }
  return undefined;
}

/** `ProtoLeaderboardEntriesSearchResultDTO{entries = 3}` → each entry's `sys/id`. */
export function decodeSysIds(body: Uint8Array): string[] {
  const out: string[] = [];
  const r = new ProtoReader(body);
  for (let f = r.next(); f; f = r.next()) {
    if (f.field !== 3 || f.wire !== WIRE_LEN) {
      r.skip(f.wire);
      continue;
    }
    const e = r.len();
    const id = stringAttribute(body, e.start, e.end, 'sys/id');
    if (id) out.push(id);
  }
  return out;
}

/** An NQL string literal, escaped as neptune-query does (`internal/filters.py`). */
const nqlString = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

/**
 * The run's `sys/id`, found as neptune-query finds a run by its custom run id: a leaderboard search
 * (`searchLeaderboardEntriesProto`) with the filter `` `sys/custom_run_id`:string == "<run id>" ``
 * projecting `sys/id` (neptune-query `internal/retrieval/search.py`). Undefined when no run has it.
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

/**
 * Reads what the run holds: found by its custom run id (`findSysId`), then its attributes through
 * `getAttributesWithPathsFilterProto` with `holderIdentifier = <workspace>/<project>/<sys/id>`, the
 * run identifier neptune-query uses (`RunIdentifier`). A run the search does not find holds nothing.
 */
export async function readHeld(api: NeptuneApi, project: string, runId: string, signal?: AbortSignal): Promise<BRunHeld> {
  const sysId = await findSysId(api, project, runId, signal);
  if (sysId === undefined) return { lastSteps: new Map(), fileRefs: new Map(), types: new Map() };
  const res = await api.call({
    method: 'POST',
    path: '/api/leaderboard/v1/proto/attributes/attributes',
    query: { holderIdentifier: `${project}/${sysId}`, holderType: 'experiment' },
    json: {},
    headers: { accept: 'application/x-protobuf' },
    signal,
    what: `attributes of run ${runId}`,
  });
  return decodeHeld(res.body);
}
