/**
 * The project's error vocabulary. Every error carries a stable `code` (the CLI maps codes to exit
 * codes in one place) and never a secret: messages are built from names, never from credentials.
 */
export class MigrationError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** An HTTP answer that is an error after retries (or not retryable). `url` has its query string removed. */
export class HttpError extends MigrationError {
  constructor(
    readonly status: number,
    readonly method: string,
    readonly url: string,
    message: string,
    readonly body?: string,
    options?: { cause?: unknown },
  ) {
    super(status === 401 || status === 403 ? 'AUTH' : 'HTTP', message, options);
  }
}

/** The request could not be completed at the transport level (reset, timeout) after retries. */
export class NetworkError extends MigrationError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('NETWORK', message, options);
  }
}

/** Bad settings: missing key or token, bad flag values. Lists every problem at once. */
export class ConfigError extends MigrationError {
  constructor(readonly problems: string[]) {
    super('CONFIG', problems.join('; '));
  }
}

/** The source's data broke a rule (bad JSON, missing field); names the run and the field. */
export class SourceDataError extends MigrationError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('SOURCE_DATA', message, options);
  }
}

/** The source says a file it listed does not exist (no longer listed by W&B, gone from a run folder on disk): no later pass can fetch it. */
export class SourceFileGone extends SourceDataError {}

/**
 * Whether a failed download can never succeed later, so a report line is all there is to do; every
 * other failure (5xx/429 or resets past the retries, a signed URL that could not be renewed) may pass
 * on a later try. The rule is the W&B SDK's: wandb/sdk/internal/internal_api.py
 * `check_httpx_exc_retriable` retries timeouts, network errors and 308/408/409/429/500/502/503/504,
 * never 404 or 410 — and RFC 9110 §15.5.5/§15.5.11: 404 "did not find a current representation",
 * 410 "likely to be permanent".
 */
export function isFileGone(e: unknown): e is MigrationError {
  return e instanceof SourceFileGone || (e instanceof HttpError && (e.status === 404 || e.status === 410));
}

/** A GraphQL 200 answer that carried `errors`. */
export class GraphQLError extends MigrationError {
  constructor(readonly operation: string, message: string) {
    super('GRAPHQL', `${operation}: ${message}`);
  }
}

/** The target refused data (per-operation errors, limits). */
export class TargetError extends MigrationError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('TARGET', message, options);
  }
}

export class AbortedError extends MigrationError {
  constructor(message = 'aborted') {
    super('ABORTED', message);
  }
}

export function isAbortError(e: unknown): boolean {
  return (
    e instanceof AbortedError ||
    (e instanceof Error && (e.name === 'AbortError' || (e as { code?: string }).code === 'ABORT_ERR'))
  );
}
