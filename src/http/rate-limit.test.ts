import { describe, expect, it } from 'vitest';
import { RateBudget, rateLimitHeaders } from './rate-limit.ts';

/**
 * A server as W&B documents it (wandb-api.md §1.6): `limit` requests per fixed 1 s window, headers in
 * units scaled to 0–1000, `RateLimit-Reset` in whole seconds rounded up.
 */
function server(limit: number) {
  let windowStart = -Infinity;
  let count = 0;
  let over = 0;
  return {
    get over() {
      return over;
    },
    answer(t: number) {
      if (t - windowStart >= 1000) {
        windowStart = t;
        count = 0;
      }
      count++;
      if (count > limit) over++;
      const remaining = Math.max(0, Math.floor(((limit - count) / limit) * 1000));
      return { limit: 1000, remaining, resetSeconds: Math.max(1, Math.ceil((windowStart + 1000 - t) / 1000)) };
    },
  };
}

/** `n` requests, `inFlight` at once, each answered `latency` ms after it starts; the clock is simulated. */
function simulate(n: number, inFlight: number, latency: number, limit: number) {
  const budget = new RateBudget();
  const s = server(limit);
  const answers: { at: number; h: ReturnType<typeof s.answer> }[] = [];
  const slots = Array.from({ length: inFlight }, () => 0);
  let now = 0;
  for (let i = 0; i < n; i++) {
    // the earliest free slot
    slots.sort((a, b) => a - b);
    now = Math.max(now, slots[0]);
    for (const a of answers.splice(0).sort((x, y) => x.at - y.at)) {
      if (a.at <= now) budget.observe(a.h, a.at);
      else answers.push(a);
    }
    const start = now + budget.reserve(now);
    const h = s.answer(start);
    answers.push({ at: start + latency, h });
    slots[0] = start + latency;
  }
  return { over: s.over, seconds: Math.max(...slots) / 1000 };
}

describe('RateBudget', () => {
  it('reads the three headers, and nothing from an answer without them', () => {
    expect(rateLimitHeaders({ 'ratelimit-limit': '1000', 'ratelimit-remaining': '960', 'ratelimit-reset': '1' })).toEqual({ limit: 1000, remaining: 960, resetSeconds: 1 });
    expect(rateLimitHeaders({ 'ratelimit-remaining': '0', 'ratelimit-reset': '7' })).toEqual({ remaining: 0, resetSeconds: 7 });
    expect(rateLimitHeaders({ 'content-type': 'application/json' })).toBeUndefined();
    expect(rateLimitHeaders({ 'ratelimit-remaining': 'lots', 'ratelimit-reset': '1' })).toBeUndefined();
  });

  it('learns what a request costs from the drops, and spreads what is left over the time left', () => {
    const b = new RateBudget();
    b.observe({ limit: 1000, remaining: 980, resetSeconds: 1 }, 0);
    // one answer says nothing about the unit yet: no pacing
    expect(b.reserve(0)).toBe(0);
    b.observe({ limit: 1000, remaining: 960, resetSeconds: 1 }, 10);
    // 20 units a request: 48 requests left for the 990 ms left
    expect(b.ratePerSecond).toBeCloseTo(48 / 0.99, 5);
    const gap = 990 / 48;
    expect(b.reserve(10)).toBe(0);
    expect(b.reserve(10)).toBeCloseTo(gap, 5);
    expect(b.reserve(10)).toBeCloseTo(2 * gap, 5);
  });

  it('waits for the window to reset when nothing is left, then goes at once (no answer since says otherwise)', () => {
    const b = new RateBudget();
    b.observe({ remaining: 0, resetSeconds: 3 }, 1000);
    expect(b.reserve(1000)).toBe(3000);
    expect(b.reserve(4000)).toBe(0);
    expect(b.reserve(4000)).toBe(0);
  });

  it('a new window (Remaining back up) starts afresh', () => {
    const b = new RateBudget();
    b.observe({ remaining: 100, resetSeconds: 1 }, 0);
    b.observe({ remaining: 80, resetSeconds: 1 }, 100);
    expect(b.ratePerSecond).toBeCloseTo(4 / 0.9, 5);
    b.observe({ remaining: 980, resetSeconds: 1 }, 1001);
    // 49 requests for the next second
    expect(b.ratePerSecond).toBeCloseTo(49, 5);
  });

  it('against a 50 requests/s server, 16 in flight at 150 ms: never over the limit, and most of the budget used', () => {
    const r = simulate(1000, 16, 150, 50);
    expect(r.over).toBe(0);
    // 1000 requests at 50/s take 20 s at best
    expect(r.seconds).toBeLessThan(20 / 0.7);
  });

  it('without pacing the same load would go over (the simulation can fail)', () => {
    const s = server(50);
    for (let i = 0; i < 1000; i++) s.answer(Math.floor(i / 16) * 150);
    expect(s.over).toBeGreaterThan(0);
  });
});
