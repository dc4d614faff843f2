/**
 * Hand-written decoders for the parts of `wandb_internal.Record` (wandb/proto/wandb_internal.proto)
 * the migration needs. Field numbers are the proto's; unknown fields are skipped, so newer SDKs
 * decode as long as they keep the numbers (they have since 0.10).
 */
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';

export interface Item {
  key: string;
  nestedKey: string[];
  valueJson: string;
}
export interface HistoryMsg {
  items: Item[];
  /** `step.num`; 0 when `step` is present but empty; undefined when absent. */
  step?: number;
}
export interface UpdateMsg {
  update: Item[];
  remove: Item[];
}
export interface OutputMsg {
  /** STDERR = 0 is the proto3 default, so a missing field means stderr. */
  stream: 'stdout' | 'stderr';
  /** Unix seconds. */
  timestamp?: number;
  line: string;
}
export interface StatsMsg {
  timestamp?: number;
  items: Item[];
}
export interface FilesMsg {
  files: { path: string; policy: number; type: number }[];
}
export interface TelemetryMsg {
  pythonVersion: string;
  cliVersion: string;
  huggingfaceVersion: string;
  coreVersion: string;
  platform: string;
}
export interface RunMsg {
  runId: string;
  entity: string;
  project: string;
  config?: UpdateMsg;
  summary?: UpdateMsg;
  runGroup: string;
  jobType: string;
  displayName: string;
  notes: string;
  tags: string[];
  sweepId: string;
  host: string;
  startingStep: number;
  startTime?: number;
  resumed: boolean;
  telemetry?: TelemetryMsg;
  runtime: number;
  gitRemote: string;
  gitCommit: string;
  forked: boolean;
}
export interface ExitMsg {
  exitCode: number;
  runtime: number;
}
export interface HeaderMsg {
  producer: string;
  minConsumer: string;
}
export interface MetricMsg {
  name: string;
  globName: string;
  stepMetric: string;
  goal: number;
}
export interface EnvironmentMsg {
  os: string;
  python: string;
  startedAt?: number;
  program: string;
  host: string;
  username: string;
  gitRemote: string;
  gitCommit: string;
  cpuCount: number;
  gpuType: string;
  gpuCount: number;
  cudaVersion: string;
}

export type WandbRecord = { num: number } & (
  | { kind: 'history'; history: HistoryMsg }
  | { kind: 'summary'; summary: UpdateMsg }
  | { kind: 'config'; config: UpdateMsg }
  | { kind: 'output' | 'output_raw'; output: OutputMsg }
  | { kind: 'stats'; stats: StatsMsg }
  | { kind: 'files'; files: FilesMsg }
  | { kind: 'telemetry'; telemetry: TelemetryMsg }
  | { kind: 'metric'; metric: MetricMsg }
  | { kind: 'run'; run: RunMsg }
  | { kind: 'exit'; exit: ExitMsg }
  | { kind: 'header'; header: HeaderMsg }
  | { kind: 'environment'; environment: EnvironmentMsg }
  | { kind: 'final' | 'footer' | 'artifact' | 'preempting' | 'use_artifact' | 'alert' | 'tbrecord' | 'other' }
  | { kind: 'none' }
  | { kind: 'undecoded'; of: RecordKind }
);
export type RecordKind = Exclude<WandbRecord['kind'], 'undecoded'>;

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
    const body = r.bytes();
    if (want && !want.has(kind)) {
      out = { num, kind: 'undecoded', of: kind };
      continue;
    }
    out = decodeBody(kind, body, num);
  }
  out.num = num;
  return out;
}

function decodeBody(kind: RecordKind, b: Uint8Array, num: number): WandbRecord {
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
    case 'final': case 'footer': case 'artifact': case 'preempting': case 'use_artifact': case 'alert': case 'tbrecord':
      return { num, kind };
    default: return { num, kind: 'other' };
  }
}

/** Iterates the fields of a message; `onField` returns false for fields it did not consume. */
function fields(b: Uint8Array, onField: (no: number, wt: WireType, r: BinaryReader) => boolean): void {
  const r = new BinaryReader(b);
  while (r.pos < r.len) {
    const [no, wt] = r.tag();
    if (!onField(no, wt, r)) r.skip(wt, no);
  }
}

const LEN = WireType.LengthDelimited;
const VAR = WireType.Varint;

function toNum(v: bigint | string): number {
  return Number(v);
}

function decodeItem(b: Uint8Array): Item {
  const it: Item = { key: '', nestedKey: [], valueJson: '' };
  fields(b, (no, wt, r) => {
    if (wt !== LEN) return false;
    if (no === 1) it.key = r.string();
    else if (no === 2) it.nestedKey.push(r.string());
    else if (no === 16) it.valueJson = r.string();
    else return false;
    return true;
  });
  return it;
}

export function decodeHistory(b: Uint8Array): HistoryMsg {
  const h: HistoryMsg = { items: [] };
  fields(b, (no, wt, r) => {
    if (wt !== LEN) return false;
    if (no === 1) h.items.push(decodeItem(r.bytes()));
    else if (no === 2) {
      let step = 0;
      fields(r.bytes(), (n, w, rr) => (n === 1 && w === VAR ? ((step = toNum(rr.int64())), true) : false));
      h.step = step;
    } else return false;
    return true;
  });
  return h;
}

export function decodeUpdate(b: Uint8Array): UpdateMsg {
  const u: UpdateMsg = { update: [], remove: [] };
  fields(b, (no, wt, r) => {
    if (wt !== LEN || (no !== 1 && no !== 2)) return false;
    (no === 1 ? u.update : u.remove).push(decodeItem(r.bytes()));
    return true;
  });
  return u;
}

/** google.protobuf.Timestamp → Unix seconds (float). */
function decodeTimestamp(b: Uint8Array): number {
  let s = 0;
  let n = 0;
  fields(b, (no, wt, r) => {
    if (wt !== VAR) return false;
    if (no === 1) s = toNum(r.int64());
    else if (no === 2) n = r.int32();
    else return false;
    return true;
  });
  return s + n / 1e9;
}

function decodeOutput(b: Uint8Array): OutputMsg {
  const o: OutputMsg = { stream: 'stderr', line: '' };
  fields(b, (no, wt, r) => {
    if (no === 1 && wt === VAR) o.stream = r.int32() === 1 ? 'stdout' : 'stderr';
    else if (no === 2 && wt === LEN) o.timestamp = decodeTimestamp(r.bytes());
    else if (no === 3 && wt === LEN) o.line = r.string();
    else return false;
    return true;
  });
  return o;
}

function decodeStats(b: Uint8Array): StatsMsg {
  const s: StatsMsg = { items: [] };
  fields(b, (no, wt, r) => {
    if (no === 2 && wt === LEN) s.timestamp = decodeTimestamp(r.bytes());
    else if (no === 3 && wt === LEN) s.items.push(decodeItem(r.bytes()));
    else return false;
    return true;
  });
  return s;
}

function decodeFiles(b: Uint8Array): FilesMsg {
  const f: FilesMsg = { files: [] };
  fields(b, (no, wt, r) => {
    if (no !== 1 || wt !== LEN) return false;
    const item = { path: '', policy: 0, type: 0 };
    fields(r.bytes(), (n, w, rr) => {
      if (n === 1 && w === LEN) item.path = rr.string();
      else if (n === 2 && w === VAR) item.policy = rr.int32();
      else if (n === 3 && w === VAR) item.type = rr.int32();
      else return false;
      return true;
    });
    f.files.push(item);
    return true;
  });
  return f;
}

function decodeTelemetry(b: Uint8Array): TelemetryMsg {
  const t: TelemetryMsg = { pythonVersion: '', cliVersion: '', huggingfaceVersion: '', coreVersion: '', platform: '' };
  fields(b, (no, wt, r) => {
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

function decodeMetric(b: Uint8Array): MetricMsg {
  const m: MetricMsg = { name: '', globName: '', stepMetric: '', goal: 0 };
  fields(b, (no, wt, r) => {
    if (no === 1 && wt === LEN) m.name = r.string();
    else if (no === 2 && wt === LEN) m.globName = r.string();
    else if (no === 4 && wt === LEN) m.stepMetric = r.string();
    else if (no === 8 && wt === VAR) m.goal = r.int32();
    else return false;
    return true;
  });
  return m;
}

function decodeGit(b: Uint8Array): { remote: string; commit: string } {
  const g = { remote: '', commit: '' };
  fields(b, (no, wt, r) => {
    if (wt !== LEN) return false;
    if (no === 1) g.remote = r.string();
    else if (no === 2) g.commit = r.string();
    else return false;
    return true;
  });
  return g;
}

export function decodeRun(b: Uint8Array): RunMsg {
  const m: RunMsg = {
    runId: '', entity: '', project: '', runGroup: '', jobType: '', displayName: '', notes: '', tags: [],
    sweepId: '', host: '', startingStep: 0, resumed: false, runtime: 0, gitRemote: '', gitCommit: '', forked: false,
  };
  const strings: Record<number, keyof RunMsg> = {
    1: 'runId', 2: 'entity', 3: 'project', 6: 'runGroup', 7: 'jobType', 8: 'displayName', 9: 'notes', 12: 'sweepId', 13: 'host',
  };
  fields(b, (no, wt, r) => {
    if (wt === LEN && strings[no]) (m as unknown as Record<string, string>)[strings[no]] = r.string();
    else if (no === 4 && wt === LEN) m.config = decodeUpdate(r.bytes());
    else if (no === 5 && wt === LEN) m.summary = decodeUpdate(r.bytes());
    else if (no === 10 && wt === LEN) m.tags.push(r.string());
    else if (no === 14 && wt === VAR) m.startingStep = toNum(r.int64());
    else if (no === 17 && wt === LEN) m.startTime = decodeTimestamp(r.bytes());
    else if (no === 18 && wt === VAR) m.resumed = r.bool();
    else if (no === 19 && wt === LEN) m.telemetry = decodeTelemetry(r.bytes());
    else if (no === 20 && wt === VAR) m.runtime = r.int32();
    else if (no === 21 && wt === LEN) {
      const g = decodeGit(r.bytes());
      m.gitRemote = g.remote;
      m.gitCommit = g.commit;
    } else if (no === 22 && wt === VAR) m.forked = r.bool();
    else return false;
    return true;
  });
  return m;
}

function decodeExit(b: Uint8Array): ExitMsg {
  const e: ExitMsg = { exitCode: 0, runtime: 0 };
  fields(b, (no, wt, r) => {
    if (wt !== VAR) return false;
    if (no === 1) e.exitCode = r.int32();
    else if (no === 2) e.runtime = r.int32();
    else return false;
    return true;
  });
  return e;
}

function decodeHeader(b: Uint8Array): HeaderMsg {
  const h: HeaderMsg = { producer: '', minConsumer: '' };
  fields(b, (no, wt, r) => {
    if (no !== 1 || wt !== LEN) return false;
    fields(r.bytes(), (n, w, rr) => {
      if (w !== LEN) return false;
      if (n === 1) h.producer = rr.string();
      else if (n === 2) h.minConsumer = rr.string();
      else return false;
      return true;
    });
    return true;
  });
  return h;
}

function decodeEnvironment(b: Uint8Array): EnvironmentMsg {
  const e: EnvironmentMsg = {
    os: '', python: '', program: '', host: '', username: '', gitRemote: '', gitCommit: '', cpuCount: 0, gpuType: '', gpuCount: 0, cudaVersion: '',
  };
  const strings: Record<number, keyof EnvironmentMsg> = { 1: 'os', 2: 'python', 6: 'program', 12: 'host', 13: 'username', 18: 'gpuType', 25: 'cudaVersion' };
  fields(b, (no, wt, r) => {
    if (wt === LEN && strings[no]) (e as unknown as Record<string, string>)[strings[no]] = r.string();
    else if (no === 3 && wt === LEN) e.startedAt = decodeTimestamp(r.bytes());
    else if (no === 9 && wt === LEN) {
      const g = decodeGit(r.bytes());
      e.gitRemote = g.remote;
      e.gitCommit = g.commit;
    } else if (no === 16 && wt === VAR) e.cpuCount = r.int32();
    else if (no === 19 && wt === VAR) e.gpuCount = r.int32();
    else return false;
    return true;
  });
  return e;
}
