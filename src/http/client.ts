import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { AbortedError, HttpError, NetworkError } from '../core/errors.ts';
import { silentLogger, type Logger } from '../core/logger.ts';
import { HostLimiter } from './host-limiter.ts';
import { redactUrl, scrubSecrets, urlSecrets } from './redact.ts';
import { isCertificateError, retryDelayMs, serverRequestedDelayMs, type RetryOptions } from './retry-policy.ts';
import { sleep } from './sleep.ts';
import { Agent, request } from './undici-lean.ts';

export interface HttpClientOptions {
  /** Service name used in error messages ("W&B", "Neptune"). */
  service: string;
  retry?: RetryOptions;
  /** Requests in flight per host. @default 8 */
  concurrencyPerHost?: number;
  /**
   * Time to wait for response headers, and between body chunks. A server that accepts connections
   * and never answers costs this much per attempt. @default 60_000
   */
  timeoutMs?: number;
  /** Time to wait for a connection. @default 10_000 */
  connectTimeoutMs?: number;
  /** Told before every wait for a retry, so the progress display can say what is being retried. */
  onRetry?: (info: HttpRetryInfo) => void;
  /** Told when an attempt has had no answer for `waitNoticeMs` (the display says "waiting"). */
  onWaiting?: (info: { service: string; what: string; waitedMs: number }) => void;
  /** @default 10_000 */
  waitNoticeMs?: number;
  log?: Logger;
  /** Values to scrub from any error text (the API key, tokens). */
  secrets?: () => readonly (string | undefined)[];
  dispatcher?: Dispatcher;
  /** Called for every HTTP attempt (for request counting in benchmarks and reports). */
  onAttempt?: (info: { method: string; host: string; status?: number; /** The caller asked for this status (a 404 meaning "not there"): not a failure. */ accepted?: boolean }) => void;
}

export interface HttpRetryInfo {
  service: string;
  /** The request in words, with its URL redacted. */
  what: string;
  /** The attempt that failed (1 = the first). */
  attempt: number;
  /** Attempts allowed in all. */
  attempts: number;
  delayMs: number;
  reason: string;
}

/** Defaults a user can change (`--timeout`): sane for a hung server, generous for a slow one. */
export const DEFAULT_TIMEOUT_MS = 60_000;
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: string;
  /** A function is called for every attempt, so a retry can carry new headers (a refreshed token). */
  headers?: Record<string, string> | (() => Record<string, string>);
  /** A function so that every retry sends a fresh body (streams can only be read once). */
  body?: string | Uint8Array | (() => string | Uint8Array | Readable);
  signal?: AbortSignal;
  /** Statuses returned to the caller instead of thrown (e.g. 404 for "does it exist?"). */
  acceptStatus?: readonly number[];
  /** Extra statuses the caller wants retried (e.g. a 401 after which it refreshed a token). */
  retryStatus?: (status: number, body: string) => Promise<boolean> | boolean;
  /** What the request is about, for error messages: "runs of entity/project". */
  what?: string;
  /**
   * Called before a retry that follows an outcome after which the server may have applied the
   * request: a transport error, a 5xx, a 2xx whose body broke off. A write that is not idempotent
   * (appending series points) learns there what the server kept, so the next attempt (its body is a
   * function) sends only the rest.
   */
  beforeAmbiguousRetry?: () => Promise<void>;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface HttpStreamResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Readable;
}

/** Retries after a caller's fix (`retryStatus`, e.g. a refreshed token) one request may take on top of its budget. */
const MAX_RENEWALS_PER_REQUEST = 10;

/**
 * One HTTP client per service: a keep-alive pool, bounded retries honouring Retry-After, a per-host
 * concurrency limit that backs off on 429, and one AbortSignal threaded through every wait.
 */
export class HttpClient {
  private readonly limiters = new Map<string, HostLimiter>();
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  private readonly log: Logger;
  requests = 0;
  rateLimited = 0;

  constructor(private readonly opts: HttpClientOptions) {
    this.log = opts.log ?? silentLogger;
    this.ownsDispatcher = !opts.dispatcher;
    this.dispatcher =
      opts.dispatcher ??
      new Agent({
        keepAliveTimeout: 30_000,
        connections: Math.max(4, (opts.concurrencyPerHost ?? 8) * 2),
        headersTimeout: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        bodyTimeout: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        connect: { timeout: opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS },
      });
  }

  limiterFor(url: string): HostLimiter {
    const host = new URL(url).host;
    let l = this.limiters.get(host);
    if (!l) {
      l = new HostLimiter({ concurrency: this.opts.concurrencyPerHost ?? 8 });
      this.limiters.set(host, l);
    }
    return l;
  }

  /** Sends a request and reads the whole body. Non-2xx (after retries) throws HttpError. */
  async request(req: HttpRequest): Promise<HttpResponse> {
    return this.withRetries(req, async (res) => {
      const body = Buffer.from(await res.body.arrayBuffer());
      return { status: res.statusCode, headers: res.headers, body };
    });
  }

  /** Sends a request and hands back the body as a stream once a 2xx has arrived. */
  async stream(req: HttpRequest): Promise<HttpStreamResponse> {
    return this.withRetries(req, async (res) => ({
      status: res.statusCode,
      headers: res.headers,
      body: res.body as unknown as Readable,
    }));
  }

  async close(): Promise<void> {
    if (this.ownsDispatcher) await this.dispatcher.close();
  }

  private describe(req: HttpRequest): string {
    const where = `${req.method} ${redactUrl(req.url)}`;
    return req.what ? `${this.opts.service} ${req.what} (${where})` : `${this.opts.service} ${where}`;
  }

  /** Says a retry is coming (log and display), then waits for it. */
  private async retryWait(req: HttpRequest, attempt: number, delayMs: number, reason: string): Promise<void> {
    const info: HttpRetryInfo = {
      service: this.opts.service,
      what: this.describe(req),
      attempt,
      attempts: (this.opts.retry?.retries ?? 6) + 1,
      delayMs,
      reason: this.scrub(reason, req.url),
    };
    this.log.debug(`${info.what}: ${info.reason}; retry ${attempt} in ${delayMs} ms`);
    this.opts.onRetry?.(info);
    await sleep(delayMs, req.signal);
  }

  /** Starts the "no answer yet" notice of one attempt; returns its cancel. */
  private waitingNotice(req: HttpRequest): () => void {
    const onWaiting = this.opts.onWaiting;
    if (!onWaiting) return () => {};
    const every = this.opts.waitNoticeMs ?? 10_000;
    let waited = 0;
    const timer = setInterval(() => {
      waited += every;
      onWaiting({ service: this.opts.service, what: this.describe(req), waitedMs: waited });
    }, every);
    timer.unref();
    return () => clearInterval(timer);
  }

  /** The text without the client's secrets, nor the request URL's (`urlSecrets`: a signed URL's). */
  private scrub(text: string, url?: string): string {
    return scrubSecrets(text, [...(this.opts.secrets?.() ?? []), ...(url ? urlSecrets(url) : [])]);
  }

  private async withRetries<T>(
    req: HttpRequest,
    onOk: (res: Dispatcher.ResponseData) => Promise<T & { status: number }>,
  ): Promise<T> {
    const limiter = this.limiterFor(req.url);
    const host = new URL(req.url).host;
    // Set when the last attempt may have been applied; settled before the next one, outside the limiter.
    let ambiguous = false;
    let renewals = 0;
    for (let attempt = 1; ; attempt++) {
      if (req.signal?.aborted) throw new AbortedError(`${this.describe(req)}: aborted`);
      if (ambiguous && req.beforeAmbiguousRetry) await req.beforeAmbiguousRetry();
      ambiguous = false;
      const release = await limiter.acquire(req.signal);
      let res: Dispatcher.ResponseData;
      const answered = this.waitingNotice(req);
      try {
        this.requests++;
        const body = typeof req.body === 'function' ? req.body() : req.body;
        res = await request(this.dispatcher, req.url, {
          method: req.method,
          headers: typeof req.headers === 'function' ? req.headers() : req.headers,
          body,
          signal: req.signal,
        });
      } catch (error) {
        answered();
        release();
        this.opts.onAttempt?.({ method: req.method, host });
        if (req.signal?.aborted) throw new AbortedError(`${this.describe(req)}: aborted`);
        // The request may have reached the server before the connection failed.
        ambiguous = true;
        const delay = retryDelayMs({ kind: 'network', error }, attempt, this.opts.retry);
        const reason = error instanceof Error ? error.message : String(error);
        if (delay === undefined) {
          if (isCertificateError(error)) {
            throw new NetworkError(
              `${this.describe(req)}: the server's TLS certificate is not trusted (${this.scrub(reason, req.url)}); for a private CA, point NODE_EXTRA_CA_CERTS at its certificate file`,
              { cause: error },
            );
          }
          throw new NetworkError(`${this.describe(req)} failed after ${attempt} attempts: ${this.scrub(reason, req.url)}`, {
            cause: error,
          });
        }
        await this.retryWait(req, attempt, delay, reason);
        continue;
      }
      answered();
      const status = res.statusCode;
      limiter.answered(res.headers);
      this.opts.onAttempt?.({ method: req.method, host, status, accepted: req.acceptStatus?.includes(status) ?? false });
      if ((status >= 200 && status < 300) || req.acceptStatus?.includes(status)) {
        try {
          const out = await onOk(res);
          limiter.succeeded();
          return out;
        } catch (error) {
          // The body broke off mid-way (reset, truncation): the whole request is retried.
          if (req.signal?.aborted) throw new AbortedError(`${this.describe(req)}: aborted`);
          // The server answered 2xx: it applied the request.
          ambiguous = true;
          const delay = retryDelayMs({ kind: 'network', error }, attempt, this.opts.retry);
          const reason = error instanceof Error ? error.message : String(error);
          if (delay === undefined) {
            throw new NetworkError(`${this.describe(req)}: body failed after ${attempt} attempts: ${this.scrub(reason, req.url)}`, {
              cause: error,
            });
          }
          await this.retryWait(req, attempt, delay, `body: ${reason}`);
          continue;
        } finally {
          release();
        }
      }
      const text = await res.body.text().catch(() => '');
      release();
      // A 5xx may come after the server applied the request; a 4xx means it did not.
      ambiguous = status >= 500;
      if (status === 429) {
        this.rateLimited++;
        limiter.rateLimited(serverRequestedDelayMs(res.headers) ?? 1000);
      }
      const delay = retryDelayMs({ kind: 'response', status, headers: res.headers }, attempt, this.opts.retry);
      if (delay === undefined && req.retryStatus && renewals < MAX_RENEWALS_PER_REQUEST && (await req.retryStatus(status, text))) {
        // The caller fixed what was wrong (a refreshed token): sent again at once, and not a failed
        // attempt, so it does not use up the retry budget. Bounded, so a server that refuses every
        // new token still ends.
        renewals++;
        attempt--;
        this.log.debug(`${this.describe(req)}: HTTP ${status}; sent again after the caller's fix`);
        continue;
      }
      if (delay === undefined) {
        const snippet = this.scrub(text.slice(0, 500), req.url);
        throw new HttpError(status, req.method, redactUrl(req.url), `${this.describe(req)}: HTTP ${status}${snippet ? `: ${snippet}` : ''}`, snippet);
      }
      await this.retryWait(req, attempt, delay, `HTTP ${status}`);
    }
  }
}
