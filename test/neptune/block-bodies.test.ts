/**
 * Protocol A's block path (`logFloatBlock`: float points by column, history's fast path) sends exactly
 * what its point path (`logFloats` of each column's points, as the pipeline hands a target without a
 * block method) sends for the same data: the same request bodies byte for byte, cut at the same
 * limits, the same omissions (NaN/±Infinity, bad timestamps, refused paths, steps going back) and the
 * same points already present; and the emulator, which checks each body against the served spec,
 * stores every value, step and timestamp.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startNeptuneEmulator, type NeptuneEmulator } from '../../emulators/neptune/index.ts';
import { floatBlockPoints, type FloatColumn, type FloatSeriesBlock, type Omission, type SeriesPoint } from '../../src/core/target.ts';
import { createNeptuneClient, type NeptuneClient } from '../../src/sinks/neptune/index.ts';
import type { NeptuneLimits } from '../../src/sinks/neptune/limits.ts';
import { addOmission } from '../../src/mapping/values.ts';
import { startNeptuneProxy, type NeptuneProxy } from './proxy.ts';

let emu: NeptuneEmulator | undefined;
let proxy: NeptuneProxy | undefined;
const clients: NeptuneClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  await proxy?.close();
  await emu?.close();
  proxy = emu = undefined;
});

const T0 = 1_700_000_000_000;

function block(steps: number[], times: number[], series: Array<[path: string, values: number[], present?: number[]]>): FloatSeriesBlock {
  const columns: FloatColumn[] = series.map(([path, values, present]) => ({ path, values: Float64Array.from(values), ...(present ? { present: Uint8Array.from(present) } : {}) }));
  return { steps: Float64Array.from(steps), timestampsMs: Float64Array.from(times), series: columns };
}

/** Three flushes' worth of blocks: sparse and absent columns, NaN/±Infinity, bad timestamps, a path Neptune refuses, steps going back. */
function flushes(): FloatSeriesBlock[][] {
  const n1 = 40;
  const steps1 = Array.from({ length: n1 }, (_, i) => i);
  const times1 = steps1.map((i) => T0 + i * 1000.5);
  times1[7] = NaN; // a row without a usable timestamp
  times1[8] = 1e20; // outside the integers the server takes
  const a1 = steps1.map((i) => [Math.sin(i), NaN, Infinity, -Infinity, -0, 1e21, 5e-324][i % 7]);
  const b1 = steps1.map((i) => i / 3);
  const sparse = steps1.map((i) => (i % 3 === 0 ? 1 : 0));
  const first = block(steps1, times1, [
    ['metrics/a', a1],
    ['metrics/b', b1, sparse],
    ['metrics/none', b1, steps1.map(() => 0)],
    ['metrics/é "q"', b1.map((v) => -v)],
    ['bad//path', b1],
  ]);
  const steps2 = Array.from({ length: 60 }, (_, i) => 40 + i * 1.5);
  const second = block(steps2, steps2.map((s) => T0 + s * 1000 + 0.5), [
    ['metrics/b', steps2.map((s) => s * 2)],
    ['metrics/a', steps2.map((s) => (s === 50.5 ? NaN : s))],
    ['metrics/c', steps2.map((s) => s), steps2.map((_, i) => (i < 30 ? 0 : 1))],
  ]);
  // In the same flush, steps going back into the block before (whose points the limits cut over
  // several requests): at and below what that block left, refused; after it, taken.
  const back = block([60, 128.5, 129.25, 129.5], [T0, T0, T0, T0], [
    ['metrics/a', [5, 6, 7, 8]],
    ['metrics/b', [5, 6, 7, 8], [1, 1, 0, 1]],
  ]);
  // Steps at and below what the series hold: refused as not increasing (the source never does this; the writer still must agree).
  const third = block([100, 128.5, 129, 200], [T0, T0, T0, T0], [
    ['metrics/a', [1, 2, 3, 4]],
    ['metrics/c', [1, 2, 3, 4], [0, 1, 1, 1]],
  ]);
  return [[first, second, back], [third]];
}

/** The point path as the pipeline drives it for a target without a block method: one list per series, in first-seen order. */
function asPoints(blocks: readonly FloatSeriesBlock[]): Map<string, SeriesPoint<number>[]> {
  const out = new Map<string, SeriesPoint<number>[]>();
  for (const b of blocks) for (const c of b.series) out.set(c.path, [...(out.get(c.path) ?? []), ...floatBlockPoints(b, c)]);
  return out;
}

/** Omissions as the target reports them (merged by reason and subject, as `NeptuneTargetRun` does), in any order. */
function sorted(list: readonly Omission[]): Omission[] {
  return [...list].sort((x, y) => `${x.subject} ${x.reason}`.localeCompare(`${y.subject} ${y.reason}`));
}

async function compare(limits: Partial<NeptuneLimits>): Promise<void> {
  emu = await startNeptuneEmulator({ workspaces: ['demo'] });
  proxy = await startNeptuneProxy(emu);
  const client = (): NeptuneClient => {
    const c = createNeptuneClient({ token: proxy!.apiToken(), limits, http: { service: 'Neptune', retry: { retries: 2, baseDelayMs: 5, maxDelayMs: 20 } } });
    clients.push(c);
    return c;
  };
  const project = await client().ensureProject('demo', 'blocks');
  // Each run already holds steps 0..4 of metrics/a and 0..2 of metrics/b, written before (a resume).
  for (const id of ['points', 'blocks']) {
    const before = await client().openRun(project, id);
    before.logFloats('metrics/a', [0, 1, 2, 3, 4].map((s) => ({ step: s, timestampMs: T0 + s, value: s })));
    before.logFloats('metrics/b', [0, 1, 2].map((s) => ({ step: s, timestampMs: T0 + s, value: s })));
    expect((await before.flush()).errors).toEqual([]);
  }
  const byPoints = await client().openRun(project, 'points');
  const byBlocks = await client().openRun(project, 'blocks');
  const outcome = { points: { accepted: 0, alreadyPresent: 0, omissions: [] as Omission[] }, blocks: { accepted: 0, alreadyPresent: 0, omissions: [] as Omission[] } };
  const from = proxy.recorded.length;
  for (const blocks of flushes()) {
    for (const [path, points] of asPoints(blocks)) {
      const o = byPoints.logFloats(path, points);
      outcome.points.accepted += o.accepted;
      outcome.points.alreadyPresent += o.alreadyPresent;
      for (const x of o.omissions) addOmission(outcome.points.omissions, x);
    }
    for (const b of blocks) {
      const o = byBlocks.logFloatBlock(b);
      outcome.blocks.accepted += o.accepted;
      outcome.blocks.alreadyPresent += o.alreadyPresent;
      for (const x of o.omissions) addOmission(outcome.blocks.omissions, x);
    }
    expect((await byPoints.flush()).errors).toEqual([]);
    expect((await byBlocks.flush()).errors).toEqual([]);
  }
  const bodies = (runId: string) =>
    proxy!.recorded.slice(from).filter((r) => r.path.endsWith('/attributes/operations') && r.query.get('experimentId') === runId).map((r) => r.body.toString('utf8'));
  const pointBodies = bodies(byPoints.info.id);
  expect(pointBodies.length).toBeGreaterThan(3);
  expect(bodies(byBlocks.info.id)).toEqual(pointBodies);

  expect(outcome.blocks.accepted).toBe(outcome.points.accepted);
  expect(outcome.blocks.alreadyPresent).toBe(outcome.points.alreadyPresent);
  expect(sorted(outcome.blocks.omissions)).toEqual(sorted(outcome.points.omissions));
  const count = (reason: string, subject: string) => outcome.blocks.omissions.filter((o) => o.reason === reason && o.subject === subject).reduce((n, o) => n + o.count, 0);
  // Rows 7 and 8 (bad timestamps) go first; of the other 38 rows, those whose value is NaN/±Infinity; then the 50.5 NaN of the second block.
  const a1 = Array.from({ length: 40 }, (_, i) => i).filter((i) => i !== 7 && i !== 8 && [1, 2, 3].includes(i % 7));
  expect(count('non-finite', 'metrics/a')).toBe(1 + a1.length + 1);
  expect(count('int-out-of-range', 'metrics/a')).toBe(1);
  expect(count('invalid-path', 'bad//path')).toBe(40);
  expect(count('step-not-increasing', 'metrics/a')).toBe(2 + 3); // 60 and 128.5 (the second block ended at 128.5); then 100, 128.5 and 129 (`back` ended at 129.5)
  expect(count('step-not-increasing', 'metrics/b')).toBe(2); // 60 and 128.5
  expect(count('step-not-increasing', 'metrics/c')).toBe(1);
  expect(outcome.blocks.alreadyPresent).toBe(2 + 1); // metrics/a steps 0 and 4 (1-3 are NaN/±Infinity); metrics/b step 0

  // What the server holds, value by value, is the same for both runs and is what the blocks say.
  for (const path of ['metrics/a', 'metrics/b', 'metrics/c', 'metrics/é "q"']) {
    const held = emu.inspect.floatSeries(byBlocks.info.id, path);
    expect(held).toEqual(emu.inspect.floatSeries(byPoints.info.id, path));
    const expected: SeriesPoint<number>[] = [];
    let last = path === 'metrics/a' ? 4 : path === 'metrics/b' ? 2 : -Infinity;
    const seeded = path === 'metrics/a' ? [0, 1, 2, 3, 4] : path === 'metrics/b' ? [0, 1, 2] : [];
    for (const s of seeded) expected.push({ step: s, timestampMs: T0 + s, value: s });
    for (const b of flushes().flat()) {
      const c = b.series.find((x) => x.path === path);
      if (!c) continue;
      for (const p of floatBlockPoints(b, c)) {
        if (!Number.isFinite(p.value) || !Number.isFinite(p.timestampMs) || Math.abs(p.timestampMs) > 2 ** 53 || p.step <= last) continue;
        // JSON has no -0: it travels as 0.
        expected.push({ step: p.step, timestampMs: Math.round(p.timestampMs), value: p.value === 0 ? 0 : p.value });
        last = p.step;
      }
    }
    expect(held).toEqual(expected);
  }
  expect(emu.inspect.floatSeries(byBlocks.info.id, 'metrics/none')).toEqual([]);
}

describe('Protocol A: float points by column', () => {
  it('sends the bodies the point path sends, cut at the points-per-operation and operations-per-request limits', async () => {
    await compare({ maxFloatPointsPerOp: 7, maxOpsPerRequest: 4 });
  });

  it('sends the bodies the point path sends, cut at the request byte limit', async () => {
    await compare({ maxFloatPointsPerOp: 100, maxRequestBytes: 2400 });
  });
});
