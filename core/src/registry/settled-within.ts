/**
 * {@link settledWithinMs}: a bound on the graceful part of an adapter's `close()`.
 *
 * @module
 */

/**
 * Waits until every promise has settled or `timeoutMs` has passed, whichever comes first; their
 * rejections are ignored (report them where they are created). The timer does not outlive the
 * wait, so nothing is left to keep the process alive.
 *
 * @param promises - the work to wait for; `undefined` entries are skipped.
 * @param timeoutMs - the bound, in ms.
 * @returns `true` when everything settled in time, `false` when the bound cut the wait short.
 */
export async function settledWithinMs(
  promises: readonly (Promise<unknown> | undefined)[],
  timeoutMs: number,
): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const settled = await Promise.race([
    Promise.allSettled(promises).then(() => true),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    }),
  ]);
  clearTimeout(timer);
  return settled;
}
