/**
 * Issue 8's new faults: "apply a request, then drop the response" (the write is committed, the client
 * gets a closed connection and no byte of an answer; seeded, per operation) and `legacy` (an older
 * server that does not know `sys/group_tags`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNeptuneEmulator } from './index.ts';
import type { NeptuneEmulator } from './types.ts';
import { session } from './test-client.ts';

const point = (step: number) => ({ path: 'loss', logFloats: { entries: [{ step, value: step / 10, timestampMilliseconds: 1000 + step }] } });

describe('dropAfterApply', () => {
  let emu: NeptuneEmulator;
  let s: Awaited<ReturnType<typeof session>>;
  let run: string;
  beforeAll(async () => {
    emu = await startNeptuneEmulator();
    s = await session(emu);
    run = (await s.createRun((await s.createProject('drops')).id, 'd')).id;
  });
  afterAll(async () => { await emu.close(); });

  it('the batch is stored, the client sees only a dropped connection; a resend of it is refused point by point', async () => {
    emu.setFaults({ forceDropAfterApply: { count: 1 }, dropAfterApplyOps: ['executeOperations'] });
    await expect(s.ops(run, [point(1), point(2)])).rejects.toThrow();
    expect(emu.inspect.floatSeries(run, 'loss')).toEqual([
      { step: 1, timestampMs: 1001, value: 0.1 }, { step: 2, timestampMs: 1002, value: 0.2 },
    ]);
    expect(emu.stats().droppedResponses).toBe(1);
    const again = await s.ops(run, [point(1), point(2)]);
    expect(again.status).toBe(200);
    expect(again.json.map((e: { errorType: string }) => e.errorType)).toEqual(['logSeriesValueError', 'logSeriesValueError']);
    // Only the named operation is dropped; reads and other writes answer.
    emu.setFaults({ dropAfterApplyRate: 1, dropAfterApplyOps: ['executeOperations'] });
    expect((await s.api('/api/leaderboard/v1/attributes', { experimentId: run })).status).toBe(200);
    expect((await s.api('/api/leaderboard/v1/attributes/ping', { experimentId: run }, { method: 'POST' })).status).toBe(200);
    // A refused request is answered: nothing was applied.
    expect((await s.ops(run, { not: 'an array' })).status).toBe(400);
  });

  it('is deterministic under a seed', async () => {
    const pattern = async (seed: number) => {
      emu.setFaults({ dropAfterApplyRate: 0.5, seed, dropAfterApplyOps: ['executeOperations'] });
      const out: boolean[] = [];
      for (let i = 0; i < 12; i++) out.push(await s.ops(run, [{ path: `f${i}`, assignInt: { value: i } }]).then(() => true, () => false));
      return out;
    };
    const a = await pattern(42);
    const b = await pattern(42);
    expect(b).toEqual(a);
    expect(a).toContain(true);
    expect(a).toContain(false);
    emu.setFaults();
  });
});

describe('legacy server', () => {
  it('refuses sys/group_tags per operation and applies the rest; a current server stores it', async () => {
    for (const legacy of [true, false]) {
      const emu = await startNeptuneEmulator({ legacy });
      try {
        const s = await session(emu);
        const run = (await s.createRun((await s.createProject('older')).id, 'g')).id;
        const r = await s.ops(run, [
          { path: 'sys/group_tags', insertStrings: { values: ['grp'] } },
          { path: 'wandb/group', assignString: { value: 'grp' } },
        ]);
        expect(r.status).toBe(200);
        expect(emu.inspect.attributes(run)['wandb/group']).toEqual({ type: 'string', value: 'grp' });
        if (legacy) {
          expect(r.json).toEqual([{ errorType: 'metadata_inconsistency', errorDescription: "Attribute 'sys/group_tags' is not a known system attribute on this server" }]);
          expect(emu.inspect.attributes(run)['sys/group_tags']).toBeUndefined();
        } else {
          expect(r.json).toEqual([]);
          expect(emu.inspect.stringSet(run, 'sys/group_tags')).toEqual(['grp']);
        }
      } finally { await emu.close(); }
    }
  });
});
