/**
 * What Java ElasticJob (on Curator) sees of our nodes and we of theirs: the namespace layout,
 * creator-only digest ACLs, and the Curator `LeaderLatch` participant names and order.
 */
import { createHash } from 'node:crypto';
import { CreateMode } from 'node-zookeeper-client';
import { describe, expect, it } from 'vitest';
import { latchSortKey, sortLatchParticipants } from '../src/leader-latch.js';
import { expectCode, rawClient, useClients, useZookeeperServer } from './support/zookeeper-fixture.js';

const CURATOR_LATCH_NODE =
  /^_c_[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}-latch-\d{10}$/;

describe('ZooKeeper layout compatibility', () => {
  const fixture = useZookeeperServer();
  const clients = useClients(fixture);

  it('keys live below /{namespace}, like a Curator namespace; multi-segment namespaces nest', async () => {
    const namespace = `${clients.namespace()}/cluster-a`;
    const registry = await clients.start({ namespace });
    await registry.persist('/orders/config', 'cron: 0/5 * * * * ?');
    await registry.persistEphemeral('/orders/instances/10.0.0.1@-@42', 'jobInstanceId: 10.0.0.1@-@42');
    const raw = await rawClient(fixture.server.connectString);
    try {
      expect(await raw.getData(`/${namespace}/orders/config`)).toBe('cron: 0/5 * * * * ?');
      expect(await raw.getChildren(`/${namespace}/orders/instances`)).toEqual(['10.0.0.1@-@42']);
      // A node a Java client wrote is read back as-is.
      await raw.create(`/${namespace}/orders/servers`);
      expect(await registry.getChildrenKeys('/orders')).toEqual(['servers', 'instances', 'config']);
      expect(await registry.get('/orders/servers')).toBe('');
    } finally {
      await raw.close();
    }
  });

  it('namespaces are isolated, also when one is a prefix of the other', async () => {
    const base = clients.namespace();
    const a = await clients.start({ namespace: base });
    const b = await clients.start({ namespace: `${base}-b` });
    const nested = await clients.start({ namespace: `${base}/b` });
    await a.persist('/job', 'a');
    await b.persist('/job', 'b');
    await nested.persist('/job', 'nested');
    expect(await a.getDirectly('/job')).toBe('a');
    expect(await b.getDirectly('/job')).toBe('b');
    // The nested namespace is a child node of the outer one on the server (as with Curator), but
    // it is never reachable through the outer namespace's keys unless one asks for `/b`.
    expect(await a.getChildrenKeys('/')).toEqual(['job', 'b']);
    await a.remove('/job');
    expect(await b.getDirectly('/job')).toBe('b');
    expect(await nested.getDirectly('/job')).toBe('nested');
  });

  it('with a digest, every created node is creator-only (digest ACL); others get NO_AUTH', async () => {
    const namespace = clients.namespace();
    const digest = 'elastic:s3cret';
    const owner = await clients.start({ namespace, digest });
    await owner.persist('/job/config', 'secret');
    await owner.persistEphemeral('/job/instances/i1', 'x');
    await owner.executeInTransaction([{ type: 'create', key: '/job/tx', value: 't' }]);
    const sequential = await owner.persistSequential('/job/seq-', 's');
    const expectedId = `elastic:${createHash('sha1').update(digest).digest('base64')}`;
    const raw = await rawClient(fixture.server.connectString, digest);
    try {
      for (const path of [
        '',
        '/job',
        '/job/config',
        '/job/instances',
        '/job/instances/i1',
        '/job/tx',
        sequential,
      ]) {
        const acls = await raw.getACL(`/${namespace}${path}`);
        expect(
          acls.map((acl) => ({
            scheme: acl.id.scheme,
            id: acl.id.id,
            perms: (acl as unknown as { permission: number }).permission,
          })),
          `ACL of '${path || '/'}'`,
        ).toEqual([{ scheme: 'digest', id: expectedId, perms: 31 }]);
      }
    } finally {
      await raw.close();
    }
    const anonymous = await clients.start({ namespace });
    await expectCode(anonymous.getDirectly('/job/config'), 'NO_AUTH');
    await expectCode(anonymous.getChildrenKeys('/job'), 'NO_AUTH');
    await expectCode(anonymous.persist('/job/config', 'tampered'), 'NO_AUTH');
    await expectCode(anonymous.persist('/job/new', 'intruder'), 'NO_AUTH');
    await expectCode(anonymous.persistEphemeral('/job/instances/i2', 'intruder'), 'NO_AUTH');
    await expectCode(anonymous.remove('/job'), 'NO_AUTH');
    await expectCode(
      anonymous.watch('/job', () => undefined),
      'NO_AUTH',
    );
    await expectCode(
      anonymous.executeInLeader('/job/latch', () => 'never', { waitTimeoutMs: 2_000 }),
      'NO_AUTH',
    );
    const error = await expectCode(
      anonymous.executeInTransaction([
        { type: 'check', key: '/job' },
        { type: 'update', key: '/job/config', value: 'tampered' },
      ]),
      'NO_AUTH',
    );
    // ZooKeeper's check needs READ permission, so the multi fails at the check already.
    expect((error as unknown as { failedOperationIndex: number }).failedOperationIndex).toBe(0);
    // Existence is not secret in ZooKeeper (as in ElasticJob on Curator).
    expect(await anonymous.isExisted('/job/config')).toBe(true);
    expect(await owner.getDirectly('/job/config')).toBe('secret');
  });

  it('latch participants are named like Curator LeaderLatch nodes: _c_{uuid v4}-latch-{10 digits}', async () => {
    const namespace = clients.namespace();
    const registry = await clients.start({ namespace });
    const raw = await rawClient(fixture.server.connectString);
    try {
      const seen = await registry.executeInLeader('/job/leader/election/latch', () =>
        raw.getChildren(`/${namespace}/job/leader/election/latch`),
      );
      expect(seen).toHaveLength(1);
      expect(seen[0]).toMatch(CURATOR_LATCH_NODE);
      // The participant node is ephemeral and gone once the callback settled.
      expect(await raw.getChildren(`/${namespace}/job/leader/election/latch`)).toEqual([]);
    } finally {
      await raw.close();
    }
  });

  it('a Curator-style participant created by another (Java) client holds the latch until it leaves', async () => {
    const namespace = clients.namespace();
    const registry = await clients.start({ namespace });
    const latch = '/job/leader/failover/latch';
    await registry.persist(latch, '');
    const raw = await rawClient(fixture.server.connectString);
    try {
      const javaNode = await raw.create(
        `/${namespace}${latch}/_c_3f1c0e9a-2b7d-4c1e-9a55-0d4f6b1e2c3a-latch-`,
        CreateMode.EPHEMERAL_SEQUENTIAL,
      );
      let ran = false;
      const waiting = registry.executeInLeader(latch, () => {
        ran = true;
        return 'ours';
      });
      // Wait until our participant joined behind the Java one.
      await expect
        .poll(async () => (await raw.getChildren(`/${namespace}${latch}`)).length, { timeout: 5_000 })
        .toBe(2);
      const order = sortLatchParticipants(await raw.getChildren(`/${namespace}${latch}`));
      expect(`/${namespace}${latch}/${order[0]}`).toBe(javaNode);
      expect(ran).toBe(false);
      await raw.remove(javaNode);
      expect(await waiting).toBe('ours');
      expect(ran).toBe(true);
      // And a Java participant arriving while we hold it queues behind us (Curator orders by sequence).
      let javaLater = '';
      await registry.executeInLeader(latch, async () => {
        javaLater = await raw.create(
          `/${namespace}${latch}/_c_00000000-0000-4000-8000-000000000000-latch-`,
          CreateMode.EPHEMERAL_SEQUENTIAL,
        );
        const participants = sortLatchParticipants(await raw.getChildren(`/${namespace}${latch}`));
        expect(`/${namespace}${latch}/${participants[1]}`).toBe(javaLater);
      });
      expect(await raw.getChildren(`/${namespace}${latch}`)).toEqual([
        javaLater.slice(javaLater.lastIndexOf('/') + 1),
      ]);
    } finally {
      await raw.close();
    }
  });

  it('orders participants by the sequence after "latch-", whatever the UUID (Curator sort key)', () => {
    const names = [
      '_c_ffffffff-ffff-4fff-bfff-ffffffffffff-latch-0000000002',
      '_c_00000000-0000-4000-8000-000000000000-latch-0000000010',
      '_c_99999999-9999-4999-9999-999999999999-latch-0000000001',
    ];
    expect(sortLatchParticipants(names).map(latchSortKey)).toEqual([
      '0000000001',
      '0000000002',
      '0000000010',
    ]);
  });

  it('a waiter that times out deletes its node and never blocks the next caller', async () => {
    const namespace = clients.namespace();
    const holder = await clients.start({ namespace });
    const waiter = await clients.start({ namespace });
    let release!: () => void;
    const entered = new Promise<void>((resolveEntered) => {
      void holder.executeInLeader('/latch', () => {
        resolveEntered();
        return new Promise<void>((resolve) => {
          release = resolve;
        });
      });
    });
    await entered;
    const startedAt = Date.now();
    await expectCode(
      waiter.executeInLeader('/latch', () => 'never', { waitTimeoutMs: 300 }),
      'TIMEOUT',
    );
    expect(Date.now() - startedAt).toBeLessThan(2_000);
    expect(await waiter.getChildrenKeys('/latch')).toHaveLength(1);
    release();
    expect(await waiter.executeInLeader('/latch', () => 'next', { waitTimeoutMs: 5_000 })).toBe('next');
  });
});
