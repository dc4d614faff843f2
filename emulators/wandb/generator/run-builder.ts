/** Builds a GenRun from a declarative RunPlan: history, summary, system events, console and files. */
import { stringifyExtJson } from '../ext-json.ts';
import { bufferFile, linesFile, streamFile } from './files.ts';
import {
  type HistoryPlan, keyFiles, lastValues, rowAt, rowsFrom, rowsOf, stepOf,
} from './history-plan.ts';
import { hash01, pseudoBytes } from './prng.ts';
import type { GenFile, GenRun, RunState } from './types.ts';

export interface RunPlan {
  id: string;
  displayName: string;
  notes?: string;
  tags?: string[];
  group?: string;
  jobType?: string;
  state: RunState;
  sweep?: string;
  /** Unix ms. */
  createdMs: number;
  /** Serve dates without a zone designator (older runs). */
  zonelessDates?: boolean;
  host?: string;
  commit?: string;
  user: string;
  config: Record<string, unknown>;
  configWrap?: 'value-desc' | 'value';
  /** Served instead of the config: a text that is not valid JSON. */
  configJson?: string;
  history: HistoryPlan;
  /** Rows at the end not yet exported to parquet; `'all'` = nothing exported yet. */
  liveTail?: number | 'all';
  extraSummary?: Record<string, unknown>;
  systemEvents: number;
  /** W&B kept only every n-th sample (no events file): `systemEvents` logged, a thinned set served. */
  systemEventsKeptEvery?: number;
  eventsFileListed: boolean;
  consoleLines: number;
  /** Make every 25th console line longer than 2000 characters. */
  longLines?: boolean;
  /** Split the console into this many `logs/output_*.log` chunks instead of `output.log`. */
  consoleChunks?: number;
  extraFiles?: GenFile[];
}

function iso(ms: number, zoneless?: boolean): string {
  const s = new Date(ms).toISOString().slice(0, 19);
  return zoneless ? s : s + 'Z';
}

function consoleLine(plan: RunPlan, j: number): string {
  if (plan.longLines && j % 25 === 7) return `[${j}] long: ` + 'x'.repeat(2100) + ' ✓end';
  if (j % 11 === 3) return `[${j}] Warnung: ünïcödé ログ ${hash01(j).toFixed(4)}`;
  if (j % 17 === 5) return '';
  return `[${j}] epoch ${Math.floor(j / 10)} step ${j} loss=${(1 / (j + 1)).toFixed(6)}`;
}

function systemEvent(plan: RunPlan, j: number): Record<string, unknown> {
  const h = (k: number): number => hash01(plan.history.seed, 900 + k, j);
  return {
    _wandb: true,
    _timestamp: plan.createdMs / 1000 + j * 15 + h(0),
    _runtime: j * 15 + h(0),
    'system.cpu': Math.round(h(1) * 1000) / 10,
    'system.memory': Math.round(h(2) * 1000) / 10,
    'system.disk': 41.2,
    'system.gpu.0.gpu': Math.round(h(3) * 100),
    'system.gpu.0.temp': 40 + Math.round(h(4) * 40),
  };
}

function configYaml(config: Record<string, unknown>): string {
  // JSON flow values are valid YAML, which keeps this writer trivial and exact.
  let out = 'wandb_version: 1\n\n';
  for (const [k, v] of Object.entries(config)) out += `${JSON.stringify(k)}:\n  desc: null\n  value: ${stringifyExtJson(v)}\n`;
  return out;
}

export function buildRun(plan: RunPlan): GenRun {
  const p = plan.history;
  const rows = p.rows;
  const lastStep = rows > 0 ? stepOf(p, rows - 1) : -1;
  const tail = plan.liveTail ?? 0;
  const exportedBelowStep =
    rows === 0 ? 0 : tail === 'all' ? stepOf(p, 0) : tail > 0 ? stepOf(p, Math.max(0, rows - tail)) : lastStep + 1;
  const last = lastValues(p);
  const runtime = rows > 0 ? (last._runtime as number) : plan.systemEvents * 15;
  const summary: Record<string, unknown> = { ...last, ...(plan.extraSummary ?? {}), _wandb: { runtime: Math.floor(runtime) } };
  const createdAt = iso(plan.createdMs, plan.zonelessDates);
  const heartbeatMs = plan.createdMs + Math.ceil(runtime * 1000) + 1000;
  const heartbeatAt = iso(heartbeatMs, plan.zonelessDates);
  const updatedAt = iso(heartbeatMs);
  const lines = (): Iterable<string> => (function* () {
    for (let j = 0; j < plan.consoleLines; j++) yield consoleLine(plan, j);
  })();
  const keptEvery = plan.systemEventsKeptEvery ?? 1;
  const events = (): Iterable<Record<string, unknown>> => (function* () {
    for (let j = 0; j < plan.systemEvents; j += keptEvery) yield systemEvent(plan, j);
  })();

  const files: GenFile[] = [];
  if (plan.consoleChunks && plan.consoleChunks > 0) {
    const per = Math.ceil(plan.consoleLines / plan.consoleChunks);
    for (let c = 0; c < plan.consoleChunks; c++) {
      const stamp = iso(plan.createdMs + c * 60_000).replace(/[-:]/g, '').replace('T', '_').slice(0, 15);
      const name = `logs/output_${stamp}_${String(c * 1000 + 123456789).padStart(9, '0')}.log`;
      files.push(linesFile(name, function* () {
        for (let j = c * per; j < Math.min(plan.consoleLines, (c + 1) * per); j++) yield consoleLine(plan, j);
      }, updatedAt));
    }
  } else if (plan.consoleLines > 0) {
    files.push(linesFile('output.log', lines, updatedAt));
  }
  files.push(bufferFile('config.yaml', configYaml(plan.config), updatedAt));
  files.push(bufferFile('wandb-summary.json', stringifyExtJson(summary), updatedAt));
  files.push(bufferFile('wandb-metadata.json', JSON.stringify({
    os: 'Linux-6.5.0-x86_64-with-glibc2.35', python: '3.11.4', host: plan.host ?? null,
    startedAt: iso(plan.createdMs), program: 'train.py', codePath: 'train.py',
    git: plan.commit ? { remote: 'https://example.invalid/repo.git', commit: plan.commit } : undefined,
    cpu_count: 8, gpu_count: 1, gpu: 'NVIDIA A100',
  }, null, 2), updatedAt));
  files.push(bufferFile('requirements.txt', 'torch==2.3.1\nnumpy==1.26.4\nwandb==0.19.0\n', updatedAt));
  if (plan.eventsFileListed && plan.systemEvents > 0) {
    files.push(linesFile('wandb-events.jsonl', function* () {
      for (const e of events()) yield stringifyExtJson(e);
    }, updatedAt));
  }
  for (const k of p.keys) {
    if (k.kind !== 'image' && k.kind !== 'table' && k.kind !== 'media') continue;
    for (const i of rowsOf(k, rows)) for (const f of keyFiles(p, k, i)) files.push(bufferFile(f.name, f.bytes, updatedAt));
  }
  files.push(...(plan.extraFiles ?? []));
  files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  return {
    id: plan.id,
    displayName: plan.displayName,
    notes: plan.notes,
    tags: plan.tags ?? [],
    group: plan.group,
    jobType: plan.jobType,
    state: plan.state,
    sweep: plan.sweep,
    createdAt,
    heartbeatAt,
    host: plan.host,
    commit: plan.commit,
    user: plan.user,
    config: plan.config,
    configWrap: plan.configWrap,
    configJson: plan.configJson,
    summary,
    historyRowCount: rows,
    lastStep,
    history: () => rowsFrom(p, -Infinity),
    historyFrom: (minStep: number) => rowsFrom(p, minStep),
    exportedBelowStep,
    systemEvents: events,
    systemEventCount: plan.systemEvents,
    eventsFileListed: plan.eventsFileListed,
    consoleLines: lines,
    files,
  };
}

/** Extra files for the "many files" shapes: checkpoints, notebook, code, an empty file, filler. */
export function checkpointFiles(seed: number, updatedAt: string): GenFile[] {
  return [
    bufferFile('model.ckpt', pseudoBytes(seed + 1, 256 * 1024), updatedAt),
    // 3 MiB streamed in 64 KiB chunks: exercises streaming, throttling and truncation
    streamFile('checkpoints/epoch1.pt', function* () {
      for (let c = 0; c < 48; c++) yield pseudoBytes(seed * 131 + c, 65536);
    }, updatedAt),
  ];
}

export { rowAt };
