/**
 * Sessions, outages and watch recovery against a real etcd: forced expiry, an unreachable server
 * (LOST only once the server answers that the lease expired), a server restart with writes the watcher missed, a compacted resume revision,
 * and bounded start against dead endpoints.
 */
import { createServer, type Server } from 'node:net';
import { RegistryError } from '@elasticjob-ts/core';
import { readSubtree, sortedEntries } from '@elasticjob-ts/registry-conformance';
import { findFreePort } from '@elasticjob-ts/test-support';
import { describe, expect, it } from 'vitest';
import { EtcdRegistryCenter } from '../src/index.js';
import { revokeSession } from './support/etcd-fixture.js';
import { useEtcdSuite } from './support/etcd-suite.js';

const suite = useEtcdSuite('sessions');
const { namespace, startClient, recorder, currentRevision } = suite;

describe('forced session expiry (lease revoked by another client)', () => {
  it('other clients see DELETED at once; the victim reports LOST, then RECONNECTED with a new lease', async () => {
    const ns = namespace();
    const { client: victim, states } = await startClient(ns, 3_000);
    const { client: observer } = await startClient(ns, 3_000);
    await victim.persistEphemeral('/instances/i1', 'alive');
    await victim.persist('/instances/durable', 'kept');
    const events = recorder();
    await observer.watch('/instances', events.listener);
    const oldSession = victim.sessionId;

    const revokedAt = performance.now();
    await revokeSession(suite.admin, victim);
    await events.waitForEvent({ type: 'DELETED', key: '/instances/i1', value: 'alive' });
    const deletedAfterMs = performance.now() - revokedAt;
    const lostAt = await states.waitForState('LOST');
    const lostAfterMs = performance.now() - revokedAt;
    await states.waitForState('RECONNECTED', { from: lostAt });

    expect(states.states).toEqual(['CONNECTED', 'LOST', 'RECONNECTED']);
    expect(deletedAfterMs).toBeLessThan(1_000);
    // Noticed at the next keep-alive (every TTL/3 = 1 s): a TTL-based LOST would come ≥ 2 s later.
    expect(lostAfterMs).toBeLessThan(2_000);
    expect(victim.sessionId).toBeDefined();
    expect(victim.sessionId).not.toBe(oldSession);
    expect(await observer.getChildrenKeys('/instances')).toEqual(['durable']);
    await victim.persistEphemeral('/instances/i1', 'new session');
    await events.waitForEvent({ type: 'ADDED', key: '/instances/i1', value: 'new session' });
    console.info(
      `[measured] revoke → DELETED seen by another client ${deletedAfterMs.toFixed(0)} ms, → LOST ${lostAfterMs.toFixed(0)} ms`,
    );
  });

  it('an ephemeral write with the revoked lease fails with SESSION_EXPIRED and ends the session at once', async () => {
    const ns = namespace();
    const { client, states } = await startClient(ns, 30_000);
    await revokeSession(suite.admin, client);
    const error = await client.persistEphemeral('/e', 'x').catch((caught: unknown) => caught);
    expect(RegistryError.is(error, 'SESSION_EXPIRED')).toBe(true);
    await states.waitForState('LOST', { timeoutMs: 2_000 });
    await states.waitForState('RECONNECTED');
    await client.persistEphemeral('/e', 'x');
  });
});

describe('unreachable server', () => {
  it('SUSPENDED at once and no LOST while cut off (the client cannot know); LOST when the server answers that the lease expired, then a new session', async () => {
    const ns = namespace();
    const { client, states } = await startClient(ns, 2_000);
    const { client: observer } = await startClient(ns, 10_000);
    await client.persistEphemeral('/e', 'doomed');
    const events = recorder();
    await observer.watch('/', events.listener);
    const oldSession = client.sessionId ?? '';

    const cutAt = performance.now();
    client.proxy.cut();
    await states.waitForState('SUSPENDED');
    const suspendedAfterMs = performance.now() - cutAt;
    // The server expires the lease one TTL after the last keep-alive it received.
    await events.waitForEvent({ type: 'DELETED', key: '/e', value: 'doomed' });
    const deletedAfterMs = performance.now() - cutAt;
    expect(states.states).toEqual(['CONNECTED', 'SUSPENDED']);

    const restoredAt = performance.now();
    client.proxy.restore();
    const lostAt = await states.waitForState('LOST');
    const lostAfterRestoreMs = performance.now() - restoredAt;
    await states.waitForState('RECONNECTED', { from: lostAt });

    expect(suspendedAfterMs).toBeLessThan(500);
    // The last keep-alive the server received was sent at most TTL/3 (667 ms) before the cut.
    expect(deletedAfterMs).toBeGreaterThan(2_000 - 667 - 400);
    expect(states.states).toEqual(['CONNECTED', 'SUSPENDED', 'LOST', 'RECONNECTED']);
    expect(client.sessionId).not.toBe(oldSession);
    const leases = await suite.admin.leaseClient.leaseLeases();
    expect(leases.leases.map((lease) => lease.ID)).not.toContain(oldSession);
    await client.persistEphemeral('/e', 'reborn');
    await events.waitForEvent({ type: 'ADDED', key: '/e', value: 'reborn' });
    console.info(
      `[measured] TTL 2 s, cut → SUSPENDED ${suspendedAfterMs.toFixed(0)} ms, → DELETED at another client ${deletedAfterMs.toFixed(0)} ms; restore → LOST ${lostAfterRestoreMs.toFixed(0)} ms`,
    );
  });

  it('close() revokes the lease: ephemeral nodes vanish for everyone at once, not after the TTL', async () => {
    const ns = namespace();
    const { client } = await startClient(ns, 30_000);
    const { client: observer } = await startClient(ns, 30_000);
    await client.persistEphemeral('/e', 'bye');
    const events = recorder();
    await observer.watch('/e', events.listener);
    const closedAt = performance.now();
    await client.close();
    await events.waitForEvent({ type: 'DELETED', key: '/e', value: 'bye' }, { timeoutMs: 2_000 });
    expect(performance.now() - closedAt).toBeLessThan(1_000);
  });
});

describe('server restart', () => {
  it('SUSPENDED then RECONNECTED in the same session; writes the watcher missed while cut off arrive once', async () => {
    const ns = namespace();
    const { client: watcher, states: watcherStates } = await startClient(ns, 10_000);
    const { client: writer, states: writerStates } = await startClient(ns, 10_000);
    await writer.persist('/w/a', 'a0');
    await writer.persist('/w/c', 'c0');
    await writer.persistEphemeral('/w/eph', 'writer session');
    const events = recorder();
    await watcher.watch('/w', events.listener);
    await events.waitForEvent({ type: 'ADDED', key: '/w/eph' });

    // The watcher stays cut off until the writer is back and has written.
    watcher.proxy.cut();
    await watcherStates.waitForState('SUSPENDED');
    const restartAt = performance.now();
    await suite.server.restart();
    await writerStates.waitForState('RECONNECTED', { timeoutMs: 20_000 });
    const writerBackAfterMs = performance.now() - restartAt;
    await writer.update('/w/a', 'a1');
    await writer.persist('/w/b', 'b1');
    await writer.remove('/w/c');
    await writer.update('/w/a', 'a2');
    await writer.persist('/w/d/e', 'e1');
    watcher.proxy.restore();
    await watcherStates.waitForState('RECONNECTED', { timeoutMs: 20_000 });
    await writer.persist('/w/marker', 'after');
    await events.waitForEvent({ type: 'ADDED', key: '/w/marker', value: 'after' });

    expect(writerStates.states).toEqual(['CONNECTED', 'SUSPENDED', 'RECONNECTED']);
    expect(watcherStates.states).toEqual(['CONNECTED', 'SUSPENDED', 'RECONNECTED']);
    expect(events.anomalies()).toEqual([]);
    expect(sortedEntries(events.mirror())).toEqual(sortedEntries(await readSubtree(writer, '/w', true)));
    expect(events.eventsFor('/w/a').map((event) => event.value)).toEqual(['a0', 'a1', 'a2']);
    expect(await watcher.getDirectly('/w/eph')).toBe('writer session');
    console.info(`[measured] etcd restart → writer RECONNECTED ${writerBackAfterMs.toFixed(0)} ms`);
  }, 40_000);
});

describe('watch recovery', () => {
  it('a watch whose resume revision was compacted re-reads the subtree and delivers just the differences', async () => {
    const ns = namespace();
    const { client: watcher, states } = await startClient(ns, 10_000);
    const { client: writer } = await startClient(ns, 10_000);
    await writer.persist('/w/keep', 'k0');
    await writer.persist('/w/change', 'c0');
    await writer.persist('/w/gone', 'g0');
    const events = recorder();
    await watcher.watch('/w', events.listener);
    const from = events.mark();

    watcher.proxy.cut();
    await states.waitForState('SUSPENDED');
    await writer.update('/w/change', 'c1');
    await writer.update('/w/change', 'c2');
    await writer.remove('/w/gone');
    await writer.persist('/w/new', 'n1');
    await suite.admin.kv.compact({ revision: await currentRevision(), physical: true });
    watcher.proxy.restore();
    await states.waitForState('RECONNECTED');
    await writer.persist('/w/marker', 'after');
    await events.waitForEvent({ type: 'ADDED', key: '/w/marker' }, { from });

    // Differences only (nothing for '/w/keep', one event per changed key); the marker may come
    // with the re-read or after it.
    const byKey = (a: { key: string }, b: { key: string }) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
    expect([...events.since(from)].sort(byKey)).toEqual([
      { type: 'UPDATED', key: '/w/change', value: 'c2' },
      { type: 'DELETED', key: '/w/gone', value: 'g0' },
      { type: 'ADDED', key: '/w/marker', value: 'after' },
      { type: 'ADDED', key: '/w/new', value: 'n1' },
    ]);
    expect(events.anomalies()).toEqual([]);
    expect(sortedEntries(events.mirror())).toEqual(sortedEntries(await readSubtree(writer, '/w', true)));
  });
});

describe('bounded start', () => {
  it('against a port nobody listens on: TIMEOUT naming the endpoint within connectionTimeoutMs', async () => {
    const endpoint = `http://127.0.0.1:${await findFreePort()}`;
    const client = new EtcdRegistryCenter({
      type: 'etcd',
      endpoints: endpoint,
      namespace: 'dead',
      connectionTimeoutMs: 1_500,
    });
    suite.track(client);
    const startedAt = performance.now();
    const error = await client.start().catch((caught: unknown) => caught);
    const elapsedMs = performance.now() - startedAt;
    expect(RegistryError.is(error, 'TIMEOUT')).toBe(true);
    expect((error as Error).message).toContain(endpoint);
    expect(elapsedMs).toBeGreaterThanOrEqual(1_400);
    expect(elapsedMs).toBeLessThan(2_500);
    await expect(client.get('/x')).rejects.toMatchObject({ code: 'NOT_STARTED' });
    console.info(
      `[measured] start() against a dead endpoint rejected after ${elapsedMs.toFixed(0)} ms (bound 1500 ms)`,
    );
  });

  it('against a server that accepts TCP but never answers: TIMEOUT within connectionTimeoutMs', async () => {
    const sockets = new Set<import('node:net').Socket>();
    const blackHole: Server = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve));
    const address = blackHole.address();
    const endpoint = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
    try {
      const client = new EtcdRegistryCenter({
        type: 'etcd',
        endpoints: [endpoint],
        namespace: 'hole',
        connectionTimeoutMs: 1_000,
      });
      suite.track(client);
      const startedAt = performance.now();
      const error = await client.start().catch((caught: unknown) => caught);
      const elapsedMs = performance.now() - startedAt;
      expect(RegistryError.is(error, 'TIMEOUT')).toBe(true);
      expect((error as Error).message).toContain(endpoint);
      expect(elapsedMs).toBeLessThan(2_000);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => blackHole.close(() => resolve()));
    }
  });
});
