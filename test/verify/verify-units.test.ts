import { describe, expect, it } from 'vitest';
import { sameAtom } from '../../src/verify/compare-fields.ts';
import { SeriesDigest, sameSummary } from '../../src/verify/digest.ts';
import { Explainer } from '../../src/verify/explain.ts';
import { inSample } from '../../src/verify/verify.ts';
import { mappingOptionsFromKey } from '../../src/verify/verify-run.ts';
import { mappingOptionsKey } from '../../src/mapping/options.ts';

describe('SeriesDigest', () => {
  const digest = (pts: Array<[number, number, number | string]>) => {
    const d = new SeriesDigest();
    for (const [step, timestampMs, value] of pts) d.add({ step, timestampMs, value });
    return d.summary();
  };
  const base: Array<[number, number, number | string]> = [[0, 1000, 0.5], [1, 2000, 0.25], [2, 3000, 0.125]];

  it('is the same for the same points, and differs for one changed value, timestamp, step or a missing point', () => {
    expect(sameSummary(digest(base), digest(base))).toBe(true);
    expect(digest(base)).toMatchObject({ count: 3, firstStep: 0, lastStep: 2 });
    expect(sameSummary(digest(base), digest([base[0], [1, 2000, 0.2500001], base[2]]))).toBe(false);
    expect(sameSummary(digest(base), digest([base[0], [1, 2001, 0.25], base[2]]))).toBe(false);
    expect(sameSummary(digest(base), digest([base[0], [1.5, 2000, 0.25], base[2]]))).toBe(false);
    expect(sameSummary(digest(base), digest([base[0], base[2]]))).toBe(false);
    // A number and its text are different points (a float series is not a string series).
    expect(sameSummary(digest([[0, 1, 1]]), digest([[0, 1, '1']]))).toBe(false);
  });
});

describe('sameAtom', () => {
  it('compares type and value; a string set as a set', () => {
    expect(sameAtom({ type: 'int', value: 3 }, { type: 'int', value: 3 })).toBe(true);
    expect(sameAtom({ type: 'int', value: 3 }, { type: 'float', value: 3 })).toBe(false);
    expect(sameAtom({ type: 'string', value: 'a' }, { type: 'string', value: 'b' })).toBe(false);
    expect(sameAtom({ type: 'datetime', value: 1700000000000 }, { type: 'datetime', value: 1700000000000 })).toBe(true);
    expect(sameAtom({ type: 'stringSet', values: ['b', 'a', 'a'] }, { type: 'stringSet', value: ['a', 'b'] })).toBe(true);
    expect(sameAtom({ type: 'stringSet', values: ['a'] }, { type: 'stringSet', value: ['a', 'b'] })).toBe(false);
  });
});

describe('Explainer', () => {
  it('accounts for a difference by an omission on its path or W&B name, never by a rename', () => {
    const e = new Explainer([
      { reason: 'too-large', subject: 'summary/blob', count: 1, detail: 'over 16384 characters' },
      { reason: 'rejected-by-server', subject: 'loss', count: 2 },
      { reason: 'renamed', subject: 'acc', count: 1 },
    ]);
    expect(e.explain({ scope: 'field', subject: 'summary/blob', detail: '' })).toEqual({ reason: 'too-large', detail: 'over 16384 characters' });
    expect(e.explain({ scope: 'series', subject: 'loss_', names: ['loss'], detail: '' })).toEqual({ reason: 'rejected-by-server' });
    expect(e.explain({ scope: 'series', subject: 'acc_', names: ['acc'], detail: '' })).toBeUndefined();
    expect(e.explain({ scope: 'field', subject: 'config/x', detail: '' })).toBeUndefined();
  });
});

describe('inSample', () => {
  it('takes about the fraction asked, the same runs every time', () => {
    const keys = Array.from({ length: 2000 }, (_, i) => ({ entity: 'e', project: 'p', runId: `run${i}` }));
    const picked = keys.filter((k) => inSample(k, 0.1));
    expect(picked.length).toBeGreaterThan(150);
    expect(picked.length).toBeLessThan(250);
    expect(keys.filter((k) => inSample(k, 0.1))).toEqual(picked);
    expect(keys.every((k) => inSample(k, 1))).toBe(true);
  });
});

describe('mappingOptionsFromKey', () => {
  it('reads back the key the ledger stores', () => {
    for (const include of [[], ['internal'], ['media', 'tables', 'wandb-files']] as const) {
      const opts = { include: new Set(include) };
      expect([...mappingOptionsFromKey(mappingOptionsKey(opts)).include].sort()).toEqual([...include].sort());
    }
  });

  it('reads back the --exclude set too (a run migrated with --exclude histograms is checked without them)', () => {
    const opts = { include: new Set(['internal'] as const), exclude: new Set(['histograms', 'lists'] as const) };
    const back = mappingOptionsFromKey(mappingOptionsKey(opts));
    expect([...back.include]).toEqual(['internal']);
    expect([...(back.exclude ?? [])].sort()).toEqual(['histograms', 'lists']);
    expect(mappingOptionsFromKey('defaults').exclude).toBeUndefined();
  });
});
