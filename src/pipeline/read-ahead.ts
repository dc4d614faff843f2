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
