/**
 * What one run folder holds, read without src/sources/local: the `.wandb` log through the test-only
 * walker next to this file (its own block constants and protobuf reading), legacy folders from their
 * JSONL files and `config.yaml` (the `yaml` package), files with `fs`. It gives the VALUES the target
 * must hold — every point with its step and timestamp, every config and summary leaf, every file's
 * bytes — already reduced by what mapping.md leaves out by default: `_` keys, media values,
 * NaN/±Infinity points (counted apart), `wandb-*` files, `config.yaml`, `media/`, empty files.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseLooseJson, pbFields, str, walkLog, type PbField } from './wandb-log-walk.ts';

export interface Point<T> {
  step: number;
  timestampMs: number;
  value: T;
}

export interface ConsoleTruth {
  text: string;
  /** The line was overwritten by a bare `\r` (its kept text is the console rule's business). */
  redrawn: boolean;
}

export interface FolderTruth {
  runId: string;
  legacy: boolean;
  logRecords: number;
  truncated: boolean;
  historyRows: number;
  /** History series path → points (finite numbers and booleans as numbers). */
  floats: Map<string, Point<number>[]>;
  strings: Map<string, Point<string>[]>;
  nonFinite: Map<string, number>;
  mediaValues: number;
  /** Issue 11: every history media value, where it was logged. */
  media: Array<{ key: string; step: number; timestampMs: number; value: Record<string, unknown> }>;
  /** `monitoring/<key>` → points; step = seconds since the run started (runtime). */
  system: Map<string, Point<number>[]>;
  /** Stats records (log) or events lines (legacy) holding a timestamp. */
  systemSamples: number;
  console: ConsoleTruth[];
  /** The config as the run logged it (unwrapped, `_wandb` included), and the summary. */
  config: Record<string, unknown>;
  summary: Record<string, unknown>;
  /** File set → run-relative name → bytes. */
  fileSets: Record<'source_code/files' | 'checkpoints' | 'files', Map<string, Buffer>>;
}

type Tree = Record<string, unknown>;
const isObj = (v: unknown): v is Tree => typeof v === 'object' && v !== null && !Array.isArray(v);
const isMedia = (v: unknown): boolean => isObj(v) && typeof v['_type'] === 'string';

function push<T>(m: Map<string, Point<T>[]>, key: string, p: Point<T>): void {
  let list = m.get(key);
  if (!list) m.set(key, (list = []));
  list.push(p);
}

/** One history value under `key`, the way mapping.md describes it. */
function addValue(t: FolderTruth, key: string, v: unknown, step: number, timestampMs: number): void {
  if (v === null || v === undefined) return;
  if (typeof v === 'number' || typeof v === 'boolean') {
    const n = Number(v);
    if (!Number.isFinite(n)) t.nonFinite.set(key, (t.nonFinite.get(key) ?? 0) + 1);
    else push(t.floats, key, { step, timestampMs, value: n });
  } else if (typeof v === 'string') push(t.strings, key, { step, timestampMs, value: v });
  else if (isMedia(v)) {
    t.mediaValues++;
    t.media.push({ key, step, timestampMs, value: v as Record<string, unknown> });
  }
  else if (isObj(v)) for (const [k, x] of Object.entries(v)) addValue(t, `${key}/${k}`, x, step, timestampMs);
}

/**
 * A row: step from the record (log) or `_step`; timestamp from `_timestamp` in seconds, and for a row
 * without one (pre-0.10 SDKs wrote none) the run's start.
 */
function addRow(t: FolderTruth, row: Tree, recordStep: number | undefined, startMs: number | undefined): void {
  t.historyRows++;
  const step = recordStep ?? (row._step as number);
  const timestampMs = typeof row._timestamp === 'number' ? Math.round(row._timestamp * 1000) : startMs ?? NaN;
  for (const [k, v] of Object.entries(row)) if (!k.startsWith('_')) addValue(t, k, v, step, timestampMs);
}

function setPath(tree: Tree, path: string[], value: unknown): void {
  let t = tree;
  for (const p of path.slice(0, -1)) t = (isObj(t[p]) ? t[p] : (t[p] = {})) as Tree;
  t[path[path.length - 1]] = value;
}

/** `key`/`nested_key` + `value_json` items (HistoryItem, ConfigItem, SummaryItem, StatsItem). */
function items(msg: Buffer, itemField: number): Array<{ path: string[]; value: unknown }> {
  return pbFields(msg).filter((f) => f.no === itemField && f.bytes).map((f) => {
    const sub = pbFields(f.bytes!);
    const nested = sub.filter((s) => s.no === 2).map(str);
    const key = sub.find((s) => s.no === 1);
    const json = sub.find((s) => s.no === 16);
    return { path: nested.length ? nested : [key ? str(key) : ''], value: json ? parseLooseJson(str(json)) : null };
  });
}

/** google.protobuf.Timestamp (seconds = 1, nanos = 2) → seconds. */
function timestampOf(buf: Buffer | undefined): number | undefined {
  if (!buf) return undefined;
  const f = pbFields(buf);
  const seconds = Number(f.find((x) => x.no === 1)?.int ?? 0n);
  const nanos = Number(f.find((x) => x.no === 2)?.int ?? 0n);
  return seconds + nanos / 1e9;
}

function flattenStats(prefix: string, v: unknown, into: Map<string, number>): void {
  if (typeof v === 'number') into.set(prefix, v);
  else if (isObj(v)) for (const [k, x] of Object.entries(v)) flattenStats(`${prefix}.${k}`, x, into);
}

/** One system sample: every finite number under `monitoring/<key>`. */
function addSample(t: FolderTruth, values: Map<string, number>, step: number, timestampSec: number): void {
  for (const [k, v] of values) {
    if (!Number.isFinite(v)) continue;
    push(t.system, `monitoring/${k}`, { step, timestampMs: Math.round(timestampSec * 1000), value: v });
  }
}

/** Console text per stream → lines: split at `\n`; a line is redrawn when a bare `\r` overwrote part of it. */
export function consoleLinesOf(text: string): ConsoleTruth[] {
  const parts = text.split('\n');
  if (parts[parts.length - 1] === '') parts.pop();
  return parts.map((p) => {
    const q = p.endsWith('\r') ? p.slice(0, -1) : p;
    return { text: q.slice(q.lastIndexOf('\r') + 1), redrawn: q.includes('\r') };
  });
}

function walkFiles(root: string, under = root): string[] {
  if (!existsSync(under)) return [];
  const out: string[] = [];
  for (const e of readdirSync(under, { withFileTypes: true })) {
    const p = join(under, e.name);
    if (e.isDirectory()) out.push(...walkFiles(root, p));
    else if (e.isFile()) out.push(relative(root, p).split(sep).join('/'));
  }
  return out;
}

/** The `.wandb` log: history, config, summary, stats and console records (wandb-local.md §3-4). */
function readLog(t: FolderTruth, buf: Buffer): { summary?: Tree } {
  const walk = walkLog(buf);
  t.logRecords = walk.records.length;
  t.truncated = walk.truncated;
  const summary: Tree = {};
  let sawSummary = false;
  let startTime: number | undefined;
  const streams: Record<string, string> = { stdout: '', stderr: '' };
  // wandb-core splits one sample into several records with the same timestamp: one sample each.
  let sample: { ts: number; values: Map<string, number> } | undefined;
  let firstSampleTs: number | undefined;
  const endSample = () => {
    if (!sample) return;
    firstSampleTs ??= sample.ts;
    const step = startTime !== undefined ? Math.max(0, sample.ts - startTime) : sample.ts - firstSampleTs;
    addSample(t, sample.values, step, sample.ts);
    t.systemSamples++;
    sample = undefined;
  };
  for (const rec of walk.records) {
    for (const f of pbFields(rec) as PbField[]) {
      if (!f.bytes) continue;
      if (f.no === 2) {
        const row: Tree = {};
        for (const it of items(f.bytes, 1)) setPath(row, it.path, it.value);
        const stepMsg = pbFields(f.bytes).find((s) => s.no === 2);
        const num = stepMsg?.bytes ? pbFields(stepMsg.bytes).find((s) => s.no === 1)?.int : undefined;
        addRow(t, row, stepMsg ? Number(num ?? 0n) : undefined, startTime === undefined ? undefined : Math.floor(startTime * 1000));
      } else if (f.no === 5 || f.no === 17) {
        const run = f.no === 17 ? pbFields(f.bytes) : undefined;
        const cfg = f.no === 5 ? f.bytes : run!.find((s) => s.no === 4)?.bytes;
        if (cfg) for (const it of items(cfg, 1)) setPath(t.config, it.path, it.value);
        const sum = run?.find((s) => s.no === 5)?.bytes;
        if (sum) for (const it of items(sum, 1)) { sawSummary = true; setPath(summary, it.path, it.value); }
        startTime ??= timestampOf(run?.find((s) => s.no === 17)?.bytes);
      } else if (f.no === 3) {
        for (const it of items(f.bytes, 1)) { sawSummary = true; setPath(summary, it.path, it.value); }
      } else if (f.no === 7) {
        const ts = timestampOf(pbFields(f.bytes).find((s) => s.no === 2)?.bytes);
        if (ts === undefined) continue;
        if (sample && sample.ts !== ts) endSample();
        sample ??= { ts, values: new Map() };
        for (const it of items(f.bytes, 3)) flattenStats(it.path.join('.'), it.value, sample.values);
      } else if (f.no === 4 || f.no === 13) {
        const sub = pbFields(f.bytes);
        const stream = sub.find((s) => s.no === 1)?.int === 1n ? 'stdout' : 'stderr';
        const line = sub.find((s) => s.no === 3);
        if (line) streams[stream] += str(line);
      }
    }
  }
  endSample();
  t.console = [...consoleLinesOf(streams.stdout), ...consoleLinesOf(streams.stderr)];
  return { summary: sawSummary ? summary : undefined };
}

/** W&B writes zone-less UTC times ("2018-02-21T06:26:51.220192"). */
const utcMs = (iso: string): number => Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(iso) ? iso : `${iso}Z`);

/** A legacy run's start: `startedAt` in wandb-metadata.json, else the folder name's time (read as UTC). */
function legacyStartMs(dir: string): number | undefined {
  const meta = join(dir, 'wandb-metadata.json');
  const started = existsSync(meta) ? (JSON.parse(readFileSync(meta, 'utf8')) as { startedAt?: unknown }).startedAt : undefined;
  if (typeof started === 'string') return utcMs(started);
  const m = dir.match(/-(\d{4})(\d\d)(\d\d)_(\d\d)(\d\d)(\d\d)-[^/]+\/?$/);
  return m ? Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) : undefined;
}

/** A pre-0.10 folder: wandb-history.jsonl, wandb-events.jsonl, config.yaml (`{key: {desc, value}}`). */
function readLegacy(t: FolderTruth, dir: string): void {
  const jsonl = (name: string): Tree[] =>
    existsSync(join(dir, name)) ? readFileSync(join(dir, name), 'utf8').split('\n').filter((l) => l.trim()).map((l) => parseLooseJson(l) as Tree) : [];
  const startMs = legacyStartMs(dir);
  for (const row of jsonl('wandb-history.jsonl')) addRow(t, row, undefined, startMs);
  let first: number | undefined;
  for (const ev of jsonl('wandb-events.jsonl')) {
    const ts = ev._timestamp;
    if (typeof ts !== 'number') continue;
    first ??= ts;
    const values = new Map<string, number>();
    for (const [k, v] of Object.entries(ev)) if (k.startsWith('system.')) flattenStats(k.slice('system.'.length), v, values);
    addSample(t, values, typeof ev._runtime === 'number' ? ev._runtime : ts - first, ts);
    t.systemSamples++;
  }
  const yamlPath = join(dir, 'config.yaml');
  if (existsSync(yamlPath)) {
    const doc = parseYaml(readFileSync(yamlPath, 'utf8'), { intAsBigInt: false }) as Tree | null;
    for (const [k, v] of Object.entries(doc ?? {})) {
      if (k === 'wandb_version') continue;
      t.config[k] = isObj(v) && 'value' in v ? v.value : v;
    }
  }
}

export function readFolder(dir: string): FolderTruth {
  const runId = dir.replace(/\/$/, '').split('-').pop()!;
  const t: FolderTruth = {
    runId, legacy: false, logRecords: 0, truncated: false, historyRows: 0, floats: new Map(), strings: new Map(), nonFinite: new Map(),
    mediaValues: 0, media: [], system: new Map(), systemSamples: 0, console: [], config: {}, summary: {},
    fileSets: { 'source_code/files': new Map(), checkpoints: new Map(), files: new Map() },
  };
  const logName = readdirSync(dir).find((n) => n.endsWith('.wandb'));
  t.legacy = !logName;
  const filesRoot = t.legacy ? dir : join(dir, 'files');
  let summary: Tree | undefined;
  if (logName) summary = readLog(t, readFileSync(join(dir, logName))).summary;
  else readLegacy(t, dir);

  if (t.console.length === 0 && existsSync(join(filesRoot, 'output.log'))) t.console = consoleLinesOf(readFileSync(join(filesRoot, 'output.log'), 'utf8'));
  const summaryFile = join(filesRoot, 'wandb-summary.json');
  if (!summary && existsSync(summaryFile)) summary = parseLooseJson(readFileSync(summaryFile, 'utf8')) as Tree;
  t.summary = summary ?? {};

  for (const name of walkFiles(filesRoot)) {
    const base = name.split('/').pop()!;
    if (base.startsWith('wandb-') || name === 'config.yaml' || name.startsWith('media/') || name.startsWith('artifact/')) continue;
    if (t.legacy && name.endsWith('.wandb')) continue;
    if (statSync(join(filesRoot, name)).size === 0) continue;
    const set = name.startsWith('code/') || name === 'requirements.txt' ? 'source_code/files'
      : /ckpt|checkpoint/i.test(name) ? 'checkpoints' : 'files';
    t.fileSets[set].set(name, readFileSync(join(filesRoot, name)));
  }
  return t;
}

export const pointCount = (m: Map<string, unknown[]>): number => [...m.values()].reduce((n, v) => n + v.length, 0);
