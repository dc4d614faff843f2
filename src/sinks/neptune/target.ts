import type { RunCreation, Target, TargetProject, TargetRun, TargetRunState } from '../../core/sink.ts';
import type { FieldAssignment, FileSetAnswer, FileSetEntry, FloatSeriesBlock, ImagePoint, ImagesAnswer, Omission, SeriesPoint } from '../../core/target.ts';
import { addOmission } from '../../mapping/values.ts';
import { createNeptuneClient, type NeptuneClient, type NeptuneClientOptions, type ProjectHandle, type RunWriter } from './client.ts';
import type { StaleFields } from '../../mapping/stale-fields.ts';
import type { OperationFailure } from './operations.ts';
import type { ExistingState } from './resume.ts';
import type { FieldType } from './rules.ts';
import type { WriteOutcome } from './writer.ts';

interface NeptuneProject extends TargetProject {
  handle: ProjectHandle;
  /** This process created the project: every run in it is one this process created. */
  created: boolean;
}

/** What a run this process just created holds: learnt from the first such run's read-back, then assumed. */
class FreshRunFields {
  private fields?: ReadonlyMap<string, FieldType>;

  async state(writer: RunWriter, signal?: AbortSignal): Promise<Pick<ExistingState, 'lastSteps' | 'sets'> & { fields: ReadonlyMap<string, FieldType> }> {
    if (this.fields) {
      writer.assume(this.fields);
      return { fields: this.fields, lastSteps: new Map(), sets: new Map() };
    }
    const read = await writer.load(signal);
    // Only the server's own `sys/*` fields: what every new run holds (they count against the field cap).
    if (read.lastSteps.size === 0 && [...read.fields.keys()].every((p) => p.startsWith('sys/'))) this.fields = read.fields;
    return read;
  }
}

/**
 * Refusals that have a known meaning, said plainly in the report. An older server does not know
 * `sys/group_tags` (group tags came later to Neptune 2.x); the mapping keeps the group in `wandb/group`.
 */
const EXPLAINED: Record<string, string> = {
  'sys/group_tags': 'this server does not take sys/group_tags (an older Neptune); the W&B group is kept in wandb/group',
};

function refused(failures: readonly OperationFailure[]): Omission[] {
  const out: Omission[] = [];
  for (const f of failures) {
    const subject = f.path ?? '(operation without a path)';
    const said = EXPLAINED[subject];
    addOmission(out, { reason: 'rejected-by-server', subject, count: f.count ?? 1, detail: said ? `${said} (${f.errorType}: ${f.description})` : `${f.errorType}: ${f.description}` });
  }
  return out;
}

/** The pipeline's `TargetRun` over a Protocol A run writer. */
class NeptuneTargetRun implements TargetRun {
  private pending: Omission[] = [];

  constructor(
    private readonly writer: RunWriter,
    /** Given when the run was created by this process just now: its state is known without a read. */
    private fresh?: FreshRunFields,
  ) {}

  get id(): string {
    return this.writer.info.shortId ?? this.writer.info.id;
  }

  async state(signal?: AbortSignal): Promise<TargetRunState> {
    const fresh = this.fresh;
    this.fresh = undefined;
    const { fields, lastSteps, sets } = fresh ? await fresh.state(this.writer, signal) : await this.writer.load(signal);
    const fileSets = [...fields].filter(([, type]) => type === 'fileSet').map(([path]) => path);
    return { lastSteps, fieldCount: fields.size, fileSets, types: fields, sets };
  }

  /** Protocol A deletes fields (`deleteAttribute`) and takes values out of sets (`removeStrings`): nothing is left. */
  unassign(stale: StaleFields): Omission[] {
    for (const path of [...stale.fields, ...stale.retyped]) this.writer.deleteField(path);
    for (const s of stale.fromSets) this.writer.removeFromSet(s.path, s.values);
    return [];
  }

  listFileSet(path: string, signal?: AbortSignal): Promise<ReadonlyMap<string, number>> {
    return this.writer.listFileSet(path, signal);
  }

  private note(outcome: WriteOutcome): void {
    for (const o of outcome.omissions) addOmission(this.pending, o);
  }

  assign(fields: readonly FieldAssignment[]): void {
    for (const f of fields) this.note(this.writer.assign(f.path, f.value));
  }

  appendFloats(path: string, points: readonly SeriesPoint<number>[]): void {
    this.note(this.writer.logFloats(path, points));
  }

  appendStrings(path: string, points: readonly SeriesPoint<string>[]): void {
    this.note(this.writer.logStrings(path, points));
  }

  appendFloatBlock(block: FloatSeriesBlock): void {
    this.note(this.writer.logFloatBlock(block));
  }

  async flush(signal?: AbortSignal): Promise<Omission[]> {
    const result = await this.writer.flush(signal);
    const out = [...this.pending, ...refused(result.errors)];
    this.pending = [];
    return out;
  }

  async logImages(path: string, points: readonly ImagePoint[], signal?: AbortSignal): Promise<ImagesAnswer> {
    // Protocol A sends each image's bytes inside its operation: none is ever held apart from its point.
    return { refused: (await this.writer.logImages(path, points, signal)).omissions, alreadyPresent: [] };
  }

  /**
   * Protocol A proves no bytes a set holds (its listing gives sizes only): every entry is sent, none
   * answered as already present.
   */
  async uploadFileSet(path: string, entries: readonly FileSetEntry[], signal?: AbortSignal): Promise<FileSetAnswer> {
    const outcome = await this.writer.uploadFileSet(path, entries, signal);
    return { refused: [...outcome.omissions, ...refused(outcome.errors).map((o) => ({ ...o, reason: 'upload-failed' as const }))], alreadyPresent: [] };
  }
}

/** A Neptune server speaking Protocol A, as the pipeline's `Target`. */
export class NeptuneTarget implements Target {
  readonly kind = 'neptune-a';
  private readonly client: NeptuneClient;
  private readonly freshRuns = new FreshRunFields();

  constructor(opts: NeptuneClientOptions) {
    this.client = createNeptuneClient(opts);
  }

  get server(): string {
    return this.client.credentials.apiBase;
  }

  preflight(workspace: string, signal?: AbortSignal): Promise<void> {
    return this.client.checkWorkspace(workspace, signal);
  }

  workspaces(signal?: AbortSignal): Promise<string[] | undefined> {
    return this.client.listWorkspaces(signal);
  }

  async ensureProject(
    workspace: string,
    name: string,
    opts: { description: string; fields: readonly FieldAssignment[] },
    signal?: AbortSignal,
  ): Promise<NeptuneProject> {
    const handle = await this.client.ensureProject(workspace, name, { description: opts.description }, signal);
    for (const f of opts.fields) handle.assign(f.path, f.value);
    await handle.flush(signal);
    return { qualifiedName: `${workspace}/${name}`, handle, created: handle.info.created };
  }

  /**
   * createExperiment by custom run id. Its answer does not say whether the run existed; it cannot have
   * when this process created the project and the ledger never started the run (listed twice, the
   * second opening finds it started): then the run's state is known without reading it back.
   */
  async openRun(project: TargetProject, customRunId: string, signal?: AbortSignal, creation?: RunCreation): Promise<TargetRun> {
    const p = project as NeptuneProject;
    // The pipeline reads the run's state itself (state()), so the writer does not read it twice.
    const writer = await this.client.openRun(p.handle, customRunId, { readExisting: false }, signal);
    return new NeptuneTargetRun(writer, p.created && creation?.ledgerStarted === false ? this.freshRuns : undefined);
  }

  stats(): Record<string, number> {
    return { ...this.client.stats() };
  }

  close(): Promise<void> {
    return this.client.close();
  }
}
