/**
 * The shared namespace watcher against a real etcd: one server-side watcher however many subtrees a
 * client watches, subtree watches added while changes flow (nothing missed or duplicated), and a
 * compaction past the shared watcher's resume revision (every subtree re-reads and reports just its
 * differences); event types and deleted values derived from the subtree caches (no prev-KV).
 */
import type { RegistryEvent } from '@elasticjob-ts/core';
import { type EventRecorder, readSubtree, sortedEntries } from '@elasticjob-ts/registry-conformance';
import { describe, expect, it } from 'vitest';
import { proxiedClient } from './support/etcd-fixture.js';
import { useEtcdSuite } from './support/etcd-suite.js';

const suite = useEtcdSuite('shared-watch');
const { recorder, currentRevision } = suite;

function startClient() {
  return suite.startClient(suite.namespace());
}

async function startPair() {
  const { client: watcher, states } = await startClient();
  const writer = suite.track(await proxiedClient(suite.server, { namespace: watcher.namespace }));
  await writer.start();
  return { watcher, states, writer };
}

/** The number of watchers the server holds, from its metrics endpoint. */
async function serverWatchers(): Promise<number> {
  const response = await fetch(`${suite.server.endpoints[0]}/metrics`);
  const text = await response.text();
  const line = text
    .split('\n')
    .find((candidate) => candidate.startsWith('etcd_debugging_mvcc_watcher_total '));
  if (line === undefined) throw new Error('etcd_debugging_mvcc_watcher_total missing from /metrics');
  return Number(line.slice(line.indexOf(' ') + 1));
}

/** The values of `key`'s events, which must be consecutive integers (each write is one commit). */
function gapsAndRepeats(events: readonly RegistryEvent[], key: string): string[] {
  const values = events.filter((event) => event.key === key).map((event) => Number(event.value));
  const found: string[] = [];
  for (let index = 1; index < values.length; index++) {
    const previous = values[index - 1] ?? 0;
    if (values[index] !== previous + 1) found.push(`${key}: ${previous} followed by ${values[index]}`);
  }
  return found;
}

describe('one etcd watcher per client', () => {
  // First in the file: no other client's watchers are being torn down on the server meanwhile.
  it('200 subtree watches of one client hold one server watcher, and each gets only its subtree', async () => {
    // A single client (it writes too): another client's watchers could reach the server meanwhile.
    const { client: watcher } = await startClient();
    const received = new Map<string, RegistryEvent[]>();
    const watchJob = (index: number) => {
      const root = `/jobs/job-${index}`;
      received.set(root, []);
      return watcher.watch(root, (event) => received.get(root)?.push(event));
    };
    await watchJob(0);
    const afterFirst = await serverWatchers();
    for (let index = 1; index < 200; index++) await watchJob(index);
    expect(await serverWatchers()).toBe(afterFirst);

    const marker = recorder();
    await marker.watch(watcher, '/jobs/job-199');
    await watcher.persist('/jobs/job-7/config', 'seven');
    await watcher.persist('/jobs/job-199/config', 'last');
    await marker.waitForEvent({ type: 'ADDED', key: '/jobs/job-199/config' });
    expect(received.get('/jobs/job-7')).toEqual([
      { type: 'ADDED', key: '/jobs/job-7', value: '' },
      { type: 'ADDED', key: '/jobs/job-7/config', value: 'seven' },
    ]);
    expect(received.get('/jobs/job-199')).toEqual([
      { type: 'ADDED', key: '/jobs/job-199', value: '' },
      { type: 'ADDED', key: '/jobs/job-199/config', value: 'last' },
    ]);
    expect(received.get('/jobs/job-1')).toEqual([]);
    expect(await serverWatchers()).toBe(afterFirst);
  });
});

describe('subtree watches share the watcher without losing continuity', () => {
  it('a watch added while changes flow misses and duplicates nothing', async () => {
    const { watcher, writer } = await startPair();
    await writer.persist('/flow/counter', '0');
    let written = 0;
    let flowing = true;
    const flow = (async () => {
      while (flowing) {
        written += 1;
        await writer.update('/flow/counter', String(written));
        if (written % 5 === 0) await writer.persist(`/flow/item-${written}`, String(written));
      }
    })();
    const watches: Array<{ root: string; events: EventRecorder }> = [];
    try {
      for (let index = 0; index < 12; index++) {
        const root = ['/flow', '/', '/flow/counter'][index % 3] ?? '/flow';
        const events = recorder();
        await events.watch(watcher, root);
        watches.push({ root, events });
        // Let the flow move on between two new watches.
        const target = written + 3;
        await events.waitForEvent((event) => event.key === '/flow/counter' && Number(event.value) >= target);
      }
    } finally {
      flowing = false;
      await flow;
    }
    await writer.persist('/flow/done', 'yes');
    const expected = sortedEntries(await readSubtree(writer, '/flow', true));
    for (const { root, events } of watches) {
      if (root === '/flow/counter') {
        await events.waitForEvent({ key: '/flow/counter', value: String(written) });
      } else {
        await events.waitForEvent({ type: 'ADDED', key: '/flow/done' });
        expect(sortedEntries(events.mirror())).toEqual(expected);
      }
      expect(events.anomalies()).toEqual([]);
      expect(gapsAndRepeats(events.all, '/flow/counter')).toEqual([]);
    }
  });

  it('rapid changes arrive typed and valued from the cache: etcd sends no previous values', async () => {
    const { watcher, writer } = await startPair();
    await writer.persist('/rapid/known', 'k0');
    const events = recorder();
    await events.watch(watcher, '/rapid');
    const from = events.mark();
    // Written without waiting for events, so that several arrive in one watch response.
    for (let round = 1; round <= 3; round++) {
      await writer.persist('/rapid/brief', `b${round}`);
      await writer.update('/rapid/brief', `b${round}u`);
      await writer.remove('/rapid/brief');
      await writer.update('/rapid/known', `k${round}`);
    }
    await writer.remove('/rapid/known');
    await writer.persist('/rapid/done', 'yes');
    await events.waitForEvent({ type: 'ADDED', key: '/rapid/done' }, { from });
    const expected: RegistryEvent[] = [];
    for (let round = 1; round <= 3; round++) {
      expected.push(
        { type: 'ADDED', key: '/rapid/brief', value: `b${round}` },
        { type: 'UPDATED', key: '/rapid/brief', value: `b${round}u` },
        { type: 'DELETED', key: '/rapid/brief', value: `b${round}u` },
        { type: 'UPDATED', key: '/rapid/known', value: `k${round}` },
      );
    }
    expected.push(
      { type: 'DELETED', key: '/rapid/known', value: 'k3' },
      { type: 'ADDED', key: '/rapid/done', value: 'yes' },
    );
    expect(events.since(from)).toEqual(expected);
    expect(events.anomalies()).toEqual([]);
  });

  it('a compaction past the shared watcher resumes every subtree watch with just its differences', async () => {
    const { watcher, states, writer } = await startPair();
    for (const key of ['/a/keep', '/a/change', '/a/x/gone', '/b/change', '/b/gone'])
      await writer.persist(key, 'v0');
    const subtrees = ['/a', '/a/x', '/b', '/'];
    const watches = new Map<string, { events: EventRecorder; from: number }>();
    for (const root of subtrees) {
      const events = recorder();
      await events.watch(watcher, root);
      watches.set(root, { events, from: events.mark() });
    }

    watcher.proxy.cut();
    await states.waitForState('SUSPENDED');
    await writer.update('/a/change', 'v1');
    await writer.update('/a/change', 'v2');
    await writer.remove('/a/x/gone');
    await writer.persist('/a/x/new', 'n1');
    await writer.remove('/b/gone');
    await writer.update('/b/change', 'v1');
    await suite.admin.kv.compact({ revision: await currentRevision(), physical: true });
    watcher.proxy.restore();
    await states.waitForState('RECONNECTED');
    await writer.persist('/a/x/marker', 'after');
    await writer.persist('/b/marker', 'after');

    const byKey = (a: { key: string }, b: { key: string }) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
    const differences: Record<string, RegistryEvent[]> = {
      '/a/x': [
        { type: 'DELETED', key: '/a/x/gone', value: 'v0' },
        { type: 'ADDED', key: '/a/x/marker', value: 'after' },
        { type: 'ADDED', key: '/a/x/new', value: 'n1' },
      ],
      '/b': [
        { type: 'UPDATED', key: '/b/change', value: 'v1' },
        { type: 'DELETED', key: '/b/gone', value: 'v0' },
        { type: 'ADDED', key: '/b/marker', value: 'after' },
      ],
    };
    differences['/a'] = [{ type: 'UPDATED', key: '/a/change', value: 'v2' }, ...(differences['/a/x'] ?? [])];
    differences['/'] = [...(differences['/a'] ?? []), ...(differences['/b'] ?? [])];
    for (const root of subtrees) {
      const { events, from } = watches.get(root) ?? { events: recorder(), from: 0 };
      const marker = root === '/b' ? '/b/marker' : root === '/' ? '/b/marker' : '/a/x/marker';
      await events.waitForEvent({ type: 'ADDED', key: marker }, { from });
      if (root === '/') await events.waitForEvent({ type: 'ADDED', key: '/a/x/marker' }, { from });
      expect([...events.since(from)].sort(byKey)).toEqual([...(differences[root] ?? [])].sort(byKey));
      expect(events.anomalies()).toEqual([]);
      expect(sortedEntries(events.mirror())).toEqual(
        sortedEntries(await readSubtree(writer, root, root !== '/')),
      );
    }
  });
});
