/**
 * Float points by column over Protocol B: the encoder's request bodies for a block are the bytes it
 * writes for the same points added one by one (decoded by the emulator's own decoder, and equal byte
 * for byte), and a run refuses and keeps exactly what `appendFloats` refuses and keeps.
 */
import { describe, expect, it } from 'vitest';
import { startNeptuneEmulator, type NeptuneEmulator } from '../../emulators/neptune/index.ts';
import { decodeRunOperation } from '../../emulators/neptune-b/wire.ts';
import type { TargetRun } from '../../src/core/sink.ts';
import { floatBlockPoints, type FloatSeriesBlock } from '../../src/core/target.ts';
import { SnapshotEncoder, type EncoderLimits } from '../../src/sinks/neptune-b/snapshots.ts';
import { NeptuneBTarget } from '../../src/sinks/neptune-b/target.ts';
import { closeAfterEach } from '../support/close-after-each.ts';

const T0 = 1_700_000_000_000;

/** Three series over 40 rows: gaps, NaN/±Inf, fractional steps and timestamps. */
function sampleBlock(): FloatSeriesBlock {
  const n = 40;
  const steps = Float64Array.from({ length: n }, (_, i) => (i < 30 ? i : 30 + (i - 30) * 0.25));
  const timestampsMs = Float64Array.from({ length: n }, (_, i) => T0 + i * 10.5);
  const a = Float64Array.from({ length: n }, (_, i) => Math.sin(i));
  const b = Float64Array.from({ length: n }, (_, i) => (i % 7 === 3 ? NaN : i % 11 === 5 ? Infinity : i / 3));
  const present = Uint8Array.from({ length: n }, (_, i) => (i % 4 === 1 ? 0 : 1));
  const c = Float64Array.from({ length: n }, (_, i) => -i * 1e300);
  return { steps, timestampsMs, series: [{ path: 'train/loss', values: a }, { path: 'eval/acc ü', values: b, present }, { path: 'big', values: c, present: Uint8Array.from(present, (x) => 1 - x) }] };
}

function bodies(enc: SnapshotEncoder): Buffer[] {
  const out: Buffer[] = [];
  for (const body of enc.requests('ws/proj', 'run-1', T0)) out.push(Buffer.from(body));
  return out;
}

describe('Protocol B float blocks', () => {
  for (const [name, limits] of [
    ['default limits', undefined],
    ['snapshots and requests split small', { maxSnapshotBytes: 60, maxRequestBytes: 700 }],
  ] as [string, EncoderLimits | undefined][]) {
    it(`the encoder writes a block as the same points one by one, byte for byte (${name})`, () => {
      const block = sampleBlock();
      const byPoints = new SnapshotEncoder(limits);
      const byBlock = new SnapshotEncoder(limits);
      for (const c of block.series) {
        const key = byPoints.key(c.path);
        for (const p of floatBlockPoints(block, c)) byPoints.appendFloat(key, p.step, p.timestampMs, p.value);
      }
      const points = block.series.reduce((n, c) => n + floatBlockPoints(block, c).length, 0);
      byBlock.appendFloatBlock({ steps: block.steps, timestampsMs: block.timestampsMs, keys: block.series.map((c) => byBlock.key(c.path)), values: block.series.map((c) => c.values), masks: block.series.map((c) => c.present) }, points);
      expect(byBlock.pendingPoints).toBe(byPoints.pendingPoints);
      const [want, got] = [bodies(byPoints), bodies(byBlock)];
      if (limits) expect(want.length).toBeGreaterThan(1);
      expect(got.map((b) => decodeRunOperation(b))).toEqual(want.map((b) => decodeRunOperation(b)));
      expect(Buffer.concat(got).equals(Buffer.concat(want))).toBe(true);
    });
  }

  it('several blocks with atoms, rows without points, blocks without masks: the bytes of the same points one by one', () => {
    const block = sampleBlock();
    const cut = (from: number, to: number): FloatSeriesBlock => ({
      steps: block.steps.slice(from, to),
      timestampsMs: block.timestampsMs.slice(from, to),
      series: block.series.map((c) => ({ ...c, values: c.values.slice(from, to), ...(c.present ? { present: c.present.slice(from, to) } : {}) })),
    });
    // Row 3 of the middle block has no point at all.
    const middle = cut(10, 25);
    for (const c of middle.series) c.present = Uint8Array.from(c.present ?? middle.steps.map(() => 1), (x, i) => (i === 3 ? 0 : x));
    // Blocks without any mask are written from a row template (snapshots.ts rowTemplate).
    const unmasked = (b: FloatSeriesBlock): FloatSeriesBlock => ({ ...b, series: b.series.map(({ present: _, ...c }) => c) });
    for (const parts of [[cut(0, 10), middle, cut(25, 40)], [cut(0, 25), cut(25, 40)], [unmasked(cut(0, 17)), unmasked(cut(17, 40))]]) {
      const byPoints = new SnapshotEncoder();
      const byBlocks = new SnapshotEncoder();
      for (const enc of [byPoints, byBlocks]) {
        enc.assign('config/lr', { type: 'float', value: 0.5 });
        enc.addToSet('sys/tags', ['a', 'b']);
      }
      for (const part of parts) {
        for (const c of part.series) {
          const key = byPoints.key(c.path);
          for (const p of floatBlockPoints(part, c)) byPoints.appendFloat(key, p.step, p.timestampMs, p.value);
        }
        const points = part.series.reduce((n, c) => n + floatBlockPoints(part, c).length, 0);
        byBlocks.appendFloatBlock({ steps: part.steps, timestampsMs: part.timestampsMs, keys: part.series.map((c) => byBlocks.key(c.path)), values: part.series.map((c) => c.values), masks: part.series.map((c) => c.present) }, points);
      }
      const [want, got] = [bodies(byPoints), bodies(byBlocks)];
      expect(got.map((b) => decodeRunOperation(b))).toEqual(want.map((b) => decodeRunOperation(b)));
      expect(Buffer.concat(got).equals(Buffer.concat(want))).toBe(true);
    }
  });

  it('points one by one and blocks mixed in one flush go out in step order per series', () => {
    const enc = new SnapshotEncoder();
    const block = sampleBlock();
    // A string point before the block's steps and one inside them: one snapshot order, by step.
    enc.appendString(enc.key('note'), 2.5, T0, 'between');
    enc.appendString(enc.key('note'), 0.5, T0, 'first');
    enc.appendFloatBlock({ steps: block.steps, timestampsMs: block.timestampsMs, keys: [enc.key('x')], values: [block.series[0].values], masks: [undefined] }, 40);
    const ops = bodies(enc).map((b) => decodeRunOperation(b));
    const steps = ops.flatMap((op) => (op.snapshots ?? []).map((s) => (s.step ? s.step.whole + s.step.micro / 1e6 : 0)));
    expect(steps).toEqual([...steps].sort((a, b) => a - b));
    expect(steps).toContain(2.5);
  });

  describe('against the emulator', () => {
    let emu: NeptuneEmulator | undefined;
    let target: NeptuneBTarget | undefined;
    closeAfterEach(() => [target, emu], () => (target = emu = undefined));

    async function openRun(name: string, nonFinite: 'drop' | 'send'): Promise<TargetRun> {
      emu ??= await startNeptuneEmulator({ workspaces: ['demo'] });
      target ??= new NeptuneBTarget({ token: emu.apiToken(), nonFinite });
      const p = await target.ensureProject('demo', 'blocks', { description: '', fields: [] });
      return target.openRun(p, name);
    }

    for (const nonFinite of ['drop', 'send'] as const) {
      it(`a run refuses, reports and keeps what appendFloats does (--nan ${nonFinite}; steps going back, on one microstep, out of range; a bad path)`, async () => {
        const block = sampleBlock();
        // Rows whose step goes back, falls on the previous microstep, or is out of B's range.
        const steps = Float64Array.from(block.steps);
        steps[12] = 5;
        steps[31] = steps[30] + 1e-9;
        steps[35] = 2e12;
        const tricky: FloatSeriesBlock = { ...block, steps, series: [...block.series, { path: `${'x'.repeat(1100)}`, values: block.series[0].values }] };
        const byPoints = await openRun(`points-${nonFinite}`, nonFinite);
        const byBlock = await openRun(`block-${nonFinite}`, nonFinite);
        for (const c of tricky.series) byPoints.appendFloats(c.path, floatBlockPoints(tricky, c));
        byBlock.appendFloatBlock!(tricky);
        const [want, got] = [await byPoints.flush(), await byBlock.flush()];
        expect(got).toEqual(want);
        expect(want.map((o) => o.reason).sort()).toEqual(expect.arrayContaining(['step-not-increasing', 'unsupported-value', 'invalid-path']));
        for (const c of block.series) {
          const held = emu!.b.inspect.floatSeries('demo/blocks', `block-${nonFinite}`, c.path);
          expect(held, c.path).toEqual(emu!.b.inspect.floatSeries('demo/blocks', `points-${nonFinite}`, c.path));
          expect(held.length, c.path).toBeGreaterThan(5);
        }
      });
    }
  });
});
