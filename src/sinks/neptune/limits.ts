import { PROTOCOL_A_LIMITS } from '../../core/target.ts';

/**
 * Write limits. Defaults follow what neptune-client 1.x does (batch shapes) and what Neptune documents
 * (value limits); each can be overridden, e.g. for a server that accepts larger batches.
 */
export interface NeptuneLimits {
  /** Server cap on fields per run (ATTRIBUTES_PER_EXPERIMENT_LIMIT_EXCEEDED). @default 9000 */
  maxFieldsPerRun: number;
  /** String atom length, in UTF-16 code units as the Python client counts characters. @default 16384 */
  maxStringLength: number;
  /** String series entry length. @default 1000 */
  maxSeriesStringLength: number;
  /** Attribute path length in UTF-8 bytes. @default 1024 */
  maxPathBytes: number;
  /**
   * Points per `logFloats` operation. The client sends 100; the swagger model (`LogFloatsOperation.entries`)
   * sets no maximum, so larger values are allowed — the byte cap below still bounds a request. @default 100
   */
  maxFloatPointsPerOp: number;
  /** Points per `logStrings` operation. @default 10 */
  maxStringPointsPerOp: number;
  /** Operations per `executeOperations` request (`NEPTUNE_ASYNC_BATCH_SIZE`). @default 1000 */
  maxOpsPerRequest: number;
  /** Estimated JSON bytes per `executeOperations` request; a batch is cut before it grows past this. @default 8 MiB */
  maxRequestBytes: number;
  /** One image of an image series, in bytes before encoding (neptune-client 1.x `internal/utils/limits.py`: 32 MB). @default 32 MiB */
  maxImageBytes: number;
  /** File-set package: total bytes of the files in one tar.gz. @default 5 MiB */
  fileSetPackageBytes: number;
  /** File-set package: files in one tar.gz. @default 500 */
  fileSetPackageFiles: number;
}

export const DEFAULT_LIMITS: NeptuneLimits = {
  maxFieldsPerRun: 9000,
  maxStringLength: PROTOCOL_A_LIMITS.stringAtomLength,
  maxSeriesStringLength: PROTOCOL_A_LIMITS.stringSeriesEntryLength,
  maxPathBytes: 1024,
  maxFloatPointsPerOp: 100,
  maxStringPointsPerOp: 10,
  maxOpsPerRequest: 1000,
  maxRequestBytes: 8 * 1024 * 1024,
  maxImageBytes: 32 * 1024 * 1024,
  fileSetPackageBytes: 5 * 1024 * 1024,
  fileSetPackageFiles: 500,
};

export function resolveLimits(partial?: Partial<NeptuneLimits>): NeptuneLimits {
  const out = { ...DEFAULT_LIMITS };
  for (const [k, v] of Object.entries(partial ?? {}) as [keyof NeptuneLimits, number | undefined][]) {
    if (typeof v === 'number' && Number.isFinite(v) && v > 0) out[k] = Math.floor(v);
  }
  return out;
}
