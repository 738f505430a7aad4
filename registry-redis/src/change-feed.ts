/**
 * The change feed: every script appends one entry per changed node to the namespace's stream
 * (`XADD ... MAXLEN ~`), in the same atomic step as the change, so the stream id is a revision.
 * One loop per client reads it with a blocking `XREAD` on a dedicated connection, from the last
 * id it has seen, and hands each entry to its subscribers (subtree watches, latch waiters)
 * synchronously and in stream order. After a connection loss it resumes from the same id, so no
 * entry is lost or repeated; keyspace notifications are not used (they are fire-and-forget).
 *
 * If entries the loop has not read were trimmed away (`max-deleted-entry-id` of `XINFO STREAM`
 * is past the cursor) or the namespace's data was lost (its epoch changed, e.g. a server without
 * persistence restarted), every subscriber re-synchronises from a fresh snapshot.
 *
 * @module
 */
import type { RegistryEventType } from '@elasticjob-ts/core';
import type { RedisConnection } from './connection.js';
import { registryErrorCodeOf } from './to-registry-error.js';

/** One change-feed entry. */
export interface FeedEntry {
  /** Stream id (`{ms}-{seq}`), increasing in commit order. */
  readonly id: string;
  readonly type: RegistryEventType;
  readonly key: string;
  readonly value: string;
}

/** Receives the feed's entries. */
export interface FeedSubscriber {
  /** Called synchronously for every entry read, in stream order. Must not throw. */
  deliver(entry: FeedEntry): void;
  /**
   * Re-reads the subscriber's state after a gap.
   *
   * @returns the stream id its new snapshot corresponds to.
   */
  resync?(): Promise<string>;
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
  /** How long one `XREAD` blocks, in ms. */
  readonly blockMs: number;
  readonly onError: (message: string, error: unknown) => void;
}

const BATCH = 1_000;

/** The per-client feed reader. */
export class ChangeFeed {
  private readonly subscribers = new Set<FeedSubscriber>();
  private cursor = '0-0';
  private epoch: string | undefined;
  private closed = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly context: ChangeFeedContext) {}

  /**
   * Starts reading after `fromId`.
   *
   * @param fromId - the last stream id already reflected in this client's state.
   * @param epoch - the namespace epoch at that point.
   */
  start(fromId: string, epoch: string | undefined): void {
    this.cursor = fromId;
    this.epoch = epoch;
    this.loop = this.run();
  }

  /** Adds a subscriber; it receives every entry read from now on. */
  subscribe(subscriber: FeedSubscriber): () => void {
    this.subscribers.add(subscriber);
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
            this.cursor = id;
            this.dispatch(parseEntry(id, fields));
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
    for (const subscriber of [...this.subscribers]) {
      try {
        subscriber.deliver(entry);
      } catch (error) {
        this.context.onError('change feed subscriber threw', error);
      }
    }
  }

  /** After a connection loss: re-synchronise when entries were trimmed or the data was lost. */
  private async ensureContinuity(): Promise<void> {
    const { connection, streamKey, epochKey } = this.context;
    const epoch = (await connection.get(epochKey)) ?? undefined;
    let maxDeleted = '0-0';
    try {
      const info = (await connection.xinfo('STREAM', streamKey)) as unknown[];
      const index = info.indexOf('max-deleted-entry-id');
      if (index >= 0) maxDeleted = String(info[index + 1]);
    } catch {
      // No stream yet (nothing ever written): nothing was trimmed.
    }
    const lostData = this.epoch !== undefined && epoch !== this.epoch;
    if (!lostData && compareStreamIds(maxDeleted, this.cursor) <= 0) return;
    this.epoch = epoch;
    let first: string | undefined;
    for (const subscriber of [...this.subscribers]) {
      const id = await subscriber.resync?.();
      if (id !== undefined && first === undefined) first = id;
    }
    if (first !== undefined) this.cursor = first;
    else if (lostData) this.cursor = '0-0';
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

function parseEntry(id: string, fields: string[]): FeedEntry {
  let type = '';
  let key = '';
  let value = '';
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i];
    const content = fields[i + 1] as string;
    if (name === 't') type = content;
    else if (name === 'k') key = content;
    else if (name === 'v') value = content;
  }
  return { id, type: type as RegistryEventType, key, value };
}
