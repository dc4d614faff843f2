/**
 * The migration fields' wrapper (TrailingFields) keeps what the batcher looks for on a run: a writer
 * by columns gets the blocks themselves, one that takes appends during a flush still says so, and a
 * run without them stays without (the batcher then hands it points, one batch at a time).
 */
import { describe, expect, it } from 'vitest';
import type { TargetRun } from '../../src/core/sink.ts';
import type { FloatSeriesBlock } from '../../src/core/target.ts';
import { TrailingFields } from '../../src/pipeline/trailing-fields.ts';

function plainRun(): TargetRun {
  return {
    id: 'r1',
    state: async () => ({ lastSteps: new Map(), fieldCount: 0 }),
    assign: () => {},
    appendFloats: () => {},
    appendStrings: () => {},
    flush: async () => [],
    uploadFileSet: async () => ({ refused: [], alreadyPresent: [] }),
  } as unknown as TargetRun;
}

describe('TrailingFields', () => {
  it('hands a block writer the blocks themselves, and says it takes appends during a flush', () => {
    const got: FloatSeriesBlock[] = [];
    const inner = { ...plainRun(), appendsDuringFlush: true, appendFloatBlock(b: FloatSeriesBlock) { got.push(b); } } as TargetRun;
    const wrapped = new TrailingFields(inner);
    const block: FloatSeriesBlock = { steps: Float64Array.of(1, 2), timestampsMs: Float64Array.of(10, 20), series: [{ path: 'loss', values: Float64Array.of(0.5, 0.25) }] };
    expect(wrapped.appendsDuringFlush).toBe(true);
    expect(typeof wrapped.appendFloatBlock).toBe('function');
    wrapped.appendFloatBlock!(block);
    expect(got).toEqual([block]);
    expect(got[0]).toBe(block);
  });

  it('a run without them stays without', () => {
    const wrapped = new TrailingFields(plainRun());
    expect(wrapped.appendFloatBlock).toBeUndefined();
    expect(wrapped.appendsDuringFlush).toBeUndefined();
  });
});
