import { silentLogger, type Logger } from '../../core/logger.ts';
import { HttpClient, type HttpClientOptions } from '../../http/client.ts';
import { NeptuneApi } from './api.ts';
import { NeptuneAuth } from './auth.ts';
import type { WriterContext } from './context.ts';
import { resolveLimits, type NeptuneLimits } from './limits.ts';
import { ensureProject, type EnsureProjectOptions, type ProjectInfo } from './projects.ts';
import { checkWorkspace, listWorkspaces } from './preflight.ts';
import { createOrOpenRun, type RunInfo } from './runs.ts';
import { emptyStats, type NeptuneStats } from './stats.ts';
import { parseNeptuneToken, resolveNeptuneSettings, type NeptuneCredentials } from './token.ts';
import { ContainerWriter } from './writer.ts';

export interface NeptuneClientOptions {
  /** API token; else `NEPTUNE_API_TOKEN` from `env`. */
  token?: string;
  env?: Record<string, string | undefined>;
  http?: Partial<HttpClientOptions>;
  log?: Logger;
  limits?: Partial<NeptuneLimits>;
  /** An existing session (e.g. the one `--protocol auto` probed the server with). */
  session?: NeptuneSession;
  /** Tests only: skip the writer's own checks to observe the server's reaction. */
  unsafeSkipChecks?: boolean;
}

/** The project as a container: project-level fields are written with `assign`/`flush` like a run's. */
export class ProjectHandle extends ContainerWriter {
  constructor(ctx: WriterContext, readonly info: ProjectInfo & { created: boolean }) {
    super(ctx, info.id);
  }
}

/** One run, created or re-opened by custom run id. */
export class RunWriter extends ContainerWriter {
  constructor(ctx: WriterContext, readonly info: RunInfo, readonly project: ProjectInfo) {
    super(ctx, info.id);
  }
}

export interface OpenRunOptions {
  /** Read the run's fields and series last steps first (resume, field cap). @default true */
  readExisting?: boolean;
}

export interface NeptuneClient {
  readonly credentials: Pick<NeptuneCredentials, 'apiBase'>;
  /** Credentials, reachability and the workspace, checked before any work (see preflight.ts). */
  checkWorkspace(workspace: string, signal?: AbortSignal): Promise<void>;
  /** The workspaces the token reaches (undefined: the server does not list them). */
  listWorkspaces(signal?: AbortSignal): Promise<string[] | undefined>;
  ensureProject(workspace: string, name: string, opts?: EnsureProjectOptions, signal?: AbortSignal): Promise<ProjectHandle>;
  openRun(project: ProjectHandle | ProjectInfo, customId: string, opts?: OpenRunOptions, signal?: AbortSignal): Promise<RunWriter>;
  stats(): NeptuneStats;
  close(): Promise<void>;
}

/** One authenticated Neptune session (HTTP client, token exchange and refresh, stats): shared by Protocol A and B. */
export interface NeptuneSession {
  creds: NeptuneCredentials;
  http: HttpClient;
  auth: NeptuneAuth;
  api: NeptuneApi;
  stats: NeptuneStats;
  log: Logger;
}

/**
 * Requests in flight to the Neptune host. Each run migrated at once (`--concurrency`, default 16) sends
 * its requests one after another, beside the small-file uploads: with the HTTP client's default of 8,
 * half the runs waited for a slot (bench (b): ~70 ms queued per request, as long as the request). A
 * server that answers 429 lowers it (HostLimiter).
 */
export const NEPTUNE_CONCURRENCY = 16;

export function createNeptuneSession(opts: Pick<NeptuneClientOptions, 'token' | 'env' | 'http' | 'log'> = {}): NeptuneSession {
  const creds = opts.token ? parseNeptuneToken(opts.token) : resolveNeptuneSettings(opts.env ?? process.env).credentials;
  const log = opts.log ?? opts.http?.log ?? silentLogger;
  const stats = emptyStats();
  let auth: NeptuneAuth | undefined;
  const http = new HttpClient({
    concurrencyPerHost: NEPTUNE_CONCURRENCY,
    ...opts.http,
    service: opts.http?.service ?? 'Neptune',
    log,
    secrets: () => [...(auth?.secrets() ?? [creds.apiToken, creds.apiKey]), ...(opts.http?.secrets?.() ?? [])],
    onAttempt: (info) => {
      stats.requests++;
      if (info.status === 429) stats.rateLimited++;
      if (info.status === undefined || (info.status >= 300 && !info.accepted)) stats.failedAttempts++;
      opts.http?.onAttempt?.(info);
    },
  });
  auth = new NeptuneAuth(http, creds, stats, log);
  return { creds, http, auth, api: new NeptuneApi(http, auth, stats), stats, log };
}

export function createNeptuneClient(opts: NeptuneClientOptions = {}): NeptuneClient {
  const { creds, http, auth, api, stats, log } = opts.session ?? createNeptuneSession(opts);
  const ctx: WriterContext = { api, auth, limits: resolveLimits(opts.limits), stats, log, unsafeSkipChecks: opts.unsafeSkipChecks ?? false };

  return {
    credentials: { apiBase: creds.apiBase },
    checkWorkspace: (workspace, signal) => checkWorkspace(api, workspace, signal),
    listWorkspaces: (signal) => listWorkspaces(api, signal),
    async ensureProject(workspace, name, projectOpts, signal) {
      const info = await ensureProject(api, workspace, name, projectOpts, signal);
      const handle = new ProjectHandle(ctx, info);
      await handle.load(signal);
      return handle;
    },
    async openRun(project, customId, runOpts = {}, signal) {
      const p = project instanceof ProjectHandle ? project.info : project;
      const info = await createOrOpenRun(api, p, customId, signal);
      const run = new RunWriter(ctx, info, p);
      if (runOpts.readExisting ?? true) await run.load(signal);
      return run;
    },
    stats: () => ({ ...stats }),
    close: () => http.close(),
  };
}
