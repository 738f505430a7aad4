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
export async function runItemsConcurrently<T>(
  items: readonly T[],
  limit: number,
  run: (item: T) => Promise<void>,
): Promise<Map<T, unknown>> {
  if (!(limit === Number.POSITIVE_INFINITY || (Number.isSafeInteger(limit) && limit > 0))) {
    throw new TypeError(`limit must be a positive integer or Infinity, got ${String(limit)}`);
  }
  const failures = new Map<T, unknown>();
  const workers = Math.min(limit, items.length);
  if (workers <= 1) {
    // One at a time (a run of one item, or a limit of 1): in this function's own loop, with no
    // worker closure and no promise of one. An item of a cron run starts in the turn of its fire,
    // and at 1,000 jobs every allocation of that turn makes a scavenge inside it likelier.
    for (const item of items) {
      try {
        await run(item);
      } catch (error) {
        failures.set(item, error);
      }
    }
    return failures;
  }
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
  await Promise.all(Array.from({ length: workers }, worker));
  return failures;
}
