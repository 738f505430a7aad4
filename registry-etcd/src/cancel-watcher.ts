/**
 * Cancelling an `etcd3` watcher without waiting forever on an unreachable server.
 *
 * @module
 */
import type { Watcher } from 'etcd3';

const CANCEL_WAIT_MS = 1000;

/**
 * Cancels an `etcd3` watcher, waiting at most 1 s for etcd to confirm (an unreachable server
 * never does; the stream is torn down with the client anyway).
 *
 * @param watcher - the watcher to cancel; its cancellation error, if any, is not reported (the
 *   watcher is being discarded).
 */
export async function cancelWatcher(watcher: Watcher): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    watcher.cancel().catch(() => undefined),
    new Promise((resolve) => {
      timer = setTimeout(resolve, CANCEL_WAIT_MS);
    }),
  ]);
  clearTimeout(timer);
}
