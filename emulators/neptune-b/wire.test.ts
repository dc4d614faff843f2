import { describe, expect, it } from 'vitest';
import { encodeUpdate, type TSnapshot } from './test-wire.ts';
import { decodeRunOperation, Malformed, type RunOperation, type Value } from './wire.ts';

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

  it('a batch of history rows is also given by column, and the columns say what the snapshots say', () => {
    const rows: TSnapshot[] = [
      { step: 0, timestamp: { seconds: -615_081_600, nanos: 123_000_000 }, append: { 'm/a1': { float: 1.5 }, 'm/a2': { float: -0 } } },
      { step: { whole: 1, micro: 999_999 }, append: { 'm/a1': { float: NaN }, 'm/a2': { float: 2 } } },
      // Same places, keys one byte apart swapped: the entry at each place must not be taken for the one before it.
      { timestamp: 5, append: { 'm/a2': { float: 3 }, 'm/a1': { float: 4 }, 'm/é': { float: Infinity } } },
      { step: 7, timestamp: 6, append: {} },
      { step: 8, timestamp: 7, append: { 'm/é': { float: 5 } } },
    ];
    const op = decodeRunOperation(encodeUpdate('ws/p', 'r', rows));
    const r = op.rows!;
    expect(r.count).toBe(5);
    expect([...r.stepWhole]).toEqual([0, 1, -1, 7, 8]);
    expect([...r.stepMicro]).toEqual([0, 999_999, 0, 0, 0]);
    expect([...r.tsSeconds]).toEqual([-615_081_600, NaN, 0, 0, 0]);
    expect([...r.tsNanos]).toEqual([123_000_000, 0, 5_000_000, 6_000_000, 7_000_000]);
    const columns = r.columns.map((c) => [c.path.text, [...c.rows.subarray(0, c.count)], [...c.values.subarray(0, c.count)]]);
    expect(columns).toEqual([['m/a1', [0, 1, 2], [1.5, NaN, 4]], ['m/a2', [0, 1, 2], [-0, 2, 3]], ['m/é', [2, 4], [Infinity, 5]]]);
    expect(Object.is(r.columns[1].values[0], -0)).toBe(true);
    expect(r.maxSnapshotBytes).toBe(Math.max(...op.snapshots!.map((sn) => sn.encodedBytes)));
    // The snapshots, decoded one by one on demand, hold the same points.
    const fromSnapshots = op.snapshots!.flatMap((sn, i) => sn.append.map(([p, v]) => [i, p.text, (v as { v: number }).v]));
    const fromColumns = r.columns.flatMap((c) => [...c.rows.subarray(0, c.count)].map((i, k) => [i, c.path.text, c.values[k]]));
    expect(fromColumns.sort((a, b) => (a[0] as number) - (b[0] as number) || String(a[1]).localeCompare(String(b[1]))))
      .toEqual(fromSnapshots.sort((a, b) => (a[0] as number) - (b[0] as number) || String(a[1]).localeCompare(String(b[1]))));
    expect(op.snapshots![1].step).toEqual({ whole: 1, micro: 999_999 });
  });

  it('any snapshot that is not a plain history row leaves the batch to the snapshot-by-snapshot decoding', () => {
    const row = (i: number) => ({ step: i, timestamp: i, append: { m: { float: i } } });
    const byColumn = (op: RunOperation) => op.rows !== undefined;
    const odd: TSnapshot[] = [
      { step: 2, assign: { a: { int: 1 } } },
      { step: 2, append: { s: { string: 'x' } } },
      { step: 2, append: { m: { float: 2 } }, preview: { completionRatio: 0.5 } },
      { step: 2, modifySets: { 'sys/tags': { t: 'ADD' } } },
    ];
    expect(byColumn(decodeRunOperation(encodeUpdate('ws/p', 'r', [row(1), row(2)])))).toBe(true);
    for (const o of odd) {
      const op = decodeRunOperation(encodeUpdate('ws/p', 'r', [row(1), o, row(3)]));
      expect(byColumn(op)).toBe(false);
      expect(op.snapshots!.map((sn) => sn.step?.whole)).toEqual([1, 2, 3]);
    }
    // The same key twice in one snapshot, by hand (a JS object cannot say it).
    const d = Buffer.alloc(8);
    d.writeDoubleLE(1);
    const entry = [0x42, 14, 0x0a, 0x01, 0x6d, 0x12, 0x09, 0x09, ...d];
    const sn = [0x0a, 0x02, 0x08, 0x01, ...entry, ...entry];
    const body = Uint8Array.from([0x0a, 0x03, ...Buffer.from('p/q'), 0x12, 0x01, 0x72, 0x42, sn.length + 2, 0x0a, sn.length, ...sn]);
    const twice = decodeRunOperation(body);
    expect(twice.rows).toBeUndefined();
    expect(twice.snapshots![0].append.map(([p]) => p.text)).toEqual(['m', 'm']);
    // A Step with a field it does not know.
    const sn2 = [0x0a, 0x04, 0x08, 0x01, 0x18, 0x01, ...entry];
    const body2 = Uint8Array.from([0x0a, 0x03, ...Buffer.from('p/q'), 0x12, 0x01, 0x72, 0x42, sn2.length + 2, 0x0a, sn2.length, ...sn2]);
    const unknown = decodeRunOperation(body2);
    expect(unknown.rows).toBeUndefined();
    expect(unknown.snapshots![0].step).toEqual({ whole: 1, micro: 0 });
  });

  it('a batch of rows cut inside a value is Malformed', () => {
    const body = encodeUpdate('ws/p', 'r', [1, 2, 3].map((i) => ({ step: i, timestamp: i, append: { m: { float: i } } })));
    expect(() => decodeRunOperation(body.subarray(0, body.length - 3))).toThrow(Malformed);
    // The batch's length made to fit the cut: the last snapshot's entry now runs past it.
    const cut = Buffer.from(body.subarray(0, body.length - 3));
    const at = cut.indexOf(0x42, 6);
    cut[at + 1] -= 3;
    expect(() => decodeRunOperation(cut)).toThrow(Malformed);
  });
});
