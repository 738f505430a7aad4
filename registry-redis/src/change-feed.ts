/**
 * The change feed: every script appends one entry per changed node to the namespace's stream
 * (`XADD ... MAXLEN ~`), in the same atomic step as the change, so the stream id is a revision.
 * One loop per client reads it with a blocking `XREAD` on a dedicated connection, from the last
 * id it has seen, and hands each entry to its subscribers (subtree watches, latch waiters)
 * synchronously and in stream order. After a connection loss it resumes from the same id, so no
 * entry is lost or repeated; keyspace notifications are not used (they are fire-and-forget).
 *
 * Every entry carries a revision from one counter (`INCR` in the same script), so revisions are
 * consecutive. When an entry's revision is not the next one (entries the loop had not read were
 * trimmed away by `MAXLEN`), when after a reconnect the counter is ahead but the next entry is
 * gone, or when the namespace's data was lost (the counter went back or its epoch changed, e.g. a
 * server without persistence restarted), every subscriber re-synchronises from a fresh snapshot.
 *
 * @module
 */
import { type RegistryEventType, RegistryPathIndex } from '@elasticjob-ts/core';
import type { RedisConnection } from './connection.js';
import { registryErrorCodeOf } from './to-registry-error.js';

/** One change-feed entry. */
export interface FeedEntry {
  /** Stream id (`{ms}-{seq}`), increasing in commit order. */
  readonly id: string;
  /** Revision: 1 for the namespace's first entry, then consecutive. */
  readonly revision: number;
  readonly type: RegistryEventType;
  readonly key: string;
  readonly value: string;
}

/** A position in the change feed: the last entry's stream id and revision. */
export interface FeedPosition {
  readonly id: string;
  readonly revision: number;
}

/** Receives the feed's entries. */
export interface FeedSubscriber {
  /**
   * The namespace-relative subtree whose entries it needs (`/` or absent: every entry). The feed
   * hands an entry only to the subscribers whose subtree holds its key, found by the key's depth,
   * so a client with one watch per job does not offer each entry to thousands of watches.
   */
  readonly root?: string;
  /** Called synchronously for every entry read within its `root`, in stream order. Must not throw. */
  deliver(entry: FeedEntry): void;
  /**
   * Re-reads the subscriber's state after a gap (entries it will never see).
   *
   * @returns the feed position its new snapshot corresponds to, or `undefined` when it keeps no
   *   snapshot (it only re-checks the server).
   */
  resync(): Promise<FeedPosition | undefined>;
}

/**
 * Compares two stream ids.
 *
 * @returns negative, 0 or positive like a comparator.
 */
export function compareStreamIds(a: string, b: string): number {
  const [aMs = '0', aSeq = '0'] = a.split('-');
  const [bMs = '0', bSeq = '0'] = b.split('-');
  const ms = BigInt(aMs) - BigInt(bMs);
  if (ms !== 0n) return ms < 0n ? -1 : 1;
  const seq = BigInt(aSeq) - BigInt(bSeq);
  return seq === 0n ? 0 : seq < 0n ? -1 : 1;
}

/** What the feed needs. */
export interface ChangeFeedContext {
  /** A dedicated connection for the blocking reads. */
  readonly connection: RedisConnection;
  /** The stream key. */
  readonly streamKey: string;
  /** The epoch key. */
  readonly epochKey: string;
  /** The revision counter key. */
  readonly revisionKey: string;
  /** Reads the feed's current position and epoch atomically. */
  readonly position: () => Promise<FeedPosition & { readonly epoch: string | undefined }>;
  /** How long one `XREAD` blocks, in ms. */
  readonly blockMs: number;
  readonly onError: (message: string, error: unknown) => void;
}

const BATCH = 1_000;

/** The per-client feed reader. */
export class ChangeFeed {
  private readonly subscribers = new RegistryPathIndex<FeedSubscriber>();
  private cursor = '0-0';
  private revision = 0;
  private epoch: string | undefined;
  private closed = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly context: ChangeFeedContext) {}

  /**
   * Starts reading after `from`.
   *
   * @param from - the last position already reflected in this client's state.
   * @param epoch - the namespace epoch at that point.
   */
  start(from: FeedPosition, epoch: string | undefined): void {
    this.cursor = from.id;
    this.revision = from.revision;
    this.epoch = epoch;
    this.loop = this.run();
  }

  /** Adds a subscriber; it receives every entry read from now on. */
  subscribe(subscriber: FeedSubscriber): () => void {
    this.subscribers.add(subscriber.root ?? '/', subscriber);
    return () => this.subscribers.delete(subscriber);
  }

  /** Stops reading and disconnects the feed's connection. */
  async close(): Promise<void> {
    this.closed = true;
    this.subscribers.clear();
    this.wake?.();
    this.context.connection.disconnect();
    await this.loop;
  }

  private async run(): Promise<void> {
    const { connection, streamKey } = this.context;
    let checkContinuity = false;
    while (!this.closed) {
      try {
        if (checkContinuity) {
          await this.ensureContinuity();
          checkContinuity = false;
        }
        const reply = (await connection.xread(
          'COUNT',
          BATCH,
          'BLOCK',
          this.context.blockMs,
          'STREAMS',
          streamKey,
          this.cursor,
        )) as Array<[string, Array<[string, string[]]>]> | null;
        if (this.closed) return;
        for (const [, entries] of reply ?? []) {
          for (const [id, fields] of entries) {
            const entry = parseEntry(id, fields);
            if (entry.revision !== this.revision + 1) {
              await this.resync();
              break;
            }
            this.cursor = id;
            this.revision = entry.revision;
            this.dispatch(entry);
          }
        }
      } catch (error) {
        if (this.closed) return;
        // Connection losses are expected here (the session reports them); anything else is logged.
        if (registryErrorCodeOf(error) !== 'CONNECTION_LOSS') {
          this.context.onError('change feed read failed; retrying', error);
        }
        checkContinuity = true;
        await this.waitForConnection();
      }
    }
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

  /** After a connection loss: re-synchronise when unread entries were trimmed or the data was lost. */
  private async ensureContinuity(): Promise<void> {
    const { connection, streamKey, epochKey, revisionKey } = this.context;
    const [epoch, counter] = await Promise.all([connection.get(epochKey), connection.get(revisionKey)]);
    const revision = Number(counter ?? 0);
    if ((epoch ?? undefined) !== this.epoch || revision < this.revision) {
      await this.resync();
      return;
    }
    if (revision === this.revision) return;
    const next = (await connection.xrange(streamKey, `(${this.cursor}`, '+', 'COUNT', 1)) as Array<
      [string, string[]]
    >;
    const first = next[0];
    if (first === undefined || parseEntry(first[0], first[1]).revision !== this.revision + 1)
      await this.resync();
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
    this.cursor = from.id;
    this.revision = from.revision;
  }

  private waitForConnection(): Promise<void> {
    const { connection } = this.context;
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        connection.off('ready', finish);
        this.wake = undefined;
        resolve();
      };
      this.wake = finish;
      connection.once('ready', finish);
      // Still "ready" (a command timed out) or a missed event: try again after a short pause.
      const timer = setTimeout(finish, connection.status === 'ready' ? 100 : 1_000);
    });
  }
}

/**
 * Parses a stream entry's fields.
 *
 * @param id - the stream id.
 * @param fields - `[name, value, ...]`.
 */
export function parseEntry(id: string, fields: string[]): FeedEntry {
  let revision = 0;
  let type = '';
  let key = '';
  let value = '';
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i];
    const content = fields[i + 1] as string;
    if (name === 'n') revision = Number(content);
    else if (name === 't') type = content;
    else if (name === 'k') key = content;
    else if (name === 'v') value = content;
  }
  return { id, revision, type: type as RegistryEventType, key, value };
}
