/** Request accounting, for the migration report and benchmarks. Mutable counters owned by one client. */
export interface NeptuneStats {
  /** HTTP attempts (retries included). */
  requests: number;
  /** Attempts answered with 429. */
  rateLimited: number;
  /** Attempts without a 2xx answer (network errors, retried statuses); an expected 404 ("project missing") is not one. */
  failedAttempts: number;
  /** executeOperations requests acknowledged. */
  batches: number;
  /** Operations acknowledged by the server. */
  operations: number;
  /** Series points acknowledged by the server. */
  points: number;
  /** Request body bytes put on the wire (every attempt). */
  bytes: number;
  /** Files uploaded (single files and file-set members). */
  files: number;
  /** Access-token refreshes and re-exchanges. */
  tokenRefreshes: number;
}

export function emptyStats(): NeptuneStats {
  return { requests: 0, rateLimited: 0, failedAttempts: 0, batches: 0, operations: 0, points: 0, bytes: 0, files: 0, tokenRefreshes: 0 };
}
