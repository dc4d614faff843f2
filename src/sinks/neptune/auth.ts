import { HttpError, TargetError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { HttpClient } from '../../http/client.ts';
import { parseClientConfig, type ClientConfigInfo } from './config.ts';
import { decodeJwtClaims, needsRefresh, type JwtClaims } from './jwt.ts';
import type { NeptuneStats } from './stats.ts';
import type { NeptuneCredentials } from './token.ts';

interface TokenPair {
  access: string;
  refresh: string;
  claims: JwtClaims | undefined;
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

/**
 * Protocol A session: client-config discovery, API-token → OAuth exchange, refresh before expiry and
 * after an "expired" 401. The API token and access tokens are only sent to the Neptune API base; the
 * refresh token only to the issuer's token endpoint, and only when that issuer lives on the same origin.
 */
export class NeptuneAuth {
  private config: ClientConfigInfo | undefined;
  private tokens: TokenPair | undefined;
  private pending: Promise<TokenPair> | undefined;
  private configPending: Promise<ClientConfigInfo> | undefined;

  constructor(
    private readonly http: HttpClient,
    private readonly creds: NeptuneCredentials,
    private readonly stats: NeptuneStats,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** Current secrets, for scrubbing error texts. */
  secrets(): string[] {
    return [this.creds.apiToken, this.creds.apiKey, this.tokens?.access, this.tokens?.refresh].filter(
      (s): s is string => !!s,
    );
  }

  async clientConfig(signal?: AbortSignal): Promise<ClientConfigInfo> {
    if (this.config) return this.config;
    this.configPending ??= this.discover(signal).finally(() => (this.configPending = undefined));
    return this.configPending;
  }

  private async discover(signal?: AbortSignal): Promise<ClientConfigInfo> {
    const url = `${this.creds.apiBase}/api/backend/v1/clients/config?alpha=true`;
    const res = await this.http.request({
      method: 'GET',
      url,
      headers: { 'x-neptune-api-token': this.creds.apiToken, accept: 'application/json' },
      signal,
      acceptStatus: [404],
      what: 'client config',
    });
    if (res.status === 404) {
      this.log.debug('Neptune: no client config endpoint; using the token address and default upload settings');
      this.config = parseClientConfig({}, this.creds.apiBase);
    } else this.config = parseClientConfig(parseJson(res.body), this.creds.apiBase);
    return this.config;
  }

  /** A valid access token, refreshed first when fewer than 30 s remain. */
  async accessToken(signal?: AbortSignal): Promise<string> {
    const t = this.tokens;
    if (t && !needsRefresh(t.claims, this.now())) return t.access;
    return (await this.renew(t, signal)).access;
  }

  /**
   * The server said the token expired (401 AUTHORIZATION_TOKEN_EXPIRED). Renews unless another
   * request already did, and returns the token to retry with.
   */
  async renewAfterExpiry(staleAccess: string, signal?: AbortSignal): Promise<string> {
    if (this.tokens && this.tokens.access !== staleAccess) return this.tokens.access;
    return (await this.renew(this.tokens, signal)).access;
  }

  private renew(current: TokenPair | undefined, signal?: AbortSignal): Promise<TokenPair> {
    this.pending ??= (async () => {
      try {
        const next = current ? await this.refreshOrExchange(current, signal) : await this.exchange(signal);
        this.tokens = next;
        return next;
      } finally {
        this.pending = undefined;
      }
    })();
    return this.pending;
  }

  private async exchange(signal?: AbortSignal): Promise<TokenPair> {
    const { apiUrl } = await this.clientConfig(signal);
    let res;
    try {
      res = await this.http.request({
        method: 'GET',
        url: `${apiUrl}/api/backend/v1/authorization/oauth-token`,
        headers: { 'x-neptune-api-token': this.creds.apiToken, accept: 'application/json' },
        signal,
        what: 'API token exchange',
      });
    } catch (e) {
      if (e instanceof HttpError && (e.status === 401 || e.status === 403)) {
        throw new HttpError(e.status, e.method, e.url, 'Neptune rejected the API token (check NEPTUNE_API_TOKEN)');
      }
      throw e;
    }
    const o = parseJson(res.body) as { accessToken?: unknown; refreshToken?: unknown } | undefined;
    if (typeof o?.accessToken !== 'string' || typeof o.refreshToken !== 'string') {
      throw new TargetError('Neptune token exchange answered without accessToken/refreshToken');
    }
    return { access: o.accessToken, refresh: o.refreshToken, claims: decodeJwtClaims(o.accessToken) };
  }

  private tokenEndpoint(claims: JwtClaims | undefined, apiUrl: string): string | undefined {
    if (typeof claims?.iss !== 'string') return undefined;
    try {
      const iss = new URL(claims.iss);
      const allowed = new Set([new URL(apiUrl).origin, new URL(this.creds.apiBase).origin]);
      if (!allowed.has(iss.origin)) return undefined;
      return `${claims.iss.replace(/\/+$/, '')}/protocol/openid-connect/token`;
    } catch {
      return undefined;
    }
  }

  /** Keycloak refresh (`<iss>/protocol/openid-connect/token`, client_id = azp); any failure → re-exchange. */
  private async refreshOrExchange(current: TokenPair, signal?: AbortSignal): Promise<TokenPair> {
    this.stats.tokenRefreshes++;
    const { apiUrl } = await this.clientConfig(signal);
    const endpoint = this.tokenEndpoint(current.claims, apiUrl);
    const clientId = typeof current.claims?.azp === 'string' ? current.claims.azp : undefined;
    if (endpoint && clientId) {
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: current.refresh, client_id: clientId });
      try {
        const res = await this.http.request({
          method: 'POST',
          url: endpoint,
          headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
          body: form.toString(),
          signal,
          acceptStatus: [400, 401, 403, 404],
          what: 'token refresh',
        });
        const o = parseJson(res.body) as { access_token?: unknown; refresh_token?: unknown } | undefined;
        if (res.status === 200 && typeof o?.access_token === 'string') {
          const refresh = typeof o.refresh_token === 'string' ? o.refresh_token : current.refresh;
          return { access: o.access_token, refresh, claims: decodeJwtClaims(o.access_token) };
        }
        this.log.debug(`Neptune: token refresh answered HTTP ${res.status}; exchanging the API token again`);
      } catch (e) {
        if (signal?.aborted) throw e;
        this.log.debug('Neptune: token refresh failed; exchanging the API token again');
      }
    }
    return this.exchange(signal);
  }
}
