import { isAbortError } from '../core/errors.ts';

/** Where a stream's reading stopped on a source failure, to be raised once the run's other streams landed. */
export interface SourceFailure {
  error?: unknown;
}

/**
 * The items of a source's stream until reading it fails: the failure is kept in `failed` and the stream
 * ends there, so what was read before it still lands and the run's other streams (fields, system
 * metrics, console, files) are still written; the caller raises it at the end, leaving the run not done
 * so that the next pass reads that stream again from its cursor. An abort is never kept: it stops all.
 * Only the source's own reading is caught, never what the consumer does with an item.
 */
export async function* untilSourceFails<T>(items: AsyncIterable<T>, failed: SourceFailure, signal?: AbortSignal): AsyncGenerator<T> {
  const it = items[Symbol.asyncIterator]();
  let ended = false;
  try {
    for (;;) {
      let next: IteratorResult<T>;
      try {
        next = await it.next();
      } catch (error) {
        ended = true;
        if (isAbortError(error) || signal?.aborted) throw error;
        failed.error = error;
        return;
      }
      if (next.done) {
        ended = true;
        return;
      }
      yield next.value;
    }
  } finally {
    // The consumer stopped early (its own failure): the source closes what it holds open.
    if (!ended) await it.return?.();
  }
}
