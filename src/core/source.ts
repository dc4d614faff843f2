import type { ArtifactReader } from './artifacts.ts';
import type {
  ConsoleLine,
  HistoryBlock,
  HistoryRow,
  LocalFile,
  RunFile,
  RunKey,
  RunInfo,
  SourceProject,
  SystemMetrics,
} from './records.ts';

/** Which runs to read. Every field narrows; an empty filter means all runs. */
export interface RunFilter {
  runIds?: string[];
  states?: string[];
  /** ISO 8601; runs created at or after. */
  createdAfter?: string;
  /** ISO 8601; runs created before. */
  createdBefore?: string;
  /** A run matches when it has any of these tags. */
  tags?: string[];
}

/** How a caller of `listRuns` takes part in the listing. */
export interface ListingOptions {
  /**
   * Whether this listing already handed the run over, from the caller's own record (the migration's
   * ledger: the runs of its pass). Given, a source that must de-duplicate its listing (W&B pages can
   * repeat a run) asks this instead of keeping every run id it listed: a listing of 100,000 runs then
   * holds none of them.
   */
  listed?(key: RunKey): boolean;
}

/**
 * A place runs come from: the W&B API or run folders on disk. Every stream is pull-based
 * (async iterators), so backpressure comes for free and memory stays bounded.
 * Implementations: `src/sources/wandb` (API), `src/sources/local` (run folders).
 */
/** Where a history read starts, and what ends this run's own part of it. */
export interface HistoryReadOptions {
  fromStep?: number;
  /**
   * Aborted when the run fails: ends what the read does for this run alone (its export's queries and
   * download), not what the source shares with other runs (a batched document), which `signal` ends.
   */
  runSignal?: AbortSignal;
}

export interface RunSource {
  readonly kind: 'wandb-api' | 'wandb-local';
  /** The entity the source reads (W&B entity, or the entity recorded in the run folders). */
  entity(signal?: AbortSignal): Promise<string>;
  listProjects(signal?: AbortSignal): AsyncIterable<SourceProject>;
  listRuns(project: string, filter: RunFilter, signal?: AbortSignal, listing?: ListingOptions): AsyncIterable<RunInfo>;
  /** Every history row with `step >= fromStep`, in increasing step order, each step once. */
  history(run: RunInfo, opts: HistoryReadOptions, signal?: AbortSignal): AsyncIterable<HistoryRow>;
  /**
   * The same rows as `history`, in blocks by column (`core/records.ts` HistoryBlock): the fast path,
   * for sources that can read columns. The pipeline uses it where present.
   */
  historyBlocks?(run: RunInfo, opts: HistoryReadOptions, signal?: AbortSignal): AsyncIterable<HistoryBlock>;
  systemMetrics(run: RunInfo, signal?: AbortSignal): Promise<SystemMetrics>;
  /** Console lines with `index >= fromLine`, in order. */
  console(run: RunInfo, opts: { fromLine?: number }, signal?: AbortSignal): AsyncIterable<ConsoleLine>;
  files(run: RunInfo, signal?: AbortSignal): AsyncIterable<RunFile>;
  /** Makes the file's bytes available on disk, verified by size (and md5 where known). */
  fetchFile(run: RunInfo, file: RunFile, signal?: AbortSignal): Promise<LocalFile>;
  /**
   * Provenance that costs requests (W&B: the run's `wandb-metadata.json`: host, OS, Python, program);
   * asked only for runs about to be migrated, never for runs skipped as unchanged.
   */
  provenance?(run: RunInfo, signal?: AbortSignal): Promise<RunProvenance>;
  /** The run's logged and used artifacts (`--include artifacts`); absent where the source has none. */
  artifacts?: ArtifactReader;
  /** Frees what the source kept while a run was migrated (downloads shared between its streams). */
  releaseRun?(run: RunInfo): Promise<void>;
  close?(): Promise<void>;
}

export interface RunProvenance {
  host?: string;
  extra?: Record<string, string | number | boolean>;
}
