import { describe, expect, it } from 'vitest';
import { readAhead } from './read-ahead.ts';

async function* numbers(n: number, failAt?: number) {
  for (let i = 0; i < n; i++) {
    if (i === failAt) throw new Error(`listing broke at ${i}`);
    yield i;
  }
}

describe('readAhead', () => {
  it('tells of items ahead of their use, up to the bound, and yields them all in order', async () => {
    const seen: number[] = [];
    const it = readAhead(numbers(10), 3, (i) => seen.push(i));
    const first = await it.next();
    expect(first.value).toBe(0);
    // Used: 0; read ahead: up to 3 more, while the consumer works on 0.
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual([0, 1, 2, 3]);
    const rest: number[] = [];
    for await (const i of it) rest.push(i);
    expect(rest).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('gives the items read before a listing failure, then the failure', async () => {
    const got: number[] = [];
    await expect(
      (async () => {
        for await (const i of readAhead(numbers(10, 4), 2, () => {})) got.push(i);
      })(),
    ).rejects.toThrow('listing broke at 4');
    expect(got).toEqual([0, 1, 2, 3]);
  });
});
