/** loadFixtureFolder: a hand-writable folder format for emulator data (documented in FIXTURES.md). */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { parseExtJson, stringifyExtJson } from './ext-json.ts';
import { bufferFile } from './generator/files.ts';
import type { GenEntity, GenFile, GenProject, GenRun, RunState } from './generator/types.ts';

type Row = Record<string, unknown>;

function readJson(path: string): Row {
  return parseExtJson(readFileSync(path, 'utf8')) as Row;
}

function readJsonl(path: string): Row[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8').split('\n').filter((l) => l.trim()).map((l) => parseExtJson(l) as Row);
}

function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p));
    else out.push(p);
  }
  return out;
}

function subdirs(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function loadRun(dir: string, id: string): GenRun {
  const meta = readJson(join(dir, 'run.json'));
  const createdAt = str(meta.createdAt) ?? '2025-01-01T00:00:00Z';
  const startSec = Date.parse(/Z$/.test(createdAt) ? createdAt : createdAt + 'Z') / 1000;
  // fill in _step/_runtime/_timestamp a hand-written row may leave out
  let prevStep = -1;
  const history = readJsonl(join(dir, 'history.jsonl')).map((r, i) => {
    const step = typeof r._step === 'number' ? r._step : prevStep + 1;
    if (step <= prevStep) throw new Error(`${dir}/history.jsonl line ${i + 1}: _step must increase`);
    prevStep = step;
    const runtime = typeof r._runtime === 'number' ? r._runtime : i;
    return { ...r, _step: step, _runtime: runtime, _timestamp: typeof r._timestamp === 'number' ? r._timestamp : startSec + runtime };
  });
  const events = readJsonl(join(dir, 'events.jsonl')).map((e) => ({ _wandb: true, ...e }));
  const outputPath = join(dir, 'output.log');
  const lines = existsSync(outputPath) ? readFileSync(outputPath, 'utf8').replace(/\n$/, '').split('\n') : [];
  const lastStep = history.length ? (history[history.length - 1]._step as number) : -1;

  const summary: Row = {};
  for (const r of history) Object.assign(summary, r);
  Object.assign(summary, (meta.summary as Row | undefined) ?? {});

  const filesDir = join(dir, 'files');
  const files: GenFile[] = walk(filesDir).map((p) => {
    const f = bufferFile(relative(filesDir, p).split(sep).join('/'), readFileSync(p), statSync(p).mtime.toISOString());
    return { ...f, content: () => readFileSync(p) };
  });
  const has = (n: string): boolean => files.some((f) => f.name === n);
  if (lines.length && !has('output.log') && !files.some((f) => f.name.startsWith('logs/output_'))) {
    files.push(bufferFile('output.log', lines.join('\n') + '\n'));
  }
  const eventsFileListed = meta.eventsFileListed === true;
  if (eventsFileListed && !has('wandb-events.jsonl')) files.push(bufferFile('wandb-events.jsonl', events.map(stringifyExtJson).join('\n') + '\n'));
  files.sort((a, b) => (a.name < b.name ? -1 : 1));

  return {
    id,
    displayName: str(meta.displayName) ?? id,
    notes: str(meta.notes),
    tags: Array.isArray(meta.tags) ? (meta.tags as string[]) : [],
    group: str(meta.group),
    jobType: str(meta.jobType),
    state: (str(meta.state) ?? 'finished') as RunState,
    sweep: str(meta.sweep),
    createdAt,
    heartbeatAt: str(meta.heartbeatAt) ?? createdAt,
    host: str(meta.host),
    commit: str(meta.commit),
    user: str(meta.user) ?? 'fixture-user',
    config: (meta.config as Row | undefined) ?? {},
    configWrap: meta.configWrap === 'value' ? 'value' : 'value-desc',
    summary,
    historyRowCount: history.length,
    lastStep,
    history: () => history,
    exportedBelowStep: typeof meta.exportedBelowStep === 'number' ? meta.exportedBelowStep : lastStep + 1,
    systemEvents: () => events,
    systemEventCount: events.length,
    eventsFileListed,
    consoleLines: lines,
    files,
  };
}

export function loadFixtureFolder(dir: string): GenEntity {
  const meta = readJson(join(dir, 'entity.json'));
  const names = Array.isArray(meta.projects) ? (meta.projects as string[]) : subdirs(dir);
  const projects: GenProject[] = names.map((name) => {
    const pdir = join(dir, name);
    const pmeta = existsSync(join(pdir, 'project.json')) ? readJson(join(pdir, 'project.json')) : {};
    const runs = subdirs(pdir).filter((r) => existsSync(join(pdir, r, 'run.json'))).map((r) => loadRun(join(pdir, r), r));
    return { name, createdAt: str(pmeta.createdAt) ?? runs[0]?.createdAt ?? '2025-01-01T00:00:00Z', runs };
  });
  return { name: str(meta.name) ?? 'fixture-entity', projects };
}
