import { createHash } from 'node:crypto';
import type { Logger } from '../../core/logger.ts';
import type { HttpClientOptions } from '../../http/client.ts';
import { isAuthExpiredBody, type NeptuneApi } from './api.ts';
import { createNeptuneSession, type NeptuneSession } from './client.ts';
import { getProject, type ProjectInfo } from './projects.ts';
import { listFileSetEntries } from './resume.ts';

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
 * A run by custom run id: `searchLeaderboardEntries` with NQL on `sys/custom_run_id`, as the 1.x
 * client's `fetch_runs_table` queries (2023 leaderboard.json; neptune-query@00fcb6b `retrieval.json`
 * keeps it on 3.x servers). Its container id (uuid), or undefined.
 */
export async function findRunByCustomId(api: NeptuneApi, project: ProjectInfo, customRunId: string, signal?: AbortSignal): Promise<string | undefined> {
  const quoted = customRunId.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
  const { data } = await api.json<{ entries?: Array<{ experimentId?: unknown }> }>({
    method: 'POST', path: '/api/leaderboard/v1/leaderboard/entries/search',
    query: { projectIdentifier: `${project.workspace}/${project.name}`, type: 'run' },
    json: {
      query: { query: `(\`sys/custom_run_id\`:string = "${quoted}")` },
      attributeFilters: [{ path: 'sys/custom_run_id' }],
      pagination: { limit: 2, offset: 0 },
    },
    signal, what: `run ${customRunId}`,
  });
  const id = data?.entries?.[0]?.experimentId;
  return typeof id === 'string' ? id : undefined;
}

/** One image of an image series as the target holds it, in step order. */
export interface HeldImage {
  /** Where the protocol reports it (Protocol A's image reads do not). */
  step?: number;
  size: number;
  /** Base64 MD5 of the image's bytes. */
  md5: string;
}

/** Base64 MD5 and size of a streamed body (never held in memory). */
export async function digestStream(body: AsyncIterable<unknown>): Promise<{ md5: string; size: number }> {
  const hash = createHash('md5');
  let size = 0;
  for await (const chunk of body) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { md5: hash.digest('base64'), size };
}

/**
 * Read-only access to what a Protocol A server holds, for `verify`: it never creates a project or a
 * run. The same session (HTTP client, per-host limit, retry policy, token refresh) as the writer's.
 * Endpoints (2023 leaderboard.json): getProject, searchLeaderboardEntries (a run by
 * `sys/custom_run_id`, as the 1.x client's `fetch_runs_table` queries with NQL),
 * getExperimentAttributes, get{Float,String}SeriesValues (offset/limit paging), lsFileSetAttribute,
 * downloadAttribute (a file-set member by `path`), getImageSeriesValues / getImageSeriesValue (an
 * image series' count, then each image by index).
 */
export class NeptuneReader {
  readonly protocol = 'a' as const;
  private readonly session: NeptuneSession;
  private readonly ownsSession: boolean;

  constructor(opts: { env: Record<string, string | undefined>; log?: Logger; http?: Partial<HttpClientOptions>; session?: NeptuneSession }) {
    this.ownsSession = !opts.session;
    this.session = opts.session ?? createNeptuneSession({ env: opts.env, log: opts.log, http: opts.http });
  }

  private get api(): NeptuneApi {
    return this.session.api;
  }

  /** Protocol A keeps a step as the double it was sent. */
  heldStep(step: number): number {
    return step;
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
    return findRunByCustomId(this.api, project, ref.customRunId, signal);
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

  /** Relative path → size of every file the file set `set` holds (none when the run has no such file set). */
  fileSet(containerId: string, set: string, held: ReadonlyMap<string, HeldField>, signal?: AbortSignal): Promise<Map<string, number>> {
    if (held.get(set)?.type !== 'fileSet') return Promise.resolve(new Map());
    return listFileSetEntries(this.api, containerId, set, signal);
  }

  /** Base64 MD5 and size of one file-set member, streamed (never held in memory). */
  async fileDigest(containerId: string, set: string, subPath: string, _held: ReadonlyMap<string, HeldField>, signal?: AbortSignal): Promise<{ md5: string; size: number }> {
    const res = await this.download('/api/leaderboard/v1/attributes/download', { experimentId: containerId, attribute: set, path: subPath }, `download ${set}/${subPath}`, signal);
    return digestStream(res.body);
  }

  /**
   * The images of an image series in step order: their count from getImageSeriesValues, then each
   * image's bytes by index (getImageSeriesValue), hashed as they stream. Protocol A reports no step
   * per image: the caller compares the series' `lastStep` from the fields.
   */
  async *images(containerId: string, path: string, held: ReadonlyMap<string, HeldField>, signal?: AbortSignal): AsyncGenerator<HeldImage> {
    if (held.get(path)?.type !== 'imageSeries') return;
    const { data } = await this.api.json<{ totalItemCount?: unknown }>({
      method: 'GET', path: '/api/leaderboard/v1/attributes/series/image', query: { experimentId: containerId, attribute: path }, signal, what: `images of ${path}`,
    });
    const total = typeof data?.totalItemCount === 'number' ? data.totalItemCount : 0;
    for (let index = 0; index < total; index++) {
      const res = await this.download('/api/leaderboard/v1/attributes/series/image/single', { experimentId: containerId, attribute: path, index }, `image ${index} of ${path}`, signal);
      yield await digestStream(res.body);
    }
  }

  private async download(path: string, query: Record<string, string | number>, what: string, signal?: AbortSignal) {
    const url = await this.api.url(path, query, signal);
    const { auth, http } = this.session;
    let token = await auth.accessToken(signal);
    return http.stream({
      method: 'GET', url, signal, what,
      headers: () => ({ authorization: `Bearer ${token}`, accept: 'application/octet-stream' }),
      retryStatus: async (status, text) => {
        if (status !== 401 || !isAuthExpiredBody(text)) return false;
        token = await auth.renewAfterExpiry(token, signal);
        return true;
      },
    });
  }

  /** Requests made (retries included), for the cost line of the verify report. */
  stats(): Record<string, number> {
    const s = this.session.stats;
    return { requests: s.requests, rateLimited: s.rateLimited, failedAttempts: s.failedAttempts, tokenRefreshes: s.tokenRefreshes };
  }

  close(): Promise<void> {
    return this.ownsSession ? this.session.http.close() : Promise.resolve();
  }
}
