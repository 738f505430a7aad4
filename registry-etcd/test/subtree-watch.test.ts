/**
 * `SubtreeWatch` against a fake client: the namespace watcher's events carry no previous value, so
 * the watch types puts (`ADDED`/`UPDATED`) and values deletions from its cache — right after the
 * first read, after a re-read (resync), for events buffered during a read, and for keys created and
 * deleted within one batch of events.
 */
import type { RegistryEvent } from '@elasticjob-ts/core';
import type { Etcd3, IKeyValue } from 'etcd3';
import { describe, expect, it } from 'vitest';
import { KeyCodec } from '../src/keys.js';
import { RequestGate } from '../src/request-gate.js';
import { type SubtreeEvent, SubtreeWatch } from '../src/subtree-watch.js';

const codec = new KeyCodec('ns');

interface StoredNode {
  value: string;
  createRevision: number;
  modRevision: number;
}

function keyValue(key: string, node: StoredNode): IKeyValue {
  return {
    key: Buffer.from(key),
    value: Buffer.from(node.value),
    create_revision: String(node.createRevision),
    mod_revision: String(node.modRevision),
    version: '1',
    lease: '0',
  };
}

/**
 * A fake etcd keyspace whose writes return the event the namespace watch would dispatch, without
 * prev-KV (puts carry the new key-value, deletes the key and the deletion's revision only).
 */
function fakeEtcd() {
  const nodes = new Map<string, StoredNode>();
  let revision = 1;
  /** Ranges asked for, each answered when the test calls `answer()`. */
  const reads: Array<{ answer: () => void }> = [];
  const put = (path: string, value: string): SubtreeEvent => {
    revision += 1;
    const key = codec.toKey(path);
    const node = { value, createRevision: nodes.get(key)?.createRevision ?? revision, modRevision: revision };
    nodes.set(key, node);
    return { type: 'Put', key, kv: keyValue(key, node), revision: BigInt(revision) };
  };
  const remove = (path: string): SubtreeEvent => {
    revision += 1;
    const key = codec.toKey(path);
    nodes.delete(key);
    const kv = keyValue(key, { value: '', createRevision: 0, modRevision: revision });
    return { type: 'Delete', key, kv, revision: BigInt(revision) };
  };
  const client = {
    kv: {
      range: (request: { key: Buffer; range_end: Buffer }) =>
        new Promise((resolve) => {
          const start = request.key.toString();
          const end = request.range_end.toString();
          // The snapshot is taken when the read is answered, as a server answers at its revision.
          reads.push({
            answer: () =>
              resolve({
                kvs: [...nodes.entries()]
                  .filter(([key]) => key >= start && key < end)
                  .sort(([a], [b]) => (a < b ? -1 : 1))
                  .map(([key, node]) => keyValue(key, node)),
                header: { revision: String(revision) },
              }),
          });
        }),
    },
  } as unknown as Etcd3;
  return { client, put, remove, reads };
}

/** A watch of `/jobs` over a fake keyspace, recording its events. */
function watchJobs() {
  const etcd = fakeEtcd();
  const events: RegistryEvent[] = [];
  const watch = new SubtreeWatch({
    client: etcd.client,
    codec,
    path: '/jobs',
    listener: (event) => events.push(event),
    requestTimeoutMs: 1000,
    gate: new RequestGate(),
    onError: (message, error) => {
      throw new Error(`${message}: ${String(error)}`);
    },
  });
  /** Runs a read, answering it once it reaches the fake server. */
  const synchronize = async (beforeAnswer: () => void = () => undefined) => {
    const reading = watch.synchronize();
    await expect.poll(() => etcd.reads.length).toBeGreaterThan(0);
    beforeAnswer();
    etcd.reads.shift()?.answer();
    await reading;
  };
  return { etcd, events, watch, synchronize };
}

describe('SubtreeWatch types and values events from its cache (no prev-KV)', () => {
  it('create, update, delete and re-create of one key, delivered one by one', async () => {
    const { etcd, events, watch, synchronize } = watchJobs();
    await synchronize();
    watch.deliver(etcd.put('/jobs/a', 'v1'));
    watch.deliver(etcd.put('/jobs/a', 'v2'));
    watch.deliver(etcd.remove('/jobs/a'));
    watch.deliver(etcd.put('/jobs/a', 'v3'));
    watch.deliver(etcd.remove('/jobs/a'));
    expect(events).toEqual([
      { type: 'ADDED', key: '/jobs/a', value: 'v1' },
      { type: 'UPDATED', key: '/jobs/a', value: 'v2' },
      { type: 'DELETED', key: '/jobs/a', value: 'v2' },
      { type: 'ADDED', key: '/jobs/a', value: 'v3' },
      { type: 'DELETED', key: '/jobs/a', value: 'v3' },
    ]);
  });

  it('a key known from the read is UPDATED, and its deletion carries the read value', async () => {
    const { etcd, events, watch, synchronize } = watchJobs();
    etcd.put('/jobs/a', 'read');
    await synchronize();
    watch.deliver(etcd.remove('/jobs/a'));
    etcd.put('/jobs/b', 'read');
    watch.markStale();
    await synchronize();
    watch.deliver(etcd.put('/jobs/b', 'later'));
    expect(events).toEqual([
      { type: 'ADDED', key: '/jobs/a', value: 'read' },
      { type: 'DELETED', key: '/jobs/a', value: 'read' },
      { type: 'ADDED', key: '/jobs/b', value: 'read' },
      { type: 'UPDATED', key: '/jobs/b', value: 'later' },
    ]);
  });

  it('events buffered while stale: those the read holds are dropped, later ones typed against it', async () => {
    const { etcd, events, watch, synchronize } = watchJobs();
    await synchronize(() => {
      // Before the read: created, changed, and created then deleted within one batch.
      watch.deliver(etcd.put('/jobs/kept', 'k1'));
      watch.deliver(etcd.put('/jobs/kept', 'k2'));
      watch.deliver(etcd.put('/jobs/brief', 'b1'));
      watch.deliver(etcd.remove('/jobs/brief'));
    });
    // Buffered during a re-read, after it: created and deleted within one batch, and a change.
    watch.markStale();
    const reading = watch.synchronize();
    await expect.poll(() => etcd.reads.length).toBe(1);
    etcd.reads.shift()?.answer();
    watch.deliver(etcd.put('/jobs/fleeting', 'f1'));
    watch.deliver(etcd.put('/jobs/fleeting', 'f2'));
    watch.deliver(etcd.remove('/jobs/fleeting'));
    watch.deliver(etcd.put('/jobs/kept', 'k3'));
    watch.deliver(etcd.remove('/jobs/kept'));
    await reading;
    expect(events).toEqual([
      { type: 'ADDED', key: '/jobs/kept', value: 'k2' },
      { type: 'ADDED', key: '/jobs/fleeting', value: 'f1' },
      { type: 'UPDATED', key: '/jobs/fleeting', value: 'f2' },
      { type: 'DELETED', key: '/jobs/fleeting', value: 'f2' },
      { type: 'UPDATED', key: '/jobs/kept', value: 'k3' },
      { type: 'DELETED', key: '/jobs/kept', value: 'k3' },
    ]);
  });

  it('a re-read reports the differences, and later events are typed against the re-read state', async () => {
    const { etcd, events, watch, synchronize } = watchJobs();
    etcd.put('/jobs/changed', 'c1');
    etcd.put('/jobs/gone', 'g1');
    await synchronize();
    events.length = 0;
    // Continuity lost (the watcher was cancelled): these changes reach the watch only by re-read.
    watch.markStale();
    etcd.put('/jobs/changed', 'c2');
    etcd.remove('/jobs/gone');
    etcd.put('/jobs/gone', 'g2'); // re-created: an UPDATED by re-read
    etcd.put('/jobs/new', 'n1');
    await synchronize();
    watch.deliver(etcd.put('/jobs/new', 'n2'));
    watch.deliver(etcd.remove('/jobs/gone'));
    watch.deliver(etcd.put('/jobs/gone', 'g3'));
    expect(events).toEqual([
      { type: 'UPDATED', key: '/jobs/changed', value: 'c2' },
      { type: 'UPDATED', key: '/jobs/gone', value: 'g2' },
      { type: 'ADDED', key: '/jobs/new', value: 'n1' },
      { type: 'UPDATED', key: '/jobs/new', value: 'n2' },
      { type: 'DELETED', key: '/jobs/gone', value: 'g2' },
      { type: 'ADDED', key: '/jobs/gone', value: 'g3' },
    ]);
  });
});
