import { describe, expect, it } from 'vitest';
import { decodeJwtClaims, needsRefresh, secondsLeft } from './jwt.ts';

function jwt(claims: object): string {
  const b = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b({ alg: 'HS256' })}.${b(claims)}.signature-not-checked`;
}

describe('JWT exp handling', () => {
  it('decodes claims without verifying the signature', () => {
    expect(decodeJwtClaims(jwt({ exp: 100, iss: 'http://h/auth/realms/n', azp: 'cli' }))).toMatchObject({ exp: 100, azp: 'cli' });
    expect(decodeJwtClaims('garbage')).toBeUndefined();
    expect(decodeJwtClaims('a.!!!.c')).toBeUndefined();
  });

  it('refreshes when fewer than 30 s remain, not before', () => {
    const now = 1_000_000_000_000;
    const claims = (left: number) => decodeJwtClaims(jwt({ exp: now / 1000 + left }));
    expect(secondsLeft(claims(45), now)).toBe(45);
    expect(needsRefresh(claims(45), now)).toBe(false);
    expect(needsRefresh(claims(29), now)).toBe(true);
    expect(needsRefresh(claims(-5), now)).toBe(true);
    expect(needsRefresh(decodeJwtClaims(jwt({ sub: 'x' })), now)).toBe(false);
  });
});
