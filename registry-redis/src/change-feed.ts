/**
 * The change feed: every script appends one entry per changed node to the namespace's stream
 * (`XADD ... MAXLEN ~`), in the same atomic step as the change, so the stream is the feed's source
 * of truth and its ids are commit order. A {@link FeedSource} brings the entries to this client
 * (pushed on a subscribed connection, or read with blocking reads, see `feed-push-source.ts` and
 * `feed-blocking-source.ts`); this class hands them to its subscribers (subtree watches, latch
 * waiters) synchronously, in stream order, each exactly once.
 *
 * Every entry carries a revision from one counter (`INCR` in the same script), so revisions are
 * consecutive, and the feed keeps a cursor (the last delivered entry's id and revision):
 *
 * - an entry at or before the cursor's id was already delivered (a push that overlaps a read) and
 *   is skipped;
 * - an entry after the cursor whose revision is not the cursor's + 1 reveals a gap (a pushed
 *   message was lost, e.g. while the connection was down): the feed reads the stream after the
 *   cursor (`XRANGE`, on the command connection) before it delivers anything more;
 * - when the source reconnected, the feed checks continuity before delivering more: the
 *   namespace's epoch and revision are read, and the entries after the cursor are read;
 * - when those reads show entries that are gone (trimmed by `MAXLEN` while the client was behind),
 *   or that the namespace's data was lost (the counter went back or its epoch changed, e.g. a server
 *   without persistence restarted), every subscriber re-synchronises from a fresh snapshot;
 * - every session heartbeat returns the namespace's revision: when the cursor is still behind the
 *   revision one heartbeat saw by the next heartbeat, and the source brought nothing in between,
 *   entries were never received (a subscribed connection that died silently, a script that failed
 *   before its push), so the feed reads them from the stream and asks the source to reconnect. A
 *   source that is merely slow (a busy client) keeps bringing entries and is left alone: resetting
 *   it would only make the client read the same entries again.
 *
 * @module
 */
import { RegistryPathIndex } from '@elasticjob-ts/core/adapter';
import { compareStreamIds, type FeedEntry, type FeedPosition } from './feed-entry.js';
import { registryErrorCodeOf } from './to-registry-error.js';

export { compareStreamIds, type FeedEntry, type FeedPosition } from './feed-entry.js';

/** Receives the feed's entries. */
export interface FeedSubscriber {
  /**
   * The namespace-relative subtree whose entries it needs (`/` or absent: every entry). The feed
   * hands an entry only to the subscribers whose subtree holds its key, found by the key's depth,
   * so a client with one watch per job does not offer each entry to thousands of watches.
   */
  readonly root?: string;
  /** Called synchronously for every entry within its `root`, in stream order. Must not throw. */
  deliver(entry: FeedEntry): void;
  /**
   * Re-reads the subscriber's state after a gap (entries it will never see).
   *
   * @returns the feed position its new snapshot corresponds to, or `undefined` when it keeps no
   *   snapshot (it only re-checks the server).
   */
  resync(): Promise<FeedPosition | undefined>;
}

/** What a {@link FeedSource} hands its entries to. */
export interface FeedSink {
  /** The last entry delivered (a blocking reader continues after it). */
  readonly cursor: FeedPosition;
  /** Resolves once the feed knows its starting position (a blocking reader waits for it). */
  readonly positioned: Promise<void>;
  /**
   * Entries the source received, in the order received; duplicates and gaps are allowed.
   *
   * @returns resolves when they, and everything queued before them, were handled.
   */
  receive(entries: readonly FeedEntry[]): Promise<void>;
  /**
   * The source (re)connected: entries may have been missed. Continuity is checked before any
   * entry received after this call is delivered.
   */
  recover(): Promise<void>;
}

/** Brings the stream's entries to the feed. */
export interface FeedSource {
  /**
   * Starts. Resolves once every entry committed from now on will reach `sink` (for a subscription:
   * once the server confirmed it), so the feed may read its starting position afterwards.
   *
   * @throws when the subscription cannot be made.
   */
  open(sink: FeedSink): Promise<void>;
  /** Entries were not received in time: re-establishes the source (no-op when it cannot help). */
  reset(): void;
  /** Stops and disconnects. */
  close(): Promise<void>;
}

/** What the feed needs besides its source. */
export interface ChangeFeedContext {
  readonly source: FeedSource;
  /**
   * Reads up to `count` stream entries after `afterId` (exclusive), in order.
   *
   * @throws a connection error; the feed retries after {@link waitForRetry}.
   */
  readonly readAfter: (afterId: string, count: number) => Promise<FeedEntry[]>;
  /** Reads the feed's current position and epoch atomically. */
  readonly position: () => Promise<FeedPosition & { readonly epoch: string | undefined }>;
  /** Resolves when a failed read is worth retrying (the command connection is ready again). */
  readonly waitForRetry: () => Promise<void>;
  readonly onError: (message: string, error: unknown) => void;
}

/** Entries read per `XRANGE` while catching up. */
const CATCH_UP_BATCH = 1_000;

/** Marks, in the queue, the point where the source reconnected. */
const RECOVER = Symbol('recover');

type QueueItem = FeedEntry | typeof RECOVER;

/** The per-client change feed. */
export class ChangeFeed implements FeedSink {
  private readonly subscribers = new RegistryPathIndex<FeedSubscriber>();
  private position: FeedPosition = { id: '0-0', revision: 0 };
  private epoch: string | undefined;
  private closed = false;
  private queue: QueueItem[] = [];
  private draining: Promise<void> | undefined;
  private markPositioned: () => void = () => undefined;
  /** The revision a heartbeat saw while the cursor was behind it, to check at the next one. */
  private lagTarget: number | undefined;
  /** Whether the source brought entries since the last heartbeat. */
  private receivedSinceObserved = false;

  readonly positioned: Promise<void> = new Promise((resolve) => {
    this.markPositioned = resolve;
  });

  constructor(private readonly context: ChangeFeedContext) {}

  get cursor(): FeedPosition {
    return this.position;
  }

  /**
   * Opens the source, then reads the starting position: everything committed after it is
   * delivered.
   *
   * @throws the source's or the position read's error.
   */
  async start(): Promise<void> {
    await this.context.source.open(this);
    const current = await this.context.position();
    this.position = { id: current.id, revision: current.revision };
    this.epoch = current.epoch;
    this.markPositioned();
    void this.kick();
  }

  /** Adds a subscriber; it receives every entry delivered from now on. */
  subscribe(subscriber: FeedSubscriber): () => void {
    this.subscribers.add(subscriber.root ?? '/', subscriber);
    return () => this.subscribers.delete(subscriber);
  }

  receive(entries: readonly FeedEntry[]): Promise<void> {
    if (entries.length > 0) this.receivedSinceObserved = true;
    for (const entry of entries) this.queue.push(entry);
    return this.kick();
  }

  recover(): Promise<void> {
    this.queue.push(RECOVER);
    return this.kick();
  }

  /**
   * A heartbeat saw the namespace at `revision`. When the cursor is still behind the revision the
   * previous heartbeat saw and the source brought nothing since, entries were not received (a slow
   * but live source is left alone: it is still bringing them): reads them from the stream and
   * resets the source.
   */
  observeRevision(revision: number): void {
    if (this.closed) return;
    const target = this.lagTarget;
    const silent = !this.receivedSinceObserved;
    this.receivedSinceObserved = false;
    this.lagTarget = revision > this.position.revision ? revision : undefined;
    if (target !== undefined && silent && this.position.revision < target) {
      this.context.onError(
        `change feed at revision ${this.position.revision} received nothing up to ${target} for a heartbeat interval; reading the stream and reconnecting its source`,
        undefined,
      );
      this.context.source.reset();
      void this.recover();
    }
  }

  /** Stops delivering and closes the source. */
  async close(): Promise<void> {
    this.closed = true;
    this.subscribers.clear();
    this.queue = [];
    this.markPositioned();
    await this.context.source.close();
    await this.draining;
  }

  private kick(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.draining ??= this.drain();
    return this.draining;
  }

  /**
   * Handles the queue until it is empty. `draining` is cleared in the same step as the last
   * emptiness check, so an item queued afterwards always starts a new drain.
   */
  private async drain(): Promise<void> {
    try {
      await this.positioned;
      while (this.queue.length > 0 && !this.closed) {
        const batch = this.queue;
        this.queue = [];
        for (let index = 0; index < batch.length && !this.closed; index++) {
          const item = batch[index] as QueueItem;
          try {
            if (item === RECOVER) await this.ensureContinuity();
            else if (!this.deliverNext(item)) await this.catchUp(item.revision);
          } catch (error) {
            if (this.closed) return;
            if (registryErrorCodeOf(error) !== 'CONNECTION_LOSS') {
              this.context.onError('change feed read failed; retrying', error);
            }
            this.queue = [...batch.slice(index), ...this.queue];
            await this.context.waitForRetry();
            break;
          }
        }
      }
    } finally {
      this.draining = undefined;
    }
  }

  /**
   * Delivers `entry` when it is the successor of the cursor; skips it when already delivered.
   *
   * @returns false when it reveals a gap (not delivered).
   */
  private deliverNext(entry: FeedEntry): boolean {
    if (compareStreamIds(entry.id, this.position.id) <= 0) return true;
    if (entry.revision !== this.position.revision + 1) return false;
    this.position = { id: entry.id, revision: entry.revision };
    this.dispatch(entry);
    return true;
  }

  /**
   * Reads and delivers the stream after the cursor, at least up to revision `target` (committed,
   * so in the stream unless trimmed); re-synchronises when entries are gone.
   */
  private async catchUp(target: number): Promise<void> {
    for (;;) {
      const entries = await this.context.readAfter(this.position.id, CATCH_UP_BATCH);
      if (this.closed) return;
      for (const entry of entries) {
        if (!this.deliverNext(entry)) {
          await this.resync();
          return;
        }
      }
      if (entries.length < CATCH_UP_BATCH) break;
    }
    if (this.position.revision < target) await this.resync();
  }

  private dispatch(entry: FeedEntry): void {
    for (const subscriber of this.subscribers.covering(entry.key)) {
      try {
        subscriber.deliver(entry);
      } catch (error) {
        this.context.onError('change feed subscriber threw', error);
      }
    }
  }

  /** After a reconnect: re-synchronises when the data was lost, else reads what was missed. */
  private async ensureContinuity(): Promise<void> {
    const current = await this.context.position();
    if (current.epoch !== this.epoch || current.revision < this.position.revision) {
      await this.resync();
      return;
    }
    if (current.revision > this.position.revision) await this.catchUp(current.revision);
  }

  /**
   * Every subscriber re-reads its state; the feed continues after the first (oldest) snapshot, and
   * each subscriber skips what its own snapshot already reflects.
   */
  private async resync(): Promise<void> {
    let first: FeedPosition | undefined;
    for (const subscriber of [...this.subscribers]) {
      const position = await subscriber.resync();
      if (position !== undefined && first === undefined) first = position;
    }
    const current = await this.context.position();
    this.epoch = current.epoch;
    const from = first ?? current;
    this.position = { id: from.id, revision: from.revision };
  }
}
