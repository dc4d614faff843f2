/**
 * The data model the W&B emulator serves. A GenEntity is the ground truth tests compare against:
 * the generator builds one from a seed, a fixture folder can be loaded into one, and the server
 * only ever reads it. Row streams are lazy so huge runs never sit in memory.
 */

export type RunState = 'running' | 'finished' | 'crashed' | 'failed' | 'killed';

export interface GenEntity {
  name: string;
  projects: GenProject[];
  /** Artifact versions of the entity's projects, with the runs that logged and used them. */
  artifacts?: import('./artifacts.ts').GenArtifact[];
}

export interface GenProject {
  name: string;
  createdAt: string;
  runs: GenRun[];
}

export interface GenFile {
  /** Run-relative path, e.g. `media/images/img_3_ab12.png`. */
  name: string;
  sizeBytes: number;
  /** base64 of the MD5 digest, as W&B lists it. */
  md5: string;
  /** The exact bytes; an iterable for content too big to hold at once. */
  content(): Buffer | Iterable<Buffer>;
  mimetype?: string;
  updatedAt?: string;
}

export interface GenRun {
  /** The run id (`name` in GraphQL). */
  id: string;
  displayName: string;
  notes?: string;
  tags: string[];
  group?: string;
  jobType?: string;
  state: RunState;
  sweep?: string;
  createdAt: string;
  heartbeatAt: string;
  host?: string;
  commit?: string;
  user: string;
  /** The TRUE (unwrapped) config; the server serves it W&B-wrapped `{key: {value, desc}}`. */
  config: Record<string, unknown>;
  /** How the server wraps config: old SDKs `{value, desc: null}` (default), new ones `{value}`. */
  configWrap?: 'value-desc' | 'value';
  /**
   * A config text that is not valid JSON, served instead of `config` (then `{}`), so the reader's
   * promise for unreadable config (README, "The report": raw text kept under `wandb/configRaw`) is tested.
   */
  configJson?: string;
  summary: Record<string, unknown>;
  historyRowCount: number;
  /** -1 when no history. */
  lastStep: number;
  /** Rows in step order with `_step`, `_timestamp`, `_runtime` and their keys (sparse keys only on their steps). */
  history(): Iterable<Record<string, unknown>>;
  /** Optional fast path: rows with `_step >= minStep`, in order (the server falls back to skipping). */
  historyFrom?(minStep: number): Iterable<Record<string, unknown>>;
  /** Rows with `_step < exportedBelowStep` are in the parquet export; the rest is the live tail. */
  exportedBelowStep: number;
  /** The system-metric samples W&B can still give (all of them, or the thinned set it kept). */
  systemEvents(): Iterable<Record<string, unknown>>;
  /**
   * `eventsLineCount`: the samples the run logged. `events(samples:)` is sampled and the total is
   * known only from this count (wandb-api.md §2.6.3, open question Q5): a run whose count exceeds what
   * `systemEvents()` yields is one W&B offers only in sampled form.
   */
  systemEventCount: number;
  /** Whether `wandb-events.jsonl` is among the run's files (older runs). */
  eventsFileListed: boolean;
  consoleLines: string[] | (() => Iterable<string>);
  /** Every file the run lists. */
  files: GenFile[];
}

export interface GeneratorSpec {
  seed: number;
  entity?: string;
  preset: 'all-shapes' | 'big-run' | 'many-small-runs';
  /** big-run: total float points (default 5_000_000). */
  points?: number;
  /** many-small-runs: number of runs (default 500). */
  runs?: number;
}
