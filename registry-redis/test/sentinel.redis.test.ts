/**
 * The adapter through Redis Sentinel (`redis+sentinel://`), on real servers started by the
 * harness: a primary, one replica (replicating through a proxy the test controls) and three
 * Sentinels (quorum 2, `down-after-milliseconds` 1000, `failover-timeout` 3000).
 *
 * What the test shows:
 * - ioredis asks the Sentinels for the primary; writes, reads, a transaction, a watch and the
 *   latch work through it.
 * - After a SIGKILL of the primary, the Sentinels promote the replica and both clients reconnect
 *   to it by themselves: each reports SUSPENDED, then RECONNECTED with the same session (the
 *   session's deadline had been replicated, and the 30 s session timeout outlasts the failover
 *   bound, so it cannot be LOST). Its ephemeral node is still there, the watch delivers the
 *   changes written after the failover, and the transaction and the latch work on the new primary.
 * - What a failover loses: replication is asynchronous, and a write the primary acknowledged but
 *   had not sent to the replica is gone after the promotion. The test holds back replication
 *   (proxy blackhole) before one write, so that loss is certain: the write succeeded, the watch saw
 *   it ADDED, and after the failover it is absent on the new primary and the watch reports it
 *   DELETED (the change feed's revision went back, so the watch re-read its subtree). Everything
 *   the replica had acknowledged (`WAIT 1`) before survives. See the README's durability caveat.
 */
import { performance } from 'node:perf_hooks';
import type { RegistryConnectionState } from '@elasticjob-ts/core';
import { EventRecorder, waitForCondition } from '@elasticjob-ts/registry-conformance';
import { type RedisSentinelSetup, startRedisSentinel } from '@elasticjob-ts/test-support';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RedisRegistryCenter } from '../src/index.js';
import { RECONNECT_MAX_DELAY_MS } from '../src/options.js';
import { writeJobBasics } from './support/redis-fixture.js';

/**
 * Session timeout, in ms. LOST cannot be reported before the last answered heartbeat (at most a
 * third of this before the kill) plus this: 20 s after the kill, later than any failover within
 * the setup's bound (1 s + 3 × 3 s) plus a reconnect.
 */
const SESSION_TIMEOUT_MS = 30_000;

let setup: RedisSentinelSetup;

beforeAll(async () => {
  setup = await startRedisSentinel({ downAfterMs: 1_000, failoverTimeoutMs: 3_000 });
}, 60_000);

afterAll(async () => {
  await setup?.stop();
});

/** A client whose reported states are kept with the time they were reported. */
function client(): {
  registry: RedisRegistryCenter;
  states: Array<{ state: RegistryConnectionState; atMs: number }>;
} {
  const registry = new RedisRegistryCenter({
    type: 'redis',
    url: setup.url,
    namespace: 'sentinel/demo',
    sessionTimeoutMs: SESSION_TIMEOUT_MS,
    connectionTimeoutMs: 10_000,
  });
  const states: Array<{ state: RegistryConnectionState; atMs: number }> = [];
  registry.addConnectionStateListener((state) => states.push({ state, atMs: performance.now() }));
  return { registry, states };
}

it('works through the Sentinels, and after a SIGKILL of the primary reconnects to the promoted replica', async () => {
  expect(setup.url).toMatch(
    /^redis\+sentinel:\/\/127\.0\.0\.1:\d+,127\.0\.0\.1:\d+,127\.0\.0\.1:\d+\/elasticjob$/,
  );
  const writer = client();
  const watcher = client();
  const a = writer.registry;
  const b = watcher.registry;
  await a.start();
  await b.start();
  try {
    const recorder = new EventRecorder({ defaultTimeoutMs: setup.failoverBoundMs });
    await b.watch('/jobs', recorder.listener);
    await writeJobBasics(a);
    expect(await b.getChildrenKeys('/jobs/orders')).toEqual(['leader', 'instances', 'config']);
    expect(await b.executeInLeader('/jobs/orders/latch', () => 'led before')).toBe('led before');
    await recorder.waitForEvent({ type: 'ADDED', key: '/jobs/orders/leader', value: 'i1' });

    // Everything so far is on the replica; from now on nothing reaches it.
    await setup.waitForReplication(5_000);
    setup.replicationLink.cut('blackhole');
    await a.persist('/jobs/orders/unreplicated', 'acknowledged by the primary only');
    await recorder.waitForEvent({ type: 'ADDED', key: '/jobs/orders/unreplicated' });

    const sessionBefore = a.sessionId;
    const statesBefore = { writer: writer.states.length, watcher: watcher.states.length };
    const oldPrimaryPort = await setup.primaryPort();
    expect(oldPrimaryPort).toBe(setup.primary.port);
    const killedAt = performance.now();
    await setup.primary.kill();

    // Bounded by the configured Sentinel timeouts plus one capped reconnect backoff.
    const reconnectBoundMs = setup.failoverBoundMs + 2 * RECONNECT_MAX_DELAY_MS;
    const reconnected = (states: Array<{ state: RegistryConnectionState }>, from: number) =>
      states.slice(from).some((entry) => entry.state === 'RECONNECTED');
    await waitForCondition(
      () =>
        reconnected(writer.states, statesBefore.writer) && reconnected(watcher.states, statesBefore.watcher),
      {
        timeoutMs: reconnectBoundMs,
        pollIntervalMs: 20,
        describeState: () =>
          `writer: ${writer.states.map((s) => s.state).join(',')}; watcher: ${watcher.states.map((s) => s.state).join(',')}`,
      },
    );
    const promotedPort = await setup.waitForFailover(oldPrimaryPort);
    expect(promotedPort).toBe(setup.replica.port);
    const after = writer.states.slice(statesBefore.writer);
    expect(after.map((entry) => entry.state)).toEqual(['SUSPENDED', 'RECONNECTED']);
    expect(watcher.states.slice(statesBefore.watcher).map((entry) => entry.state)).toEqual([
      'SUSPENDED',
      'RECONNECTED',
    ]);
    const failoverMs = Math.round((after[1]?.atMs ?? Number.NaN) - killedAt);
    console.info(`Sentinel failover: SIGKILL of the primary to RECONNECTED in ${failoverMs} ms`);
    expect(failoverMs).toBeLessThanOrEqual(reconnectBoundMs);

    // Same session, its ephemeral node kept; replicated data kept; the unreplicated write lost.
    expect(a.sessionId).toBe(sessionBefore);
    expect(await b.get('/jobs/orders/instances/i1')).toBe('alive');
    expect(await b.get('/jobs/orders/config')).toBe('cron: 0/5 * * * * ?');
    expect(await b.get('/jobs/orders/leader')).toBe('i1');
    expect(await b.get('/jobs/orders/unreplicated')).toBeUndefined();

    // The watch goes on: it reports the lost write as DELETED and delivers what is written now.
    const fromIndex = recorder.events.length;
    await a.persist('/jobs/orders/after-failover', 'written to the promoted replica');
    await a.executeInTransaction([
      { type: 'check', key: '/jobs/orders/leader', value: 'i1' },
      { type: 'update', key: '/jobs/orders/leader', value: 'i2' },
    ]);
    expect(await b.executeInLeader('/jobs/orders/latch', () => 'led after')).toBe('led after');
    await recorder.waitForEvent({ type: 'DELETED', key: '/jobs/orders/unreplicated' });
    await recorder.waitForEvent(
      { type: 'ADDED', key: '/jobs/orders/after-failover', value: 'written to the promoted replica' },
      { from: fromIndex },
    );
    await recorder.waitForEvent(
      { type: 'UPDATED', key: '/jobs/orders/leader', value: 'i2' },
      { from: fromIndex },
    );
    expect(recorder.anomalies()).toEqual([]);
    const state = new Map(
      await Promise.all(
        ['config', 'leader', 'after-failover', 'instances/i1'].map(
          async (name) => [`/jobs/orders/${name}`, await b.get(`/jobs/orders/${name}`)] as const,
        ),
      ),
    );
    for (const [key, value] of state) expect(recorder.mirror().get(key)).toBe(value);
  } finally {
    await a.close();
    await b.close();
  }
});
