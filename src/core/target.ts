/**
 * What the mapping asks the Neptune side to write. Protocol-neutral (A and B both take these);
 * paths are `/`-joined attribute paths (`config/lr`, `monitoring/cpu`).
 */

/**
 * Limits of Neptune's Protocol A that the mapping shapes data to fit (splitting console lines,
 * shortening run ids) and the writer enforces: one place for both (neptune-client 1.x `limits.py`,
 * `types/series/string_series.py`).
 */
export const PROTOCOL_A_LIMITS = {
  customRunIdLength: 36,
  stringSeriesEntryLength: 1000,
  stringAtomLength: 16384,
} as const;

export type AtomValue =
  | { type: 'string'; value: string }
  /** A `bigint` only for an int64 target (Protocol B) and an integer a double cannot hold exactly. */
  | { type: 'int'; value: number | bigint }
  | { type: 'float'; value: number }
  | { type: 'bool'; value: boolean }
  /** Unix milliseconds. */
  | { type: 'datetime'; value: number }
  | { type: 'stringSet'; values: string[] };

export interface FieldAssignment {
  path: string;
  value: AtomValue;
}

export interface SeriesPoint<T extends number | string> {
  step: number;
  /** Unix milliseconds. */
  timestampMs: number;
  value: T;
}

/** One float series of a `FloatSeriesBlock`: row i is a point where `present` is absent or `present[i]` is 1. */
export interface FloatColumn {
  path: string;
  values: Float64Array;
  present?: Uint8Array;
}

/**
 * Float series points by column (history's fast path): the points of several series at the rows of
 * one block of history, steps increasing. Stands for `SeriesPoint`s `{step: steps[i], timestampMs:
 * timestampsMs[i], value: values[i]}` of each series at its present rows (`floatBlockPoints`).
 */
export interface FloatSeriesBlock {
  steps: Float64Array;
  /** Unix milliseconds, per row. */
  timestampsMs: Float64Array;
  series: FloatColumn[];
}

/** The points a block stands for, series by series (for targets without a block method). */
export function floatBlockPoints(block: FloatSeriesBlock, column: FloatColumn): SeriesPoint<number>[] {
  const out: SeriesPoint<number>[] = [];
  const { steps, timestampsMs } = block;
  const { values, present } = column;
  for (let i = 0; i < steps.length; i++) if (!present || present[i] === 1) out.push({ step: steps[i], timestampMs: timestampsMs[i], value: values[i] });
  return out;
}

/** How many points a column of a block holds (`rows`: the block's row count). */
export function columnPoints(column: FloatColumn, rows: number): number {
  const { present } = column;
  if (!present) return rows;
  let n = 0;
  for (let i = 0; i < rows; i++) n += present[i];
  return n;
}

/**
 * `image`: an image series (Protocol A `logImages`; Protocol B: a file series of `FileRef`s);
 * `histogram`: a histogram series (Protocol B only). History media, issue 11.
 */
export type SeriesKind = 'float' | 'string' | 'image' | 'histogram';

export interface SeriesAppend {
  path: string;
  kind: SeriesKind;
  point: SeriesPoint<number> | SeriesPoint<string>;
}

/** One image of an image series (Protocol A `logImages`, swagger `LogImageEntry`/`Image`). */
export interface ImagePoint {
  step: number;
  /** Unix milliseconds. */
  timestampMs: number;
  /** The image file's bytes (the writer encodes them). */
  data: Uint8Array;
  name?: string;
  description?: string;
  /** The same bytes as a local file, for writers that upload files (Protocol B); absent in a dry run. */
  localPath?: string;
}

/**
 * One point of a histogram series (Protocol B `Histogram`, neptune-api.md §3.2): `edges` has one
 * more entry than `values`; `counts` are whole numbers of entries, `densities` any other weights.
 */
export interface HistogramPoint {
  step: number;
  /** Unix milliseconds. */
  timestampMs: number;
  edges: number[];
  values: number[];
  kind: 'counts' | 'densities';
}

/** A file-set entry: a local file and its path inside the set. */
export interface FileSetEntry {
  localPath: string;
  relativePath: string;
  sizeBytes: number;
}

/**
 * What a target did with the images of a `logImages` call. An image neither refused nor already
 * present was written: its bytes were sent and the target kept them.
 */
export interface ImagesAnswer {
  /** What the target refused, by series path (the caller names the W&B key). */
  refused: Omission[];
  /**
   * Steps of images whose bytes the target already held, proven by a checksum its storage computed
   * (Protocol B: an upload from before a kill; uploads.ts `held`): their points are written, their
   * bytes not sent again. The report counts them as already present, with no bytes written, as
   * FileSetAnswer's `alreadyPresent` files.
   */
  alreadyPresent: number[];
}

/**
 * What a target did with the entries of a file-set upload. An entry in neither list was written: its
 * bytes were sent and the target kept them.
 */
export interface FileSetAnswer {
  /** What the target refused, a line each (subject: the entry's relative path). */
  refused: Omission[];
  /**
   * Relative paths of entries the target already held with the same bytes, proven by a checksum its
   * storage computed (an upload from before a lost ledger or a kill): kept, their bytes not sent again.
   * The report counts them as already present, with no bytes written.
   */
  alreadyPresent: string[];
}

/** Why something the source held was not written. Each becomes a counted line in the report. */
export type OmissionReason =
  | 'excluded-by-default'
  | 'non-finite'
  | 'renamed'
  | 'too-large'
  | 'int-out-of-range'
  | 'invalid-path'
  | 'field-limit'
  | 'step-not-increasing'
  | 'download-failed'
  | 'empty-file'
  | 'rejected-by-server'
  | 'sampled-source'
  | 'type-mismatch'
  | 'unsupported-value'
  | 'null-value'
  | 'console-overwritten'
  | 'upload-failed'
  /** The target still holds a field the W&B run no longer has, and cannot delete it (Protocol B). */
  | 'cannot-delete';

export interface Omission {
  reason: OmissionReason;
  /** What was left out: a key, a path, a file name. */
  subject: string;
  /** How many items (points, files…) this line stands for. */
  count: number;
  detail?: string;
}
