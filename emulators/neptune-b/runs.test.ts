import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startNeptuneEmulator } from '../neptune/server.ts';
import type { NeptuneEmulator } from '../neptune/types.ts';
import { bSession, codes, PROJECT } from './test-session.ts';
import { decodeFloatSeries, encodeCreate, encodeUpdate } from './test-wire.ts';

let emu: NeptuneEmulator;
let b: Awaited<ReturnType<typeof bSession>>;
beforeEach(async () => {
  emu = await startNeptuneEmulator({ protocolB: { statusDelayMs: 0 } });
  b = await bSession(emu);
  expect(codes((await b.ingestProcessed(encodeCreate(PROJECT, 'parent', {}, true))).status)).toEqual({ 0: 1 });
});
afterEach(async () => emu.close());

describe('forks, experiments, projects (common.proto Run, ingest.proto IngestCode)', () => {
  it('a fork records its parent; its points must come after the fork step (26); a missing parent is a warning (13)', async () => {
    expect(codes((await b.ingestProcessed(encodeCreate(PROJECT, 'child', { fork: { parentRunId: 'parent', step: 10 } }))).status)).toEqual({ 0: 1 });
    expect(emu.b.inspect.run(PROJECT, 'child')?.forkParent).toEqual({ project: PROJECT, runId: 'parent', step: 10 });
    const { status } = await b.ingestProcessed(encodeUpdate(PROJECT, 'child', [
      { step: 10, timestamp: 1, append: { m: { float: 1 } } }, { step: 10.5, timestamp: 2, append: { m: { float: 2 } } },
    ]));
    expect(codes(status)).toEqual({ 0: 1, 26: 1 });
    expect(emu.b.inspect.floatSeries(PROJECT, 'child', 'm').map((p) => p.step)).toEqual([10.5]);
    const orphan = await b.ingestProcessed(encodeCreate(PROJECT, 'orphan', { fork: { parentRunId: 'nobody', step: 1 } }));
    expect(codes(orphan.status)).toEqual({ 0: 1, 13: 1 });
    // Same run id, other fork point: conflicting (12).
    expect(codes((await b.ingestProcessed(encodeCreate(PROJECT, 'child', { fork: { parentRunId: 'parent', step: 11 } }))).status)).toEqual({ 12: 1 });
  });

  it('experiment_id moves to the newest holder in the project', async () => {
    await b.ingestProcessed(encodeCreate(PROJECT, 'a', { experimentId: 'exp' }));
    await b.ingestProcessed(encodeCreate(PROJECT, 'b', { experimentId: 'exp' }));
    expect(emu.b.inspect.run(PROJECT, 'a')?.experimentId).toBeUndefined();
    expect(emu.b.inspect.run(PROJECT, 'b')?.experimentId).toBe('exp');
  });

  it('create_missing_project needs an existing workspace (8); a name without a workspace is 9', async () => {
    expect(codes((await b.ingestProcessed(encodeCreate('nows/proj', 'r', {}, true), 'nows/proj')).status)).toEqual({ 8: 1 });
    expect(codes((await b.ingestProcessed(encodeCreate('noslash', 'r', {}, true), 'noslash')).status)).toEqual({ 9: 1 });
  });

  it('a path that is not UTF-8 is FIELD_PATH_INVALID (18)', async () => {
    const { status } = await b.ingestProcessed(encodeUpdate(PROJECT, 'parent', [{ step: 1, timestamp: 1, rawAppendKeys: [[new Uint8Array([0x6d, 0xff]), { float: 1 }]] }]));
    expect(codes(status)).toEqual({ 18: 1 });
  });

  it('previews: kept apart from committed points, after the last committed step (42), replaced by a commit', async () => {
    const { status } = await b.ingestProcessed(encodeUpdate(PROJECT, 'parent', [
      { step: 1, timestamp: 1, append: { m: { float: 1 } } },
      { step: 2, timestamp: 2, preview: { completionRatio: 0.5 }, append: { m: { float: 1.5 } } },
      { step: 1, timestamp: 3, preview: { completionRatio: 0.5 }, append: { m: { float: 9 } } },
    ]));
    expect(codes(status)).toEqual({ 0: 2, 42: 1 });
    expect(emu.b.inspect.floatSeries(PROJECT, 'parent', 'm').map((p) => p.value)).toEqual([1]);
    const read = async () => decodeFloatSeries((await b.api('/api/leaderboard/v1/proto/attributes/series/float', { experimentId: `${PROJECT}/parent`, attribute: 'm', includePreview: true })).bytes);
    expect((await read()).points.map((p) => [p.step, p.value, p.isPreview])).toEqual([[1, 1, false], [2, 1.5, true]]);
    await b.ingestProcessed(encodeUpdate(PROJECT, 'parent', [{ step: 2, timestamp: 4, append: { m: { float: 2 } } }]));
    expect((await read()).points.map((p) => [p.step, p.value, p.isPreview])).toEqual([[1, 1, false], [2, 2, false]]);
  });

  it('string sets: modify_sets add/remove, whole-set assign replaces, 1 MiB per set (37)', async () => {
    const half = 'x'.repeat(600 * 1024);
    const { status } = await b.ingestProcessed(encodeUpdate(PROJECT, 'parent', [
      { modifySets: { 'sys/group_tags': { g1: 'ADD' } } },
      { assign: { s: { stringSet: ['a', 'b', 'c'] } } },
      { assign: { s: { stringSet: ['c', 'd'] } } },
      { modifySets: { big: { [half]: 'ADD' } } },
      { modifySets: { big: { [`y${half}`]: 'ADD' } } },
    ]));
    expect(codes(status)).toEqual({ 0: 4, 37: 1 });
    expect(emu.b.inspect.stringSet(PROJECT, 'parent', 's')).toEqual(['c', 'd']);
    expect(emu.b.inspect.stringSet(PROJECT, 'parent', 'sys/group_tags')).toEqual(['g1']);
    expect(emu.b.inspect.stringSet(PROJECT, 'parent', 'big')).toEqual([half]);
  });

  it('NaN and ±Inf are stored and read back when the server takes them', async () => {
    await emu.close();
    emu = await startNeptuneEmulator({ protocolB: { statusDelayMs: 0, nanInf: 'accept' } });
    b = await bSession(emu);
    await b.ingestProcessed(encodeCreate(PROJECT, 'r', {}, true));
    const { status } = await b.ingestProcessed(encodeUpdate(PROJECT, 'r', [
      { assign: { c: { float: -Infinity } } },
      { step: 1, timestamp: 1, append: { m: { float: NaN } } }, { step: 2, timestamp: 2, append: { m: { float: Infinity } } },
    ]));
    expect(codes(status)).toEqual({ 0: 3 });
    expect(emu.b.inspect.attributes(PROJECT, 'r').c).toEqual({ type: 'float', value: -Infinity });
    expect(emu.b.inspect.floatSeries(PROJECT, 'r', 'm').map((p) => p.value)).toEqual([NaN, Infinity]);
    // Re-sending the NaN point is a duplicate, not a conflict.
    expect(codes((await b.ingestProcessed(encodeUpdate(PROJECT, 'r', [{ step: 1, timestamp: 1, append: { m: { float: NaN } } }]))).status)).toEqual({ 24: 1 });
  });
});
