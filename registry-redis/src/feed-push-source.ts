/**
 * The change feed pushed: the feed connection subscribes (`SSUBSCRIBE`) to the namespace's feed
 * channel, to which every script publishes the entries it appended to the stream. Delivery then
 * costs no request: a script call is the only request of a write, where a blocking reader sent one
 * more `XREAD` after each wake-up.
 *
 * Pub/sub is at most once: a message published while the connection is down, or dropped when the
 * server closed a subscriber that fell behind its output buffer limit, is gone. The stream is the
 * source of truth, so nothing is lost: after every reconnect the connection subscribes again and,
 * once the server confirmed it, tells the feed to check continuity (read the stream after its
 * cursor); a message whose first revision is not the cursor's successor makes the feed read the
 * missing range too (see `change-feed.ts`). A subscribed connection cannot send other commands, so
 * those reads go on the command connection.
 *
 * ioredis' own re-subscription is off (`autoResubscribe: false`): the feed must know when the
 * subscription is back, which ioredis does not report.
 *
 * @module
 */
import type { Redis } from 'ioredis';
import type { FeedSink, FeedSource } from './change-feed.js';
import { type FeedEntry, parsePushedEntries } from './feed-entry.js';
import { registryErrorCodeOf } from './to-registry-error.js';

/** A {@link FeedSource} on a subscribed connection. */
export class PushFeedSource implements FeedSource {
  private sink: FeedSink | undefined;
  private closed = false;

  /**
   * @param connection - a dedicated connection to one server (or a Sentinel group's primary),
   *   ready, created with `autoResubscribe: false`.
   * @param channel - the namespace's feed channel (`{prefix}f`, in the namespace's hash slot).
   * @param onError - reports an unreadable message or a failed re-subscription.
   */
  constructor(
    private readonly connection: Redis,
    private readonly channel: string,
    private readonly onError: (message: string, error: unknown) => void,
  ) {}

  async open(sink: FeedSink): Promise<void> {
    this.sink = sink;
    this.connection.on('smessage', this.onMessage);
    await this.connection.ssubscribe(this.channel);
    this.connection.on('ready', this.onReady);
  }

  reset(): void {
    if (!this.closed) this.connection.disconnect(true);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.connection.off('smessage', this.onMessage);
    this.connection.off('ready', this.onReady);
    this.connection.disconnect();
  }

  private readonly onMessage = (channel: string, message: string): void => {
    if (channel !== this.channel || this.closed) return;
    let entries: FeedEntry[];
    try {
      entries = parsePushedEntries(message);
    } catch (error) {
      // Cannot happen with this package's scripts; the stream still has the entries.
      this.onError('unreadable change feed message; reading the stream instead', error);
      void this.sink?.recover();
      return;
    }
    void this.sink?.receive(entries);
  };

  /** Reconnected: subscribe again, then let the feed read what was published meanwhile. */
  private readonly onReady = (): void => {
    if (this.closed) return;
    this.connection.ssubscribe(this.channel).then(
      () => this.sink?.recover(),
      (error: unknown) => {
        if (this.closed) return;
        if (registryErrorCodeOf(error) !== 'CONNECTION_LOSS') {
          this.onError('change feed subscription failed; reconnecting', error);
        }
        // A ready connection that refused the subscription: reconnect and try again.
        if (this.connection.status === 'ready') this.connection.disconnect(true);
      },
    );
  };
}
