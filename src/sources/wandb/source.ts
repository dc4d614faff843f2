import { runPath } from '../../core/records.ts';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConsoleLine, HistoryBlock, HistoryRow, LocalFile, RunFile, RunInfo, SourceNotice, SourceProject, SystemMetrics, SystemSample } from '../../core/records.ts';
import type { HistoryReadOptions, ListingOptions, RunFilter, RunProvenance, RunSource } from '../../core/source.ts';
import { ConfigError, isFileGone, SourceDataError, SourceFileGone } from '../../core/errors.ts';
import { silentLogger, type Logger } from '../../core/logger.ts';
import { HttpClient, type HttpClientOptions } from '../../http/client.ts';
import { wandbArtifacts } from './artifacts.ts';
import type { Route } from './download.ts';
import { consoleFileOrder, isConsoleFile, listRunFiles, type FileLocation } from './files.ts';
import { GraphqlTransport } from './graphql.ts';
import { readHistory, readHistoryBlocks } from './history.ts';
import { rowBlocks } from '../history-block.ts';
import { pageRows } from './history-paged.ts';
import { toHistoryRow } from './history-rows.ts';
import { ByteConsole, notUtf8Message } from '../console-bytes.ts';
import { ConsoleAssembler } from '../console-lines.ts';
import { fileLines } from './lines.ts';
import { listProjects, listRuns } from './listing.ts';
import { GET_DEFAULT_ENTITY } from './queries.ts';
import { provenanceOf } from './run-info.ts';
import { RunDownloads } from './run-downloads.ts';
import { DEFAULT_PLAN_LIMITS, type RunBundle } from './run-plan.ts';
import { RunPrefetch } from './run-prefetch.ts';
import { resolveWandbSettings } from './settings.ts';
import { eventToSample, eventsFromGraphql, metricsFromEvents } from './system-metrics.ts';

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
  /** Runs per `Runs` page. @default RUNS_PAGE_SIZE */
  runsPageSize?: number;
  /**
   * Runs whose files, small history and system metrics are asked in one GraphQL document (run-plan.ts);
   * 0 sends every run's queries on their own, as the SDK does. @default env WANDB_TO_NEPTUNE_BATCH_RUNS, else 16
   */
  batchRuns?: number;
  /** Signed-URL downloads in flight at once (storage is not rate limited). @default STORAGE_CONCURRENCY */
  storageConcurrency?: number;
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


const EVENTS_FILE = 'wandb-events.jsonl';
const METADATA_FILE = 'wandb-metadata.json';
export const DEFAULT_BATCH_RUNS = 16;
/**
 * Signed-URL downloads at once. Storage (GCS/S3 behind signed URLs) counts nothing against W&B's rate
 * limit, and small runs are mostly round trips: 16 runs at once with ~3 small files each, plus the
 * files of the next batched document fetched ahead, kept 16 slots busy (bench (b): downloads waited
 * ~200 ms in the queue, more than the download itself).
 */
export const STORAGE_CONCURRENCY = 64;
/**
 * Runs per listing page. Each page is a round trip under W&B's rate limit, and an unchanged re-run is
 * nothing but its listing (10,000 runs: 200 pages of the SDK's 50). No server-side maximum for `first`
 * is documented (wandb-api.md §5, open question Q6); the largest listing page the SDK asks for is
 * `Api.projects`' 200 (wandb-api.md §2.2), so runs are asked 200 at a time too. A server that gives
 * fewer per page is followed by its cursor as before.
 */
export const RUNS_PAGE_SIZE = 200;

/** `batchRuns` from the option or `WANDB_TO_NEPTUNE_BATCH_RUNS`; anything but a whole number ≥ 0 is a usage error. */
export function batchRunsSetting(option: number | undefined, env: NodeJS.ProcessEnv): number {
  const raw = option ?? env.WANDB_TO_NEPTUNE_BATCH_RUNS?.trim();
  if (raw === undefined || raw === '') return DEFAULT_BATCH_RUNS;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 100) throw new ConfigError([`WANDB_TO_NEPTUNE_BATCH_RUNS must be a whole number from 0 (no batching) to 100, got "${raw}"`]);
  return n;
}

/**
 * A RunSource over the W&B API (cloud or self-hosted), reading as the official SDK's public API does.
 * The pieces: listing.ts (projects, runs), run-plan.ts + run-prefetch.ts (the per-run queries of the
 * runs about to be migrated, batched into one document), run-downloads.ts (signed URLs, small files
 * fetched ahead), history.ts (parquet export or paged scan), system-metrics.ts.
 */
export function createWandbSource(opts: WandbSourceOptions = {}): WandbSource {
  const env = opts.env ?? process.env;
  const settings = resolveWandbSettings(env, { baseUrl: opts.baseUrl, apiKey: opts.apiKey, entity: opts.entity });
  const batchRuns = batchRunsSetting(opts.batchRuns, env);
  const log = opts.log ?? silentLogger;
  const secrets = () => [settings.apiKey, Buffer.from(`api:${settings.apiKey}`).toString('base64')];
  const api = new HttpClient({ service: 'W&B', log, ...opts.http, secrets });
  // Storage (signed URLs) gets its own client: separate host limiters, and no way to attach the key.
  const storage = new HttpClient({ service: 'W&B storage', log, concurrencyPerHost: opts.storageConcurrency ?? STORAGE_CONCURRENCY, ...opts.http, secrets });
  const gql = new GraphqlTransport({ http: api, baseUrl: settings.baseUrl, apiKey: settings.apiKey });
  const pageSize = opts.historyPageSize ?? 1000;
  let entityName: Promise<string> | undefined = settings.entity ? Promise.resolve(settings.entity) : undefined;
  let tmpRoot: Promise<string> | undefined;
  const tmp = () => (tmpRoot ??= mkdtemp(join(opts.tmpDir ?? tmpdir(), 'w2n-wandb-')));
  const historyDeps = async () => ({ gql, route, tmpDir: await tmp(), pageSize, preferParquet: opts.preferParquet ?? true, log, onNotice: opts.onNotice });

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
    throw new SourceFileGone(`file ${name} of ${runPath(run.key)} is no longer listed`);
  }
  const downloads = new RunDownloads({ storage, route, dir: tmp, locate: listedLocation, log });
  // A batched document brings the whole file list of most small runs: their small files start
  // downloading then, before each run asks (the runs of a document are the ones about to be migrated).
  const onBundle = (run: RunInfo, bundle: RunBundle, signal?: AbortSignal) => {
    const listed = bundle.files;
    if (!listed || listed.next !== undefined) return;
    for (const f of listed.listed) downloads.remember(f.file, f.location);
    downloads.prefetch(run, listed.listed.map((f) => f.file), signal, true);
  };
  const prefetch = new RunPrefetch({ gql, limits: { ...DEFAULT_PLAN_LIMITS, pageSize }, maxRuns: batchRuns, log, onBundle });

  // One listing per run serves the file migration, the console, the system metrics and the provenance
  // (several listings cost several requests against W&B's rate limit). Its first page usually comes
  // in the run's batched document.
  const listings = new WeakMap<RunInfo, Promise<RunFile[]>>();
  function listing(run: RunInfo, signal?: AbortSignal): Promise<RunFile[]> {
    let p = listings.get(run);
    if (!p) {
      p = listFiles(run, signal);
      p.catch(() => listings.delete(run));
      listings.set(run, p);
    }
    return p;
  }
  async function listFiles(run: RunInfo, signal?: AbortSignal): Promise<RunFile[]> {
    const out: RunFile[] = [];
    const first = (await prefetch.bundle(run, signal))?.files;
    // A finished run the listing counted no files of has none to ask for.
    if (!first && prefetch.countsOf(run)?.fileCount === 0 && run.state !== 'running') return out;
    const rest = first ? (first.next === undefined ? [] : listRunFiles(gql, run.key, { after: first.next }, signal)) : listRunFiles(gql, run.key, {}, signal);
    for (const f of first?.listed ?? []) {
      downloads.remember(f.file, f.location);
      out.push(f.file);
    }
    for await (const f of rest) {
      downloads.remember(f.file, f.location);
      out.push(f.file);
    }
    return out;
  }

  async function* files(run: RunInfo, signal?: AbortSignal): AsyncGenerator<RunFile> {
    yield* await listing(run, signal);
  }

  return {
    kind: 'wandb-api',
    entity,
    stats: () => ({ apiRequests: api.requests, storageRequests: storage.requests, rateLimited: api.rateLimited + storage.rateLimited }),

    async *listProjects(signal?: AbortSignal): AsyncGenerator<SourceProject> {
      yield* listProjects(gql, await entity(signal), settings.appUrl, signal);
    },

    async *listRuns(project: string, filter: RunFilter, signal?: AbortSignal, listing?: ListingOptions): AsyncGenerator<RunInfo> {
      const listed = prefetch.listing();
      const o = { entity: await entity(signal), project, filter, appUrl: settings.appUrl, pageSize: opts.runsPageSize ?? RUNS_PAGE_SIZE, onNotice: opts.onNotice, listed: listing?.listed };
      for await (const { run, counts } of listRuns(gql, o, signal)) {
        listed(run, counts);
        yield run;
      }
    },

    async *history(run: RunInfo, o: HistoryReadOptions, signal?: AbortSignal): AsyncGenerator<HistoryRow> {
      // A resumed run reads from its cursor with its own queries (the batched page starts at step 0).
      // The batched document serves other runs too: under `signal`; the run's own reads end with it too.
      const page = (o.fromStep ?? 0) <= 0 ? (await prefetch.bundle(run, signal))?.history : undefined;
      if (page) {
        yield* bundledHistory(page, run, opts.onNotice);
        return;
      }
      yield* readHistory(await historyDeps(), run, o.fromStep ?? 0, ownSignal(signal, o.runSignal));
    },

    async *historyBlocks(run: RunInfo, o: HistoryReadOptions, signal?: AbortSignal): AsyncGenerator<HistoryBlock> {
      const page = (o.fromStep ?? 0) <= 0 ? (await prefetch.bundle(run, signal))?.history : undefined;
      if (page) {
        yield* rowBlocks(bundledHistory(page, run, opts.onNotice));
        return;
      }
      yield* readHistoryBlocks(await historyDeps(), run, o.fromStep ?? 0, ownSignal(signal, o.runSignal));
    },

    async systemMetrics(run: RunInfo, signal?: AbortSignal): Promise<SystemMetrics> {
      const listed = (await listing(run, signal)).find((f) => f.name === EVENTS_FILE);
      if (listed) return eventsFileMetrics(run, listed, signal);
      const events = (await prefetch.bundle(run, signal))?.events;
      if (events) return metricsFromEvents(events.rows, events.total, run.key, opts.onNotice);
      // A finished run the listing counted no system-metric rows of has none (eventsFromGraphql would ask to learn that).
      if (prefetch.countsOf(run)?.eventsLineCount === 0 && run.state !== 'running') return metricsFromEvents([], 0, run.key, opts.onNotice);
      return eventsFromGraphql(gql, run.key, opts.onNotice, signal);
    },

    async *console(run: RunInfo, o: { fromLine?: number }, signal?: AbortSignal): AsyncGenerator<ConsoleLine> {
      const candidates = new Map<string, RunFile>();
      for await (const f of files(run, signal)) {
        if (isConsoleFile(f.name)) candidates.set(f.name, f);
      }
      const from = o.fromLine ?? 0;
      // The console rule of both sources (`\r` redraws as a terminal shows them): sources/console-lines.ts.
      // Bytes that are not UTF-8 land as U+FFFD: the lines they touched are a report line (the files
      // themselves, carried as run files, keep the bytes).
      const text = new ByteConsole(new ConsoleAssembler());
      for (const name of consoleFileOrder([...candidates.keys()])) {
        const local = await downloads.fetch(run, candidates.get(name)!, signal);
        try {
          const bytes = createReadStream(local.path, { highWaterMark: 256 * 1024, signal }) as AsyncIterable<Buffer>;
          for await (const line of text.lines(name, bytes, signal)) if (line.index >= from) yield line;
        } finally {
          await local.release();
        }
      }
      for (const line of text.end()) if (line.index >= from) yield line;
      if (text.notUtf8Lines > 0) {
        opts.onNotice?.({ run: run.key, stream: 'console', kind: 'invalid', count: text.notUtf8Lines, message: notUtf8Message(text.notUtf8Files.join(', '), text.notUtf8Lines) });
      }
    },

    files,
    fetchFile: (run, file, signal) => downloads.fetch(run, file, signal),
    artifacts: wandbArtifacts({ gql, storage, route, tmp }),

    async releaseRun(run: RunInfo): Promise<void> {
      prefetch.forget(run);
      listings.delete(run);
      await downloads.release(run);
    },

    provenance: (run, signal) => provenance(run, signal),

    async close(): Promise<void> {
      const root = tmpRoot;
      tmpRoot = undefined;
      if (root) await rm(await root, { recursive: true, force: true }).catch(() => {});
      await Promise.all([api.close(), storage.close()]);
    },
  };

  function eventsFileMetrics(run: RunInfo, file: RunFile, signal?: AbortSignal): SystemMetrics {
    const where = `system metrics of ${runPath(run.key)}`;
    async function* samples(): AsyncGenerator<SystemSample> {
      const local = await downloads.fetch(run, file, signal);
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
  }

  /**
   * The 8 `wandb/*` fields W&B keeps only in `wandb-metadata.json` (host, os, python, gpu, …). A file
   * that is gone (deleted after the listing) or not JSON is a source notice: a report line `--strict`
   * counts. Any other failure to read it (network, storage refusing its URLs, 5xx) throws: the run
   * stays incomplete and is read again on the next pass, rather than done without those fields.
   */
  async function provenance(run: RunInfo, signal?: AbortSignal): Promise<RunProvenance> {
    const listed = await listing(run, signal);
    // Asked first, when the run's migration starts: its small files (this one among them) start
    // downloading now, together, while its history is read.
    downloads.prefetch(run, listed, signal);
    const file = listed.find((f) => f.name === METADATA_FILE);
    if (!file || file.sizeBytes === 0) return {};
    const lost = `its host, os, python, gpu, gpuCount, cpuCount, program and codePath (wandb/*) are not written`;
    let local: LocalFile;
    try {
      local = await downloads.fetch(run, file, signal);
    } catch (error) {
      if (isFileGone(error)) {
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
  }
}

/**
 * History from the run's batched page (a run whose every step fits one page): the rows of
 * `[0, stop)`, as the paged scan would give them.
 */
async function* bundledHistory(page: NonNullable<RunBundle['history']>, run: RunInfo, onNotice?: (n: SourceNotice) => void): AsyncGenerator<HistoryRow> {
  const key = run.key;
  const onBadRow = onNotice
    ? (error: SourceDataError) => onNotice({ run: key, stream: 'history', kind: 'invalid', message: `${error.message}; the row was skipped`, count: 1 })
    : undefined;
  let last = -Infinity;
  for (const r of pageRows(page.rows, 0, page.stop, `history of ${runPath(key)}`, onBadRow)) {
    const step = r._step as number;
    if (step <= last) continue;
    last = step;
    yield toHistoryRow(r);
  }
}

/** The signal of what a read does for one run alone: the migration's, or the run's own failure. */
function ownSignal(shared: AbortSignal | undefined, run: AbortSignal | undefined): AbortSignal | undefined {
  return shared && run ? AbortSignal.any([shared, run]) : (run ?? shared);
}
