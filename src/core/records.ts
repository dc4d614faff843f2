/**
 * The records that flow through the pipeline: source → mapping → sink.
 * Plain data, no I/O. Sources (W&B API, run folders on disk) produce these; the mapping turns them
 * into Neptune operations (see ./target.ts). Nothing here knows about HTTP, SQLite or files.
 */

/** Identifies a W&B run everywhere: ledger key, Neptune `sys/custom_run_id`, report lines. */
export interface RunKey {
  entity: string;
  project: string;
  /** W&B run id (the 8-character `name` in GraphQL, the folder suffix on disk). */
  runId: string;
}

/** `entity/project/runId`: how a run is named in messages, the ledger and the report. */
export function runPath(key: RunKey): string {
  return `${key.entity}/${key.project}/${key.runId}`;
}

export interface SourceProject {
  entity: string;
  name: string;
  /** Web URL of the project in W&B, e.g. `https://wandb.ai/<entity>/<project>`. */
  url?: string;
  createdAt?: string;
}

/** Everything a run holds besides its streams. Config and summary are already unwrapped. */
export interface RunInfo {
  key: RunKey;
  displayName?: string;
  notes?: string;
  tags: string[];
  group?: string;
  jobType?: string;
  /** running | finished | crashed | failed | killed | preempted … as W&B reports it. */
  state?: string;
  sweep?: string;
  /** ISO 8601, UTC. */
  createdAt?: string;
  heartbeatAt?: string;
  host?: string;
  commit?: string;
  user?: string;
  /** Web URL of the run. */
  url?: string;
  historyLineCount?: number;
  /** Highest `_step` W&B holds for the run (`historyKeys.lastStep`); -1 or undefined when none. */
  lastStep?: number;
  /**
   * How many files W&B lists for the run (`Run.fileCount`), where the source knows without a request:
   * a file saved to a finished run changes nothing else the listing carries.
   */
  fileCount?: number;
  /** Config with W&B's `{value, desc}` wrapping removed; `_wandb` kept (the mapping decides). */
  config: Record<string, unknown>;
  /** Summary as W&B holds it, keys starting with `_` included (the mapping decides). */
  summary: Record<string, unknown>;
  /** Any other provenance the source knows (written as `wandb/<name>`). */
  extra?: Record<string, string | number | boolean>;
}

/**
 * One history row. Values are decoded JSON: numbers (NaN and ±Infinity included), strings, booleans,
 * null, arrays and objects (media and tables carry `_type`). `_step` is lifted into `step`;
 * `_timestamp` (Unix seconds, float) into `timestamp`; other `_` keys (`_runtime`, `_wandb`) stay in `values`.
 */
export interface HistoryRow {
  step: number;
  timestamp?: number;
  values: Record<string, unknown>;
}

/**
 * One column of numbers in a `HistoryBlock`: `values[i]` is row i's value where `present` is absent or
 * `present[i]` is 1 (a parquet null or an absent key is 0, and its value is meaningless).
 */
export interface HistoryNumbers {
  key: string;
  values: Float64Array;
  present?: Uint8Array;
}

/**
 * History rows held by column: the fast path for a source that reads columns (the W&B parquet export),
 * beside `HistoryRow` for everything else. Rows `i` in `[0, length)` have increasing `steps[i]`.
 * Numeric cells are in `numbers` (no object per point); every other value (strings, booleans, media,
 * nested JSON, nulls of JSON rows) is in `rest[i]`, a row's `values` without its numbers. `keys` is the
 * order a row's keys are visited in (the order `Object.keys` gives for the row object), so a block turns
 * back into exactly the `HistoryRow`s the row path gives (`sources/history-block.ts`, `blockRows`).
 */
export interface HistoryBlock {
  length: number;
  steps: Float64Array;
  /** `_timestamp` where it is a number (Unix seconds); `present[i]` 0 where the row has none. */
  timestamps?: HistoryNumbers;
  numbers: HistoryNumbers[];
  /** Per row, the values not in `numbers` (undefined: none); absent when no row has any. */
  rest?: (Record<string, unknown> | undefined)[];
  /** Every key of `numbers` and `rest`, in row key order. */
  keys: readonly string[];
}

/** One system-metrics sample: `values` keys keep W&B's `system.` prefix (`system.cpu`, `system.gpu.0.gpu`). */
export interface SystemSample {
  /** Unix seconds, float. */
  timestamp: number;
  runtime?: number;
  values: Record<string, number>;
  /** Values that are not numbers (a string, null, a list, text that is not JSON), by key: their text, for the report. */
  unsupported?: Record<string, string>;
}

export interface SystemMetrics {
  /** True when the source only offered a down-sampled form (the report must say so). */
  sampled: boolean;
  /** How many samples the source says exist, where it says so (e.g. `eventsLineCount`). */
  totalAvailable?: number;
  samples: AsyncIterable<SystemSample>;
}

/** One console line, in order. `index` is 0-based and dense over the run's whole console output. */
export interface ConsoleLine {
  index: number;
  text: string;
  stream?: 'stdout' | 'stderr';
  /** Unix seconds, where the source knows it. */
  timestamp?: number;
  /** What the line showed before each bare-`\r` redraw, in order (sources/console-lines.ts). */
  overwritten?: string[];
}

/** A file the run holds, as listed by the source. */
export interface RunFile {
  /** Path relative to the run's files root, `/`-separated (`code/train.py`, `media/images/x.png`). */
  name: string;
  sizeBytes: number;
  /** Base64 MD5 as W&B reports it, where known. */
  md5?: string;
  updatedAt?: string;
}

/** A file made available on local disk for upload. `release` removes it when it was a temporary download. */
export interface LocalFile {
  path: string;
  sizeBytes: number;
  release(): Promise<void>;
}

/**
 * Something a source noticed that the report must show: damaged log blocks skipped, a sampled
 * system-metrics stream, a row it could not decode. Sources take an `onNotice` callback; they never
 * abort a run for damage they can step over.
 */
export interface SourceNotice {
  run?: RunKey;
  stream: 'run' | 'history' | 'system' | 'console' | 'files' | 'config' | 'summary' | 'log';
  kind: 'damaged' | 'skipped' | 'sampled' | 'invalid';
  message: string;
  /** How many records/points/bytes the notice stands for, where countable. */
  count?: number;
}
