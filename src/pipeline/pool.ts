/** A task moving at most this many bytes is a round trip more than a transfer (small files). */
export const SMALL_TASK_BYTES = 1024 * 1024;
/** Small tasks run in a lane of their own, this many times the pool's size. */
export const SMALL_LANE_FACTOR = 4;

/**
 * A bounded pool: at most `size` tasks run at once; the rest wait their turn in order. Tasks that say
 * they move at most SMALL_TASK_BYTES (a group of small files) have a lane of their own, of
 * SMALL_LANE_FACTOR × `size`: the bound is for bandwidth and disk, which small files do not use, and
 * with `size` 4 a run's two small uploads capped 16 runs at once at ~2,000 runs/min (bench (b)).
 */
export class Pool {
  private active = 0;
  private readonly queue: Array<() => void> = [];
  private smallLane: Pool | undefined;

  constructor(readonly size: number) {}

  /** `bytes`: what the task moves, when known (small tasks take the small lane). */
  async run<T>(task: () => Promise<T>, bytes?: number): Promise<T> {
    if (bytes !== undefined && bytes <= SMALL_TASK_BYTES) return (this.smallLane ??= new Pool(this.size * SMALL_LANE_FACTOR)).run(task);
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
 * Runs `worker` over every item of `items` with at most `concurrency` in flight, pulling the next item
 * only when a worker is free (so listing never runs far ahead of migrating). A failure (the worker's, or
 * the items' own) starts nothing new, and is rethrown only once every worker in flight has ended: the
 * caller's `finally` (closing the target, deleting the local copies an upload reads) must not run under
 * work still going.
 */
export async function forEachConcurrent<T>(
  items: Iterable<T> | AsyncIterable<T>,
  concurrency: number,
  worker: (item: T) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  const it = Symbol.asyncIterator in items ? items[Symbol.asyncIterator]() : items[Symbol.iterator]();
  let done = false;
  let failure: { error: unknown } | undefined;
  const lane = async () => {
    for (;;) {
      if (done || failure || signal?.aborted) return;
      try {
        const next = await it.next();
        if (next.done) {
          done = true;
          return;
        }
        await worker(next.value);
      } catch (error) {
        failure ??= { error };
        return;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, lane));
  if (failure) throw failure.error;
}
