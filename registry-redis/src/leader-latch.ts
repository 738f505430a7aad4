/**
 * `executeInLeader`: a fair distributed mutex, the ZooKeeper recipe on the adapter's own nodes.
 *
 * Each caller creates an ephemeral sequential node `{latch}/latch-{10 digits}` owned by its
 * session; the lowest suffix holds the latch; every other waiter waits for the `DELETED` entry of
 * its predecessor on the change feed, then checks again. Waiters are served in the order their
 * nodes were created (the suffix is a per-parent `INCR`). A holder whose session ends loses its
 * node with the session, which releases the latch. The holder's node path is a fence: a write
 * guarded by a transaction `check` of that node commits only while the latch is held.
 *
 * @module
 */
import { type LeaderLatchOptions, RegistryError } from '@elasticjob-ts/core/adapter';
import type { ChangeFeed, FeedEntry } from './change-feed.js';
import type { RedisSession } from './session.js';

/** Default bounded wait for the latch, in ms. */
export const DEFAULT_LATCH_WAIT_TIMEOUT_MS = 30_000;

const LATCH_NODE = /^latch-\d{10}$/;

/** What the latch needs from the registry center. */
export interface LatchContext {
  readonly feed: ChangeFeed;
  readonly session: RedisSession;
  /** Creates the caller's ephemeral sequential node; returns its path. */
  readonly createNode: (prefix: string) => Promise<string>;
  /** Children names of a path, from the server. */
  readonly children: (path: string) => Promise<string[]>;
  /** Deletes the caller's node (best effort: a closed client's node went with its session). */
  readonly deleteNode: (path: string) => Promise<void>;
  /** Registers a cleanup run by `close()`; returns a function that removes it. */
  readonly track: (cleanup: () => void) => () => void;
}

function validateWaitTimeout(value: unknown): number {
  if (value === undefined) return DEFAULT_LATCH_WAIT_TIMEOUT_MS;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new TypeError(
      `executeInLeader 'waitTimeoutMs' must be a finite number of ms >= 0, got ${String(value)}`,
    );
  }
  return value;
}

/**
 * Runs `callback` while holding the latch `latchPath`.
 *
 * @throws {RegistryError} `TIMEOUT` when not acquired within `waitTimeoutMs`; `SESSION_EXPIRED`
 *   when the session ended while waiting; `NOT_STARTED` when the client closed; connection codes;
 *   the signal's reason when aborted; whatever `callback` throws (after release).
 */
export async function executeInLatch<T>(
  context: LatchContext,
  latchPath: string,
  callback: () => Promise<T> | T,
  options: LeaderLatchOptions = {},
): Promise<T> {
  const waitTimeoutMs = validateWaitTimeout(options.waitTimeoutMs);
  const signal = options.signal;
  signal?.throwIfAborted();
  const sessionId = context.session.require(latchPath);
  const deleted = new Set<string>();
  let gap = false;
  let wake: (() => void) | undefined;
  const prefix = latchPath === '/' ? '/' : `${latchPath}/`;
  const unsubscribe = context.feed.subscribe({
    root: latchPath,
    deliver(entry: FeedEntry) {
      if (entry.type === 'DELETED' && entry.key.startsWith(prefix)) {
        deleted.add(entry.key);
        wake?.();
      }
    },
    // Entries were missed: the predecessor may be gone unseen, so read the queue again.
    async resync() {
      gap = true;
      wake?.();
      return undefined;
    },
  });
  // Every way the wait can end early rejects `cancelled`; each step of the wait races it.
  let cancel: (error: unknown) => void = () => undefined;
  const cancelled = new Promise<never>((_, reject) => {
    cancel = reject;
  });
  cancelled.catch(() => undefined);
  const timer = setTimeout(
    () =>
      cancel(
        new RegistryError('TIMEOUT', `Latch '${latchPath}' was not acquired within ${waitTimeoutMs} ms`, {
          path: latchPath,
        }),
      ),
    waitTimeoutMs,
  );
  const onAbort = () => cancel(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  const stopSession = context.session.onSessionEnd((ended) => {
    if (ended === sessionId) cancel(sessionEnded(latchPath));
  });
  const untrack = context.track(() =>
    cancel(new RegistryError('NOT_STARTED', 'The Redis registry was closed', { path: latchPath })),
  );
  let waitEnded = false;
  const endWait = () => {
    waitEnded = true;
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
    stopSession();
    untrack();
    unsubscribe();
    wake = undefined;
  };
  const creating = context.createNode(`${prefix}latch-`);
  let node: string | undefined;
  try {
    node = await Promise.race([creating, cancelled]);
    const name = node.slice(prefix.length);
    for (;;) {
      gap = false;
      const queue = (await Promise.race([readQueue(context, latchPath, () => waitEnded), cancelled]))
        .filter((child) => LATCH_NODE.test(child))
        .sort();
      const position = queue.indexOf(name);
      if (position < 0) throw sessionEnded(latchPath);
      if (position === 0) break;
      const predecessor = `${prefix}${queue[position - 1]}`;
      const predecessorGone = new Promise<void>((resolve) => {
        wake = () => {
          if (gap || deleted.has(predecessor)) resolve();
        };
        wake();
      });
      await Promise.race([predecessorGone, cancelled]);
    }
  } catch (error) {
    endWait();
    // A node created after the wait ended early must not block the queue.
    const created = node ?? (await creating.catch(() => undefined));
    if (created !== undefined) await context.deleteNode(created);
    throw error;
  }
  endWait();
  try {
    return await callback();
  } finally {
    await context.deleteNode(node);
  }
}

/** Pause between queue reads while the connection is down, in ms. */
const RETRY_DELAY_MS = 250;

/**
 * The latch's children; a connection loss is retried (the caller races the wait's end), since a
 * waiter woken by a reconnect may read before its command connection is back.
 */
async function readQueue(context: LatchContext, latchPath: string, ended: () => boolean): Promise<string[]> {
  for (;;) {
    try {
      return await context.children(latchPath);
    } catch (error) {
      if (!RegistryError.is(error, 'CONNECTION_LOSS') || ended()) throw error;
      await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS));
    }
  }
}

function sessionEnded(latchPath: string): RegistryError {
  return new RegistryError(
    'SESSION_EXPIRED',
    `The Redis session ended while waiting for latch '${latchPath}'; its queue entry is gone`,
    { path: latchPath },
  );
}
