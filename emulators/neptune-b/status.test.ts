import { afterEach, describe, expect, it } from 'vitest';
import { startNeptuneEmulator } from '../neptune/server.ts';
import type { NeptuneEmulator } from '../neptune/types.ts';
import type { ProtocolBOptions } from './types.ts';
import { bSession, codes, PROJECT } from './test-session.ts';
import { decodeDetails, decodeStatus, encodeCheckDetail, encodeCreate, encodeRequestIds, encodeUpdate } from './test-wire.ts';

let emu: NeptuneEmulator;
afterEach(async () => emu.close());

async function start(protocolB: ProtocolBOptions) {
  emu = await startNeptuneEmulator({ protocolB });
  const b = await bSession(emu);
  return b;
}

const UNAVAILABLE = { codes: [{ code: 14, count: 1, detail: 0 }] };

describe('asynchronous processing and /ingest/check (neptune-api.md §3.5)', () => {
  it('answers UNAVAILABLE for the configured number of checks; nothing is visible before processing', async () => {
    const b = await start({ unavailableChecks: 2 });
    const create = await b.ingest(encodeCreate(PROJECT, 'r1', {}, true));
    const upd = await b.ingest(encodeUpdate(PROJECT, 'r1', [{ step: 1, timestamp: 1, append: { m: { float: 0.5 } } }]));
    expect(await b.check([create, upd])).toEqual([UNAVAILABLE, UNAVAILABLE]);
    expect(emu.b.inspect.run(PROJECT, 'r1')).toBeUndefined();
    expect(emu.b.inspect.pendingRequests()).toEqual([create, upd]);
    expect(await b.check([create, upd])).toEqual([UNAVAILABLE, UNAVAILABLE]);
    const third = await b.check([create, upd]);
    expect(third.map(codes)).toEqual([{ 0: 1 }, { 0: 1 }]);
    expect(emu.b.inspect.floatSeries(PROJECT, 'r1', 'm')).toEqual([{ step: 1, timestampMs: 1, value: 0.5 }]);
    expect(emu.b.inspect.pendingRequests()).toEqual([]);
  });

  it('honours a status delay on an injected clock, in submission order', async () => {
    let now = 1_000_000;
    const b = await start({ statusDelayMs: 5000, now: () => now });
    const id1 = await b.ingest(encodeCreate(PROJECT, 'r1', {}, true));
    now += 3000;
    const id2 = await b.ingest(encodeUpdate(PROJECT, 'r1', [{ step: 1, timestamp: 1, append: { m: { float: 1 } } }]));
    expect(await b.check([id2, id1])).toEqual([UNAVAILABLE, UNAVAILABLE]);
    now += 2000;
    const s = await b.check([id2, id1]);
    expect(s[0]).toEqual(UNAVAILABLE);
    expect(codes(s[1])).toEqual({ 0: 1 });
    now += 3000;
    expect(codes((await b.check([id2]))[0])).toEqual({ 0: 1 });
  });

  it('a stuck server never processes until the fault is lifted', async () => {
    const b = await start({ faults: { stuckUnavailable: true } });
    const id = await b.ingest(encodeCreate(PROJECT, 'r1', {}, true));
    for (let i = 0; i < 3; i++) expect(await b.check([id])).toEqual([UNAVAILABLE]);
    emu.b.setFaults({});
    expect(codes((await b.check([id]))[0])).toEqual({ 0: 1 });
  });

  it('with no delay, a request is applied when it arrives, but never before one still queued ahead of it', async () => {
    const b = await start({ statusDelayMs: 0, unavailableChecks: 0, faults: { stuckUnavailable: true } });
    const create = await b.ingest(encodeCreate(PROJECT, 'r1', {}, true));
    const first = await b.ingest(encodeUpdate(PROJECT, 'r1', [{ step: 1, timestamp: 1, append: { m: { float: 1 } } }]));
    emu.b.setFaults({});
    // Two requests wait: this one must queue behind them (applied first it would find no run: RUN_NOT_FOUND).
    const second = await b.ingest(encodeUpdate(PROJECT, 'r1', [{ step: 2, timestamp: 2, append: { m: { float: 2 } } }]));
    expect((await b.check([create, first, second])).map(codes)).toEqual([{ 0: 1 }, { 0: 1 }, { 0: 1 }]);
    // Nothing queued now: applied before the submit is answered, so visible without a status check.
    await b.ingest(encodeUpdate(PROJECT, 'r1', [{ step: 3, timestamp: 3, append: { m: { float: 3 } } }]));
    expect(emu.b.inspect.pendingRequests()).toEqual([]);
    expect(emu.b.inspect.floatSeries(PROJECT, 'r1', 'm')).toEqual([
      { step: 1, timestampMs: 1, value: 1 }, { step: 2, timestampMs: 2, value: 2 }, { step: 3, timestampMs: 3, value: 3 },
    ]);
  });

  it('unknown ids answer NOT_FOUND in place; more than 1000 ids is a 400; the single GET form works', async () => {
    const b = await start({});
    const id = await b.ingest(encodeCreate(PROJECT, 'r1', {}, true));
    const s = await b.check(['nope', id]);
    expect(s[0].codes).toEqual([{ code: 5, count: 1, detail: 0 }]);
    expect(codes(s[1])).toEqual({ 0: 1 });
    expect((await b.check([id], 'demo/other'))[0].codes[0].code).toBe(5);
    const many = await b.proto('/api/client/v1/ingest/check', encodeRequestIds(Array.from({ length: 1001 }, (_, i) => `id-${i}`)), { projectIdentifier: PROJECT });
    expect(many.status).toBe(400);
    const one = await b.api('/api/client/v1/ingest/check', { projectIdentifier: PROJECT, requestId: id });
    expect(codes(decodeStatus(one.bytes))).toEqual({ 0: 1 });
  });

  it('checkDetails pages the per-path codes of processed requests', async () => {
    const b = await start({});
    await b.ingestProcessed(encodeCreate(PROJECT, 'r1', {}, true));
    const { id } = await b.ingestProcessed(encodeUpdate(PROJECT, 'r1', [{ assign: { 'sys/a': { int: 1 }, 'sys/b': { int: 1 }, 'sys/c': { int: 1 }, ok: { int: 2 } } }]));
    const p1 = decodeDetails((await b.proto('/api/client/v1/ingest/checkDetails', encodeCheckDetail(PROJECT, [id], undefined, 2))).bytes);
    expect(p1.details.map((d) => [d.requestId, d.path, d.code])).toEqual([[id, 'sys/a', 19], [id, 'sys/b', 19]]);
    const p2 = decodeDetails((await b.proto('/api/client/v1/ingest/checkDetails', encodeCheckDetail(PROJECT, [id], p1.next, 2))).bytes);
    expect(p2.details.map((d) => d.path)).toEqual(['sys/c']);
    expect(p2.next).toBe('');
  });

  it('statuses and unprocessed requests survive a restart on the same file', async () => {
    const file = `/tmp/b-emu-status-${process.pid}-${Date.now()}.sqlite`;
    emu = await startNeptuneEmulator({ storage: file, protocolB: { faults: { stuckUnavailable: true } } });
    let b = await bSession(emu);
    const id = await b.ingest(encodeCreate(PROJECT, 'r1', {}, true));
    await emu.close();
    emu = await startNeptuneEmulator({ storage: file, protocolB: {} });
    b = await bSession(emu);
    expect(codes((await b.check([id]))[0])).toEqual({ 0: 1 });
    expect(emu.b.inspect.run(PROJECT, 'r1')?.family).toBe('r1');
  });
});

describe('polling only the newest request', () => {
  it('counts for the earlier ones, which are processed first', async () => {
    const b = await start({ unavailableChecks: 1 });
    const create = await b.ingest(encodeCreate(PROJECT, 'r1', {}, true));
    const upd = await b.ingest(encodeUpdate(PROJECT, 'r1', [{ step: 1, timestamp: 1, append: { m: { float: 2 } } }]));
    expect(await b.check([upd])).toEqual([UNAVAILABLE]);
    expect(codes((await b.check([upd]))[0])).toEqual({ 0: 1 });
    expect(codes((await b.check([create]))[0])).toEqual({ 0: 1 });
  });
});
