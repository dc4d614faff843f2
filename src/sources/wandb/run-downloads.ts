/**
 * A run's file downloads: signed URLs first, fresh URLs when storage refuses them, and the small files
 * of a run fetched at once when its migration starts (each download costs a round trip, not a GraphQL
 * request), kept until the run is released so every reader of a file (console, system metrics,
 * provenance, the file migration) shares one download.
 */
import { rm } from 'node:fs/promises';
import { runPath, type LocalFile, type RunFile, type RunInfo } from '../../core/records.ts';
import { SourceDataError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { HttpClient } from '../../http/client.ts';
import { downloadToFile, safeTempName, SignedUrlRefusedError, type Route } from './download.ts';
import { isConsoleFile, type FileLocation } from './files.ts';

export interface RunDownloadsOptions {
  storage: HttpClient;
  /** Client and headers per URL (the W&B key only under the API base). */
  route: (url: string) => Route;
  /** The folder downloads go to (created on first use). */
  dir: () => Promise<string>;
  /** Lists the file again, for fresh URLs (or a first location when the listing gave none). */
  locate: (run: RunInfo, name: string, signal?: AbortSignal) => Promise<FileLocation>;
  log: Logger;
}

/** Fresh listings asked for after storage refused a file's signed URLs, before giving up. */
const URL_REFRESHES = 2;
/** Files fetched ahead when a run starts: each at most this big, … */
export const PREFETCH_MAX_BYTES = 256 * 1024;
/** … and at most this many per run. */
export const PREFETCH_MAX_FILES = 16;

/**
 * The files worth fetching ahead: small, and not the run's config and summary (the listing carries
 * those), nor media and artifact files (a run can have thousands; they go through the file pool).
 */
export function worthPrefetching(file: RunFile): boolean {
  if (file.sizeBytes <= 0 || file.sizeBytes > PREFETCH_MAX_BYTES) return false;
  if (file.name === 'config.yaml' || file.name === 'wandb-summary.json') return false;
  return !file.name.startsWith('media/') && !file.name.startsWith('artifact/');
}

/** Runs whose files were fetched ahead before they asked (runs about to be migrated), kept at most. */
// Files on disk, not in memory: room for a document fetched ahead by each of several listings at once.
const UNCLAIMED_MAX = 256;

export class RunDownloads {
  private readonly locations = new WeakMap<RunFile, FileLocation>();
  /** Kept downloads per run, oldest run first. */
  private readonly kept = new Map<RunInfo, Map<string, Promise<LocalFile>>>();
  /** Runs that asked for something: their kept files go only when they are released. */
  private readonly claimed = new WeakSet<RunInfo>();

  constructor(private readonly o: RunDownloadsOptions) {}

  /** Where a listed file's bytes are (kept out of RunFile: signed URLs must not reach ledgers or logs). */
  remember(file: RunFile, location: FileLocation): void {
    this.locations.set(file, location);
  }

  /**
   * Downloads a listed file. `directUrl` (presigned) first, then the W&B-hosted `url`, whose redirect is
   * followed. Signed URLs expire (a run's files may be reached hours after its listing): when storage
   * refuses every URL of a listing, the file is listed again (`fileNames: [name]`) for fresh URLs,
   * as the SDK refetches an expired URL (wandb/sdk/artifacts/storage_policies/wandb_storage_policy.py
   * `fetch_fresh_url`).
   */
  async download(run: RunInfo, file: RunFile, signal?: AbortSignal): Promise<LocalFile> {
    const what = `file ${file.name} of ${runPath(run.key)}`;
    const common = { dir: await this.o.dir(), fileName: safeTempName(file.name), expectedSize: file.sizeBytes, md5: file.md5, what, signal };
    let loc = this.locations.get(file) ?? (await this.o.locate(run, file.name, signal));
    for (let refresh = 0; ; refresh++) {
      const urls = [...new Set([loc.directUrl, loc.url].filter((u): u is string => !!u))];
      if (urls.length === 0) throw new SourceDataError(`${what}: the listing gives no URL`);
      let refused: SignedUrlRefusedError | undefined;
      for (const url of urls) {
        try {
          // `directUrl` is presigned: never credentials, even on a server that keeps storage under its API host.
          const storage = this.o.storage;
          const route = url === loc.directUrl ? (u: string): Route => (u === url ? { http: storage, headers: {} } : this.o.route(u)) : this.o.route;
          const got = await downloadToFile({ ...common, url, route });
          return { path: got.path, sizeBytes: got.sizeBytes, release: () => rm(got.path, { force: true }) };
        } catch (error) {
          if (!(error instanceof SignedUrlRefusedError)) throw error;
          refused = error;
        }
      }
      if (refresh >= URL_REFRESHES) throw refused!;
      this.o.log.debug(`${refused!.message}; listing the file again for fresh URLs`);
      loc = await this.o.locate(run, file.name, signal);
      this.locations.set(file, loc);
    }
  }

  /**
   * The file on disk: the run's kept copy when there is one (fetched ahead, or a console file, which is
   * read twice: as lines and as a file to upload), else a download of its own the caller releases.
   */
  async fetch(run: RunInfo, file: RunFile, signal?: AbortSignal): Promise<LocalFile> {
    this.claimed.add(run);
    const files = this.kept.get(run);
    if (!files?.has(file.name) && !isConsoleFile(file.name)) return this.download(run, file, signal);
    const local = await this.keep(run, file, signal);
    return { ...local, release: async () => {} };
  }

  /**
   * Starts downloading the run's small files now, while its history is read (kept until `release`).
   * `ahead`: the run has not asked yet (it is about to be migrated); if it never does (the migration
   * skipped it), its files go once more than a few such runs are held.
   */
  prefetch(run: RunInfo, files: readonly RunFile[], signal?: AbortSignal, ahead = false): void {
    if (!ahead) this.claimed.add(run);
    for (const f of files.filter(worthPrefetching).slice(0, PREFETCH_MAX_FILES)) {
      // A failure is met again (and reported) by the reader that needs the file.
      this.keep(run, f, signal).catch(() => {});
    }
    if (ahead) this.dropUnclaimed();
  }

  private dropUnclaimed(): void {
    const unclaimed = [...this.kept.keys()].filter((r) => !this.claimed.has(r));
    for (const r of unclaimed.slice(0, Math.max(0, unclaimed.length - UNCLAIMED_MAX))) void this.release(r);
  }

  /** Deletes what was kept for the run. */
  async release(run: RunInfo): Promise<void> {
    const files = this.kept.get(run);
    this.kept.delete(run);
    for (const p of files?.values() ?? []) await p.then((f) => rm(f.path, { force: true }), () => undefined);
  }

  private keep(run: RunInfo, file: RunFile, signal?: AbortSignal): Promise<LocalFile> {
    let files = this.kept.get(run);
    if (!files) this.kept.set(run, (files = new Map()));
    let p = files.get(file.name);
    if (!p) {
      const mine = files;
      p = this.download(run, file, signal);
      // A failed download is not kept: the next reader tries again.
      p.catch(() => mine.delete(file.name));
      files.set(file.name, p);
    }
    return p;
  }
}
