/**
 * Subtree watches in both modes (persistent recursive watches and one-shot watches) against a real
 * ZooKeeper: nested events exactly once and in order, a connection drop, a server restart, the
 * removal of a persistent watch, the fallback decision, and the ZooKeeper requests a change costs.
 */
import { RegistryError } from '@elasticjob-ts/core';
import { TcpProxy } from '@elasticjob-ts/test-support';
import * as zookeeper from 'node-zookeeper-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { ZookeeperWatchMode } from '../src/options.js';
import { ZK_UNIMPLEMENTED } from '../src/persistent-watch-protocol.js';
import { toRegistryError } from '../src/to-registry-error.js';
import { fallbackWatchMode, initialWatchMode, isAddWatchRefusal } from '../src/watch-mode.js';
import { countRequests } from './support/request-counter.js';
import {
  EventLog,
  readTree,
  StateRecorder,
  useClients,
  useZookeeperServer,
} from './support/zookeeper-fixture.js';

const MODES: readonly ZookeeperWatchMode[] = ['persistent', 'one-shot'];

function serverWatchCount(wchs: string): number {
  const match = /Total watches:\s*(\d+)/.exec(wchs);
  if (match === null) throw new Error(`unexpected 'wchs' answer: ${wchs}`);
  return Number(match[1]);
}

describe('ZooKeeper subtree watch modes', () => {
  const fixture = useZookeeperServer();
  const clients = useClients(fixture);
  const proxies: TcpProxy[] = [];

  afterEach(async () => {
    await Promise.all(proxies.splice(0).map((proxy) => proxy.stop()));
  });

  describe.each(MODES)('%s watches', (watchMode) => {
    it('deliver ADDED, UPDATED and DELETED for nested nodes exactly once and in order', async () => {
      const namespace = clients.namespace();
      const writer = await clients.start({ namespace });
      const watcher = await clients.start({ namespace, watchMode });
      await writer.persist('/w', 'root');
      const events = new EventLog();
      await watcher.watch('/w', events.listener);
      const steps: Array<[() => Promise<unknown>, 'ADDED' | 'UPDATED' | 'DELETED', string, string]> = [
        [() => writer.persist('/w/a', 'a1'), 'ADDED', '/w/a', 'a1'],
        [() => writer.persist('/w/a/b', 'b1'), 'ADDED', '/w/a/b', 'b1'],
        [() => writer.persist('/w/a/b/c', 'c1'), 'ADDED', '/w/a/b/c', 'c1'],
        [() => writer.update('/w/a/b', 'b2'), 'UPDATED', '/w/a/b', 'b2'],
        [() => writer.update('/w/a/b/c', 'c2'), 'UPDATED', '/w/a/b/c', 'c2'],
        [() => writer.remove('/w/a/b/c'), 'DELETED', '/w/a/b/c', 'c2'],
        [() => writer.persist('/w/a/b/c', 'c3'), 'ADDED', '/w/a/b/c', 'c3'],
        [() => writer.update('/w', 'root2'), 'UPDATED', '/w', 'root2'],
      ];
      for (const [write, type, key, value] of steps) {
        const from = events.items.length;
        await write();
        await events.waitForEvent({ type, key, value }, from);
      }
      // A subtree removal: children before parents, each with its last value.
      const from = events.items.length;
      await writer.remove('/w/a');
      await events.waitForEvent({ type: 'DELETED', key: '/w/a' }, from);
      expect(events.items).toEqual([
        { type: 'ADDED', key: '/w', value: 'root' },
        ...steps.map(([, type, key, value]) => ({ type, key, value })),
        { type: 'DELETED', key: '/w/a/b/c', value: 'c3' },
        { type: 'DELETED', key: '/w/a/b', value: 'b2' },
        { type: 'DELETED', key: '/w/a', value: 'a1' },
      ]);
      // The watcher's cache serves get() and agrees with the server.
      expect(await watcher.get('/w')).toBe('root2');
      expect(events.mirror()).toEqual(await readTree(writer, '/w'));
    });

    it('converge on the server tree under rapid writes with no duplicate or contradictory event', async () => {
      const namespace = clients.namespace();
      const writer = await clients.start({ namespace });
      const watcher = await clients.start({ namespace, watchMode });
      const events = new EventLog();
      await watcher.watch('/r', events.listener);
      const writes: Promise<unknown>[] = [];
      for (let i = 0; i < 20; i++) {
        writes.push(writer.persist(`/r/n${i % 5}/m${i}`, `v${i}`));
        if (i % 3 === 0) writes.push(writer.persist(`/r/n${i % 5}`, `p${i}`));
      }
      await Promise.all(writes);
      await writer.remove('/r/n1');
      await writer.persist('/r/done', 'yes');
      await events.waitForEvent({ type: 'ADDED', key: '/r/done' });
      // Events of different keys are not ordered with each other (the watch contract): a deeper
      // change may arrive after the marker, so wait for the replay to reach the server's tree.
      await events.waitForMirror(await readTree(writer, '/r'));
      expect(events.anomalies()).toEqual([]);
    });

    it('survive a connection drop: the changes made meanwhile arrive as differences, then live events', async () => {
      const namespace = clients.namespace();
      const writer = await clients.start({ namespace });
      const proxy = await TcpProxy.start(fixture.server.connectString);
      proxies.push(proxy);
      const states = new StateRecorder();
      const watcher = await clients.start({ namespace, watchMode, serverLists: proxy.address }, states);
      await writer.persist('/d/keep', 'k1');
      await writer.persist('/d/gone/child', 'g1');
      await writer.persist('/d/changed', 'c1');
      await writer.persist('/e/x', 'e1');
      const events = new EventLog();
      await watcher.watch('/d', events.listener);
      const initial = events.items.length;
      // A second subtree: after the reconnect one re-added namespace watch serves both.
      const others = new EventLog();
      await watcher.watch('/e', others.listener);

      proxy.cut('reset');
      await states.waitForState('SUSPENDED');
      await writer.remove('/d/gone');
      await writer.update('/d/changed', 'c2');
      await writer.persist('/d/new/deep', 'n1');
      proxy.restore();
      await states.waitForState('RECONNECTED');
      await events.waitForEvent({ type: 'ADDED', key: '/d/new/deep', value: 'n1' }, initial);
      await events.waitForEvent({ type: 'UPDATED', key: '/d/changed', value: 'c2' }, initial);
      await events.waitForEvent({ type: 'DELETED', key: '/d/gone' }, initial);
      // The watch is live again after the reconnect.
      await writer.persist('/d/after/x', 'a1');
      await events.waitForEvent({ type: 'ADDED', key: '/d/after/x', value: 'a1' }, initial);
      await writer.remove('/d/keep');
      await events.waitForEvent({ type: 'DELETED', key: '/d/keep', value: 'k1' }, initial);
      await writer.update('/e/x', 'e2');
      await others.waitForEvent({ type: 'UPDATED', key: '/e/x', value: 'e2' });
      expect(states.states).toEqual(['CONNECTED', 'SUSPENDED', 'RECONNECTED']);
      expect(others.anomalies()).toEqual([]);
      expect(events.anomalies()).toEqual([]);
      expect(events.mirror()).toEqual(await readTree(writer, '/d'));
    });

    it('survive a server restart: the watch keeps delivering on the same session', async () => {
      const namespace = clients.namespace();
      const states = new StateRecorder();
      const watcher = await clients.start({ namespace, watchMode }, states);
      await watcher.persist('/s/before', 'b');
      const events = new EventLog();
      await watcher.watch('/s', events.listener);
      await fixture.server.restart();
      await states.waitForState('RECONNECTED');
      const writer = await clients.start({ namespace });
      await writer.persist('/s/after/nested', 'n');
      await events.waitForEvent({ type: 'ADDED', key: '/s/after/nested', value: 'n' });
      await writer.update('/s/before', 'b2');
      await events.waitForEvent({ type: 'UPDATED', key: '/s/before', value: 'b2' });
      expect(states.states).not.toContain('LOST');
      expect(events.anomalies()).toEqual([]);
      expect(events.mirror()).toEqual(await readTree(writer, '/s'));
    });
  });

  it('persistent watches share one server watch per client over the namespace, removed with the last of them', async () => {
    const namespace = clients.namespace();
    const watcher = await clients.start({ namespace, watchMode: 'persistent' });
    for (let i = 0; i < 10; i++) await watcher.persist(`/p/n${i}/x`, 'v');
    await watcher.persist('/q/x', 'v');
    const before = serverWatchCount(await fixture.server.fourLetterWord('wchs'));
    const first = new EventLog();
    const second = new EventLog();
    const other = new EventLog();
    const unwatchFirst = await watcher.watch('/p', first.listener);
    const unwatchSecond = await watcher.watch('/p', second.listener);
    const unwatchOther = await watcher.watch('/q', other.listener);
    expect(serverWatchCount(await fixture.server.fourLetterWord('wchs'))).toBe(before + 1);
    await unwatchFirst();
    // The other watches still receive the events of their own subtrees, and only those.
    await watcher.persist('/p/n0/y', 'w');
    await watcher.persist('/q/y', 'w');
    await second.waitForEvent({ type: 'ADDED', key: '/p/n0/y', value: 'w' });
    await other.waitForEvent({ type: 'ADDED', key: '/q/y', value: 'w' });
    expect(first.items.some((event) => event.key === '/p/n0/y')).toBe(false);
    expect(second.items.some((event) => event.key === '/q/y')).toBe(false);
    expect(other.items.some((event) => event.key.startsWith('/p'))).toBe(false);
    await unwatchSecond();
    await watcher.get('/q/y'); // a round trip: anything sent by the unwatch was processed before it
    expect(serverWatchCount(await fixture.server.fourLetterWord('wchs'))).toBe(before + 1);
    await unwatchOther();
    await watcher.get('/q/y');
    expect(serverWatchCount(await fixture.server.fourLetterWord('wchs'))).toBe(before);
    // A new watch adds the namespace's watch again.
    const again = new EventLog();
    await watcher.watch('/q', again.listener);
    await watcher.update('/q/y', 'w2');
    await again.waitForEvent({ type: 'UPDATED', key: '/q/y', value: 'w2' });
    expect(serverWatchCount(await fixture.server.fourLetterWord('wchs'))).toBe(before + 1);
  });

  it.each([
    ['its own', 0],
    ["another client's", 1],
  ])(
    'a created and deleted child written by %s transactions costs %i reads in persistent mode, more in one-shot mode',
    async (writerKind, persistentReads) => {
      const reads: Record<string, number> = {};
      for (const watchMode of MODES) {
        const namespace = clients.namespace();
        const client = await clients.start({ namespace, watchMode });
        const writer = writerKind === 'its own' ? client : await clients.start({ namespace });
        await client.persist('/job/sharding/0', '');
        const events = new EventLog();
        await client.watch('/job', events.listener);
        const counter = countRequests();
        try {
          // The kernel's pattern per item: create `running` and set `fencing`, then delete `running`.
          await writer.executeInTransaction([
            { type: 'create', key: '/job/sharding/0/running', value: '' },
            { type: 'update', key: '/job/sharding/0', value: 'fenced' },
          ]);
          await events.waitForEvent({ type: 'ADDED', key: '/job/sharding/0/running' });
          await events.waitForEvent({ type: 'UPDATED', key: '/job/sharding/0', value: 'fenced' });
          await writer.executeInTransaction([{ type: 'delete', key: '/job/sharding/0/running' }]);
          await events.waitForEvent({ type: 'DELETED', key: '/job/sharding/0/running' });
          reads[watchMode] = counter.reads(writer === client);
          expect(counter.all() - counter.reads(true)).toBe(2); // the two multis
        } finally {
          counter.stop();
        }
        expect(events.anomalies()).toEqual([]);
        expect(await client.get('/job/sharding/0')).toBe('fenced');
      }
      console.log(`reads per fire-like pattern (${writerKind} writes): ${JSON.stringify(reads)}`);
      // Persistent: one read per node changed by another client, none for this client's own writes.
      expect(reads.persistent).toBe(persistentReads * 2);
      expect(reads['one-shot']).toBeGreaterThan(reads.persistent ?? 0);
    },
  );

  describe('mode decision', () => {
    const exceptions = zookeeper.Exception as unknown as { create(code: number): zookeeper.Exception };
    const refusal = toRegistryError(exceptions.create(ZK_UNIMPLEMENTED), 'addWatch', '/w');

    it("'auto' and 'persistent' start persistent, 'one-shot' starts one-shot", () => {
      expect(initialWatchMode('auto')).toBe('persistent');
      expect(initialWatchMode('persistent')).toBe('persistent');
      expect(initialWatchMode('one-shot')).toBe('one-shot');
    });

    it("'auto' falls back to one-shot when the server answers addWatch with UNIMPLEMENTED", () => {
      expect(isAddWatchRefusal(refusal)).toBe(true);
      expect(fallbackWatchMode('auto', refusal)).toBe('one-shot');
    });

    it("'persistent' fails with NOT_SUPPORTED naming the option when addWatch is refused", () => {
      let thrown: unknown;
      try {
        fallbackWatchMode('persistent', refusal);
      } catch (error) {
        thrown = error;
      }
      expect(RegistryError.is(thrown, 'NOT_SUPPORTED')).toBe(true);
      expect((thrown as Error).message).toMatch(/watchMode/);
    });

    it('other errors are not a refusal and are rethrown unchanged', () => {
      const noAuth = new RegistryError('NO_AUTH', 'no read permission');
      expect(isAddWatchRefusal(noAuth)).toBe(false);
      expect(() => fallbackWatchMode('auto', noAuth)).toThrow(noAuth);
    });
  });
});
