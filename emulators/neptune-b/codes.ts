/**
 * Ingest codes (neptune-api.md §3.8; neptune-query@00fcb6b `.../neptune_pb/ingest/v1/ingest.proto` enum IngestCode)
 * and the google_rpc.Code each is reported under (`.../proto/google_rpc/code.proto`, standard numbering).
 */
export const IngestCode = {
  OK: 0,
  BATCH_CONTAINS_DEPENDENT_RUNS: 4,
  PROJECT_NOT_FOUND: 8,
  PROJECT_INVALID_NAME: 9,
  RUN_NOT_FOUND: 10,
  RUN_DUPLICATE: 11,
  RUN_CONFLICTING: 12,
  RUN_FORK_PARENT_NOT_FOUND: 13,
  RUN_INVALID_CREATION_PARAMETERS: 14,
  FIELD_PATH_EXCEEDS_SIZE_LIMIT: 16,
  FIELD_PATH_EMPTY: 17,
  FIELD_PATH_INVALID: 18,
  FIELD_PATH_NON_WRITABLE: 19,
  FIELD_TYPE_UNSUPPORTED: 20,
  FIELD_TYPE_CONFLICTING: 21,
  SERIES_POINT_DUPLICATE: 24,
  SERIES_STEP_NON_INCREASING: 25,
  SERIES_STEP_NOT_AFTER_FORK_POINT: 26,
  SERIES_TIMESTAMP_DECREASING: 27,
  FLOAT_VALUE_NAN_INF_UNSUPPORTED: 32,
  DATETIME_VALUE_OUT_OF_RANGE: 33,
  STRING_VALUE_EXCEEDS_SIZE_LIMIT: 36,
  STRING_SET_EXCEEDS_SIZE_LIMIT: 37,
  FILE_REF_EXCEEDS_SIZE_LIMIT: 38,
  SERIES_STEP_TOO_LARGE: 40,
  SERIES_STEP_INVALID: 41,
  SERIES_PREVIEW_STEP_NOT_AFTER_LAST_COMMITTED_STEP: 42,
  HISTOGRAM_BIN_EDGES_CONTAINS_NAN: 50,
  HISTOGRAM_TOO_MANY_BINS: 51,
  HISTOGRAM_BIN_EDGES_NOT_INCREASING: 52,
  HISTOGRAM_VALUES_LENGTH_DOESNT_MATCH_BINS: 53,
  INGEST_SUSPENDED: 63,
  INTERNAL: 64,
} as const;
export type IngestCodeValue = (typeof IngestCode)[keyof typeof IngestCode];

export const RpcCode = {
  OK: 0, INVALID_ARGUMENT: 3, NOT_FOUND: 5, ALREADY_EXISTS: 6, FAILED_PRECONDITION: 9, INTERNAL: 13, UNAVAILABLE: 14,
} as const;

/**
 * The protos do not say which google_rpc.Code goes with which IngestCode; clients only test
 * `code == UNAVAILABLE` (not processed yet) and `code != OK` (then read `detail`) —
 * neptune-client-scale@b40a896 `src/neptune_scale/sync/sync_process.py StatusTrackingThread.work`.
 * The pairing below follows google_rpc's meanings; it must never be UNAVAILABLE for a processed request.
 */
export function rpcCodeFor(code: IngestCodeValue): number {
  switch (code) {
    case IngestCode.OK: return RpcCode.OK;
    case IngestCode.PROJECT_NOT_FOUND: case IngestCode.RUN_NOT_FOUND: case IngestCode.RUN_FORK_PARENT_NOT_FOUND:
      return RpcCode.NOT_FOUND;
    case IngestCode.RUN_DUPLICATE: case IngestCode.SERIES_POINT_DUPLICATE:
      return RpcCode.ALREADY_EXISTS;
    case IngestCode.RUN_CONFLICTING: case IngestCode.FIELD_TYPE_CONFLICTING: case IngestCode.SERIES_STEP_NON_INCREASING:
    case IngestCode.SERIES_STEP_NOT_AFTER_FORK_POINT: case IngestCode.SERIES_TIMESTAMP_DECREASING:
    case IngestCode.SERIES_PREVIEW_STEP_NOT_AFTER_LAST_COMMITTED_STEP: case IngestCode.INGEST_SUSPENDED:
      return RpcCode.FAILED_PRECONDITION;
    case IngestCode.INTERNAL: return RpcCode.INTERNAL;
    default: return RpcCode.INVALID_ARGUMENT;
  }
}

/** Run- or project-level codes: the whole request is refused (SCALE treats them as fatal, §3.5). */
export const RUN_LEVEL: ReadonlySet<number> = new Set([
  IngestCode.PROJECT_NOT_FOUND, IngestCode.PROJECT_INVALID_NAME, IngestCode.RUN_NOT_FOUND,
  IngestCode.RUN_INVALID_CREATION_PARAMETERS, IngestCode.INGEST_SUSPENDED,
]);
