import { createHash } from 'node:crypto';
import { silentLogger, type Logger } from '../../core/logger.ts';
import { HttpClient, type HttpClientOptions } from '../../http/client.ts';
import { isAuthExpiredBody, NeptuneApi } from './api.ts';
import { NeptuneAuth } from './auth.ts';
import { getProject, type ProjectInfo } from './projects.ts';
import { listFileSetEntries } from './resume.ts';
import { emptyStats } from './stats.ts';
import { resolveNeptuneSettings } from './token.ts';

/** One field as the server holds it: its type, and its value where it is an atom or a string set. */
export interface HeldField {
  type: string;
  /** string | number | boolean; datetimes as Unix ms; string sets as a sorted string[]. */
  value?: unknown;
  /** Series: the last step the server stored. */
  lastStep?: number;
}

export interface HeldPoint {
  step: number;
  timestampMs: number;
  value: number | string;
}

/** Points per series page: what the 1.x client asks for (`getFloatSeriesValues` with `limit`). */
export const SERIES_PAGE = 1000;

interface AttributeJson {
  name?: unknown;
  type?: unknown;
  [props: string]: unknown;
}

function heldField(a: AttributeJson): HeldField | undefined {
  if (typeof a.name !== 'string' || typeof a.type !== 'string') return undefined;
  const props = (a[`${a.type}Properties`] ?? {}) as { value?: unknown; values?: unknown; lastStep?: unknown };
  const out: HeldField = { type: a.type };
  switch (a.type) {
    case 'string': case 'int': case 'float': case 'bool':
      out.value = props.value;
      break;
    case 'datetime':
      // ExperimentAttributesDTO carries datetimes as ISO text.
      out.value = typeof props.value === 'string' ? Date.parse(props.value) : props.value;
      break;
    case 'stringSet':
      out.value = Array.isArray(props.values) ? props.values.map(String).sort() : [];
      break;
    case 'floatSeries': case 'stringSeries':
      if (typeof props.lastStep === 'number') out.lastStep = props.lastStep;
      break;
  }
  return out;
}

/**
 * Read-only access to what a Protocol A server holds, for `verify`: it never creates a project or a
 * run. The same HTTP client (per-host limit, retry policy, token refresh) as the writer's.
 * Endpoints (2023 leaderboard.json): getProject, searchLeaderboardEntries (a run by
 * `sys/custom_run_id`, as the 1.x client's `fetch_runs_table` queries with NQL),
 * getExperimentAttributes, get{Float,String}SeriesValues (offset/limit paging), lsFileSetAttribute,
 * downloadAttribute (a file-set member by `path`).
 */
export class NeptuneReader {
  private readonly http: HttpClient;
  private readonly auth: NeptuneAuth;
  private readonly api: NeptuneApi;
  private readonly counters = emptyStats();

  constructor(opts: { env: Record<string, string | undefined>; log?: Logger; http?: Partial<HttpClientOptions> }) {
    const creds = resolveNeptuneSettings(opts.env).credentials;
    const log = opts.log ?? silentLogger;
    const stats = this.counters;
    let auth: NeptuneAuth | undefined;
    this.http = new HttpClient({
      ...opts.http,
      service: 'Neptune',
      log,
      secrets: () => auth?.secrets() ?? [creds.apiToken, creds.apiKey],
      onAttempt: (info) => {
        stats.requests++;
        if (info.status === 429) stats.rateLimited++;
        if (info.status === undefined || (info.status >= 300 && !info.accepted)) stats.failedAttempts++;
      },
    });
    auth = new NeptuneAuth(this.http, creds, stats, log);
    this.auth = auth;
    this.api = new NeptuneApi(this.http, auth, stats);
  }

  project(workspace: string, name: string, signal?: AbortSignal): Promise<ProjectInfo | undefined> {
    return getProject(this.api, workspace, name, signal);
  }

  /** The run's container id, by `workspace/project/SHORT-ID` (from a ledger) or by custom run id. */
  async findRun(project: ProjectInfo, ref: { shortId?: string; customRunId: string }, signal?: AbortSignal): Promise<string | undefined> {
    if (ref.shortId) {
      const { status, data } = await this.api.json<{ id?: unknown; customId?: unknown }>({
        method: 'GET', path: '/api/leaderboard/v1/experiments',
        query: { experimentId: `${project.workspace}/${project.name}/${ref.shortId}` },
        acceptStatus: [404], signal, what: `run ${ref.shortId}`,
      });
      if (status === 200 && typeof data?.id === 'string' && data.customId === ref.customRunId) return data.id;
    }
    const quoted = ref.customRunId.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
    const { data } = await this.api.json<{ entries?: Array<{ experimentId?: unknown }> }>({
      method: 'POST', path: '/api/leaderboard/v1/leaderboard/entries/search',
      query: { projectIdentifier: `${project.workspace}/${project.name}`, type: 'run' },
      json: {
        query: { query: `(\`sys/custom_run_id\`:string = "${quoted}")` },
        attributeFilters: [{ path: 'sys/custom_run_id' }],
        pagination: { limit: 2, offset: 0 },
      },
      signal, what: `run ${ref.customRunId}`,
    });
    const id = data?.entries?.[0]?.experimentId;
    return typeof id === 'string' ? id : undefined;
  }

  /** Every field of the container, with atom and string-set values, in one request. */
  async fields(containerId: string, signal?: AbortSignal): Promise<Map<string, HeldField>> {
    const { data } = await this.api.json<{ attributes?: AttributeJson[] }>({
      method: 'GET', path: '/api/leaderboard/v1/attributes', query: { experimentId: containerId }, signal, what: 'fields',
    });
    const out = new Map<string, HeldField>();
    for (const a of data?.attributes ?? []) {
      const f = heldField(a);
      if (f) out.set(a.name as string, f);
    }
    return out;
  }

  /** A series' points in step order, a page at a time (memory: one page). */
  async *series(containerId: string, path: string, kind: 'float' | 'string', signal?: AbortSignal): AsyncGenerator<HeldPoint> {
    for (let offset = 0; ; offset += SERIES_PAGE) {
      const { status, data } = await this.api.json<{ totalItemCount?: unknown; values?: Array<{ step?: unknown; value?: unknown; timestampMillis?: unknown }> }>({
        method: 'GET', path: `/api/leaderboard/v1/attributes/series/${kind}`,
        query: { experimentId: containerId, attribute: path, offset, limit: SERIES_PAGE },
        acceptStatus: [404], signal, what: `points of ${path}`,
      });
      const values = status === 404 ? [] : (data?.values ?? []);
      for (const v of values) {
        yield { step: Number(v.step), timestampMs: Number(v.timestampMillis), value: kind === 'float' ? Number(v.value) : String(v.value ?? '') };
      }
      const total = typeof data?.totalItemCount === 'number' ? data.totalItemCount : 0;
      if (values.length < SERIES_PAGE || offset + values.length >= total) return;
    }
  }

  /** Relative path → size of every file a file set holds. */
  fileSet(containerId: string, attribute: string, signal?: AbortSignal): Promise<Map<string, number>> {
    return listFileSetEntries(this.api, containerId, attribute, signal);
  }

  /** Base64 MD5 of one file-set member, streamed (never held in memory). */
  async fileMd5(containerId: string, attribute: string, subPath: string, signal?: AbortSignal): Promise<string> {
    const url = await this.api.url('/api/leaderboard/v1/attributes/download', { experimentId: containerId, attribute, path: subPath }, signal);
    let token = await this.auth.accessToken(signal);
    const res = await this.http.stream({
      method: 'GET', url, signal, what: `download ${attribute}/${subPath}`,
      headers: () => ({ authorization: `Bearer ${token}`, accept: 'application/octet-stream' }),
      retryStatus: async (status, text) => {
        if (status !== 401 || !isAuthExpiredBody(text)) return false;
        token = await this.auth.renewAfterExpiry(token, signal);
        return true;
      },
    });
    const hash = createHash('md5');
    for await (const chunk of res.body) hash.update(chunk as Buffer);
    return hash.digest('base64');
  }

  /** Requests made (retries included), for the cost line of the verify report. */
  stats(): Record<string, number> {
    return { requests: this.counters.requests, rateLimited: this.counters.rateLimited, failedAttempts: this.counters.failedAttempts, tokenRefreshes: this.counters.tokenRefreshes };
  }

  close(): Promise<void> {
    return this.http.close();
  }
}
