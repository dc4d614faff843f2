/**
 * What one sample run folder holds, counted without src/sources/local: the `.wandb` log through the
 * test-only walker next to this file, legacy folders from their JSONL files, files with `fs`.
 * Counts are already reduced by what the mapping leaves out by default (mapping.md): `_` keys,
 * media values, NaN/±Infinity points (counted apart), `wandb-*` files, `config.yaml`, `media/`, empty files.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { parseLooseJson, pbFields, str, walkLog, type PbField } from './wandb-log-walk.ts';

export interface FolderCounts {
  runId: string;
  logRecords: number;
  truncated: boolean;
  historyRows: number;
  /** Series path → points the target should hold (finite numbers, booleans, strings). */
  points: Map<string, number>;
  nonFinite: Map<string, number>;
  mediaValues: number;
  systemPoints: number;
  systemKeys: Set<string>;
  /** Console lines after `\r` overwrites, in order per stream. */
  consoleLines: string[];
  configTopKeys: number;
  configLeaves: number;
  summaryLeaves: number;
  fileSets: { 'source_code/files': string[]; checkpoints: string[]; files: string[] };
}

type Tree = Record<string, unknown>;
const isObj = (v: unknown): v is Tree => typeof v === 'object' && v !== null && !Array.isArray(v);
const isMedia = (v: unknown): boolean => isObj(v) && typeof v['_type'] === 'string';

/** Counts one history value the way mapping.md describes it, under `key`. */
function countValue(c: FolderCounts, key: string, v: unknown): void {
  if (v === null || v === undefined) return;
  if (typeof v === 'number' || typeof v === 'boolean') {
    if (typeof v === 'number' && !Number.isFinite(v)) c.nonFinite.set(key, (c.nonFinite.get(key) ?? 0) + 1);
    else c.points.set(key, (c.points.get(key) ?? 0) + 1);
  } else if (typeof v === 'string') c.points.set(key, (c.points.get(key) ?? 0) + 1);
  else if (isMedia(v)) c.mediaValues++;
  else if (isObj(v)) for (const [k, x] of Object.entries(v)) countValue(c, `${key}/${k}`, x);
}

function countRow(c: FolderCounts, row: Tree): void {
  c.historyRows++;
  for (const [k, v] of Object.entries(row)) if (!k.startsWith('_')) countValue(c, k, v);
}

/**
 * Leaves a config/summary tree becomes (internal top-level keys and media left out, `{}` is one leaf).
 * mapping.md: in a summary every `_` key is internal; in a config only `_wandb` is.
 */
export function leaves(tree: Tree, internal: (key: string) => boolean = (k) => k.startsWith('_')): number {
  let n = 0;
  for (const [k, v] of Object.entries(tree)) {
    if (internal(k)) continue;
    if (isMedia(v)) continue;
    n += isObj(v) && Object.keys(v).length > 0 ? leaves(v, () => false) : 1;
  }
  return n;
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

function flattenStats(prefix: string, v: unknown, into: Map<string, number>): void {
  if (typeof v === 'number') into.set(prefix, v);
  else if (isObj(v)) for (const [k, x] of Object.entries(v)) flattenStats(`${prefix}.${k}`, x, into);
}

/** Console text per stream → lines: split at `\n`, keep what follows the last `\r` of each line. */
export function consoleLinesOf(text: string): string[] {
  const parts = text.split('\n');
  if (parts[parts.length - 1] === '') parts.pop();
  return parts.map((p) => {
    const q = p.endsWith('\r') ? p.slice(0, -1) : p;
    return q.slice(q.lastIndexOf('\r') + 1);
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

export function countFolder(dir: string): FolderCounts {
  const runId = dir.replace(/\/$/, '').split('-').pop()!;
  const c: FolderCounts = {
    runId, logRecords: 0, truncated: false, historyRows: 0, points: new Map(), nonFinite: new Map(), mediaValues: 0,
    systemPoints: 0, systemKeys: new Set(), consoleLines: [], configTopKeys: 0, configLeaves: 0, summaryLeaves: 0,
    fileSets: { 'source_code/files': [], checkpoints: [], files: [] },
  };
  const logName = readdirSync(dir).find((n) => n.endsWith('.wandb'));
  const legacy = !logName;
  const filesRoot = legacy ? dir : join(dir, 'files');
  let summary: Tree | undefined;

  if (logName) {
    const walk = walkLog(readFileSync(join(dir, logName)));
    c.logRecords = walk.records.length;
    c.truncated = walk.truncated;
    const config: Tree = {};
    const logSummary: Tree = {};
    let sawSummary = false;
    const streams: Record<string, string> = { stdout: '', stderr: '' };
    for (const rec of walk.records) {
      for (const f of pbFields(rec) as PbField[]) {
        if (!f.bytes) continue;
        if (f.no === 2) {
          const row: Tree = {};
          for (const it of items(f.bytes, 1)) setPath(row, it.path, it.value);
          countRow(c, row);
        } else if (f.no === 5 || f.no === 17) {
          const cfg = f.no === 5 ? f.bytes : pbFields(f.bytes).find((s) => s.no === 4)?.bytes;
          if (cfg) for (const it of items(cfg, 1)) setPath(config, it.path, it.value);
          const sum = f.no === 17 ? pbFields(f.bytes).find((s) => s.no === 5)?.bytes : undefined;
          if (sum) for (const it of items(sum, 1)) { sawSummary = true; setPath(logSummary, it.path, it.value); }
        } else if (f.no === 3) {
          for (const it of items(f.bytes, 1)) { sawSummary = true; setPath(logSummary, it.path, it.value); }
        } else if (f.no === 7) {
          const vals = new Map<string, number>();
          for (const it of items(f.bytes, 3)) flattenStats(it.path.join('.'), it.value, vals);
          c.systemPoints += vals.size;
          for (const k of vals.keys()) c.systemKeys.add(k);
        } else if (f.no === 4 || f.no === 13) {
          const sub = pbFields(f.bytes);
          const stream = sub.find((s) => s.no === 1)?.int === 1n ? 'stdout' : 'stderr';
          const line = sub.find((s) => s.no === 3);
          if (line) streams[stream] += str(line);
        }
      }
    }
    c.configTopKeys = Object.keys(config).filter((k) => k !== '_wandb').length;
    c.configLeaves = leaves(config, (k) => k === '_wandb');
    if (sawSummary) summary = logSummary;
    c.consoleLines = [...consoleLinesOf(streams.stdout), ...consoleLinesOf(streams.stderr)];
  } else {
    const jsonl = (name: string): Tree[] =>
      existsSync(join(dir, name)) ? readFileSync(join(dir, name), 'utf8').split('\n').filter((l) => l.trim()).map((l) => parseLooseJson(l) as Tree) : [];
    for (const row of jsonl('wandb-history.jsonl')) countRow(c, row);
    for (const ev of jsonl('wandb-events.jsonl')) {
      for (const [k, v] of Object.entries(ev)) {
        if (k.startsWith('system.') && typeof v === 'number') { c.systemPoints++; c.systemKeys.add(k); }
      }
    }
    // config.yaml in the `key:\n  desc:\n  value:` form: a top-level key is an unindented `name:` line.
    const yaml = join(dir, 'config.yaml');
    if (existsSync(yaml)) {
      c.configTopKeys = readFileSync(yaml, 'utf8').split('\n').filter((l) => /^[^\s#][^:]*:\s*$/.test(l) && !/^(_wandb|wandb_version):/.test(l)).length;
      c.configLeaves = c.configTopKeys;
    }
  }
  if (c.consoleLines.length === 0 && existsSync(join(filesRoot, 'output.log'))) {
    c.consoleLines = consoleLinesOf(readFileSync(join(filesRoot, 'output.log'), 'utf8'));
  }
  const summaryFile = join(filesRoot, 'wandb-summary.json');
  if (!summary && existsSync(summaryFile)) summary = parseLooseJson(readFileSync(summaryFile, 'utf8')) as Tree;
  c.summaryLeaves = summary ? leaves(summary) : 0;

  for (const name of walkFiles(filesRoot)) {
    const base = name.split('/').pop()!;
    if (base.startsWith('wandb-') || name === 'config.yaml' || name.startsWith('media/') || name.startsWith('artifact/')) continue;
    if (legacy && name.endsWith('.wandb')) continue;
    if (statSync(join(filesRoot, name)).size === 0) continue;
    const set = name.startsWith('code/') || name === 'requirements.txt' ? 'source_code/files'
      : /ckpt|checkpoint/i.test(name) ? 'checkpoints' : 'files';
    c.fileSets[set].push(name);
  }
  return c;
}
