/**
 * The change feed's queue and heartbeat lag check, on an in-memory stream. An entry received as a
 * drain ends is not left queued. The lag check reads the stream and resets the source only when
 * the source brought nothing for a heartbeat interval while behind, never while the source is
 * still delivering (a busy client), which would only re-read the same entries.
 * The Redis-backed behaviour (gaps, reconnects, the output buffer limit) is in
 * `push-feed.redis.test.ts`.
 */
import { describe, expect, it } from 'vitest';
import { ChangeFeed, type FeedEntry, type FeedSink, type FeedSource } from '../src/change-feed.js';

function entry(revision: number): FeedEntry {
  return { id: `${revision}-0`, revision, type: 'ADDED', key: `/n${revision}`, value: `${revision}` };
}

/** A source the test drives, and a stream (empty at start) that the feed's reads see. */
function harness() {
  const stream: FeedEntry[] = [];
  /** Commits entries 1..`revision` to the stream. */
  const commit = (revision: number) => {
    while (stream.length < revision) stream.push(entry(stream.length + 1));
  };
  const sink: { current?: FeedSink } = {};
  const resets: number[] = [];
  const reads: string[] = [];
  const source: FeedSource = {
    open: async (opened) => {
      sink.current = opened;
    },
    reset: () => resets.push(resets.length + 1),
    close: async () => undefined,
  };
  const feed = new ChangeFeed({
    source,
    readAfter: async (afterId, count) => {
      reads.push(afterId);
      const after = Number(afterId.split('-')[0]);
      return stream.filter((candidate) => candidate.revision > after).slice(0, count);
    },
    position: async () => {
      const last = stream.at(-1);
      return { id: last?.id ?? '0-0', revision: last?.revision ?? 0, epoch: 'e' };
    },
    waitForRetry: async () => undefined,
    onError: () => undefined,
  });
  const delivered: number[] = [];
  feed.subscribe({ deliver: (delivery) => delivered.push(delivery.revision), resync: async () => undefined });
  return { feed, sink, commit, resets, reads, delivered };
}

describe('change feed queue', () => {
  it('an entry received just as the previous drain ends is delivered', async () => {
    const { feed, sink, commit, delivered } = harness();
    await feed.start(); // its drain of the empty queue is ending now
    commit(1);
    await sink.current?.receive([entry(1)]);
    expect(delivered).toEqual([1]);
    await feed.close();
  });
});

describe('change feed lag check', () => {
  it('a source silent for a heartbeat interval while behind is reset, and the stream is read', async () => {
    const { feed, sink, commit, resets, reads, delivered } = harness();
    await feed.start();
    commit(3);
    feed.observeRevision(3);
    expect(resets).toEqual([]);
    feed.observeRevision(3);
    expect(resets).toEqual([1]);
    await sink.current?.receive([]);
    expect(reads).toEqual(['0-0']);
    expect(delivered).toEqual([1, 2, 3]);
    await feed.close();
  });

  it('a source still delivering, though behind, is left alone', async () => {
    const { feed, sink, commit, resets, reads, delivered } = harness();
    await feed.start();
    commit(6);
    feed.observeRevision(6);
    await sink.current?.receive([entry(1), entry(2)]);
    feed.observeRevision(6);
    expect(resets).toEqual([]);
    expect(reads).toEqual([]);
    await sink.current?.receive([entry(3), entry(4), entry(5), entry(6)]);
    feed.observeRevision(6);
    expect(resets).toEqual([]);
    expect(delivered).toEqual([1, 2, 3, 4, 5, 6]);
    await feed.close();
  });
});
