/**
 * API token → OAuth token exchange and Keycloak-style refresh (neptune-api.md §1.3–1.4).
 * Access tokens are HS256 JWTs: the legacy client decodes them without verifying to read
 * `exp`, `iss` (refresh URL = `<iss>/protocol/openid-connect/token`) and `azp` (client_id);
 * the emulator verifies its own signature.
 */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { HttpError } from './http-util.ts';

export const CLIENT_ID = 'neptune-cli';
export const REALM_PATH = '/auth/realms/neptune';
/**
 * Access tokens live 300 s unless told otherwise; the refresh token is an offline token with no
 * expiry (recorded 2023 traffic, issue 8 "Real behaviours": Keycloak answers `refresh_expires_in: 0`
 * and its refresh token carries no `exp`).
 */
export const DEFAULT_ACCESS_TTL_S = 300;

export interface AuthConfig {
  baseUrl: string;
  secret: string;
  ttlSeconds: number;
  /** api key → username */
  keys: Map<string, string>;
}

function b64url(b: Buffer | string): string {
  return Buffer.from(b).toString('base64url');
}

export class Auth {
  /** Access tokens with `seq` <= this are expired (expireAccessTokens()). */
  private expiredUpTo = 0;
  // Starts at the clock so tokens issued before a restart on the same file stay ordered.
  private seq = Date.now();

  constructor(private readonly cfg: AuthConfig) {}

  get issuer(): string {
    return this.cfg.baseUrl + REALM_PATH;
  }

  apiToken(key: string): string {
    const json = JSON.stringify({ api_address: this.cfg.baseUrl, api_url: this.cfg.baseUrl, api_key: key });
    return Buffer.from(json, 'utf8').toString('base64');
  }

  expireAll(): void {
    this.expiredUpTo = this.seq;
  }

  /** `X-Neptune-Api-Token` holds the whole base64 token; a bare key is also accepted. */
  usernameForApiToken(header: string | undefined): string | undefined {
    if (!header) return undefined;
    const trimmed = header.trim();
    let key = trimmed;
    try {
      const parsed = JSON.parse(Buffer.from(trimmed, 'base64').toString('utf8')) as unknown;
      if (typeof parsed === 'object' && parsed !== null && typeof (parsed as { api_key?: unknown }).api_key === 'string') {
        key = (parsed as { api_key: string }).api_key;
      }
    } catch {
      // not a base64 JSON token: treat the header as the bare key
    }
    return this.cfg.keys.get(key);
  }

  private sign(payload: Record<string, unknown>): string {
    const head = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
    const body = b64url(JSON.stringify(payload));
    const sig = createHmac('sha256', this.cfg.secret).update(`${head}.${body}`).digest('base64url');
    return `${head}.${body}.${sig}`;
  }

  private decode(token: string): Record<string, unknown> | undefined {
    const parts = token.split('.');
    if (parts.length !== 3) return undefined;
    const want = createHmac('sha256', this.cfg.secret).update(`${parts[0]}.${parts[1]}`).digest();
    const got = Buffer.from(parts[2], 'base64url');
    if (got.length !== want.length || !timingSafeEqual(got, want)) return undefined;
    try {
      const p = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as unknown;
      return typeof p === 'object' && p !== null ? (p as Record<string, unknown>) : undefined;
    } catch {
      return undefined;
    }
  }

  issue(username: string): { accessToken: string; refreshToken: string; expiresIn: number } {
    const now = Math.floor(Date.now() / 1000);
    this.seq += 1;
    const accessToken = this.sign({
      jti: randomUUID(), typ: 'Bearer', iat: now, exp: now + this.cfg.ttlSeconds, iss: this.issuer, azp: CLIENT_ID,
      sub: username, preferred_username: username, seq: this.seq,
    });
    const refreshToken = this.sign({
      jti: randomUUID(), typ: 'Offline', iat: now, iss: this.issuer, azp: CLIENT_ID, sub: username, scope: 'offline_access',
    });
    return { accessToken, refreshToken, expiresIn: this.cfg.ttlSeconds };
  }

  /** Returns the username of a valid bearer token or throws the 401 the server would send. */
  verifyBearer(header: string | undefined): string {
    const m = /^Bearer\s+(\S+)$/i.exec(header ?? '');
    if (!m) throw new HttpError(401, 'Missing bearer token', { errorType: 'UNAUTHORIZED' });
    const p = this.decode(m[1]);
    if (!p || p.typ !== 'Bearer' || typeof p.sub !== 'string' || typeof p.exp !== 'number') {
      throw new HttpError(401, 'Invalid bearer token', { errorType: 'UNAUTHORIZED' });
    }
    const seq = typeof p.seq === 'number' ? p.seq : 0;
    if (Date.now() >= p.exp * 1000 || seq <= this.expiredUpTo) {
      throw new HttpError(401, 'Authorization token expired', { errorType: 'AUTHORIZATION_TOKEN_EXPIRED' });
    }
    return p.sub;
  }

  /**
   * Keycloak token endpoint: form `grant_type=refresh_token&refresh_token=..&client_id=..`
   * (client_id may also come as HTTP Basic user, as requests-oauthlib can send it).
   * Errors use OAuth2's `{error, error_description}` with 400/401 like Keycloak.
   */
  refresh(form: URLSearchParams, authorization: string | undefined): Record<string, unknown> {
    let clientId = form.get('client_id');
    const basic = /^Basic\s+(\S+)$/i.exec(authorization ?? '');
    if (!clientId && basic) clientId = Buffer.from(basic[1], 'base64').toString('utf8').split(':')[0];
    if (form.get('grant_type') !== 'refresh_token') {
      throw new HttpError(400, 'unsupported_grant_type', { error: 'unsupported_grant_type', error_description: 'Only refresh_token is supported' });
    }
    if (clientId !== CLIENT_ID) {
      throw new HttpError(401, 'invalid_client', { error: 'invalid_client', error_description: 'Invalid client credentials' });
    }
    const p = this.decode(form.get('refresh_token') ?? '');
    if (!p || p.typ !== 'Offline' || typeof p.sub !== 'string') {
      throw new HttpError(400, 'invalid_grant', { error: 'invalid_grant', error_description: 'Invalid refresh token' });
    }
    const t = this.issue(p.sub);
    return {
      access_token: t.accessToken, refresh_token: t.refreshToken, expires_in: t.expiresIn,
      refresh_expires_in: 0, token_type: 'Bearer', 'not-before-policy': 0, scope: 'offline_access profile email',
    };
  }
}
