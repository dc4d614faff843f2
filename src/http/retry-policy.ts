/**
 * When to retry, and how long to wait: a pure function, so it can be tested without a clock or a server.
 * Retry: 408, 429, 5xx and transport errors. Never: other 4xx (a bad request stays bad; 401/403 are final).
 * `Retry-After` (seconds or an HTTP date) and `RateLimit-Reset` (seconds) win over backoff.
 */
export interface RetryOptions {
  /** Attempts after the first one. @default 6 */
  retries?: number;
  /** First backoff delay. @default 500 */
  baseDelayMs?: number;
  /** Backoff cap. @default 30_000 */
  maxDelayMs?: number;
  /** A server asking for a longer wait than this gets an error instead. @default 120_000 */
  maxRetryAfterMs?: number;
  /** Returns [0,1); injected so tests are deterministic. @default Math.random */
  random?: () => number;
}

export type AttemptOutcome =
  | { kind: 'response'; status: number; headers: Record<string, string | string[] | undefined> }
  | { kind: 'network'; error: unknown };

const RETRYABLE_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);

/**
 * OpenSSL's verdicts on a server certificate (Node's `tls` error codes): a certificate the machine
 * does not trust stays untrusted however often it is asked, so these are not retried.
 */
const CERTIFICATE_ERRORS = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED', 'CERT_REJECTED', 'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** The error (or its cause) is a refused server certificate. */
export function isCertificateError(error: unknown): boolean {
  for (let e = error, depth = 0; e && typeof e === 'object' && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && CERTIFICATE_ERRORS.has(code)) return true;
  }
  return false;
}

export function isRetryableStatus(status: number): boolean {
  return RETRYABLE_STATUS.has(status) || (status >= 500 && status !== 501);
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name] ?? headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/** Milliseconds the server asked us to wait, from `Retry-After` or `RateLimit-Reset`, if it said. */
export function serverRequestedDelayMs(
  headers: Record<string, string | string[] | undefined>,
  now: number = Date.now(),
): number | undefined {
  const retryAfter = header(headers, 'retry-after');
  if (retryAfter !== undefined) {
    const seconds = Number(retryAfter);
    if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
    const date = Date.parse(retryAfter);
    if (Number.isFinite(date)) return Math.max(0, date - now);
  }
  const reset = header(headers, 'ratelimit-reset') ?? header(headers, 'x-ratelimit-reset');
  if (reset !== undefined) {
    const seconds = Number(reset);
    // RateLimit-Reset is delta-seconds; some servers send an epoch instead, recognisable by its size.
    if (Number.isFinite(seconds)) return Math.max(0, seconds > 1e9 ? seconds * 1000 - now : seconds * 1000);
  }
  return undefined;
}

/** Exponential backoff with full jitter between half and the whole step. */
export function backoffDelayMs(attempt: number, opts: RetryOptions = {}): number {
  const base = opts.baseDelayMs ?? 500;
  const cap = opts.maxDelayMs ?? 30_000;
  const step = Math.min(cap, base * 2 ** Math.max(0, attempt - 1));
  const random = opts.random ?? Math.random;
  return Math.round(step / 2 + random() * (step / 2));
}

/**
 * Delay before attempt number `attempt + 1` (attempt is 1-based: the attempt that just failed),
 * or `undefined` when the outcome must not be retried.
 */
export function retryDelayMs(outcome: AttemptOutcome, attempt: number, opts: RetryOptions = {}): number | undefined {
  if (attempt > (opts.retries ?? 6)) return undefined;
  if (outcome.kind === 'network') return isCertificateError(outcome.error) ? undefined : backoffDelayMs(attempt, opts);
  if (!isRetryableStatus(outcome.status)) return undefined;
  const asked = serverRequestedDelayMs(outcome.headers);
  if (asked !== undefined) {
    if (asked > (opts.maxRetryAfterMs ?? 120_000)) return undefined;
    // A small jitter on top keeps many workers from waking in the same millisecond.
    return asked + Math.round((opts.random ?? Math.random)() * 100);
  }
  return backoffDelayMs(attempt, opts);
}
