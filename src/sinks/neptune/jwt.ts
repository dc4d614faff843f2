/**
 * Reads a JWT's claims without verifying its signature: the client only needs `exp` (when to
 * refresh), `iss` (where to refresh) and `azp` (the OAuth client id). The server verifies; we don't.
 */
export interface JwtClaims {
  exp?: number;
  iss?: string;
  azp?: string;
  [key: string]: unknown;
}

export function decodeJwtClaims(token: string): JwtClaims | undefined {
  const parts = token.split('.');
  if (parts.length < 2) return undefined;
  try {
    const json = Buffer.from(parts[1].replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8');
    const claims: unknown = JSON.parse(json);
    return typeof claims === 'object' && claims !== null && !Array.isArray(claims) ? (claims as JwtClaims) : undefined;
  } catch {
    return undefined;
  }
}

/** Seconds of validity left (negative once expired); undefined when the token has no readable `exp`. */
export function secondsLeft(claims: JwtClaims | undefined, nowMs: number): number | undefined {
  return typeof claims?.exp === 'number' ? claims.exp - nowMs / 1000 : undefined;
}

/** Refresh when fewer than this many seconds remain, as both Neptune clients do. */
export const REFRESH_MARGIN_SECONDS = 30;

export function needsRefresh(claims: JwtClaims | undefined, nowMs: number, marginSeconds = REFRESH_MARGIN_SECONDS): boolean {
  const left = secondsLeft(claims, nowMs);
  return left !== undefined && left < marginSeconds;
}
