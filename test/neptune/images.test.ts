import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rig, type Rig } from './helpers.ts';

/** Issue 11: image series over Protocol A (`logImages`, leaderboard.json `LogImages`/`Image`). */
let r: Rig;
beforeAll(async () => {
  r = await rig({}, { limits: { maxImageBytes: 64 } });
});
afterAll(async () => r?.close());

const image = (step: number, size = 16) => ({ step, timestampMs: 1_700_000_000_000 + step, data: new Uint8Array(size).fill(step + 1), name: `i${step}.png`, description: `d${step}` });
const held = (runId: string, path: string) =>
  r.emu.inspect.stringSeries(runId, path).map((e) => ({ step: e.step, ts: e.timestampMs, v: JSON.parse(e.value) as { data: string; name: string; description: string } }));

describe('ContainerWriter.logImages', () => {
  it('sends base64 data with name and description at the given steps; an image over the limit is a too-large line; steps held are present', async () => {
    const p = await r.client.ensureProject('demo', 'images');
    const run = await r.client.openRun(p, 'img-1');
    const out = await run.logImages('pred', [image(0), image(0.5), image(1, 65)]);
    expect(out.accepted).toBe(2);
    expect(out.omissions).toEqual([{ reason: 'too-large', subject: 'pred', count: 1, detail: "image at step 1 is 65 bytes, over the server's 64-byte limit" }]);
    const got = held(run.info.id, 'pred');
    expect(got.map((g) => [g.step, g.ts, g.v.name, g.v.description, Buffer.from(g.v.data, 'base64').equals(Buffer.from(image(g.step).data))])).toEqual([
      [0, 1_700_000_000_000, 'i0.png', 'd0', true],
      [0.5, 1_700_000_000_001, 'i0.5.png', 'd0.5', true],
    ]);
    // A writer that loads the run later knows the image series' last step: nothing is sent twice.
    const again = await r.client.openRun(p, 'img-1');
    expect((await again.load()).lastSteps.get('pred')).toBe(0.5);
    expect(await again.logImages('pred', [image(0), image(0.5), image(2)])).toMatchObject({ accepted: 1, alreadyPresent: 2, omissions: [] });
    expect(held(run.info.id, 'pred').map((g) => g.step)).toEqual([0, 0.5, 2]);
  });

  it('a request applied but whose answer was lost is not sent again (no image refused as a repeated step)', async () => {
    const p = await r.client.ensureProject('demo', 'images');
    const run = await r.client.openRun(p, 'img-2');
    r.emu.setFaults({ forceDropAfterApply: { count: 1 }, dropAfterApplyOps: ['executeOperations'] });
    const out = await run.logImages('pred', [image(0), image(1), image(2)]);
    r.emu.setFaults({});
    expect(out).toMatchObject({ accepted: 3, omissions: [] });
    expect(held(run.info.id, 'pred').map((g) => g.step)).toEqual([0, 1, 2]);
  });
});
