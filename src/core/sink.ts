import type { TargetCapabilities } from '../mapping/capabilities.ts';
import type { StaleFields } from '../mapping/stale-fields.ts';
import type { FieldAssignment, FileSetAnswer, FileSetEntry, FloatSeriesBlock, HistogramPoint, ImagePoint, ImagesAnswer, Omission, SeriesPoint } from './target.ts';

/** What the target already holds for a run: the base of resume and of "send only what is missing". */
export interface TargetRunState {
  /** Series path → last step the target holds. */
  lastSteps: ReadonlyMap<string, number>;
  /** Fields the run already has (counts against the target's per-run field cap). */
  fieldCount: number;
  /** File-set fields the run already has (`files`, `checkpoints`, …). */
  fileSets?: readonly string[];
  /** Every field the run holds, path → type name (AttributeTypeDTO names: `string`, `int`, `stringSet`, …). */
  types?: ReadonlyMap<string, string>;
  /** The values of the string sets the run holds (`sys/tags`, `sys/group_tags`). */
  sets?: ReadonlyMap<string, readonly string[]>;
}

/**
 * One run in the target. The migration appends, then flushes; `flush` resolves only once the target
 * acknowledged everything appended before it, and returns what the target (or the writer's own rule
 * checks) refused — the ledger advances only after that.
 * The pipeline never appends while a flush is in flight, unless the run says it may (`appendsDuringFlush`).
 */
export interface TargetRun {
  /** Target-side id of the run (for the ledger and the report). */
  readonly id: string;
  state(signal?: AbortSignal): Promise<TargetRunState>;
  assign(fields: readonly FieldAssignment[]): void;
  /**
   * Takes away what an earlier pass wrote and the W&B run no longer has (mapping/stale-fields.ts),
   * with the next flush and before the fields assigned with it. Returns what this target cannot take
   * away (Protocol B has no operation that deletes a field), as report lines. Absent: nothing is taken away.
   */
  unassign?(stale: StaleFields): Omission[];
  appendFloats(path: string, points: readonly SeriesPoint<number>[]): void;
  appendStrings(path: string, points: readonly SeriesPoint<string>[]): void;
  /**
   * Float points by column (history's fast path): the same as `appendFloats` of each series' points,
   * without an object per point. Optional: the pipeline hands a target without it the points.
   */
  appendFloatBlock?(block: FloatSeriesBlock): void;
  flush(signal?: AbortSignal): Promise<Omission[]>;
  /**
   * True where points appended while a flush is in flight go to the next flush (and flushes resolve
   * in order): the pipeline then appends the next batches without waiting (run-batcher.ts `BATCHES_IN_FLIGHT`).
   */
  readonly appendsDuringFlush?: boolean;
  /**
   * What a file set already holds (relative path → size). Used when the ledger knows nothing of a run
   * the target already has, so files are not uploaded twice.
   */
  listFileSet?(path: string, signal?: AbortSignal): Promise<ReadonlyMap<string, number>>;
  /**
   * Of files a set lists (`listFileSet`) with the size the source gives, those the target proves hold
   * the source's bytes (a checksum its storage computed equals the source's MD5): kept, not sent again.
   * A file it cannot prove is not in the answer, and is sent. Absent: a listed size proves nothing, and
   * every file is sent.
   */
  provenSame?(path: string, files: ReadonlyArray<{ relativePath: string; sizeBytes: number; md5: string }>, signal?: AbortSignal): Promise<ReadonlySet<string>>;
  /**
   * Sends images to an image series now (not buffered with the other points), resolving once the
   * target acknowledged them; answers what it refused and the images whose bytes it already held (not
   * sent). Points at or below the step the target held when `state()` read it are skipped as already
   * present. Absent where the target has no image series (then images are reported, not written).
   */
  logImages?(path: string, points: readonly ImagePoint[], signal?: AbortSignal): Promise<ImagesAnswer>;
  /**
   * Sends points to a histogram series now, as `logImages` does; returns what the target refused.
   * Present where the capabilities say `histograms` (the mapping makes no histogram points otherwise).
   */
  logHistograms?(path: string, points: readonly HistogramPoint[], signal?: AbortSignal): Promise<Omission[]>;
  /**
   * Adds files to a file set (`source_code/files`, `checkpoints`, `files`); answers what was refused
   * and what the target already held (not sent), so a count is what the target kept, never what was sent.
   */
  uploadFileSet(path: string, entries: readonly FileSetEntry[], signal?: AbortSignal): Promise<FileSetAnswer>;
  /**
   * Files of several sets in one call, as `uploadFileSet` of each (a target whose sets cost a round
   * trip each offers it: over B one signed-URL request and one write of the refs for all of them).
   * Answers per set, in the order given.
   */
  uploadFileSets?(sets: ReadonlyArray<{ path: string; entries: readonly FileSetEntry[] }>, signal?: AbortSignal): Promise<FileSetAnswer[]>;
}

/** What a target uses when it creates a run (Protocol B's CreateRun records the first three). */
export interface RunCreation {
  /** W&B `created_at`, Unix milliseconds: the run's back-dated creation time. */
  createdAtMs?: number;
  /** W&B display name, and whether no other run of the W&B project has it (B's experiment name moves between runs). */
  name?: string;
  nameUnique?: boolean;
  /**
   * The ledger started this run before (it may hold data on the target). When not, a target that
   * knows no run of this id can exist (a project it created itself) need not read the run's state.
   */
  ledgerStarted?: boolean;
}

export interface TargetProject {
  /** `workspace/project`. */
  readonly qualifiedName: string;
}

/** A Neptune server (Protocol A or B), or a dry run that only counts. */
export interface Target {
  readonly kind: string;
  /**
   * The Neptune server written to: the API address its token names (never the token). A ledger records
   * what one server holds, so a pass against another server with the same ledger is refused (a dry run
   * has none).
   */
  readonly server?: string;
  /**
   * Checked once before any run is read: the credentials are accepted, the server answers, the
   * workspace exists (a ConfigError listing the workspaces the credentials reach when it does not).
   */
  preflight?(workspace: string, signal?: AbortSignal): Promise<void>;
  /** The workspaces the credentials reach, for the workspace prompt (undefined: not listable). */
  workspaces?(signal?: AbortSignal): Promise<string[] | undefined>;
  /** Looks the project up, creating it (private, with the description) when missing. */
  ensureProject(
    workspace: string,
    name: string,
    opts: { description: string; fields: readonly FieldAssignment[] },
    signal?: AbortSignal,
  ): Promise<TargetProject>;
  /** Creates the run, or re-opens the one with this custom run id: the same id reaches the same run. */
  openRun(project: TargetProject, customRunId: string, signal?: AbortSignal, creation?: RunCreation): Promise<TargetRun>;
  /** What the target can hold, for the mapping (Protocol A's when absent). May ask the server which protocol it speaks. */
  capabilities?(signal?: AbortSignal): Promise<TargetCapabilities>;
  /** Request counters for reports and benchmarks. */
  stats(): Record<string, number>;
  close(): Promise<void>;
}
