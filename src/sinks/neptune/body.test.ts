import { describe, expect, it } from 'vitest';
import { encodeOperations } from './body.ts';
import { atomOp, isSlice, sliceOp, type BatchOp, type SeriesSlice } from './operations.ts';
import { SeriesBuffer } from './series.ts';

/** What the request body was before slices: `JSON.stringify` of the wire operations. */
function asJson(ops: readonly BatchOp[]): string {
  return JSON.stringify(ops.map((op) => (isSlice(op) ? sliceOp(op) : op)));
}

function floatSlice(path: string, points: Array<[step: number, ms: number, value: number]>, from = 0, to = points.length): SeriesSlice {
  const buf = new SeriesBuffer<number>('float', 2);
  for (const [step, ms, value] of points) buf.push(step, ms, value);
  return { path, buf, from, to };
}

describe('encodeOperations', () => {
  it('writes atoms and float series byte for byte as JSON.stringify does', () => {
    const odd = [0, 1, -1, 0.1, 1 / 3, -2.5e-7, 1e21, 123456789012345680000, 5e-324, Number.MAX_VALUE, 2 ** 53, -(2 ** 31) - 1];
    const rows: Array<[number, number, number]> = odd.map((v, i) => [i * 1000 + 0.5 * (i % 2), 1_700_000_000_000.5 + i * 10.49, v]);
    const atoms = [
      atomOp('sys/name', { type: 'string', value: 'é "quoted" \\ \n\t\u0001 \ud83d\ude00 \ud800' }),
      atomOp('config/n', { type: 'int', value: -7 }),
      atomOp('config/x', { type: 'float', value: 0.30000000000000004 }),
      atomOp('config/b', { type: 'bool', value: false }),
      atomOp('config/t', { type: 'datetime', value: 1_700_000_000_000.5 }),
      atomOp('sys/tags', { type: 'stringSet', values: ['a', 'ü'] }),
    ];
    const ops: BatchOp[] = [...atoms, floatSlice('metrics/ä "q"', rows), floatSlice('m', rows, 3, 9), floatSlice('neg', [[-3, -1.5, 2], [-2, -0.4, 3], [2 ** 40, 2 ** 52 + 0.5, 4]])];
    const body = encodeOperations(ops);
    expect(body.toString('utf8')).toBe(asJson(ops));
    expect(body.equals(Buffer.from(asJson(ops), 'utf8'))).toBe(true);
  });

  it('writes a float point of -0 as -0.0, so the server holds the double W&B holds (JSON.stringify would write 0)', () => {
    const ops = [floatSlice('z', [[0, 10, -0], [1, 11, 0], [2, 12, -0]])];
    const text = encodeOperations(ops).toString();
    expect(text).toBe(asJson(ops).replace('{"value":0,"step":0,', '{"value":-0.0,"step":0,').replace('{"value":0,"step":2,', '{"value":-0.0,"step":2,'));
    const values = (JSON.parse(text) as Array<{ logFloats: { entries: Array<{ value: number }> } }>)[0].logFloats.entries.map((e) => e.value);
    expect(values.map((v) => Object.is(v, -0))).toEqual([true, false, true]);
  });

  it('writes the value JSON gives a non-finite number (null), though the writer never buffers one', () => {
    const ops = [floatSlice('x', [[0, 0, NaN], [1, 1, Infinity], [2, 2, -Infinity], [NaN, Infinity, 1]])];
    expect(encodeOperations(ops).toString()).toBe(asJson(ops));
  });

  it('keeps rows apart that share a slot of the row cache, and series that share rows', () => {
    // Steps 4096 apart land in one slot; equal steps with other timestamps must not reuse a row.
    const a = floatSlice('a', [[1, 10, 1], [2, 20, 2]]);
    const b = floatSlice('b', [[1, 11, 1], [2, 20, 2]]);
    const c = floatSlice('c', [[4097, 30, 3], [4098, 20, 4], [1.5, 30, 5]]);
    const ops = [a, b, c, a];
    expect(encodeOperations(ops).toString()).toBe(asJson(ops));
  });

  it('writes long slices (written out in parts) and string series with any characters', () => {
    const many: Array<[number, number, number]> = Array.from({ length: 1000 }, (_, i) => [i, 1_600_000_000_000 + i * 7.7, Math.sin(i) * 10 ** (i % 30)]);
    const strings = new SeriesBuffer<string>('string');
    const texts = ['plain', '', 'é ü 中文', '"\\/\b\f\n\r\t', '\u0000\u001f\u007f', '\ud83d\ude00 emoji', 'lone \udc00 surrogate', 'x'.repeat(5000)];
    texts.forEach((t, i) => strings.push(i, 1000 + i, t));
    const ops: BatchOp[] = [floatSlice('many', many, 0, 1000), floatSlice('many', many, 127, 129), { path: 'stdout', buf: strings, from: 0, to: texts.length }];
    const body = encodeOperations(ops);
    expect(body.equals(Buffer.from(asJson(ops), 'utf8'))).toBe(true);
    // Each call stands alone (the reused buffer and row cache carry nothing over).
    expect(encodeOperations([ops[1]]).toString()).toBe(asJson([ops[1]]));
    expect(encodeOperations([]).toString()).toBe('[]');
  });
});
