import type { HistoryRow, RunFile, RunInfo, SourceProject, SystemMetrics } from '../../src/core/records.ts';
import type { Target, TargetProject, TargetRun, TargetRunState } from '../../src/core/sink.ts';
import type { RunFilter, RunSource } from '../../src/core/source.ts';
import type { FieldAssignment, FileSetAnswer, FileSetEntry, Omission, SeriesPoint } from '../../src/core/target.ts';
import { readFile } from 'node:fs/promises';

/** An in-memory source: `rows` history rows per run, a few system samples, console lines and files. */
export class FakeSource implements RunSource {
  readonly kind = 'wandb-api' as const;
  constructor(public runs: RunInfo[], public rows: Map<string, number>, public fileMap: Map<string, Array<RunFile & { content: string }>> = new Map()) {}
  async entity() { return 'ent'; }
  async *listProjects(): AsyncIterable<SourceProject> {
    const names = [...new Set(this.runs.map((r) => r.key.project))];
    for (const name of names) yield { entity: 'ent', name, url: `https://wandb.example/ent/${name}` };
  }
  async *listRuns(project: string, _filter: RunFilter): AsyncIterable<RunInfo> {
    for (const r of this.runs) if (r.key.project === project) yield r;
  }
  async *history(run: RunInfo, opts: { fromStep?: number }, signal?: AbortSignal): AsyncIterable<HistoryRow> {
    const n = this.rows.get(run.key.runId) ?? 0;
    for (let step = opts.fromStep ?? 0; step < n; step++) {
      signal?.throwIfAborted();
      yield { step, timestamp: 1_700_000_000 + step, values: { loss: 1 / (step + 1), acc: step % 7 === 0 ? Number.NaN : step / n, 'train/x': step, _runtime: step / 10 } };
    }
  }
  async systemMetrics(): Promise<SystemMetrics> {
    async function* samples() {
      for (let i = 0; i < 5; i++) yield { timestamp: 1_700_000_000 + i * 10, runtime: i * 10, values: { 'system.cpu': i } };
    }
    return { sampled: false, samples: samples() };
  }
  async *console(_run: RunInfo, opts: { fromLine?: number }) {
    for (let i = opts.fromLine ?? 0; i < 30; i++) yield { index: i, text: `line ${i}` };
  }
  async *files(run: RunInfo): AsyncIterable<RunFile> {
    for (const f of this.fileMap.get(run.key.runId) ?? []) yield f;
  }
  async fetchFile(run: RunInfo, file: RunFile) {
    const f = (this.fileMap.get(run.key.runId) ?? []).find((x) => x.name === file.name)!;
    const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const dir = await mkdtemp(`${tmpdir()}/w2n-fake-`);
    const path = `${dir}/f`;
    await writeFile(path, f.content);
    return { path, sizeBytes: f.sizeBytes, release: () => rm(dir, { recursive: true, force: true }) };
  }
}

export interface FakeRunState {
  fields: Map<string, unknown>;
  series: Map<string, Array<SeriesPoint<number> | SeriesPoint<string>>>;
  files: Map<string, Map<string, string>>;
}

/**
 * An in-memory target that enforces strictly increasing steps (refusing, as Neptune does) and can be
 * told to die: `crashAfterFlushes` throws on the Nth flush either before applying it or after (the
 * "target applied it but the acknowledgement was lost" case).
 */
export class FakeTarget implements Target {
  readonly kind = 'fake';
  readonly runs = new Map<string, FakeRunState>();
  flushes = 0;
  requests = 0;
  crash: { afterFlushes: number; applied: boolean } | undefined;

  async ensureProject(workspace: string, name: string): Promise<TargetProject> {
    this.requests++;
    return { qualifiedName: `${workspace}/${name}` };
  }

  async openRun(project: TargetProject, customRunId: string): Promise<TargetRun> {
    this.requests++;
    const id = `${project.qualifiedName}/${customRunId}`;
    let run = this.runs.get(id);
    if (!run) this.runs.set(id, (run = { fields: new Map(), series: new Map(), files: new Map() }));
    const state = run;
    let pendingFields: FieldAssignment[] = [];
    let pending: Array<[string, Array<SeriesPoint<number> | SeriesPoint<string>>]> = [];
    const self = this;
    return {
      id,
      async state(): Promise<TargetRunState> {
        self.requests++;
        const lastSteps = new Map<string, number>();
        for (const [path, pts] of state.series) if (pts.length) lastSteps.set(path, pts[pts.length - 1].step);
        return { lastSteps, fieldCount: state.fields.size + state.series.size };
      },
      assign(fields) { pendingFields.push(...fields); },
      appendFloats(path, points) { pending.push([path, [...points]]); },
      appendStrings(path, points) { pending.push([path, [...points]]); },
      async flush(): Promise<Omission[]> {
        self.requests++;
        self.flushes++;
        const crashNow = self.crash && self.flushes >= self.crash.afterFlushes;
        if (crashNow && !self.crash!.applied) throw new Error('target connection lost');
        const refused: Omission[] = [];
        for (const f of pendingFields) state.fields.set(f.path, f.value);
        for (const [path, pts] of pending) {
          let list = state.series.get(path);
          if (!list) state.series.set(path, (list = []));
          for (const p of pts) {
            if (list.length && p.step <= list[list.length - 1].step) refused.push({ reason: 'step-not-increasing', subject: path, count: 1 });
            else list.push(p);
          }
        }
        pendingFields = [];
        pending = [];
        if (crashNow) throw new Error('acknowledgement lost');
        return refused;
      },
      async uploadFileSet(path, entries: readonly FileSetEntry[]): Promise<FileSetAnswer> {
        self.requests++;
        let set = state.files.get(path);
        if (!set) state.files.set(path, (set = new Map()));
        for (const e of entries) set.set(e.relativePath, await readFile(e.localPath, 'utf8'));
        return { refused: [], alreadyPresent: [] };
      },
    };
  }

  stats() { return { requests: this.requests }; }
  async close() {}
}

export function fakeRun(runId: string, project = 'proj_one'): RunInfo {
  return {
    key: { entity: 'ent', project, runId },
    displayName: `run ${runId}`,
    tags: ['t'],
    state: 'finished',
    createdAt: '2024-01-01T00:00:00Z',
    lastStep: 0,
    config: { lr: 0.1 },
    summary: { loss: 0.1 },
  };
}

/**
 * A fake target whose flushes refuse what `refuse` takes away from the run's held state: it returns the
 * refusal lines the flush adds (a server that refuses fields after taking the request).
 */
export class RefusingTarget extends FakeTarget {
  constructor(private readonly refuse: (state: FakeRunState) => Omission[]) {
    super();
  }

  override async openRun(project: TargetProject, customRunId: string): Promise<TargetRun> {
    const run = await super.openRun(project, customRunId);
    const state = this.runs.get(`${project.qualifiedName}/${customRunId}`)!;
    const flush = run.flush.bind(run);
    const refuse = this.refuse;
    return {
      ...run,
      async flush(signal?: AbortSignal): Promise<Omission[]> {
        return [...(await flush(signal)), ...refuse(state)];
      },
    };
  }
}
