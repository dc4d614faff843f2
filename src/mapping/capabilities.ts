import { PROTOCOL_A_LIMITS } from '../core/target.ts';

/**
 * What a Neptune target can hold, handed to the pure mapping as a parameter so that one mapping serves
 * both protocols (mapping.md, columns A and B) without importing either writer.
 */
export interface TargetCapabilities {
  protocol: 'a' | 'b';
  /** Longest custom run id kept as is; longer W&B ids get a deterministic prefix + hash. */
  customRunIdLength: number;
  /** How `customRunIdLength` counts: A counts characters, B counts UTF-8 bytes. */
  customRunIdUnit: 'chars' | 'bytes';
  /** Longest string-series entry, in characters (code points); longer console lines are split. */
  stringSeriesEntryLength: number;
  /** Integer range of int atoms: beyond it an int becomes a float (when exact) or its text. */
  intRange: 'int32' | 'int64';
  /** NaN/±Infinity points: dropped and counted, or sent to a server that accepts them. */
  nonFinite: 'drop' | 'send';
  /** W&B histograms as histogram series (B) instead of files. */
  histograms: boolean;
  /** Most bins a histogram point may have (B: 512, neptune-api.md §3.8 code 51); more land as a file. */
  histogramBins: number;
  /**
   * Where an image's caption goes: the image's description (A `logImages`), or a string series
   * `<key>_caption` at the image's step (B: a `FileRef` has only path, size and MIME type).
   */
  imageCaptions: 'description' | 'string-series';
  /** Files land in file-set fields (A) or as single file fields under a namespace (B has no file sets). */
  files: 'file-sets' | 'files';
  /** `sys/creation_time` can be set to W&B's `created_at`. */
  backDating: boolean;
  /** Steps held as whole microsteps (B: `Step{whole, micro}`) rather than as the double (A); see `steps.ts`. */
  stepResolution?: 'micro';
}

/** Protocol A: Neptune 2.x (neptune-client 1.x limits, `core/target.ts`). */
export const PROTOCOL_A_CAPABILITIES: TargetCapabilities = {
  protocol: 'a',
  customRunIdLength: PROTOCOL_A_LIMITS.customRunIdLength,
  customRunIdUnit: 'chars',
  stringSeriesEntryLength: PROTOCOL_A_LIMITS.stringSeriesEntryLength,
  intRange: 'int32',
  nonFinite: 'drop',
  histograms: false,
  histogramBins: 0,
  imageCaptions: 'description',
  files: 'file-sets',
  backDating: false,
};

/**
 * Protocol B: Neptune 3.x ingest (neptune-api.md §3.3, §3.8): run ids up to 128 bytes, strings up to
 * 1 MiB (262,144 code points are at most 1 MiB of UTF-8), int64, back-dated runs. NaN/±Infinity only
 * where the user says the server takes them (code 32 otherwise).
 */
export function protocolBCapabilities(opts: { nonFinite?: 'drop' | 'send' } = {}): TargetCapabilities {
  return {
    protocol: 'b',
    customRunIdLength: 128,
    customRunIdUnit: 'bytes',
    stringSeriesEntryLength: 262_144,
    intRange: 'int64',
    nonFinite: opts.nonFinite ?? 'drop',
    // Histogram series: ≤ 512 bins, edges checked (codes 50–53); W&B images become file series.
    histograms: true,
    histogramBins: 512,
    imageCaptions: 'string-series',
    files: 'files',
    backDating: true,
    stepResolution: 'micro',
  };
}
