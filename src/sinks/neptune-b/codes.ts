import type { OmissionReason } from '../../core/target.ts';

/** `google_rpc.Code` values the status protocol uses (neptune-api.md §3.5, §3.8). */
export const RPC_OK = 0;
export const RPC_UNAVAILABLE = 14;

const RPC_NAMES = ['OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS', 'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED'];

/** `google_rpc.Code` by name (standard numbering). */
export function rpcName(code: number): string {
  return RPC_NAMES[code] ?? `code ${code}`;
}

/**
 * What an `IngestCode` (neptune-query `ingest.proto`) means for the migration: a warning that changes
 * nothing (an idempotent re-send), a value the report counts as not written, or a run- or project-level
 * failure that fails the run.
 */
export type CodeMeaning = { kind: 'warning' } | { kind: 'field'; reason: OmissionReason; name: string } | { kind: 'fatal'; name: string };

const FIELD: Record<number, [OmissionReason, string]> = {
  16: ['invalid-path', 'FIELD_PATH_EXCEEDS_SIZE_LIMIT'],
  17: ['invalid-path', 'FIELD_PATH_EMPTY'],
  18: ['invalid-path', 'FIELD_PATH_INVALID'],
  19: ['invalid-path', 'FIELD_PATH_NON_WRITABLE'],
  20: ['unsupported-value', 'FIELD_TYPE_UNSUPPORTED'],
  21: ['type-mismatch', 'FIELD_TYPE_CONFLICTING'],
  25: ['step-not-increasing', 'SERIES_STEP_NON_INCREASING'],
  26: ['step-not-increasing', 'SERIES_STEP_NOT_AFTER_FORK_POINT'],
  27: ['rejected-by-server', 'SERIES_TIMESTAMP_DECREASING'],
  32: ['non-finite', 'FLOAT_VALUE_NAN_INF_UNSUPPORTED'],
  33: ['unsupported-value', 'DATETIME_VALUE_OUT_OF_RANGE'],
  36: ['too-large', 'STRING_VALUE_EXCEEDS_SIZE_LIMIT'],
  37: ['too-large', 'STRING_SET_EXCEEDS_SIZE_LIMIT'],
  38: ['too-large', 'FILE_REF_EXCEEDS_SIZE_LIMIT'],
  40: ['unsupported-value', 'SERIES_STEP_TOO_LARGE'],
  41: ['unsupported-value', 'SERIES_STEP_INVALID'],
  42: ['step-not-increasing', 'SERIES_PREVIEW_STEP_NOT_AFTER_LAST_COMMITTED_STEP'],
  50: ['unsupported-value', 'HISTOGRAM_BIN_EDGES_CONTAINS_NAN'],
  51: ['unsupported-value', 'HISTOGRAM_TOO_MANY_BINS'],
  52: ['unsupported-value', 'HISTOGRAM_BIN_EDGES_NOT_INCREASING'],
  53: ['unsupported-value', 'HISTOGRAM_VALUES_LENGTH_DOESNT_MATCH_BINS'],
};

const FATAL: Record<number, string> = {
  4: 'BATCH_CONTAINS_DEPENDENT_RUNS',
  8: 'PROJECT_NOT_FOUND',
  9: 'PROJECT_INVALID_NAME',
  10: 'RUN_NOT_FOUND',
  13: 'RUN_FORK_PARENT_NOT_FOUND',
  14: 'RUN_INVALID_CREATION_PARAMETERS',
  63: 'INGEST_SUSPENDED',
  64: 'INTERNAL',
};

/** A CreateRun of a run that exists, with the same family and fork point (an idempotency warning). */
export const RUN_DUPLICATE = 11;
/** A CreateRun of a run that exists with another family or fork point (a warning since neptune-scale 0.29). */
export const RUN_CONFLICTING = 12;

/** 11 RUN_DUPLICATE, 12 RUN_CONFLICTING (a warning since neptune-scale 0.29), 24 SERIES_POINT_DUPLICATE. */
const WARNINGS = new Set([0, 11, 12, 24]);

export function meaningOf(ingestCode: number): CodeMeaning {
  if (WARNINGS.has(ingestCode)) return { kind: 'warning' };
  const f = FIELD[ingestCode];
  if (f) return { kind: 'field', reason: f[0], name: f[1] };
  // An unknown code is not silently taken as success: the run fails and says which code it was.
  return { kind: 'fatal', name: FATAL[ingestCode] ?? `ingest code ${ingestCode}` };
}
