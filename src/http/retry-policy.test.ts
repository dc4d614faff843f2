import { describe, expect, it } from 'vitest';
import { backoffDelayMs, isCertificateError, retryDelayMs, serverRequestedDelayMs } from './retry-policy.ts';

const fixed = { random: () => 0.5 };

describe('retry policy', () => {
  it('never retries 400/401/403/404', () => {
    for (const status of [400, 401, 403, 404, 422]) {
      expect(retryDelayMs({ kind: 'response', status, headers: {} }, 1, fixed)).toBeUndefined();
    }
  });

  it('retries 408, 429 and 5xx with growing backoff', () => {
    const d1 = retryDelayMs({ kind: 'response', status: 503, headers: {} }, 1, { ...fixed, baseDelayMs: 100 });
    const d3 = retryDelayMs({ kind: 'response', status: 503, headers: {} }, 3, { ...fixed, baseDelayMs: 100 });
    expect(d1).toBe(75);
    expect(d3).toBe(300);
    expect(retryDelayMs({ kind: 'response', status: 408, headers: {} }, 1, fixed)).toBeGreaterThan(0);
  });

  it('honours Retry-After in seconds and as a date, and RateLimit-Reset', () => {
    expect(retryDelayMs({ kind: 'response', status: 429, headers: { 'retry-after': '2' } }, 1, fixed)).toBe(2050);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(serverRequestedDelayMs({ 'retry-after': 'Thu, 01 Jan 2026 00:00:03 GMT' }, now)).toBe(3000);
    expect(serverRequestedDelayMs({ 'ratelimit-reset': '4' }, now)).toBe(4000);
  });

  it('gives up after the configured number of retries and on absurd waits', () => {
    expect(retryDelayMs({ kind: 'network', error: new Error('reset') }, 4, { retries: 3 })).toBeUndefined();
    expect(
      retryDelayMs({ kind: 'response', status: 429, headers: { 'retry-after': '3600' } }, 1, { maxRetryAfterMs: 60_000 }),
    ).toBeUndefined();
  });

  it('caps the backoff', () => {
    expect(backoffDelayMs(30, { baseDelayMs: 500, maxDelayMs: 4000, random: () => 1 })).toBe(4000);
  });

  it('a refused server certificate is final; other transport errors are retried', () => {
    const selfSigned = Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
    const wrapped = Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('x'), { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }) });
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    expect(isCertificateError(selfSigned)).toBe(true);
    expect(isCertificateError(wrapped)).toBe(true);
    expect(isCertificateError(reset)).toBe(false);
    expect(retryDelayMs({ kind: 'network', error: selfSigned }, 1)).toBeUndefined();
    expect(retryDelayMs({ kind: 'network', error: wrapped }, 1)).toBeUndefined();
    expect(retryDelayMs({ kind: 'network', error: reset }, 1, { random: () => 0 })).toBe(250);
  });
});
