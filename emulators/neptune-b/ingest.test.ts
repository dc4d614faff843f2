import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startNeptuneEmulator } from '../neptune/server.ts';
import type { NeptuneEmulator } from '../neptune/types.ts';
import { bSession, codes, PROJECT } from './test-session.ts';
import { decodeDetails, encodeCheckDetail, encodeCreate, encodeUpdate } from './test-wire.ts';

let emu: NeptuneEmulator;
let b: Awaited<ReturnType<typeof bSession>>;
const RUN = 'wandb-run-1';
const created = Date.UTC(2021, 4, 6, 7, 8, 9, 123);

beforeEach(async () => {
  emu = await startNeptuneEmulator({ protocolB: { statusDelayMs: 0, unavailableChecks: 0 } });
  b = await bSession(emu);
  const { status } = await b.ingestProcessed(encodeCreate(PROJECT, RUN, { creationTime: created, experimentId: 'exp-a' }, true));
  expect(codes(status)).toEqual({ 0: 1 });
});
afterEach(async () => emu.close());

describe('CreateRun (neptune-api.md §3.3)', () => {
  it('creates the project on request, back-dates the run and keeps B parameters', () => {
    const run = emu.b.inspect.run(PROJECT, RUN);
    expect(run).toMatchObject({ family: RUN, experimentId: 'exp-a', creationTimeMs: created });
    const attrs = emu.b.inspect.attributes(PROJECT, RUN);
    expect(attrs['sys/creation_time']).toEqual({ type: 'datetime', value: created });
    expect(attrs['sys/custom_run_id']).toEqual({ type: 'string', value: RUN });
    expect(attrs['sys/name']).toEqual({ type: 'string', value: 'exp-a' });
    expect(attrs['sys/family']).toEqual({ type: 'string', value: RUN });
  });

  it('a re-sent CreateRun is RUN_DUPLICATE (11) and keeps the original creation time and name', async () => {
    const { status } = await b.ingestProcessed(encodeCreate(PROJECT, RUN, { creationTime: Date.UTC(2025, 0, 1) }));
    expect(codes(status)).toEqual({ 11: 1 });
    expect(status.codes[0].code).not.toBe(14);
    expect(emu.b.inspect.run(PROJECT, RUN)).toMatchObject({ creationTimeMs: created, experimentId: 'exp-a' });
  });

  it('a different family is RUN_CONFLICTING (12)', async () => {
    const { status } = await b.ingestProcessed(encodeCreate(PROJECT, RUN, { family: 'other' }));
    expect(codes(status)).toEqual({ 12: 1 });
  });

  it('refuses a run id over 128 bytes and a missing project (14, 8)', async () => {
    expect(codes((await b.ingestProcessed(encodeCreate(PROJECT, 'x'.repeat(129)))).status)).toEqual({ 14: 1 });
    const missing = await b.ingestProcessed(encodeCreate('demo/nope', 'r'), 'demo/nope');
    expect(codes(missing.status)).toEqual({ 8: 1 });
    expect(missing.status.message).toContain('demo/nope');
  });

  it('updates to an unknown run are RUN_NOT_FOUND (10)', async () => {
    const { status } = await b.ingestProcessed(encodeUpdate(PROJECT, 'ghost', [{ assign: { a: { int: 1 } } }]));
    expect(codes(status)).toEqual({ 10: 1 });
  });
});

describe('atoms (§3.4)', () => {
  it('stores int64 exactly, floats, bools, strings, datetimes, string sets and file refs', async () => {
    const big = 9007199254740993n; // 2^53 + 1: not a JS number
    const { status } = await b.ingestProcessed(encodeUpdate(PROJECT, RUN, [{
      timestamp: Date.now(),
      assign: {
        'config/big': { int: big }, 'config/neg': { int: -5n }, 'config/lr': { float: 0.001 }, 'config/flag': { bool: true },
        'config/name': { string: 'zażółć' }, 'config/when': { time: Date.UTC(1999, 11, 31, 23, 59, 59, 999) },
        'config/list': { stringSet: ['a', 'b'] }, 'files/model': { fileRef: { path: 'dest/model.bin', sizeBytes: 12, mimeType: 'application/octet-stream' } },
      },
      modifySets: { 'sys/tags': { t1: 'ADD', t2: 'ADD' } },
    }, { modifySets: { 'sys/tags': { t1: 'REMOVE' } } }]));
    expect(codes(status)).toEqual({ 0: 10 });
    const a = emu.b.inspect.attributes(PROJECT, RUN);
    expect(a['config/big']).toEqual({ type: 'int', value: big });
    expect(a['config/neg']).toEqual({ type: 'int', value: -5n });
    expect(a['config/lr']).toEqual({ type: 'float', value: 0.001 });
    expect(a['config/flag']).toEqual({ type: 'bool', value: true });
    expect(a['config/name']).toEqual({ type: 'string', value: 'zażółć' });
    expect(a['config/when']).toEqual({ type: 'datetime', value: Date.UTC(1999, 11, 31, 23, 59, 59, 999) });
    expect(a['config/list']).toEqual({ type: 'stringSet', value: ['a', 'b'] });
    expect(a['files/model']).toEqual({ type: 'fileRef', value: { path: 'dest/model.bin', sizeBytes: 12, mimeType: 'application/octet-stream' } });
    expect(emu.b.inspect.stringSet(PROJECT, RUN, 'sys/tags')).toEqual(['t2']);
  });

  it('applies every size, range and path rule with its code, and keeps the valid fields of the same request', async () => {
    const mib = 1024 * 1024;
    // One oversized value per snapshot: a snapshot itself must stay ≤ 2 MiB (§3.8).
    const { id, status } = await b.ingestProcessed(encodeUpdate(PROJECT, RUN, [{
      assign: {
        ok: { int: 1 },
        ['p'.repeat(1025)]: { int: 1 }, '': { int: 1 }, 'sys/id': { string: 'x' },
        old: { time: Date.UTC(1899, 11, 31) }, far: { time: Date.UTC(2300, 0, 1) },
        ref: { fileRef: { path: 'z'.repeat(4097) } }, hist: { histogram: { edges: [0, 1], counts: [1] } },
      },
    }, { assign: { big: { string: 'x'.repeat(mib + 1) } } }, { assign: { edge: { string: 'é'.repeat(mib / 2) } } },
    { assign: { set: { stringSet: ['y'.repeat(mib + 1)] } } }]));
    expect(codes(status)).toEqual({ 0: 2, 16: 1, 17: 1, 19: 1, 20: 1, 33: 2, 36: 1, 37: 1, 38: 1 });
    const a = emu.b.inspect.attributes(PROJECT, RUN);
    expect(a.ok).toEqual({ type: 'int', value: 1n });
    expect((a.edge?.value as string).length).toBe(mib / 2);
    expect(a.big).toBeUndefined();
    const d = decodeDetails((await b.proto('/api/client/v1/ingest/checkDetails', encodeCheckDetail(PROJECT, [id]))).bytes);
    expect(d.details.map((x) => x.code).sort((p, q) => p - q)).toEqual([16, 17, 19, 20, 33, 33, 36, 37, 38]);
    expect(d.details.find((x) => x.code === 19)?.path).toBe('sys/id');
  });

  it('a type once set cannot change (21)', async () => {
    await b.ingestProcessed(encodeUpdate(PROJECT, RUN, [{ assign: { x: { int: 1 } } }]));
    const { status } = await b.ingestProcessed(encodeUpdate(PROJECT, RUN, [{ assign: { x: { string: 'one' } } }, { step: 1, append: { x: { float: 1 } } }]));
    expect(codes(status)).toEqual({ 21: 2 });
    expect(emu.b.inspect.attributes(PROJECT, RUN).x).toEqual({ type: 'int', value: 1n });
  });

  it('refuses NaN/Inf with code 32 on a server that does not take them', async () => {
    const { status } = await b.ingestProcessed(encodeUpdate(PROJECT, RUN, [{ assign: { n: { float: NaN } } }, { step: 1, append: { m: { float: Infinity }, k: { float: 2 } } }]));
    expect(codes(status)).toEqual({ 0: 1, 32: 2 });
    expect(emu.b.inspect.floatSeries(PROJECT, RUN, 'm')).toEqual([]);
  });
});

describe('series (§3.4)', () => {
  it('stores float and string points with step whole+micro and millisecond timestamps', async () => {
    const t0 = Date.UTC(2021, 4, 6, 8, 0, 0, 0);
    const { status } = await b.ingestProcessed(encodeUpdate(PROJECT, RUN, [
      { step: 0, timestamp: t0, append: { 'train/loss': { float: 1.5 }, 'runtime/stdout': { string: 'line 1' } } },
      { step: { whole: 300, micro: 250000 }, timestamp: { seconds: t0 / 1000 + 1, nanos: 678900957 }, append: { 'train/loss': { float: -0.25 } } },
    ]));
    expect(codes(status)).toEqual({ 0: 3 });
    expect(emu.b.inspect.floatSeries(PROJECT, RUN, 'train/loss')).toEqual([
      { step: 0, timestampMs: t0, value: 1.5 }, { step: 300.25, timestampMs: t0 + 1678, value: -0.25 },
    ]);
    expect(emu.b.inspect.stringSeries(PROJECT, RUN, 'runtime/stdout')).toEqual([{ step: 0, timestampMs: t0, value: 'line 1' }]);
  });

  it('a re-sent point is SERIES_POINT_DUPLICATE (24) and is not stored twice, even behind newer points', async () => {
    const batch = encodeUpdate(PROJECT, RUN, [{ step: 1, timestamp: 1000, append: { m: { float: 1 } } }, { step: 2, timestamp: 2000, append: { m: { float: 2 } } }]);
    expect(codes((await b.ingestProcessed(batch)).status)).toEqual({ 0: 2 });
    expect(codes((await b.ingestProcessed(batch)).status)).toEqual({ 24: 2 });
    expect(emu.b.inspect.floatSeries(PROJECT, RUN, 'm').map((p) => p.value)).toEqual([1, 2]);
    expect(emu.b.stats().duplicatePoints).toBe(2);
  });

  it('steps must increase (25), timestamps must not decrease (27), step limits (40, 41)', async () => {
    await b.ingestProcessed(encodeUpdate(PROJECT, RUN, [{ step: 5, timestamp: 5000, append: { m: { float: 5 } } }]));
    const { status } = await b.ingestProcessed(encodeUpdate(PROJECT, RUN, [
      { step: 5, timestamp: 5000, append: { m: { float: 6 } } }, // same step, other value
      { step: 4, timestamp: 6000, append: { m: { float: 4 } } }, // lower step
      { step: 6, timestamp: 4000, append: { m: { float: 6 } } }, // earlier timestamp
      { step: 1e12, timestamp: 7000, append: { m: { float: 7 } } },
      { step: { whole: 7, micro: 1_000_000 }, timestamp: 7000, append: { m: { float: 7 } } },
      { step: 7, timestamp: 5000, append: { m: { float: 7 } } }, // equal timestamp is allowed
    ]));
    expect(codes(status)).toEqual({ 0: 1, 25: 2, 27: 1, 40: 1, 41: 1 });
    expect(emu.b.inspect.floatSeries(PROJECT, RUN, 'm')).toEqual([{ step: 5, timestampMs: 5000, value: 5 }, { step: 7, timestampMs: 5000, value: 7 }]);
  });

  it('without a step, a point lands on the next whole step of the series being updated', async () => {
    await b.ingestProcessed(encodeUpdate(PROJECT, RUN, [{ step: 2.5, timestamp: 1, append: { m: { float: 1 } } }, { timestamp: 2, append: { m: { float: 2 } } }]));
    expect(emu.b.inspect.floatSeries(PROJECT, RUN, 'm').map((p) => p.step)).toEqual([2.5, 3]);
  });

  it('histograms: ≤ 512 bins, edges checked (50–53), counts and densities stored', async () => {
    const edges513 = Array.from({ length: 513 }, (_, i) => i);
    const { status } = await b.ingestProcessed(encodeUpdate(PROJECT, RUN, [
      { step: 1, timestamp: 1, append: { h: { histogram: { edges: edges513, counts: edges513.slice(1) } }, d: { histogram: { edges: [-1, 0.5, 2], densities: [0.25, 0.75] } } } },
      { step: 2, timestamp: 2, append: { h: { histogram: { edges: [0, NaN], counts: [1] } } } },
      { step: 3, timestamp: 3, append: { h: { histogram: { edges: [...edges513, 513], counts: edges513 } } } },
      { step: 4, timestamp: 4, append: { h: { histogram: { edges: [0, 2, 1], counts: [1, 1] } } } },
      { step: 5, timestamp: 5, append: { h: { histogram: { edges: [0, 1, 2], counts: [1] } } } },
    ]));
    expect(codes(status)).toEqual({ 0: 2, 50: 1, 51: 1, 52: 1, 53: 1 });
    expect(emu.b.inspect.histogramSeries(PROJECT, RUN, 'h')).toEqual([{ step: 1, timestampMs: 1, value: { type: 'COUNTS', edges: edges513, values: edges513.slice(1) } }]);
    expect(emu.b.inspect.histogramSeries(PROJECT, RUN, 'd')[0].value).toEqual({ type: 'DENSITIES', edges: [-1, 0.5, 2], values: [0.25, 0.75] });
  });

  it('file series append FileRefs at steps', async () => {
    const { status } = await b.ingestProcessed(encodeUpdate(PROJECT, RUN, [
      { step: 1, timestamp: 1, append: { 'media/img': { fileRef: { path: 'd/1.png', sizeBytes: 3, mimeType: 'image/png' } } } },
      { step: 2, timestamp: 2, append: { 'media/img': { fileRef: { path: 'd/2.png', sizeBytes: 4, mimeType: 'image/png' } } } },
    ]));
    expect(codes(status)).toEqual({ 0: 2 });
    expect(emu.b.inspect.fileRefSeries(PROJECT, RUN, 'media/img').map((p) => [p.step, p.value.path, p.value.sizeBytes])).toEqual([[1, 'd/1.png', 3], [2, 'd/2.png', 4]]);
  });
});
