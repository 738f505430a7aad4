/**
 * The adapter on Redis Cluster (`redis+cluster://`): a one-node cluster owning every hash slot,
 * started by the harness, driven through ioredis' Cluster client (slot routing, scripts, the
 * change feed's blocking reads on the node of the namespace's slot).
 */
import { EventRecorder, waitForCondition } from '@elasticjob-ts/registry-conformance';
import { type RedisTestServer, startRedisServer } from '@elasticjob-ts/test-support';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RedisRegistryCenter } from '../src/index.js';
import { withTwoClients, writeJobBasics } from './support/redis-fixture.js';

let server: RedisTestServer;

beforeAll(async () => {
  server = await startRedisServer({
    ignoreRedisUrl: true, // cluster mode: an external REDIS_URL server cannot stand in
    // A lone node announces no address until it meets another; clients need one.
    extraArgs: [
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      'nodes.conf',
      '--cluster-announce-ip',
      '127.0.0.1',
    ],
  });
  const admin = new Redis(server.url);
  try {
    await admin.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
    await waitForCondition(async () => /cluster_state:ok/.test(String(await admin.call('CLUSTER', 'INFO'))), {
      timeoutMs: 30_000,
      pollIntervalMs: 50,
    });
  } finally {
    admin.disconnect();
  }
}, 60_000);

afterAll(async () => {
  await server?.stop();
});

it('works on Redis Cluster: writes, reads, transactions, sequential nodes, watches and the latch', async () => {
  const make = () =>
    new RedisRegistryCenter({
      type: 'redis',
      url: `redis+cluster://${server.host}:${server.port}`,
      namespace: 'cluster/demo',
      sessionTimeoutMs: 6_000,
    });
  await withTwoClients(make, async (a, b) => {
    const recorder = new EventRecorder();
    await b.watch('/jobs', recorder.listener);
    await writeJobBasics(a);
    const sequential = await a.persistSequential('/jobs/orders/seq-', 's');
    expect(sequential).toMatch(/^\/jobs\/orders\/seq-\d{10}$/);
    expect(await b.getChildrenKeys('/jobs/orders')).toEqual([
      'seq-0000000000',
      'leader',
      'instances',
      'config',
    ]);
    expect(await b.executeInLeader('/jobs/orders/latch', () => 'led')).toBe('led');
    await recorder.waitForEvent({ type: 'ADDED', key: '/jobs/orders/leader', value: 'i1' });
    await a.close();
    await recorder.waitForEvent({ type: 'DELETED', key: '/jobs/orders/instances/i1', value: 'alive' });
    expect(recorder.anomalies()).toEqual([]);
  });
});
