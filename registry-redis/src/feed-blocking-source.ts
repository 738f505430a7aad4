/**
 * The change feed read with blocking `XREAD`s, from the feed's cursor, on a dedicated connection:
 * one request per wake-up. Used on Redis Cluster, where ioredis' cluster client re-subscribes on a
 * node of its choice by itself and does not report when, so a lost push could go unnoticed until
 * the next heartbeat; a blocking read on the slot's node has no such window.
 *
 * @module
 */
import type { FeedSink, FeedSource } from './change-feed.js';
import { type RedisConnection, waitForReady } from './connection.js';
import { parseStreamReply } from './feed-entry.js';
import { registryErrorCodeOf } from './to-registry-error.js';

/** Entries read per `XREAD`. */
const READ_BATCH = 1_000;

/** A {@link FeedSource} of blocking stream reads. */
export class BlockingFeedSource implements FeedSource {
  private closed = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  /**
   * @param connection - a dedicated connection whose command timeout exceeds `blockMs`.
   * @param streamKey - the stream key.
   * @param blockMs - how long one `XREAD` blocks, in ms.
   * @param onError - reports a failed read other than a connection loss.
   */
  constructor(
    private readonly connection: RedisConnection,
    private readonly streamKey: string,
    private readonly blockMs: number,
    private readonly onError: (message: string, error: unknown) => void,
  ) {}

  async open(sink: FeedSink): Promise<void> {
    this.loop = this.run(sink);
  }

  reset(): void {
    // The next read starts from the feed's cursor anyway.
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wake?.();
    this.connection.disconnect();
    await this.loop;
  }

  private async run(sink: FeedSink): Promise<void> {
    await sink.positioned;
    while (!this.closed) {
      try {
        const reply = (await this.connection.xread(
          'COUNT',
          READ_BATCH,
          'BLOCK',
          this.blockMs,
          'STREAMS',
          this.streamKey,
          sink.cursor.id,
        )) as Array<[string, Array<[string, string[]]>]> | null;
        if (this.closed) return;
        for (const [, entries] of reply ?? []) await sink.receive(parseStreamReply(entries));
      } catch (error) {
        if (this.closed) return;
        // Connection losses are expected here (the session reports them); anything else is logged.
        if (registryErrorCodeOf(error) !== 'CONNECTION_LOSS') {
          this.onError('change feed read failed; retrying', error);
        }
        await waitForReady(this.connection, (wake) => {
          this.wake = wake;
        });
        await sink.recover();
      }
    }
  }
}
