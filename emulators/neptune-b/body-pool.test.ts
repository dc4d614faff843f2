/**
 * Ingest bodies are read into pooled buffers (../neptune/http-util.ts BodyPool), so the next body may
 * land in the bytes of the one before: nothing decoded from a body may keep pointing into it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startNeptuneEmulator } from '../neptune/server.ts';
import type { NeptuneEmulator } from '../neptune/types.ts';
import { bSession, codes, PROJECT } from './test-session.ts';
import { encodeCreate, encodeUpdate } from './test-wire.ts';

let emu: NeptuneEmulator;
afterEach(async () => emu.close());

describe('ingest bodies in pooled buffers', () => {
  beforeEach(async () => {
    emu = await startNeptuneEmulator({ protocolB: { statusDelayMs: 0 } });
  });

  it('keys of one body are not taken for the keys of the next one in the same bytes', async () => {
    const b = await bSession(emu);
    expect(codes((await b.ingestProcessed(encodeCreate(PROJECT, 'r', {}, true))).status)).toEqual({ 0: 1 });
    // Same layout, same length: the second and third bodies land where the first was.
    const body = (key: string, step: number) => encodeUpdate(PROJECT, 'r', [{ step, timestamp: 1000 + step, append: { [key]: { float: step } } }]);
    for (const [key, step] of [['m/aaaa', 1], ['m/bbbb', 2], ['m/aaaa', 3], ['m/bbbb', 4]] as const) {
      expect(codes((await b.ingestProcessed(body(key, step))).status)).toEqual({ 0: 1 });
    }
    expect(emu.b.inspect.floatSeries(PROJECT, 'r', 'm/aaaa').map((p) => p.step)).toEqual([1, 3]);
    expect(emu.b.inspect.floatSeries(PROJECT, 'r', 'm/bbbb').map((p) => p.step)).toEqual([2, 4]);
  });

  it('two bodies read at once each decode from their own bytes, and a queued one keeps its own', async () => {
    const b = await bSession(emu);
    await b.ingestProcessed(encodeCreate(PROJECT, 'r', {}, true));
    const rows = (key: string, from: number) => encodeUpdate(PROJECT, 'r', Array.from({ length: 3000 }, (_, i) => ({
      step: from + i, timestamp: 1000 + from + i, append: { [key]: { float: from + i } },
    })));
    const ids = await Promise.all([b.ingest(rows('m/x', 0)), b.ingest(rows('m/y', 0))]);
    emu.b.setFaults({ stuckUnavailable: true });
    // Its first point is a duplicate: applied snapshot by snapshot, decoded from its body when applied.
    const queued = await b.ingest(rows('m/x', 2999));
    await b.ingest(rows('m/y', 3000)); // read into the buffer the queued body came in, while that one waits
    emu.b.setFaults({ stuckUnavailable: false });
    const statuses = await b.check([...ids, queued]);
    expect(statuses.map(codes)).toEqual([{ 0: 3000 }, { 0: 3000 }, { 0: 2999, 24: 1 }]);
    expect(emu.b.inspect.floatSeries(PROJECT, 'r', 'm/x').map((p) => p.value)).toEqual(Array.from({ length: 5999 }, (_, i) => i));
    expect(emu.b.inspect.floatSeries(PROJECT, 'r', 'm/y').map((p) => p.value)).toEqual(Array.from({ length: 6000 }, (_, i) => i));
  });
});
