import { describe, expect, it } from 'vitest';
import { Decimator, mainMetric } from '../../src/verify/decimate.ts';

describe('Decimator', () => {
  it('keeps every point of a short series', () => {
    const d = new Decimator(10);
    for (let i = 0; i < 5; i++) d.add(i, i * 2);
    expect(d.points()).toEqual([[0, 0], [1, 2], [2, 4], [3, 6], [4, 8]]);
  });
  it('keeps at most max points of a long one, evenly spread from the first', () => {
    const d = new Decimator(8);
    for (let i = 0; i < 1000; i++) d.add(i, i);
    const p = d.points();
    expect(p.length).toBeLessThanOrEqual(8);
    expect(p.length).toBeGreaterThanOrEqual(4);
    expect(p[0]).toEqual([0, 0]);
    const gaps = p.slice(1).map((x, i) => x[0] - p[i][0]);
    expect(new Set(gaps).size).toBe(1);
  });
});

describe('mainMetric', () => {
  it('prefers a loss, then an accuracy, then the first by name', () => {
    expect(mainMetric(['acc', 'b', 'train/loss', 'val/loss'])).toBe('train/loss');
    expect(mainMetric(['zeta', 'val_accuracy'])).toBe('val_accuracy');
    expect(mainMetric(['b', 'a'])).toBe('a');
    expect(mainMetric([])).toBeUndefined();
  });
});
