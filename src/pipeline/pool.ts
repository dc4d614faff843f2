/** A bounded pool: at most `size` tasks run at once; the rest wait their turn in order. */
export class Pool {
  private active = 0;
  private readonly queue: Array<() => void> = [];

  constructor(readonly size: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.size) await new Promise<void>((r) => this.queue.push(r));
    this.active++;
    try {
      return await task();
    } finally {
      this.active--;
      this.queue.shift()?.();
    }
  }
}

/**
 * Runs `worker` over every item of an async iterable with at most `concurrency` in flight, pulling the
 * next item only when a worker is free (so listing never runs far ahead of migrating).
 */
export async function forEachConcurrent<T>(
  items: AsyncIterable<T>,
  concurrency: number,
  worker: (item: T) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  const it = items[Symbol.asyncIterator]();
  let done = false;
  const lane = async () => {
    for (;;) {
      if (done || signal?.aborted) return;
      const next = await it.next();
      if (next.done) {
        done = true;
        return;
      }
      await worker(next.value);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, lane));
}
