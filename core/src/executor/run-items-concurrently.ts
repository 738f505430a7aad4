/**
 * Bounded concurrency for the items of one run (what ElasticJob's per-job fixed thread pool and
 * countdown latch do in `ElasticJobExecutor.process`).
 *
 * @module
 */

/**
 * Runs `run(item)` for every item with at most `limit` calls in flight, starting items in the
 * given order, and resolves when all have settled. It never rejects: each failure (a rejection or
 * a synchronous throw) is recorded against its item.
 *
 * @param items - the items; should be distinct, since failures are keyed by item.
 * @param limit - maximum calls in flight; a positive integer, or `Infinity` for no limit.
 * @param run - runs one item.
 * @returns the failed items mapped to what they threw (a value may itself be `undefined`; use
 * `has`), in the order they failed; empty when every item succeeded.
 * @throws {TypeError} (as a rejection, the only one) when `limit` is not a positive integer or
 * `Infinity`.
 */
export function runItemsConcurrently<T>(
  items: readonly T[],
  limit: number,
  run: (item: T) => Promise<void>,
): Promise<Map<T, unknown>> {
  if (!(limit === Number.POSITIVE_INFINITY || (Number.isSafeInteger(limit) && limit > 0))) {
    return Promise.reject(
      new TypeError(`limit must be a positive integer or Infinity, got ${String(limit)}`),
    );
  }
  // One item (most runs): its own promise, followed, with no async function of ours around it.
  // A cron run's items start in the turn of its fire, and at 1,000 jobs every suspended layer of
  // that turn (about 0.4 KB) makes a scavenge inside it likelier.
  if (items.length === 1) {
    const item = items[0] as T;
    const failed = (error: unknown) => new Map<T, unknown>([[item, error]]);
    try {
      // `Promise.resolve` returns a native promise as it is; it also takes a plain value.
      return Promise.resolve(run(item)).then(() => new Map<T, unknown>(), failed);
    } catch (error) {
      return Promise.resolve(failed(error));
    }
  }
  return runInPool(items, limit, run);
}

/** {@link runItemsConcurrently} for any number of items: at most `limit` workers. */
async function runInPool<T>(
  items: readonly T[],
  limit: number,
  run: (item: T) => Promise<void>,
): Promise<Map<T, unknown>> {
  const failures = new Map<T, unknown>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      try {
        await run(item);
      } catch (error) {
        failures.set(item, error);
      }
    }
  };
  const workers = Math.min(limit, items.length);
  // One worker (a limit of 1): no array of workers to wait for.
  if (workers === 1) await worker();
  else await Promise.all(Array.from({ length: workers }, worker));
  return failures;
}
