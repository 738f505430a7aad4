/**
 * Builds a client's change feed for the configured topology: pushed (`SSUBSCRIBE` on a dedicated
 * connection) on one server or a Sentinel group's primary, blocking `XREAD`s on Redis Cluster (see
 * `feed-blocking-source.ts` for why); catch-up reads and position reads go on the command
 * connection in both cases.
 *
 * @module
 */
import type { Redis } from 'ioredis';
import { ChangeFeed, type FeedPosition, type FeedSource } from './change-feed.js';
import { createConnection, type RedisConnection, waitForReady } from './connection.js';
import { BlockingFeedSource } from './feed-blocking-source.js';
import { parseStreamReply } from './feed-entry.js';
import { PushFeedSource } from './feed-push-source.js';
import type { ResolvedRedisOptions } from './options.js';

/** How long one blocking read of the change feed waits (Redis Cluster only), in ms. */
const FEED_BLOCK_MS = 5_000;

/** What {@link createChangeFeed} needs. */
export interface ChangeFeedSetup {
  readonly options: ResolvedRedisOptions;
  /** The command connection (catch-up and position reads). */
  readonly connection: RedisConnection;
  /** Reads the feed's current position and epoch atomically (the snapshot script). */
  readonly position: () => Promise<FeedPosition & { readonly epoch: string | undefined }>;
  readonly onError: (message: string, error: unknown) => void;
}

/**
 * Builds the feed and its dedicated, unconnected connection (connect it before `feed.start()`).
 *
 * @param setup - options, command connection, position read, error reporter.
 */
export function createChangeFeed(setup: ChangeFeedSetup): {
  readonly feed: ChangeFeed;
  readonly feedConnection: RedisConnection;
} {
  const { options, connection, onError } = setup;
  const streamKey = `${options.keyPrefix}x`;
  let feedConnection: RedisConnection;
  let source: FeedSource;
  if (options.topology.kind === 'cluster') {
    feedConnection = createConnection(options, FEED_BLOCK_MS);
    source = new BlockingFeedSource(feedConnection, streamKey, FEED_BLOCK_MS, onError);
  } else {
    feedConnection = createConnection(options, 0, { autoResubscribe: false });
    source = new PushFeedSource(feedConnection as Redis, `${options.keyPrefix}f`, onError);
  }
  const feed = new ChangeFeed({
    source,
    readAfter: async (afterId, count) =>
      parseStreamReply(
        (await connection.xrange(streamKey, `(${afterId}`, '+', 'COUNT', count)) as Array<[string, string[]]>,
      ),
    position: setup.position,
    waitForRetry: () => waitForReady(connection),
    onError,
  });
  return { feed, feedConnection };
}
