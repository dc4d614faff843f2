import type { Readable } from 'node:stream';
import type { HttpClient, HttpResponse } from '../../http/client.ts';
import type { NeptuneAuth } from './auth.ts';
import type { NeptuneStats } from './stats.ts';

export const CLIENT_VERSION = '1.14.0';
const USER_AGENT = `wandb-to-neptune/0.1.0 (neptune-client/${CLIENT_VERSION} compatible)`;

export interface ApiCall {
  method: 'GET' | 'POST';
  /** Path under the API base, e.g. `/api/leaderboard/v1/attributes/operations`. */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  /** JSON body (serialised once; retries resend the same bytes). */
  json?: unknown;
  /** JSON body, as bytes, built anew for every attempt (after `beforeAmbiguousRetry` changed what is left to send). */
  jsonBytesPerAttempt?: () => Uint8Array;
  /** See `HttpRequest.beforeAmbiguousRetry`. */
  beforeAmbiguousRetry?: () => Promise<void>;
  /** Raw body: bytes, or a factory so a retry gets a fresh stream. */
  raw?: Uint8Array | (() => Readable);
  contentType?: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  acceptStatus?: readonly number[];
  what: string;
}

export function isAuthExpiredBody(body: string): boolean {
  return body.includes('AUTHORIZATION_TOKEN_EXPIRED');
}

/** Authenticated calls to the Neptune API base: bearer token, expiry refresh, byte accounting. */
export class NeptuneApi {
  constructor(
    private readonly http: HttpClient,
    private readonly auth: NeptuneAuth,
    private readonly stats: NeptuneStats,
  ) {}

  async url(path: string, query?: ApiCall['query'], signal?: AbortSignal): Promise<string> {
    const { apiUrl } = await this.auth.clientConfig(signal);
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) qs.set(k, String(v));
    const q = qs.toString();
    return `${apiUrl}${path}${q ? `?${q}` : ''}`;
  }

  async call(c: ApiCall): Promise<HttpResponse> {
    const url = await this.url(c.path, c.query, c.signal);
    let token = await this.auth.accessToken(c.signal);
    const headers: Record<string, string> = {
      'user-agent': USER_AGENT,
      'x-neptune-legacyclient': 'false',
      accept: 'application/json',
      ...c.headers,
    };
    let payload: Uint8Array | (() => Readable) | undefined = c.raw;
    if (c.json !== undefined) {
      payload = Buffer.from(JSON.stringify(c.json), 'utf8');
      headers['content-type'] = 'application/json';
    } else if (c.contentType) headers['content-type'] = c.contentType;
    const perAttempt = c.jsonBytesPerAttempt;
    if (perAttempt) headers['content-type'] = 'application/json';
    const fixed = payload instanceof Uint8Array ? payload : undefined;
    const factory = typeof payload === 'function' ? payload : undefined;
    const body = perAttempt
      ? () => {
          const bytes = perAttempt();
          this.stats.bytes += bytes.byteLength;
          return bytes;
        }
      : fixed !== undefined
        ? () => {
            this.stats.bytes += fixed.byteLength;
            return fixed;
          }
        : factory;
    return this.http.request({
      method: c.method,
      url,
      // Built per attempt: a token refreshed after a 401 goes out on the retry.
      headers: () => ({ ...headers, authorization: `Bearer ${token}` }),
      body,
      signal: c.signal,
      acceptStatus: c.acceptStatus,
      what: c.what,
      beforeAmbiguousRetry: c.beforeAmbiguousRetry,
      retryStatus: async (status, text) => {
        if (status !== 401 || !isAuthExpiredBody(text)) return false;
        token = await this.auth.renewAfterExpiry(token, c.signal);
        // An expired token is a refresh (counted in tokenRefreshes), not a failed attempt.
        this.stats.failedAttempts--;
        return true;
      },
    });
  }

  async json<T>(c: ApiCall): Promise<{ status: number; data: T | undefined }> {
    const res = await this.call(c);
    const text = res.body.toString('utf8');
    let data: T | undefined;
    try {
      data = text ? (JSON.parse(text) as T) : undefined;
    } catch {
      data = undefined;
    }
    return { status: res.status, data };
  }
}
