import { describe, expect, it } from 'vitest';
import { forEachConcurrent } from './pool.ts';

/** A promise the test resolves or rejects by hand. */
function gate() {
  let open!: () => void;
  let fail!: (e: Error) => void;
  const done = new Promise<void>((res, rej) => ((open = res), (fail = rej)));
  return { done, open, fail };
}

describe('forEachConcurrent', () => {
  it('keeps at most `concurrency` workers in flight and runs every item', async () => {
    const gates = Array.from({ length: 5 }, gate);
    const started: number[] = [];
    const all = forEachConcurrent([0, 1, 2, 3, 4], 2, async (i) => {
      started.push(i);
      await gates[i].done;
    });
    await Promise.resolve();
    expect(started).toEqual([0, 1]);
    gates[1].open();
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([0, 1, 2]);
    for (const g of gates) g.open();
    await all;
    expect(started).toEqual([0, 1, 2, 3, 4]);
  });

  it('after a failure waits for the workers in flight, starts nothing new, then rethrows the first error', async () => {
    const gates = Array.from({ length: 4 }, gate);
    const started: number[] = [];
    let settled = false;
    const all = forEachConcurrent([0, 1, 2, 3], 2, async (i) => {
      started.push(i);
      await gates[i].done;
    }).finally(() => (settled = true));
    gates[0].fail(new Error('first'));
    await new Promise((r) => setImmediate(r));
    expect(settled).toBe(false); // worker 1 still runs
    gates[1].fail(new Error('second'));
    await expect(all).rejects.toThrow('first');
    expect(started).toEqual([0, 1]);
  });

  it('a failure of the items themselves (a listing) also waits for the workers in flight, then is rethrown', async () => {
    const g = gate();
    let settled = false;
    async function* listing() {
      yield 0;
      throw new Error('listing failed');
    }
    const all = forEachConcurrent(listing(), 2, async () => {
      await g.done;
    }).finally(() => (settled = true));
    await new Promise((r) => setImmediate(r));
    expect(settled).toBe(false); // worker 0 still runs
    g.open();
    await expect(all).rejects.toThrow('listing failed');
  });
});
