import { describe, expect, it } from 'vitest';
import { untilSourceFails, type SourceFailure } from './source-failure.ts';

async function* source(n: number, failAt: number | undefined, closed: { done: boolean }, error: unknown = new Error('damaged at item 2')) {
  try {
    for (let i = 0; i < n; i++) {
      if (i === failAt) throw error;
      yield i;
    }
  } finally {
    closed.done = true;
  }
}

describe('untilSourceFails', () => {
  it('gives the items read before the failure and keeps the failure', async () => {
    const failed: SourceFailure = {};
    const got: number[] = [];
    for await (const x of untilSourceFails(source(5, 2, { done: false }), failed)) got.push(x);
    expect(got).toEqual([0, 1]);
    expect((failed.error as Error).message).toBe('damaged at item 2');
  });

  it('keeps nothing when the source ends well', async () => {
    const failed: SourceFailure = {};
    const got: number[] = [];
    for await (const x of untilSourceFails(source(3, undefined, { done: false }), failed)) got.push(x);
    expect(got).toEqual([0, 1, 2]);
    expect(failed.error).toBeUndefined();
  });

  it('raises an abort, and the consumer\'s own failure, and closes the source when the consumer stops', async () => {
    const abort = Object.assign(new Error('aborted'), { name: 'AbortError' });
    await expect((async () => { for await (const _ of untilSourceFails(source(5, 1, { done: false }, abort), {})) void _; })()).rejects.toBe(abort);
    const closed = { done: false };
    const failed: SourceFailure = {};
    await expect((async () => {
      for await (const x of untilSourceFails(source(5, undefined, closed), failed)) if (x === 1) throw new Error('the target refused');
    })()).rejects.toThrow('the target refused');
    expect(closed.done).toBe(true);
    expect(failed.error).toBeUndefined();
  });
});
