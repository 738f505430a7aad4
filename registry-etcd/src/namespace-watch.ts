/**
 * One etcd watcher per client over the whole namespace (`/{namespace}/` … its prefix end), shared
 * by every `watch(key)` of the client: each event is dispatched through a {@link RegistryPathIndex}
 * to the {@link SubtreeWatch}es whose root is the event's node or one of its ancestors, so one
 * event costs the node's depth, not the number of watches (with one etcd watcher per watch, the
 * `etcd3` client searches its list of watchers for every response it receives).
 *
 * The watcher is created with the first subscription and kept for the client's life; it starts
 * at the current revision and a subscription reads its subtree only once the watcher is
 * established, so every event after the read reaches it (see `subtree-watch.ts`).
 *
 * The watcher does not ask for prev-KV: etcd would read every event's previous revision before
 * sending it, which under a burst of changes (a takeover) slows delivery down until the watcher
 * falls behind and etcd re-reads its backlog; each subscription derives previous values from its
 * cache instead (see `subtree-watch.ts`).
 *
 * No event is lost or duplicated:
 * - the last revision received is tracked here; when the watch stream reconnects, `etcd3` resumes
 *   from it (we set the resume revision ourselves: `etcd3` would resume from the last response's
 *   header revision, which can skip events still in flight), and events at or below it are
 *   dropped;
 * - when etcd cancels the watcher (its resume revision was compacted, or any other cancel), every
 *   subscription turns stale (buffers), a new watcher is established from the current revision,
 *   then every subscription re-reads its subtree and delivers the differences against its cache.
 *
 * @module
 */
import { RegistryError, RegistryPathIndex, runItemsConcurrently } from '@elasticjob-ts/core/adapter';
import type { Etcd3, IWatchResponse, Watcher } from 'etcd3';
import { cancelWatcher } from './cancel-watcher.js';
import type { KeyCodec } from './keys.js';
import type { SubtreeWatch } from './subtree-watch.js';

/** Dependencies of a {@link NamespaceWatch}. */
export interface NamespaceWatchOptions {
  readonly client: Etcd3;
  readonly codec: KeyCodec;
  /** Reports a background failure (a cancelled watcher, a failed re-read; both are retried). */
  readonly onError: (message: string, error: unknown) => void;
}

const RESYNC_INITIAL_DELAY_MS = 100;
const RESYNC_MAX_DELAY_MS = 2000;
/** Subtree re-reads in flight at once after a cancelled watcher. */
const RESYNC_CONCURRENCY = 8;

function closedError(): RegistryError {
  return new RegistryError('NOT_STARTED', 'The etcd registry was closed');
}

/** The shared namespace watcher and its subscriptions (see the module docs). */
export class NamespaceWatch {
  private readonly subscriptions = new RegistryPathIndex<SubtreeWatch>();
  private watcher: Watcher | undefined;
  /** Settles when the current watcher is established; `undefined` when there is none. */
  private established: Promise<void> | undefined;
  /** Every event up to this revision was dispatched. */
  private lastRevision = 0n;
  private closed = false;
  private resyncTimer: NodeJS.Timeout | undefined;
  /** Rejects the establishment in progress (on close: an unanswered creation never settles). */
  private abandonCreation: ((error: Error) => void) | undefined;

  constructor(private readonly options: NamespaceWatchOptions) {}

  /** Number of subscriptions. */
  get size(): number {
    return this.subscriptions.size;
  }

  /**
   * Subscribes `watch`: establishes the shared watcher if needed, then reads the subtree (the
   * current nodes are delivered before this resolves).
   *
   * @throws the vendor error of the watcher creation or of the read; `watch` is then stopped and
   *   unsubscribed.
   */
  async add(watch: SubtreeWatch): Promise<void> {
    if (this.closed) throw closedError();
    this.subscriptions.add(watch.path, watch);
    try {
      await this.establish();
      await watch.synchronize();
    } catch (error) {
      this.remove(watch);
      throw error;
    }
  }

  /** Unsubscribes and stops `watch`: nothing is delivered to it afterwards. */
  remove(watch: SubtreeWatch): void {
    this.subscriptions.delete(watch);
    watch.stop();
  }

  /** Stops every subscription and cancels the watcher. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.resyncTimer);
    this.abandonCreation?.(closedError());
    for (const watch of this.subscriptions) watch.stop();
    this.subscriptions.clear();
    const watcher = this.watcher;
    this.watcher = undefined;
    if (watcher !== undefined) {
      watcher.removeAllListeners('data');
      await cancelWatcher(watcher);
    }
  }

  /** Resolves once a watcher is established, creating one if there is none. */
  private establish(): Promise<void> {
    if (this.established === undefined) {
      const established = this.createWatcher();
      this.established = established;
      established.catch(() => {
        if (this.established === established) this.established = undefined;
      });
    }
    return this.established;
  }

  private createWatcher(): Promise<void> {
    const { client, codec } = this.options;
    const range = codec.subtree('/');
    const watcher = client
      .watch()
      // No prev-KV: the subscriptions' caches supply previous values (see `subtree-watch.ts`).
      .inRange({ start: range.key, end: range.range_end })
      .watcher();
    this.watcher = watcher;
    let connected = false;
    watcher.on('data', (response: IWatchResponse) => {
      if (this.watcher === watcher) this.onResponse(response);
    });
    watcher.on('disconnected', () => {
      // Resume exactly after what we dispatched (see the module docs); from the current revision
      // while not yet established (nobody has read yet).
      if (connected) watcher.request.start_revision = (this.lastRevision + 1n).toString();
      else delete watcher.request.start_revision;
    });
    return new Promise<void>((resolve, reject) => {
      this.abandonCreation = reject;
      watcher.once('connected', (response: IWatchResponse) => {
        connected = true;
        this.abandonCreation = undefined;
        this.lastRevision = BigInt(response.header.revision);
        resolve();
      });
      watcher.on('error', (error: Error) => {
        if (!connected) {
          this.abandonCreation = undefined;
          if (this.watcher === watcher) this.watcher = undefined;
          reject(error);
        } else if (this.watcher === watcher) {
          this.onCancelled(error);
        }
      });
    });
  }

  private onResponse(response: IWatchResponse): void {
    if (this.closed) return;
    if (response.events.length === 0) {
      // A progress notification: every event up to this revision has been sent.
      if (!response.created && !response.canceled) {
        const revision = BigInt(response.header.revision);
        if (revision > this.lastRevision) this.lastRevision = revision;
      }
      return;
    }
    const { codec } = this.options;
    let highest = this.lastRevision;
    for (const event of response.events) {
      const revision = BigInt(event.kv.mod_revision);
      if (revision <= this.lastRevision) continue; // already dispatched before a reconnect
      if (revision > highest) highest = revision;
      const key = event.kv.key.toString();
      const path = codec.toPath(key);
      if (path === undefined) continue; // the adapter's bookkeeping keys
      const subtreeEvent = { type: event.type, key, kv: event.kv, revision };
      for (const watch of this.subscriptions.covering(path)) watch.deliver(subtreeEvent);
    }
    this.lastRevision = highest;
  }

  private onCancelled(error: Error): void {
    if (this.closed) return;
    this.watcher = undefined;
    this.established = undefined;
    for (const watch of this.subscriptions) watch.markStale();
    this.options.onError(
      `namespace watch was cancelled by etcd; re-reading the ${this.subscriptions.size} watched subtrees`,
      error,
    );
    this.scheduleResync(0);
  }

  private scheduleResync(delayMs: number): void {
    if (this.closed) return;
    clearTimeout(this.resyncTimer);
    this.resyncTimer = setTimeout(() => void this.resync(delayMs), delayMs);
  }

  /** Re-establishes the watcher, then re-reads every stale subscription; retries what failed. */
  private async resync(delayMs: number): Promise<void> {
    if (this.closed) return;
    const retryMs = Math.min(RESYNC_MAX_DELAY_MS, Math.max(RESYNC_INITIAL_DELAY_MS, delayMs * 2));
    try {
      await this.establish();
    } catch (error) {
      if (this.closed) return;
      this.options.onError('re-creating the namespace watch failed; retrying', error);
      this.scheduleResync(retryMs);
      return;
    }
    const stale = [...this.subscriptions].filter((watch) => watch.stale);
    // A watch stopped meanwhile (close) is no longer stale: its synchronize() reads nothing.
    const failures = await runItemsConcurrently(stale, RESYNC_CONCURRENCY, (watch) => watch.synchronize());
    if (this.closed) return;
    for (const [watch, error] of failures)
      this.options.onError(`re-reading watched subtree '${watch.path}' failed; retrying`, error);
    if (this.watcher === undefined) return; // cancelled again: a new pass is scheduled
    if (failures.size > 0) this.scheduleResync(retryMs);
  }
}
