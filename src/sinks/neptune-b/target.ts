import { TargetError } from '../../core/errors.ts';
import type { RunCreation, Target, TargetProject, TargetRun } from '../../core/sink.ts';
import type { FieldAssignment } from '../../core/target.ts';
import { protocolBCapabilities, type TargetCapabilities } from '../../mapping/capabilities.ts';
import { createNeptuneSession, type NeptuneClientOptions, type NeptuneSession } from '../neptune/client.ts';
import { ensureProject } from '../neptune/projects.ts';
import { meaningOf, RUN_CONFLICTING, RUN_DUPLICATE } from './codes.ts';
import { IngestClient, type IngestOptions } from './ingest.ts';
import { encodeCreateRun, type RequestStatus } from './messages.ts';
import { NeptuneBRun, type BRunContext } from './run.ts';
import { StatusPoller } from './status-poller.ts';
import type { EncoderLimits } from './snapshots.ts';
import { StorageUploader } from './uploads.ts';
import { checkWorkspace, listWorkspaces } from '../neptune/preflight.ts';

interface BProject extends TargetProject {
  /** This process created the project: no run in it can exist before this process creates it. */
  created: boolean;
}

export interface NeptuneBTargetOptions extends Pick<NeptuneClientOptions, 'token' | 'env' | 'http' | 'log' | 'session'> {
  /** `--nan`: drop NaN/±Infinity (default) or send them to a server that accepts them. */
  nonFinite?: 'drop' | 'send';
  ingest?: IngestOptions;
  encoderLimits?: EncoderLimits;
  /** Chunk size of GCS resumable uploads (default 16 MiB, as neptune-scale). */
  gcsChunkBytes?: number;
  now?: () => number;
}

/**
 * A Neptune 3.x server (Protocol B, protobuf ingest) as the pipeline's `Target`. The session (token
 * exchange, refresh, HTTP) and the project get-or-create are the ones Protocol A uses.
 */
export class NeptuneBTarget implements Target {
  readonly kind = 'neptune-b';
  private readonly session: NeptuneSession;
  private readonly ingest: IngestClient;
  private readonly status: StatusPoller;
  private readonly nonFinite: 'drop' | 'send';
  private readonly counters = { points: 0, files: 0, runsCreated: 0 };
  private readonly now: () => number;
  private projectFieldsNoted = false;

  constructor(private readonly opts: NeptuneBTargetOptions) {
    this.session = opts.session ?? createNeptuneSession(opts);
    this.ingest = new IngestClient(this.session.api, opts.ingest);
    this.status = new StatusPoller(this.ingest, opts.ingest);
    this.nonFinite = opts.nonFinite ?? 'drop';
    this.now = opts.now ?? Date.now;
  }

  get server(): string {
    return this.session.creds.apiBase;
  }

  /** Credentials, reachability and the workspace: the backend endpoints both protocols share. */
  preflight(workspace: string, signal?: AbortSignal): Promise<void> {
    return checkWorkspace(this.session.api, workspace, signal);
  }

  workspaces(signal?: AbortSignal): Promise<string[] | undefined> {
    return listWorkspaces(this.session.api, signal);
  }

  async capabilities(): Promise<TargetCapabilities> {
    return protocolBCapabilities({ nonFinite: this.nonFinite });
  }

  async ensureProject(
    workspace: string,
    name: string,
    opts: { description: string; fields: readonly FieldAssignment[] },
    signal?: AbortSignal,
  ): Promise<BProject> {
    const { created } = await ensureProject(this.session.api, workspace, name, { description: opts.description }, signal);
    if (opts.fields.length && !this.projectFieldsNoted) {
      // The 3.x ingest API writes runs only; each run keeps its W&B URL in wandb/url.
      this.projectFieldsNoted = true;
      this.session.log.info(`Neptune (Protocol B): project-level fields (${opts.fields.map((f) => f.path).join(', ')}) have no place in the 3.x ingest API; runs keep wandb/url`);
    }
    return { qualifiedName: `${workspace}/${name}`, created };
  }

  /**
   * CreateRun (idempotent: same run id, family and no fork = RUN_DUPLICATE, a warning): run_id and
   * family = the W&B run id, creation_time = W&B's created_at, experiment_id = the W&B name only where
   * no other run of the W&B project has it (an experiment name moves between runs). Waits until the
   * server processed it, so the run's state is known (a run that existed is read back) — unless the run
   * cannot exist: in a project this process created, a run the ledger never started (listed twice, the
   * second opening finds it started). Then the run's writes go right behind its CreateRun, as
   * neptune-scale sends them (neptune-api.md §3.9: back to back, without waiting for statuses; the
   * server processes a run's requests in order), and its first wait for a status also waits for the
   * CreateRun's, failing with its refusal.
   */
  async openRun(project: TargetProject, customRunId: string, signal?: AbortSignal, creation: RunCreation = {}): Promise<TargetRun> {
    if (Buffer.byteLength(customRunId, 'utf8') > 128) throw new TargetError(`run id "${customRunId}" is longer than Protocol B's 128 bytes`);
    const experimentId = creation.nameUnique && creation.name ? creation.name : undefined;
    if (creation.name && !experimentId) {
      this.session.log.warn(
        `${project.qualifiedName}/${customRunId}: W&B name "${creation.name}" is shared with another run of the project: written as sys/name without Neptune's experiment name (it would move between runs)`,
      );
    }
    const body = encodeCreateRun({
      project: project.qualifiedName,
      runId: customRunId,
      family: customRunId,
      creationTimeMs: creation.createdAtMs ?? this.now(),
      experimentId,
    });
    const id = await this.ingest.submit(body, `CreateRun ${customRunId}`, signal);
    const outcome = this.status.wait(project.qualifiedName, [id], signal).then((s) => this.createOutcome(project.qualifiedName, customRunId, s.get(id)));
    const context = this.runContext(project.qualifiedName);
    if ((project as Partial<BProject>).created && creation.ledgerStarted === false) {
      // Handled by the run's first wait; until then a refusal must not be an unhandled rejection.
      outcome.catch(() => {});
      return new NeptuneBRun({ ...context, created: outcome }, project.qualifiedName, customRunId, experimentId, true);
    }
    // A CreateRun of a run that exists answers RUN_DUPLICATE or RUN_CONFLICTING (neptune-api.md §3.3,
    // SCALE 0.29 `sync/sync_process.py`): without either, this request created the run, which then
    // holds nothing, and its state needs no read-back (two requests per run: search + attributes).
    const existed = await outcome;
    // A repeated CreateRun changes nothing on the run (RUN_DUPLICATE), so its experiment_id named no
    // one: a run renamed in W&B since an earlier pass gets its new name assigned to sys/name.
    return new NeptuneBRun(context, project.qualifiedName, customRunId, existed ? undefined : experimentId, !existed);
  }

  /** What CreateRun's status says: whether the run existed; a refusal throws. */
  private createOutcome(project: string, runId: string, status: RequestStatus | undefined): boolean {
    let existed = false;
    for (const c of status?.codes ?? []) {
      const m = meaningOf(c.detail);
      if (c.detail === RUN_DUPLICATE || c.detail === RUN_CONFLICTING) existed = true;
      if (c.detail === RUN_CONFLICTING) this.session.log.warn(`${project}/${runId}: the run exists with other creation parameters (RUN_CONFLICTING); writing into it`);
      else if (m.kind !== 'warning') {
        throw new TargetError(`Neptune refused to create run ${runId} in ${project}: ${m.name}${status?.sharedErrorMessage ? `: ${status.sharedErrorMessage}` : ''}`);
      }
    }
    this.counters.runsCreated++;
    return existed;
  }

  private runContext(project: string): BRunContext {
    return {
      api: this.session.api,
      ingest: this.ingest,
      status: this.status,
      uploader: new StorageUploader(this.session.api, this.session.http, project, this.opts.gcsChunkBytes),
      log: this.session.log,
      nonFinite: this.nonFinite,
      encoderLimits: this.opts.encoderLimits,
      now: this.now,
      counters: this.counters,
    };
  }

  stats(): Record<string, number> {
    const s = this.session.stats;
    return {
      requests: s.requests,
      rateLimited: s.rateLimited,
      failedAttempts: s.failedAttempts,
      bytes: s.bytes,
      tokenRefreshes: s.tokenRefreshes,
      ...this.ingest.stats,
      points: this.counters.points,
      files: this.counters.files,
      runsOpened: this.counters.runsCreated,
    };
  }

  close(): Promise<void> {
    return this.session.http.close();
  }
}
