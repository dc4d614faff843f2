/**
 * `RunSource` over W&B run folders on disk (`wandb/run-*`, `wandb/offline-run-*`, legacy
 * `run-*` / `dryrun-*`). Folders are discovered and scanned once (one pass over each log), then every
 * stream is a fresh streaming pass. Folders sharing a run id (resumes) form one run, oldest first.
 */
import { runPath } from '../../core/records.ts';
import { stat } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import type { ConsoleLine, HistoryRow, LocalFile, RunFile, RunInfo, RunKey, SourceNotice, SourceProject, SystemMetrics, SystemSample } from '../../core/records.ts';
import type { RunFilter, RunSource } from '../../core/source.ts';
import { SourceDataError, SourceFileGone } from '../../core/errors.ts';
import { notUtf8Message } from '../console-bytes.ts';
import { ConsoleAssembler } from '../console-lines.ts';
import { localArtifacts } from './artifacts.ts';
import { discoverRunFolders } from './discover.ts';
import { listRunFiles, type ListedFile } from './files.ts';
import { StepSequencer } from './history-rows.ts';
import { buildRunInfo, folderIdentity, loadFolder, type LoadedFolder } from './run-model.ts';
import { describeLines } from './jsonl.ts';
import { folderConsole, folderHistory, folderSystem, type ConsoleProblems, type HistoryProblems, type SystemProblems } from './streams.ts';

export interface LocalSourceOptions {
  /** A `wandb/` folder of run folders, a project root holding `wandb/`, or one run folder. */
  path: string;
  /** Entity for runs whose log does not name one (most: W&B fills it in server-side). */
  entity?: string;
  /** Project for runs whose log does not name one. */
  project?: string;
  onNotice?: (n: SourceNotice) => void;
}

interface LocalRun {
  info: RunInfo;
  segments: LoadedFolder[];
  files?: Map<string, ListedFile>;
}

const keyString = (k: RunKey): string => `${k.entity}\u0000${k.project}\u0000${k.runId}`;

export function createLocalSource(opts: LocalSourceOptions): RunSource {
  const notify = (n: SourceNotice): void => opts.onNotice?.(n);
  let loading: Promise<Map<string, LocalRun>> | undefined;

  const load = (signal?: AbortSignal): Promise<Map<string, LocalRun>> => {
    loading ??= loadAll(opts, notify, signal);
    return loading;
  };
  const runOf = async (run: RunInfo, signal?: AbortSignal): Promise<LocalRun> => {
    signal?.throwIfAborted();
    const r = (await load(signal)).get(keyString(run.key));
    if (!r) throw new SourceDataError(`run ${runPath(run.key)} is not in ${opts.path}`);
    return r;
  };

  return {
    kind: 'wandb-local',
    artifacts: localArtifacts(async (run, signal) => (await runOf(run, signal)).segments.flatMap((s) => (s.folder.logPath ? [s.folder.logPath] : []))),
    async entity(signal) {
      if (opts.entity) return opts.entity;
      // The entity a run record names (most logs name none: the server fills it in), else 'local'.
      for (const r of (await load(signal)).values()) if (r.info.key.entity !== 'local') return r.info.key.entity;
      return 'local';
    },
    async *listProjects(signal) {
      const projects = new Map<string, SourceProject>();
      for (const r of (await load(signal)).values()) {
        const { entity, project } = r.info.key;
        const p = projects.get(project) ?? { entity, name: project };
        if (r.info.createdAt && (!p.createdAt || r.info.createdAt < p.createdAt)) p.createdAt = r.info.createdAt;
        projects.set(project, p);
      }
      yield* projects.values();
    },
    async *listRuns(project, filter, signal) {
      for (const r of (await load(signal)).values()) {
        if (r.info.key.project === project && matches(r.info, filter)) yield r.info;
      }
    },
    async *history(run, { fromStep = 0 }, signal): AsyncGenerator<HistoryRow> {
      const r = await runOf(run, signal);
      const seq = new StepSequencer();
      const problems: HistoryProblems = { badLines: new Map(), badValues: { count: 0, keys: [] } };
      for (const s of r.segments) {
        const before = { dropped: seq.dropped, last: seq.lastStep };
        for await (const row of readable(folderHistory(s, seq, problems, signal))) if (row.step >= fromStep) yield row;
        // A folder's own rewinds are said by buildRunInfo; here, its rows at or below the steps the run's
        // earlier folders reached (an offline resume, which could not ask where the run was, restarts at 0).
        const overlap = seq.dropped - before.dropped - (s.scan?.droppedRows ?? s.legacy?.droppedRows ?? 0);
        if (overlap > 0) {
          notify({
            run: run.key, stream: 'history', kind: 'skipped', count: overlap,
            message: `${s.folder.name}: ${overlap} history row(s) skipped: their steps were not above step ${before.last}, the last of the run's earlier folder(s), whose rows are kept (a run resumed offline starts its steps at 0 again)`,
          });
        }
      }
      for (const [folder, lines] of problems.badLines) {
        notify({ run: run.key, stream: 'history', kind: 'invalid', count: lines.length, message: `${folder}/wandb-history.jsonl: ${describeLines(lines)} not valid JSON; ${lines.length > 1 ? 'these rows were' : 'the row was'} skipped` });
      }
      const bad = problems.badValues;
      if (bad.count > 0) {
        notify({ run: run.key, stream: 'history', kind: 'invalid', count: bad.count, message: `${bad.count} history value(s) in the log were not valid JSON and were kept as their text (keys ${bad.keys.join(', ')})` });
      }
    },
    async systemMetrics(run, signal): Promise<SystemMetrics> {
      const r = await runOf(run, signal);
      const total = r.segments.reduce((n, s) => n + (s.scan?.statsSamples ?? s.legacy?.events ?? 0), 0);
      async function* samples(): AsyncGenerator<SystemSample> {
        for (const s of r.segments) {
          const p: SystemProblems = { badJson: [], noTimestamp: [], otherKeys: new Map() };
          yield* readable(folderSystem(s, s.scan?.run?.startTime, p, signal));
          reportSystemProblems(run.key, s.folder.name, p, notify);
        }
      }
      return { sampled: false, totalAvailable: total, samples: samples() };
    },
    async *console(run, { fromLine = 0 }, signal): AsyncGenerator<ConsoleLine> {
      const r = await runOf(run, signal);
      const asm = new ConsoleAssembler(); // one numbering across the run's folders
      for (const s of r.segments) {
        const problems: ConsoleProblems = { notUtf8Lines: 0 };
        for await (const line of readable(folderConsole(s, asm, problems, signal))) if (line.index >= fromLine) yield line;
        if (problems.notUtf8Lines > 0) {
          notify({
            run: run.key, stream: 'console', kind: 'invalid', count: problems.notUtf8Lines,
            message: notUtf8Message(`${s.folder.name}/output.log`, problems.notUtf8Lines),
          });
        }
      }
    },
    async *files(run, signal): AsyncGenerator<RunFile> {
      const r = await runOf(run, signal);
      const onSkip = (name: string, why: string): void =>
        notify({ run: run.key, stream: 'files', kind: 'skipped', count: 1, message: `file ${name} skipped: ${why}` });
      const map = new Map<string, ListedFile>();
      if (r.segments.length === 1) {
        // One folder (the usual case): stream as the walk goes.
        for await (const f of listRunFiles(r.segments[0].folder.filesDir, onSkip, signal)) {
          map.set(f.file.name, f);
          yield f.file;
        }
        r.files = map;
        return;
      }
      // Resumed run: later folders replace same-named files of earlier ones.
      for (const s of r.segments) for await (const f of listRunFiles(s.folder.filesDir, onSkip, signal)) map.set(f.file.name, f);
      r.files = map;
      for (const f of map.values()) yield f.file;
    },
    async fetchFile(run, file, signal): Promise<LocalFile> {
      const r = await runOf(run, signal);
      let path = r.files?.get(file.name)?.path;
      if (!path) {
        for (const s of [...r.segments].reverse()) {
          const root = resolve(s.folder.filesDir);
          const p = resolve(root, file.name);
          if (!p.startsWith(root + sep)) continue; // a name must not climb out of the run's files
          if (await stat(p).then((st) => st.isFile(), () => false)) {
            path = p;
            break;
          }
        }
      }
      if (!path) throw new SourceFileGone(`file ${file.name} of run ${run.key.runId} is not on disk`);
      const st = await stat(path).catch((error: NodeJS.ErrnoException) => {
        // Listed, then deleted before its turn: as gone as a file never there.
        throw error.code === 'ENOENT' ? new SourceFileGone(`file ${file.name} of run ${run.key.runId} is no longer on disk`) : error;
      });
      if (st.size !== file.sizeBytes) {
        throw new SourceDataError(`file ${file.name} of run ${run.key.runId} changed on disk: ${st.size} bytes, listed ${file.sizeBytes}`);
      }
      return { path, sizeBytes: st.size, release: async () => {} };
    },
    async close() {},
  };
}

async function loadAll(opts: LocalSourceOptions, notify: (n: SourceNotice) => void, signal?: AbortSignal): Promise<Map<string, LocalRun>> {
  const defaults = { entity: opts.entity, project: opts.project };
  const groups = new Map<string, LoadedFolder[]>();
  for (const folder of await discoverRunFolders(opts.path)) {
    signal?.throwIfAborted();
    const lf = await loadFolder(folder, signal);
    const key = folderIdentity(lf, defaults);
    for (const d of lf.scan?.damage ?? []) {
      notify({
        run: key, stream: 'log', kind: 'damaged', count: d.records > 0 ? d.records : d.bytes,
        message: `${folder.name}: ${d.reason} at byte ${d.offset}; ${d.bytes} bytes skipped, ${d.records} record(s) lost`,
      });
    }
    for (const p of lf.problems) notify({ run: key, ...p });
    const k = keyString(key);
    groups.set(k, [...(groups.get(k) ?? []), lf]);
  }
  const runs = new Map<string, LocalRun>();
  for (const [k, segments] of groups) {
    segments.sort((a, b) => (a.folder.timespec ?? '').localeCompare(b.folder.timespec ?? '') || a.folder.name.localeCompare(b.folder.name));
    runs.set(k, { info: buildRunInfo(segments, defaults, notify), segments });
  }
  return runs;
}

/**
 * A stream's file the user may not read fails the run naming the file (the next pass reads it again):
 * the bare EACCES reached the pipeline, which took it for the ledger's and stopped every run.
 */
async function* readable<T>(items: AsyncIterable<T>): AsyncGenerator<T> {
  try {
    yield* items;
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    if ((e.code === 'EACCES' || e.code === 'EPERM') && e.path) throw new SourceDataError(`${e.path}: cannot be read (${e.code})`, { cause: error });
    throw error;
  }
}

function reportSystemProblems(run: RunKey, folder: string, p: SystemProblems, notify: (n: SourceNotice) => void): void {
  const file = `${folder}/wandb-events.jsonl`;
  if (p.badJson.length) {
    notify({ run, stream: 'system', kind: 'invalid', count: p.badJson.length, message: `${file}: ${describeLines(p.badJson)} not valid JSON; skipped` });
  }
  if (p.noTimestamp.length) {
    notify({ run, stream: 'system', kind: 'invalid', count: p.noTimestamp.length, message: `${file}: ${describeLines(p.noTimestamp)} without a numeric _timestamp; skipped` });
  }
  if (p.otherKeys.size) {
    const n = [...p.otherKeys.values()].reduce((a, b) => a + b, 0);
    const keys = [...p.otherKeys].map(([k, c]) => `${k} (${c})`).join(', ');
    notify({ run, stream: 'system', kind: 'skipped', count: n, message: `${file}: values of keys not starting with "system." are not system metrics; skipped: ${keys}` });
  }
}

function matches(info: RunInfo, f: RunFilter): boolean {
  if (f.runIds?.length && !f.runIds.includes(info.key.runId)) return false;
  if (f.states?.length && !f.states.includes(info.state ?? '')) return false;
  const created = info.createdAt ? Date.parse(info.createdAt) : undefined;
  if (f.createdAfter && (created === undefined || created < Date.parse(f.createdAfter))) return false;
  if (f.createdBefore && (created === undefined || created >= Date.parse(f.createdBefore))) return false;
  if (f.tags?.length && !f.tags.some((t) => info.tags.includes(t))) return false;
  return true;
}
