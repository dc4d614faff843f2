import { describe, expect, it } from 'vitest';
import { planBatches } from './batcher.ts';
import { DEFAULT_LIMITS, resolveLimits } from './limits.ts';
import { atomOp, attributeErrors, isSlice, opPoints } from './operations.ts';
import { packFileSet } from './packing.ts';
import { SeriesBuffer } from './series.ts';

function floats(n: number, from = 0): SeriesBuffer<number> {
  const b = new SeriesBuffer<number>('float');
  for (let i = 0; i < n; i++) b.push(from + i, 1_700_000_000_000 + i, i / 2);
  return b;
}

describe('planBatches', () => {
  it('defaults to the official client shapes: 100 float / 10 string points per op, 1000 ops per request', () => {
    const strings = new SeriesBuffer<string>('string');
    for (let i = 0; i < 25; i++) strings.push(i, i, `line ${i}`);
    const series = new Map<string, SeriesBuffer<number> | SeriesBuffer<string>>([['loss', floats(100_050)], ['stdout', strings]]);
    const batches = [...planBatches({ atoms: [], atomsFrom: 0, atomsEnd: 0, series, seriesEnd: new Map() }, DEFAULT_LIMITS)];
    const ops = batches.flatMap((b) => b.ops);
    expect(batches.map((b) => b.ops.length)).toEqual([1000, 4]);
    expect(ops.filter((o) => isSlice(o) && o.buf.kind === 'float').map(opPoints).slice(-2)).toEqual([100, 50]);
    expect(ops.filter((o) => isSlice(o) && o.buf.kind === 'string').map(opPoints)).toEqual([10, 10, 5]);
    expect(batches.reduce((n, b) => n + b.points, 0)).toBe(100_075);
    expect(batches[0].seriesUpTo.get('loss')).toBe(100_000);
    expect(batches[1].seriesUpTo.get('loss')).toBe(100_050);
  });

  it('puts atoms first, honours op and byte caps, and records how far each batch goes', () => {
    const limits = resolveLimits({ maxOpsPerRequest: 2, maxFloatPointsPerOp: 100 });
    const atoms = [atomOp('a', { type: 'int', value: 1 }), atomOp('b', { type: 'stringSet', values: ['x'] }), atomOp('c', { type: 'datetime', value: 5.4 })];
    const buf = floats(250);
    buf.commit(20); // already acknowledged
    const series = new Map([['loss', buf]]);
    const batches = [...planBatches({ atoms, atomsFrom: 1, atomsEnd: 3, series, seriesEnd: new Map([['loss', 240]]) }, limits)];
    expect(batches.map((b) => b.ops.map((o) => o.path))).toEqual([['b', 'c'], ['loss', 'loss'], ['loss']]);
    expect(batches[0].ops[1]).toEqual({ path: 'c', assignDatetime: { valueMilliseconds: 5 } });
    expect(batches.map((b) => b.atomsUpTo)).toEqual([3, 3, 3]);
    expect(batches.map((b) => b.points)).toEqual([0, 200, 20]);
    expect(batches[2].seriesUpTo.get('loss')).toBe(240);

    const tiny = resolveLimits({ maxRequestBytes: 3000 });
    const small = [...planBatches({ atoms: [], atomsFrom: 0, atomsEnd: 0, series: new Map([['m', floats(200)]]), seriesEnd: new Map() }, tiny)];
    expect(small.length).toBeGreaterThan(4);
    expect(small.reduce((n, b) => n + b.points, 0)).toBe(200);
  });
});

describe('attributeErrors', () => {
  it('attributes server errors to the longest path the description names', () => {
    const errs = attributeErrors(
      [{ errorType: 'logSeriesValueError', errorDescription: "Attribute 'train/loss_ema': step 3 is not greater" }],
      ['train/loss', 'train/loss_ema'],
    );
    expect(errs).toEqual([{ path: 'train/loss_ema', errorType: 'logSeriesValueError', description: "Attribute 'train/loss_ema': step 3 is not greater" }]);
    expect(attributeErrors([{ errorType: 'x', errorDescription: 'nope' }], ['only'])[0].path).toBe('only');
    expect(attributeErrors(null, ['a'])).toEqual([]);
  });
});

describe('packFileSet', () => {
  it('packs ≤ 500 files and ≤ 5 MB per package, big files alone, unsafe names omitted', () => {
    const MB = 1024 * 1024;
    const entries = [
      ...Array.from({ length: 600 }, (_, i) => ({ localPath: `/x/${i}`, relativePath: `f/${i}.txt`, sizeBytes: 10 })),
      { localPath: '/x/big', relativePath: 'big.bin', sizeBytes: 7 * MB },
      { localPath: '/x/m1', relativePath: 'm1', sizeBytes: 3 * MB },
      { localPath: '/x/m2', relativePath: 'm2', sizeBytes: 3 * MB },
      { localPath: '/x/evil', relativePath: '../etc/passwd', sizeBytes: 1 },
      { localPath: '/x/dup', relativePath: './f/0.txt', sizeBytes: 1 },
    ];
    const { packages, omissions } = packFileSet(entries, 'files', DEFAULT_LIMITS);
    expect(packages.map((p) => p.length)).toEqual([500, 100, 1, 1, 1]);
    expect(packages[2][0].relativePath).toBe('big.bin');
    expect(omissions.map((o) => o.detail)).toEqual(['unsafe file-set path', 'duplicate file-set path']);
  });
});
