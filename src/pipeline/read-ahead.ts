/**
 * Reads up to `ahead` items of `items` before they are asked for, telling `onItem` of each as it
 * arrives: the migration knows (and the ledger counts as pending) the runs it selected before it
 * starts them, so an interrupt reports them. A failure of the listing surfaces when the items read
 * before it are used up.
 */
export async function* readAhead<T>(items: AsyncIterable<T>, ahead: number, onItem: (item: T) => void): AsyncGenerator<T> {
  const it = items[Symbol.asyncIterator]();
  const buffer: T[] = [];
  let finished = false;
  let failure: { error: unknown } | undefined;
  let filling: Promise<void> | undefined;
  const fill = (): Promise<void> =>
    (filling ??= (async () => {
      try {
        while (!finished && buffer.length < ahead) {
          const next = await it.next();
          if (next.done) finished = true;
          else {
            onItem(next.value);
            buffer.push(next.value);
          }
        }
      } catch (error) {
        failure = { error };
        finished = true;
      } finally {
        filling = undefined;
      }
    })());
  for (;;) {
    if (buffer.length === 0) {
      if (failure) throw failure.error;
      if (finished) return;
      await fill();
      continue;
    }
    const item = buffer.shift()!;
    void fill();
    yield item;
  }
}

/** An iterable whose first item was asked for before anyone iterates it (see `startedNow`). */
export interface StartedNow<T> {
  /** The items, the first one already on its way; iterated once. */
  items: AsyncIterable<T>;
  /**
   * Ends the iterator (its `finally` blocks run) when it was not read to its end, once the item being
   * read has come; a failure of the reading nobody asked for is dropped.
   */
  close(): Promise<void>;
}

/**
 * Asks `items` for its first item now, so what the first item waits on (a run's history: a GraphQL query
 * and the export's download) runs while the caller does something else (opens the run on the target).
 * Only that one item is read ahead. Not aborted on `close`: the source shares what a first read starts
 * (a batched document, other runs' small files fetched ahead) under the signal it was given; what it
 * does for one run alone ends with that run's own signal (`HistoryReadOptions.runSignal`).
 */
export function startedNow<T>(items: AsyncIterable<T>): StartedNow<T> {
  const it = items[Symbol.asyncIterator]();
  let first: Promise<IteratorResult<T>> | undefined = it.next();
  // Seen by whoever iterates; when nobody does (the run failed before), close() drops it.
  first.catch(() => {});
  let taken = false;
  return {
    items: {
      [Symbol.asyncIterator]() {
        if (taken) throw new Error('startedNow: the items are iterated once');
        taken = true;
        return {
          next: () => {
            const f = first;
            first = undefined;
            return f ?? it.next();
          },
          return: async (value?: unknown) => (await it.return?.(value)) ?? { done: true, value: undefined },
        };
      },
    },
    async close() {
      first = undefined;
      await it.return?.(undefined).catch(() => {});
    },
  };
}
