import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { retriesFor, retryLines } from './fault-budget.ts';

describe('retriesFor', () => {
  it('gives the fewest retries that keep requests × rate^(retries+1) under the risk', () => {
    // 0.2^12 × 400 = 1.6e-6 (too much), 0.2^13 × 400 = 3.3e-7: 13 attempts, 12 retries.
    expect(retriesFor({ rate: 0.2, requests: 400 })).toBe(12);
    for (const f of [{ rate: 0.2, requests: 400 }, { rate: 0.3, requests: 200 }, { rate: 0.05, requests: 10_000 }]) {
      const r = retriesFor(f);
      expect(f.requests * f.rate ** (r + 1)).toBeLessThanOrEqual(1e-6);
      expect(f.requests * f.rate ** r).toBeGreaterThan(1e-6);
    }
  });

  it('refuses a rate outside (0, 1)', () => {
    expect(() => retriesFor({ rate: 1, requests: 10 })).toThrow(/fault rate/);
    expect(() => retriesFor({ rate: 0, requests: 10 })).toThrow(/fault rate/);
  });
});

describe('retryLines', () => {
  it('keeps only the retry lines of the log files in the folder', () => {
    const dir = mkdtempSync(join(tmpdir(), 'w2n-retry-lines-'));
    try {
      writeFileSync(join(dir, 'wandb-to-neptune_20261130_010203.log'), [
        '2026-11-30T01:02:03.000Z INFO  migrating demo/p',
        '2026-11-30T01:02:04.000Z DEBUG Neptune upload files (POST …): other side closed; retry 1 in 312 ms',
        '',
      ].join('\n'));
      writeFileSync(join(dir, 'other.log'), 'x: y; retry 1 in 5 ms\n');
      expect(retryLines(dir)).toBe('2026-11-30T01:02:04.000Z DEBUG Neptune upload files (POST …): other side closed; retry 1 in 312 ms');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
