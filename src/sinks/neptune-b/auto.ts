import type { RunCreation, Target, TargetProject, TargetRun } from '../../core/sink.ts';
import type { FieldAssignment } from '../../core/target.ts';
import { PROTOCOL_A_CAPABILITIES, type TargetCapabilities } from '../../mapping/capabilities.ts';
import type { NeptuneApi } from '../neptune/api.ts';
import { createNeptuneSession, type NeptuneClientOptions, type NeptuneSession } from '../neptune/client.ts';
import { ensureProject } from '../neptune/projects.ts';
import { NeptuneTarget } from '../neptune/target.ts';
import { NeptuneBTarget, type NeptuneBTargetOptions } from './target.ts';
import { checkWorkspace, listWorkspaces } from '../neptune/preflight.ts';

export type Protocol = 'a' | 'b';

/**
 * Which protocol a server speaks, asked on documented endpoints: the project is looked up or created
 * through the backend API both protocols share (`/api/backend/v1/projects…`), then the Protocol B status
 * endpoint (`POST /api/client/v1/ingest/check`, neptune-api `ingestion_openapi.json`) is asked about no
 * request at all. A 3.x server answers 200 with an empty status list; a 2.x server does not have the
 * route (404/405). B wins when a server offers both: it is the better protocol for a migration.
 */
export async function detectProtocol(session: NeptuneSession, workspace: string, project: string, description: string, signal?: AbortSignal): Promise<Protocol> {
  return (await detectProtocolIn(session, workspace, project, description, signal)).protocol;
}

/** `detectProtocol`, and whether it created the project. */
async function detectProtocolIn(session: NeptuneSession, workspace: string, project: string, description: string, signal?: AbortSignal): Promise<{ protocol: Protocol; created: boolean }> {
  const { created } = await ensureProject(session.api, workspace, project, { description }, signal);
  return { protocol: await serverProtocol(session.api, `${workspace}/${project}`, signal), created };
}

/** The status-endpoint half of `detectProtocol`, for an existing project (read-only: `verify` asks it too). */
export async function serverProtocol(api: NeptuneApi, qualifiedProject: string, signal?: AbortSignal): Promise<Protocol> {
  const res = await api.call({
    method: 'POST',
    path: '/api/client/v1/ingest/check',
    query: { projectIdentifier: qualifiedProject },
    raw: new Uint8Array(0),
    contentType: 'application/x-protobuf',
    headers: { accept: 'application/x-protobuf' },
    acceptStatus: [400, 404, 405, 415, 501],
    signal,
    what: 'Protocol B status endpoint (--protocol auto)',
  });
  return res.status === 200 ? 'b' : 'a';
}

/** `--protocol auto`: one session, the protocol decided at the first project, then A's or B's target. */
export class AutoTarget implements Target {
  private readonly session: NeptuneSession;
  private chosen: Promise<Target> | undefined;
  private resolved: Target | undefined;
  /** The project the detection created (the chosen target then finds it existing). */
  private createdByDetection?: string;

  constructor(private readonly opts: NeptuneBTargetOptions & Pick<NeptuneClientOptions, 'limits'>) {
    this.session = opts.session ?? createNeptuneSession(opts);
  }

  get server(): string {
    return this.session.creds.apiBase;
  }

  get kind(): string {
    return this.resolved?.kind ?? 'neptune-auto';
  }

  private choose(workspace: string, name: string, description: string, signal?: AbortSignal): Promise<Target> {
    this.chosen ??= detectProtocolIn(this.session, workspace, name, description, signal).then(({ protocol: p, created }) => {
      if (created) this.createdByDetection = `${workspace}/${name}`;
      const log = this.session.log;
      log.info(`Neptune: the server speaks Protocol ${p.toUpperCase()} (--protocol auto)`);
      if (p === 'a' && this.opts.nonFinite === 'send') log.warn('--nan send: the server speaks Protocol A, which cannot carry NaN/±Infinity; they are dropped and counted');
      this.resolved = p === 'b' ? new NeptuneBTarget({ ...this.opts, session: this.session }) : new NeptuneTarget({ ...this.opts, session: this.session });
      return this.resolved;
    });
    // A failed detection (network, credentials) is asked again by the next project.
    this.chosen.catch(() => (this.chosen = undefined));
    return this.chosen;
  }

  async ensureProject(
    workspace: string,
    name: string,
    opts: { description: string; fields: readonly FieldAssignment[] },
    signal?: AbortSignal,
  ): Promise<TargetProject> {
    const target = await this.choose(workspace, name, opts.description, signal);
    const project = await target.ensureProject(workspace, name, opts, signal);
    // Created by the detection: still a project whose every run this process creates (both targets
    // then open a run the ledger never started without reading it back or waiting for it).
    return project.qualifiedName === this.createdByDetection ? ({ ...project, created: true } as TargetProject) : project;
  }

  private inner(): Target {
    if (!this.resolved) throw new Error('--protocol auto: a project must be ensured before runs are opened');
    return this.resolved;
  }

  openRun(project: TargetProject, customRunId: string, signal?: AbortSignal, creation?: RunCreation): Promise<TargetRun> {
    return this.inner().openRun(project, customRunId, signal, creation);
  }

  /** Credentials, reachability and the workspace: the backend endpoints both protocols share. */
  preflight(workspace: string, signal?: AbortSignal): Promise<void> {
    return checkWorkspace(this.session.api, workspace, signal);
  }

  workspaces(signal?: AbortSignal): Promise<string[] | undefined> {
    return listWorkspaces(this.session.api, signal);
  }

  async capabilities(signal?: AbortSignal): Promise<TargetCapabilities> {
    return (await this.inner().capabilities?.(signal)) ?? PROTOCOL_A_CAPABILITIES;
  }

  stats(): Record<string, number> {
    return this.resolved?.stats() ?? { requests: this.session.stats.requests };
  }

  close(): Promise<void> {
    return this.resolved ? this.resolved.close() : this.session.http.close();
  }
}
