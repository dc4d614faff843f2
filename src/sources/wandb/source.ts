import { runPath } from '../../core/records.ts';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConsoleLine, HistoryRow, LocalFile, RunFile, RunInfo, SourceNotice, SourceProject, SystemMetrics, SystemSample } from '../../core/records.ts';
import type { RunFilter, RunProvenance, RunSource } from '../../core/source.ts';
import { HttpError, SourceDataError } from '../../core/errors.ts';
import { silentLogger, type Logger } from '../../core/logger.ts';
import { HttpClient, type HttpClientOptions } from '../../http/client.ts';
import { wandbArtifacts } from './artifacts.ts';
import { downloadToFile, safeTempName, SignedUrlRefusedError, type Route } from './download.ts';
import { consoleFileOrder, isConsoleFile, listRunFiles, type FileLocation } from './files.ts';
import { runFilterToMongo } from './filters.ts';
import { GraphqlTransport } from './graphql.ts';
import { readHistory } from './history.ts';
import { ConsoleAssembler, endTextConsole, textConsoleLines } from '../console-lines.ts';
import { fileLines } from './lines.ts';
import { GET_DEFAULT_ENTITY, LIST_PROJECTS, LIST_RUNS } from './queries.ts';
import { projectNodeToSource, provenanceOf, runNodeToInfo, type ProjectNode, type RunNode } from './run-info.ts';
import { resolveWandbSettings } from './settings.ts';
import { eventToSample, eventsFromGraphql } from './system-metrics.ts';

export interface WandbSourceOptions {
  baseUrl?: string;
  apiKey?: string;
  entity?: string;
  env?: NodeJS.ProcessEnv;
  http?: Partial<HttpClientOptions>;
  log?: Logger;
  onNotice?: (n: SourceNotice) => void;
  /** Steps per `HistoryPage` window (also its `samples`). @default 1000 (the SDK's) */
  historyPageSize?: number;
  /** Parent folder for downloads. @default os.tmpdir() */
  tmpDir?: string;
  /** Read history from the parquet export when there is one. @default true */
  preferParquet?: boolean;
  /** Runs per `Runs` page. @default 50 (the SDK's) */
  runsPageSize?: number;
}

export interface WandbSource extends RunSource {
  readonly kind: 'wandb-api';
  /** Request counts of both clients (API and storage), for reports and benchmarks. */
  stats(): { apiRequests: number; storageRequests: number; rateLimited: number };
  close(): Promise<void>;
}

interface ViewerData {
  viewer: { id: string; entity?: string | null } | null;
}
interface ProjectsData {
  models: { edges: { node: ProjectNode | null; cursor?: string }[]; pageInfo: { endCursor?: string | null; hasNextPage: boolean } } | null;
}
interface RunsData {
  project: {
    runCount?: number;
    runs: { edges: { node: RunNode | null; cursor: string }[]; pageInfo: { endCursor?: string | null; hasNextPage: boolean } } | null;
  } | null;
}

/** A listed file that W&B no longer has. */
class FileGoneError extends SourceDataError {}

const EVENTS_FILE = 'wandb-events.jsonl';
/** Fresh listings asked for after storage refused a file's signed URLs, before giving up. */
const URL_REFRESHES = 2;
const METADATA_FILE = 'wandb-metadata.json';

/** A RunSource over the W&B API (cloud or self-hosted), reading as the official SDK's public API does. */
export function createWandbSource(opts: WandbSourceOptions = {}): WandbSource {
  const settings = resolveWandbSettings(opts.env ?? process.env, { baseUrl: opts.baseUrl, apiKey: opts.apiKey, entity: opts.entity });
  const log = opts.log ?? silentLogger;
  const secrets = () => [settings.apiKey, Buffer.from(`api:${settings.apiKey}`).toString('base64')];
  const api = new HttpClient({ service: 'W&B', log, ...opts.http, secrets });
  // Storage (signed URLs) gets its own client: separate host limiters, and no way to attach the key.
  const storage = new HttpClient({ service: 'W&B storage', log, ...opts.http, secrets });
  const gql = new GraphqlTransport({ http: api, baseUrl: settings.baseUrl, apiKey: settings.apiKey });
  const locations = new WeakMap<RunFile, FileLocation>();
  const pageSize = opts.historyPageSize ?? 1000;
  let entityName: Promise<string> | undefined = settings.entity ? Promise.resolve(settings.entity) : undefined;
  let tmpRoot: Promise<string> | undefined;
  const tmp = () => (tmpRoot ??= mkdtemp(join(opts.tmpDir ?? tmpdir(), 'w2n-wandb-')));

  const entity = (signal?: AbortSignal): Promise<string> => {
    entityName ??= gql.graphql<ViewerData>(GET_DEFAULT_ENTITY, {}, 'default entity of the API key', signal).then((d) => {
      if (!d.viewer) throw new SourceDataError('W&B did not recognise the API key (viewer is null)');
      if (!d.viewer.entity) throw new SourceDataError('the API key has no default entity: set WANDB_ENTITY');
      return d.viewer.entity;
    });
    entityName.catch(() => (entityName = undefined));
    return entityName;
  };

  // The W&B key goes only to URLs under the API base; everything else (signed storage URLs, and any
  // redirect to them) through the storage client, without credentials.
  const route = (url: string): Route => (gql.isUnderBase(url) ? { http: api, headers: gql.authHeadersFor(url) } : { http: storage, headers: {} });

  async function listedLocation(run: RunInfo, name: string, signal?: AbortSignal): Promise<FileLocation> {
    for await (const f of listRunFiles(gql, run.key, { names: [name], pageSize: 10 }, signal)) {
      if (f.file.name === name) return f.location;
    }
    throw new FileGoneError(`file ${name} of ${runPath(run.key)} is no longer listed`);
  }

  /**
   * Downloads a listed file. `directUrl` (presigned) first, then the W&B-hosted `url`, whose redirect is
   * followed. Signed URLs expire (a run's files may be reached hours after its listing): when storage
   * refuses every URL of a listing, the file is listed again (`fileNames: [name]`) for fresh URLs,
   * as the SDK refetches an expired URL (wandb/sdk/artifacts/storage_policies/wandb_storage_policy.py
   * `fetch_fresh_url`).
   */
  async function fetchFile(run: RunInfo, file: RunFile, signal?: AbortSignal): Promise<LocalFile> {
    const what = `file ${file.name} of ${runPath(run.key)}`;
    const dir = await tmp();
    const common = { dir, fileName: safeTempName(file.name), expectedSize: file.sizeBytes, md5: file.md5, what, signal, route };
    let loc = locations.get(file) ?? (await listedLocation(run, file.name, signal));
    for (let refresh = 0; ; refresh++) {
      const urls = [...new Set([loc.directUrl, loc.url].filter((u): u is string => !!u))];
      if (urls.length === 0) throw new SourceDataError(`${what}: the listing gives no URL`);
      let refused: SignedUrlRefusedError | undefined;
      for (const url of urls) {
        try {
          // `directUrl` is presigned: never credentials, even on a server that keeps storage under its API host.
          const start = url === loc.directUrl ? (u: string): Route => (u === url ? { http: storage, headers: {} } : route(u)) : route;
          const got = await downloadToFile({ ...common, url, route: start });
          return { path: got.path, sizeBytes: got.sizeBytes, release: () => rm(got.path, { force: true }) };
        } catch (error) {
          if (!(error instanceof SignedUrlRefusedError)) throw error;
          refused = error;
        }
      }
      if (refresh >= URL_REFRESHES) throw refused!;
      log.debug(`${refused!.message}; listing the file again for fresh URLs`);
      loc = await listedLocation(run, file.name, signal);
      locations.set(file, loc);
    }
  }

  // Console files are needed twice per run — as console lines and as files to upload — so they are
  // downloaded once and kept until the migration releases the run.
  const kept = new WeakMap<RunInfo, Map<string, Promise<LocalFile>>>();
  async function fetchKept(run: RunInfo, file: RunFile, signal?: AbortSignal): Promise<LocalFile> {
    if (!isConsoleFile(file.name)) return fetchFile(run, file, signal);
    let files = kept.get(run);
    if (!files) kept.set(run, (files = new Map()));
    let p = files.get(file.name);
    if (!p) {
      const mine = files;
      p = fetchFile(run, file, signal);
      p.catch(() => mine.delete(file.name));
      files.set(file.name, p);
    }
    const local = await p;
    return { ...local, release: async () => {} };
  }

  // One listing per run serves the file migration, the console and the system-metrics lookup:
  // three paged listings cost three times the requests against W&B's rate limit.
  const listings = new WeakMap<RunInfo, Promise<RunFile[]>>();
  function listing(run: RunInfo, signal?: AbortSignal): Promise<RunFile[]> {
    let p = listings.get(run);
    if (!p) {
      p = (async () => {
        const out: RunFile[] = [];
        for await (const f of listRunFiles(gql, run.key, {}, signal)) {
          locations.set(f.file, f.location);
          out.push(f.file);
        }
        return out;
      })();
      p.catch(() => listings.delete(run));
      listings.set(run, p);
    }
    return p;
  }

  async function* files(run: RunInfo, signal?: AbortSignal): AsyncGenerator<RunFile> {
    yield* await listing(run, signal);
  }

  return {
    kind: 'wandb-api',
    entity,
    stats: () => ({ apiRequests: api.requests, storageRequests: storage.requests, rateLimited: api.rateLimited + storage.rateLimited }),

    async *listProjects(signal?: AbortSignal): AsyncGenerator<SourceProject> {
      const e = await entity(signal);
      let cursor: string | null = null;
      for (;;) {
        const data: ProjectsData = await gql.graphql<ProjectsData>(LIST_PROJECTS, { entity: e, cursor, perPage: 100 }, `projects of ${e}`, signal);
        if (!data.models) return;
        for (const edge of data.models.edges) if (edge.node) yield projectNodeToSource(edge.node, e, settings.appUrl);
        const next = data.models.pageInfo.endCursor ?? data.models.edges.at(-1)?.cursor ?? null;
        if (!data.models.pageInfo.hasNextPage || !next || next === cursor) return;
        cursor = next;
      }
    },

    async *listRuns(project: string, filter: RunFilter, signal?: AbortSignal): AsyncGenerator<RunInfo> {
      const e = await entity(signal);
      const what = `runs of ${e}/${project}`;
      const filters = JSON.stringify(runFilterToMongo(filter));
      // Duplicates across pages are a known W&B bug (wandb#7666): de-duplicate by run id.
      const seen = new Set<string>();
      let cursor: string | null = null;
      for (;;) {
        const vars = { project, entity: e, order: '+created_at', filters, perPage: opts.runsPageSize ?? 50, cursor };
        const data: RunsData = await gql.graphql<RunsData>(LIST_RUNS, vars, what, signal);
        if (!data.project) throw new SourceDataError(`${what}: the project was not found`);
        const runs = data.project.runs;
        if (!runs) return;
        for (const edge of runs.edges) {
          if (!edge.node || seen.has(edge.node.name)) continue;
          seen.add(edge.node.name);
          const runKey = { entity: e, project, runId: edge.node.name };
          yield runNodeToInfo(edge.node, e, project, settings.appUrl, (message, field) =>
            opts.onNotice?.({ run: runKey, stream: field, kind: 'invalid', message: `${message}; its raw text is kept in wandb/${field}Raw` }),
          );
        }
        const next = runs.edges.at(-1)?.cursor ?? runs.pageInfo.endCursor ?? null;
        if (!runs.pageInfo.hasNextPage || !next || next === cursor) return;
        cursor = next;
      }
    },

    async *history(run: RunInfo, o: { fromStep?: number }, signal?: AbortSignal): AsyncGenerator<HistoryRow> {
      yield* readHistory(
        { gql, route, tmpDir: await tmp(), pageSize, preferParquet: opts.preferParquet ?? true, log, onNotice: opts.onNotice },
        run,
        o.fromStep ?? 0,
        signal,
      );
    },

    async systemMetrics(run: RunInfo, signal?: AbortSignal): Promise<SystemMetrics> {
      const listed = (await listing(run, signal)).find((f) => f.name === EVENTS_FILE);
      if (!listed) return eventsFromGraphql(gql, run.key, opts.onNotice, signal);
      const file = listed;
      const where = `system metrics of ${runPath(run.key)}`;
      async function* samples(): AsyncGenerator<SystemSample> {
        const local = await fetchFile(run, file, signal);
        try {
          for await (const line of fileLines(local.path, signal)) {
            if (line.trim() === '') continue;
            const s = eventToSample(line, where, run.key, opts.onNotice);
            if (s) yield s;
          }
        } finally {
          await local.release();
        }
      }
      return { sampled: false, samples: samples() };
    },

    async *console(run: RunInfo, o: { fromLine?: number }, signal?: AbortSignal): AsyncGenerator<ConsoleLine> {
      const candidates = new Map<string, RunFile>();
      for await (const f of files(run, signal)) {
        if (isConsoleFile(f.name)) candidates.set(f.name, f);
      }
      const from = o.fromLine ?? 0;
      // The console rule of both sources (`\r` redraws as a terminal shows them): sources/console-lines.ts.
      const asm = new ConsoleAssembler();
      for (const name of consoleFileOrder([...candidates.keys()])) {
        const local = await fetchKept(run, candidates.get(name)!, signal);
        try {
          const text = createReadStream(local.path, { encoding: 'utf8', highWaterMark: 256 * 1024, signal }) as AsyncIterable<string>;
          for await (const line of textConsoleLines(asm, text, signal)) if (line.index >= from) yield line;
        } finally {
          await local.release();
        }
      }
      for (const line of endTextConsole(asm)) if (line.index >= from) yield line;
    },

    files,
    fetchFile: fetchKept,
    artifacts: wandbArtifacts({ gql, storage, route, tmp }),

    async releaseRun(run: RunInfo): Promise<void> {
      const files = kept.get(run);
      kept.delete(run);
      for (const p of files?.values() ?? []) await p.then((f) => rm(f.path, { force: true }), () => undefined);
    },

    /**
     * The 8 `wandb/*` fields W&B keeps only in `wandb-metadata.json` (host, os, python, gpu, …). A file
     * that is gone (deleted after the listing) or not JSON is a source notice: a report line `--strict`
     * counts. Any other failure to read it (network, storage refusing its URLs, 5xx) throws: the run
     * stays incomplete and is read again on the next pass, rather than done without those fields.
     */
    async provenance(run: RunInfo, signal?: AbortSignal): Promise<RunProvenance> {
      const file = (await listing(run, signal)).find((f) => f.name === METADATA_FILE);
      if (!file || file.sizeBytes === 0) return {};
      const lost = `its host, os, python, gpu, gpuCount, cpuCount, program and codePath (wandb/*) are not written`;
      let local: LocalFile;
      try {
        local = await fetchFile(run, file, signal);
      } catch (error) {
        if (error instanceof FileGoneError || (error instanceof HttpError && error.status === 404)) {
          opts.onNotice?.({ run: run.key, stream: 'run', kind: 'damaged', message: `${METADATA_FILE} is listed but cannot be downloaded (${error.message}): ${lost}`, count: 1 });
          return {};
        }
        if (signal?.aborted) throw error;
        throw new SourceDataError(`${METADATA_FILE} of ${runPath(run.key)} could not be read; the run stays incomplete and is read again on the next pass: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      }
      try {
        return provenanceOf(JSON.parse(await readFile(local.path, 'utf8')) as unknown);
      } catch (error) {
        if (error instanceof SyntaxError) {
          opts.onNotice?.({ run: run.key, stream: 'run', kind: 'invalid', message: `${METADATA_FILE} is not valid JSON: ${error.message}; ${lost}`, count: 1 });
          return {};
        }
        throw error;
      } finally {
        await local.release();
      }
    },

    async close(): Promise<void> {
      const root = tmpRoot;
      tmpRoot = undefined;
      if (root) await rm(await root, { recursive: true, force: true }).catch(() => {});
      await Promise.all([api.close(), storage.close()]);
    },
  };
}
