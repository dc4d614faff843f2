/**
 * Hand-written decoders for the parts of `wandb_internal.Record` (wandb/proto/wandb_internal.proto)
 * the migration needs. Field numbers are the proto's; unknown fields are skipped, so newer SDKs
 * decode as long as they keep the numbers (they have since 0.10).
 */
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import { decodeArtifact, decodeUseArtifact } from './artifact-records.ts';

import type {
  EnvironmentMsg, ExitMsg, FilesMsg, HeaderMsg, HistoryMsg, Item, MetricMsg, OutputMsg, RecordKind, RunMsg, StatsMsg, TelemetryMsg,
  UpdateMsg, WandbRecord,
} from './messages.ts';

export type * from './messages.ts';

/** Record oneof field number → kind. Field 26 means `environment` only from SDK 0.21 (see caller). */
const KIND_BY_FIELD: Record<number, RecordKind> = {
  2: 'history', 3: 'summary', 4: 'output', 5: 'config', 6: 'files', 7: 'stats', 8: 'artifact',
  9: 'tbrecord', 10: 'alert', 11: 'telemetry', 12: 'metric', 13: 'output_raw', 17: 'run', 18: 'exit',
  20: 'final', 21: 'header', 22: 'footer', 23: 'preempting', 25: 'use_artifact', 26: 'environment',
};

/**
 * Decodes one record. `want` limits which bodies are decoded (others come back as their kind with
 * no body, as `undecoded`), so single-purpose passes (console, history) stay cheap.
 */
export function decodeRecord(buf: Uint8Array, want?: ReadonlySet<RecordKind>): WandbRecord {
  const r = new BinaryReader(buf);
  let num = 0;
  let out: WandbRecord = { num: 0, kind: 'none' };
  while (r.pos < r.len) {
    const [no, wt] = r.tag();
    if (no === 1 && wt === WireType.Varint) {
      num = toNum(r.int64());
      continue;
    }
    const kind = KIND_BY_FIELD[no];
    if (!kind || wt !== WireType.LengthDelimited) {
      r.skip(wt, no);
      continue;
    }
    if (want && !want.has(kind)) {
      r.skip(wt, no);
      out = { num, kind: 'undecoded', of: kind };
      continue;
    }
    out = decodeBody(kind, r, num);
  }
  out.num = num;
  return out;
}

function decodeBody(kind: RecordKind, b: BinaryReader, num: number): WandbRecord {
  switch (kind) {
    case 'history': return { num, kind, history: decodeHistory(b) };
    case 'summary': return { num, kind, summary: decodeUpdate(b) };
    case 'config': return { num, kind, config: decodeUpdate(b) };
    case 'output':
    case 'output_raw': return { num, kind, output: decodeOutput(b) };
    case 'stats': return { num, kind, stats: decodeStats(b) };
    case 'files': return { num, kind, files: decodeFiles(b) };
    case 'telemetry': return { num, kind, telemetry: decodeTelemetry(b) };
    case 'metric': return { num, kind, metric: decodeMetric(b) };
    case 'run': return { num, kind, run: decodeRun(b) };
    case 'exit': return { num, kind, exit: decodeExit(b) };
    case 'header': return { num, kind, header: decodeHeader(b) };
    case 'environment': return { num, kind, environment: decodeEnvironment(b) };
    case 'artifact': return { num, kind, artifact: decodeArtifact(b) };
    case 'use_artifact': return { num, kind, useArtifact: decodeUseArtifact(b) };
    case 'final': case 'footer': case 'preempting': case 'alert': case 'tbrecord':
      b.skip(WireType.LengthDelimited);
      return { num, kind };
    default:
      b.skip(WireType.LengthDelimited);
      return { num, kind: 'other' };
  }
}

/**
 * Iterates the fields of the length-delimited message at the reader's position (one reader for the
 * whole record: no sub-buffers or sub-readers per message). `onField` returns false for fields it
 * did not consume, which are skipped.
 */
export function fields(r: BinaryReader, onField: (no: number, wt: WireType) => boolean): void {
  const end = r.uint32() + r.pos;
  while (r.pos < end) {
    const [no, wt] = r.tag();
    if (!onField(no, wt)) r.skip(wt, no);
  }
  if (r.pos !== end) throw new Error('sub-message overruns its length');
}

const LEN = WireType.LengthDelimited;
const VAR = WireType.Varint;

function toNum(v: bigint | string): number {
  return Number(v);
}

function decodeItem(r: BinaryReader): Item {
  const it: Item = { key: '', nestedKey: [], valueJson: '' };
  fields(r, (no, wt) => {
    if (wt !== LEN) return false;
    if (no === 1) it.key = r.string();
    else if (no === 2) it.nestedKey.push(r.string());
    else if (no === 16) it.valueJson = r.string();
    else return false;
    return true;
  });
  return it;
}

export function decodeHistory(r: BinaryReader): HistoryMsg {
  const h: HistoryMsg = { items: [] };
  fields(r, (no, wt) => {
    if (wt !== LEN) return false;
    if (no === 1) h.items.push(decodeItem(r));
    else if (no === 2) {
      let step = 0;
      fields(r, (n, w) => (n === 1 && w === VAR ? ((step = toNum(r.int64())), true) : false));
      h.step = step;
    } else return false;
    return true;
  });
  return h;
}

export function decodeUpdate(r: BinaryReader): UpdateMsg {
  const u: UpdateMsg = { update: [], remove: [] };
  fields(r, (no, wt) => {
    if (wt !== LEN || (no !== 1 && no !== 2)) return false;
    (no === 1 ? u.update : u.remove).push(decodeItem(r));
    return true;
  });
  return u;
}

/** google.protobuf.Timestamp → Unix seconds (float). */
function decodeTimestamp(r: BinaryReader): number {
  let s = 0;
  let n = 0;
  fields(r, (no, wt) => {
    if (wt !== VAR) return false;
    if (no === 1) s = toNum(r.int64());
    else if (no === 2) n = r.int32();
    else return false;
    return true;
  });
  return s + n / 1e9;
}

function decodeOutput(r: BinaryReader): OutputMsg {
  const o: OutputMsg = { stream: 'stderr', line: '' };
  fields(r, (no, wt) => {
    if (no === 1 && wt === VAR) o.stream = r.int32() === 1 ? 'stdout' : 'stderr';
    else if (no === 2 && wt === LEN) o.timestamp = decodeTimestamp(r);
    else if (no === 3 && wt === LEN) o.line = r.string();
    else return false;
    return true;
  });
  return o;
}

function decodeStats(r: BinaryReader): StatsMsg {
  const s: StatsMsg = { items: [] };
  fields(r, (no, wt) => {
    if (no === 2 && wt === LEN) s.timestamp = decodeTimestamp(r);
    else if (no === 3 && wt === LEN) s.items.push(decodeItem(r));
    else return false;
    return true;
  });
  return s;
}

function decodeFiles(r: BinaryReader): FilesMsg {
  const f: FilesMsg = { files: [] };
  fields(r, (no, wt) => {
    if (no !== 1 || wt !== LEN) return false;
    const item = { path: '', policy: 0, type: 0 };
    fields(r, (n, w) => {
      if (n === 1 && w === LEN) item.path = r.string();
      else if (n === 2 && w === VAR) item.policy = r.int32();
      else if (n === 3 && w === VAR) item.type = r.int32();
      else return false;
      return true;
    });
    f.files.push(item);
    return true;
  });
  return f;
}

function decodeTelemetry(r: BinaryReader): TelemetryMsg {
  const t: TelemetryMsg = { pythonVersion: '', cliVersion: '', huggingfaceVersion: '', coreVersion: '', platform: '' };
  fields(r, (no, wt) => {
    if (wt !== LEN) return false;
    if (no === 4) t.pythonVersion = r.string();
    else if (no === 5) t.cliVersion = r.string();
    else if (no === 6) t.huggingfaceVersion = r.string();
    else if (no === 12) t.coreVersion = r.string();
    else if (no === 13) t.platform = r.string();
    else return false;
    return true;
  });
  return t;
}

function decodeMetric(r: BinaryReader): MetricMsg {
  const m: MetricMsg = { name: '', globName: '', stepMetric: '', goal: 0 };
  fields(r, (no, wt) => {
    if (no === 1 && wt === LEN) m.name = r.string();
    else if (no === 2 && wt === LEN) m.globName = r.string();
    else if (no === 4 && wt === LEN) m.stepMetric = r.string();
    else if (no === 8 && wt === VAR) m.goal = r.int32();
    else return false;
    return true;
  });
  return m;
}

function decodeGit(r: BinaryReader): { remote: string; commit: string } {
  const g = { remote: '', commit: '' };
  fields(r, (no, wt) => {
    if (wt !== LEN) return false;
    if (no === 1) g.remote = r.string();
    else if (no === 2) g.commit = r.string();
    else return false;
    return true;
  });
  return g;
}

export function decodeRun(r: BinaryReader): RunMsg {
  const m: RunMsg = {
    runId: '', entity: '', project: '', runGroup: '', jobType: '', displayName: '', notes: '', tags: [],
    sweepId: '', host: '', startingStep: 0, resumed: false, runtime: 0, gitRemote: '', gitCommit: '', forked: false,
  };
  const strings: Record<number, keyof RunMsg> = {
    1: 'runId', 2: 'entity', 3: 'project', 6: 'runGroup', 7: 'jobType', 8: 'displayName', 9: 'notes', 12: 'sweepId', 13: 'host',
  };
  fields(r, (no, wt) => {
    if (wt === LEN && strings[no]) (m as unknown as Record<string, string>)[strings[no]] = r.string();
    else if (no === 4 && wt === LEN) m.config = decodeUpdate(r);
    else if (no === 5 && wt === LEN) m.summary = decodeUpdate(r);
    else if (no === 10 && wt === LEN) m.tags.push(r.string());
    else if (no === 14 && wt === VAR) m.startingStep = toNum(r.int64());
    else if (no === 17 && wt === LEN) m.startTime = decodeTimestamp(r);
    else if (no === 18 && wt === VAR) m.resumed = r.bool();
    else if (no === 19 && wt === LEN) m.telemetry = decodeTelemetry(r);
    else if (no === 20 && wt === VAR) m.runtime = r.int32();
    else if (no === 21 && wt === LEN) {
      const g = decodeGit(r);
      m.gitRemote = g.remote;
      m.gitCommit = g.commit;
    } else if (no === 22 && wt === VAR) m.forked = r.bool();
    else return false;
    return true;
  });
  return m;
}

function decodeExit(r: BinaryReader): ExitMsg {
  const e: ExitMsg = { exitCode: 0, runtime: 0 };
  fields(r, (no, wt) => {
    if (wt !== VAR) return false;
    if (no === 1) e.exitCode = r.int32();
    else if (no === 2) e.runtime = r.int32();
    else return false;
    return true;
  });
  return e;
}

function decodeHeader(r: BinaryReader): HeaderMsg {
  const h: HeaderMsg = { producer: '', minConsumer: '' };
  fields(r, (no, wt) => {
    if (no !== 1 || wt !== LEN) return false;
    fields(r, (n, w) => {
      if (w !== LEN) return false;
      if (n === 1) h.producer = r.string();
      else if (n === 2) h.minConsumer = r.string();
      else return false;
      return true;
    });
    return true;
  });
  return h;
}

function decodeEnvironment(r: BinaryReader): EnvironmentMsg {
  const e: EnvironmentMsg = {
    os: '', python: '', program: '', host: '', username: '', gitRemote: '', gitCommit: '', cpuCount: 0, gpuType: '', gpuCount: 0, cudaVersion: '',
  };
  const strings: Record<number, keyof EnvironmentMsg> = { 1: 'os', 2: 'python', 6: 'program', 12: 'host', 13: 'username', 18: 'gpuType', 25: 'cudaVersion' };
  fields(r, (no, wt) => {
    if (wt === LEN && strings[no]) (e as unknown as Record<string, string>)[strings[no]] = r.string();
    else if (no === 3 && wt === LEN) e.startedAt = decodeTimestamp(r);
    else if (no === 9 && wt === LEN) {
      const g = decodeGit(r);
      e.gitRemote = g.remote;
      e.gitCommit = g.commit;
    } else if (no === 16 && wt === VAR) e.cpuCount = r.int32();
    else if (no === 19 && wt === VAR) e.gpuCount = r.int32();
    else return false;
    return true;
  });
  return e;
}
