/**
 * The one server-side persistent recursive watch a ZooKeeper connection holds over its namespace,
 * shared by every subtree watch of the client (one per job): the server keeps one watch per
 * connection and namespace instead of one per job, and sends one notification per change, which
 * the connection's `PersistentWatchDispatcher` routes to the subtrees that cover it.
 *
 * The server drops a connection's watches with its socket, so the watch is added again on the next
 * socket; the first subtree that re-arms after a reconnect sends `addWatch`, the others join it.
 * ZooKeeper processes a connection's requests in order, so a read sent after the `addWatch` (even
 * before its answer) misses no change after it.
 *
 * @module
 */
import type { RegistryError } from '@elasticjob-ts/core/adapter';

/** The outcome of `addWatch`: `undefined`, or the mapped error. */
export type AddWatchCallback = (error: RegistryError | undefined) => void;

/** One `addWatch` on one socket: its waiters until answered, then `undefined` (added). */
interface AddWatchAttempt {
  waiters: AddWatchCallback[] | undefined;
}

/** The namespace's persistent recursive watch on the current socket of one connection. */
export class NamespaceWatch {
  /** Absolute path of the watched node (the namespace root). */
  readonly root: string;
  readonly #sendAddWatch: (done: AddWatchCallback) => void;
  #attempt: AddWatchAttempt | undefined;

  /**
   * @param root - absolute path of the namespace root (it need not exist).
   * @param sendAddWatch - sends `addWatch` (persistent recursive) on `root` and reports its outcome.
   */
  constructor(root: string, sendAddWatch: (done: AddWatchCallback) => void) {
    this.root = root;
    this.#sendAddWatch = sendAddWatch;
  }

  /** Whether `path` is the root or below it. */
  covers(path: string): boolean {
    return path === this.root || this.root === '/' || path.startsWith(`${this.root}/`);
  }

  /**
   * Makes sure `addWatch` has been sent on the current socket: sends it when it has not (or when
   * the last attempt failed), else waits for the attempt under way, or reports success at once
   * (in a microtask, never synchronously) when the server has answered it.
   *
   * @param callback - the outcome of the `addWatch` this call relies on.
   */
  join(callback: AddWatchCallback): void {
    const attempt = this.#attempt;
    if (attempt !== undefined) {
      if (attempt.waiters === undefined) queueMicrotask(() => callback(undefined));
      else attempt.waiters.push(callback);
      return;
    }
    const fresh: AddWatchAttempt = { waiters: [callback] };
    this.#attempt = fresh;
    this.#sendAddWatch((error) => {
      const waiters = fresh.waiters ?? [];
      fresh.waiters = undefined;
      // A failed attempt is not relied on: the next join sends `addWatch` again.
      if (error !== undefined && this.#attempt === fresh) this.#attempt = undefined;
      for (const waiter of waiters) waiter(error);
    });
  }

  /**
   * Forgets the watch: the socket changed (the server dropped the watch with the old one) or the
   * watch is being removed. Waiters of an attempt under way still get its outcome.
   */
  forget(): void {
    this.#attempt = undefined;
  }
}
