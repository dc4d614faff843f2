import { describe, expect, it } from 'vitest';
import { encodeUpdate } from './test-wire.ts';
import { decodeRunOperation, Malformed, type Value } from './wire.ts';

const plain = (v: Value) => ('v' in v ? { kind: v.kind, v: v.v } : { kind: v.kind });

describe('decoding RunOperation (wire.ts, in place over one buffer)', () => {
  it('keeps every field of every snapshot: steps, timestamps before 1970, nanos, int64 and the keys in any order', () => {
    const before1970 = { seconds: -615_081_600, nanos: 123_000_000 }; // 1950-07-05T00:00:00.123Z
    const op = decodeRunOperation(encodeUpdate('ws/p', 'run-1', [
      { step: { whole: 3, micro: 250_000 }, timestamp: before1970, append: { a: { float: 1.5 }, b: { float: -0 }, c: { float: 2 } } },
      // The same keys in another order, one missing and a new one: a key must never come from the previous snapshot's place.
      { step: 4, timestamp: { seconds: 2 ** 40, nanos: 999_999_999 }, append: { c: { float: 3 }, a: { float: 4 }, d: { string: 'é' } } },
      { step: 5, assign: { n: { int: -(2n ** 63n) }, big: { int: 2n ** 62n + 1n }, t: { time: { seconds: -1, nanos: 5 } } }, append: { 'aa': { float: 5 } } },
    ]));
    expect(op.project).toBe('ws/p');
    expect(op.runId).toBe('run-1');
    const [s1, s2, s3] = op.snapshots!;
    expect(s1.step).toEqual({ whole: 3, micro: 250_000 });
    expect(s1.timestamp).toEqual(before1970);
    expect(s1.append.map(([p, v]) => [p.text, plain(v)])).toEqual([['a', { kind: 'float64', v: 1.5 }], ['b', { kind: 'float64', v: -0 }], ['c', { kind: 'float64', v: 2 }]]);
    expect(Object.is((s1.append[1][1] as { v: number }).v, -0)).toBe(true);
    expect(s2.step).toEqual({ whole: 4, micro: 0 });
    expect(s2.timestamp).toEqual({ seconds: 2 ** 40, nanos: 999_999_999 });
    expect(s2.append.map(([p, v]) => [p.text, plain(v)])).toEqual([['c', { kind: 'float64', v: 3 }], ['a', { kind: 'float64', v: 4 }], ['d', { kind: 'string', v: 'é' }]]);
    expect(s3.assign.map(([p, v]) => [p.text, plain(v)])).toEqual([
      ['n', { kind: 'int64', v: -(2n ** 63n) }], ['big', { kind: 'int64', v: 2n ** 62n + 1n }], ['t', { kind: 'timestamp', v: { seconds: -1, nanos: 5 } }],
    ]);
    expect(s3.append.map(([p]) => [p.text, p.bytes, p.valid])).toEqual([['aa', 2, true]]);
  });

  it('packs a snapshot whose appends are all float64 entries of the usual shape, and reads any other shape entry by entry', () => {
    const op = decodeRunOperation(encodeUpdate('ws/p', 'r', [
      { step: 1, append: { a: { float: 1.5 }, b: { float: NaN } } },
      { step: 2, append: { a: { float: 2 }, s: { string: 'x' }, b: { float: 3 } } },
    ]));
    const [s1, s2] = op.snapshots!;
    expect(s1.floats?.paths.map((p) => p.text)).toEqual(['a', 'b']);
    expect(s1.floats?.values).toEqual([1.5, NaN]);
    expect(s1.append.map(([p, v]) => [p.text, plain(v)])).toEqual([['a', { kind: 'float64', v: 1.5 }], ['b', { kind: 'float64', v: NaN }]]);
    expect(s2.floats).toBeUndefined();
    expect(s2.append.map(([p, v]) => [p.text, plain(v)])).toEqual([['a', { kind: 'float64', v: 2 }], ['s', { kind: 'string', v: 'x' }], ['b', { kind: 'float64', v: 3 }]]);
    // By hand, one snapshot each: an entry with its value before its key; one with an unknown field after its value.
    const d = Buffer.alloc(8);
    d.writeDoubleLE(-4.25);
    const value = [0x12, 0x09, 0x09, ...d];
    const entries = [[...value, 0x0a, 0x01, 0x6d], [0x0a, 0x01, 0x6e, ...value, 0x18, 0x01]];
    const snaps = entries.map((e) => [0x0a, 0x02, 0x08, 0x07, 0x42, e.length, ...e]);
    const batch = snaps.flatMap((sn) => [0x0a, sn.length, ...sn]);
    const body = Uint8Array.from([0x0a, 0x03, ...Buffer.from('p/q'), 0x12, 0x01, 0x72, 0x42, batch.length, ...batch]);
    const odd = decodeRunOperation(body).snapshots!;
    expect(odd.map((sn) => sn.floats)).toEqual([undefined, undefined]);
    expect(odd.map((sn) => sn.step)).toEqual([{ whole: 7, micro: 0 }, { whole: 7, micro: 0 }]);
    expect(odd.map((sn) => sn.append.map(([p, v]) => [p.text, plain(v)]))).toEqual([[['m', { kind: 'float64', v: -4.25 }]], [['n', { kind: 'float64', v: -4.25 }]]]);
  });

  it('a key that is not UTF-8 stays invalid even where a valid key stood in the previous snapshot', () => {
    const bad = new Uint8Array([0x6d, 0xff]);
    const op = decodeRunOperation(encodeUpdate('ws/p', 'r', [
      { step: 1, append: { m: { float: 1 } } },
      { step: 2, rawAppendKeys: [[bad, { float: 2 }]] },
      { step: 3, append: { m: { float: 3 } } },
    ]));
    expect(op.snapshots!.map((s) => s.append.map(([p]) => [p.bytes, p.valid]))).toEqual([[[1, true]], [[2, false]], [[1, true]]]);
    expect(op.snapshots![2].append[0][0].text).toBe('m');
  });

  it('a nested field running past its message is Malformed, not read from the next one', () => {
    const body = encodeUpdate('ws/p', 'r', [{ step: 1, append: { m: { float: 1 } } }]);
    expect(() => decodeRunOperation(body.subarray(0, body.length - 3))).toThrow(Malformed);
  });
});
