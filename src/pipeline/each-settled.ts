/**
 * Runs `worker` over `items`, at most `concurrency` at once, and resolves only when every started
 * worker has ended; then rethrows the first error, if any. Unlike `Promise.all`, a failure does not
 * return while other workers still run: the caller's `finally` (deleting the local copies they read,
 * say) must not pull files from under an upload in flight. After a failure nothing new starts.
 */
export async function eachSettled<T>(items: Iterable<T>, concurrency: number, worker: (item: T) => Promise<void>): Promise<void> {
  const it = items[Symbol.iterator]();
  let failure: { error: unknown } | undefined;
  const lane = async () => {
    for (let next = it.next(); !next.done && !failure; next = it.next()) {
      try {
        await worker(next.value);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, lane));
  if (failure) throw failure.error;
}
