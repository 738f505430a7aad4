import { describe, expect, it } from 'vitest';
import { EventLog, expectCode, useClients, useZookeeperServer } from './support/zookeeper-fixture.js';

describe('ZookeeperRegistryCenter smoke', () => {
  const fixture = useZookeeperServer();
  const clients = useClients(fixture);

  it('persists, reads, lists, removes', async () => {
    const ns = clients.namespace();
    const a = await clients.start({ namespace: ns });
    await a.persist('/job/config', 'v1');
    expect(await a.getDirectly('/job/config')).toBe('v1');
    expect(await a.get('/job')).toBe('');
    for (const n of ['0', '1', '10', '2']) await a.persist(`/job/sharding/${n}`, n);
    expect(await a.getChildrenKeys('/job/sharding')).toEqual(['2', '10', '1', '0']);
    expect(await a.getNumChildren('/job/sharding')).toBe(4);
    await a.update('/job/config', 'v2');
    await expectCode(a.update('/nope', 'x'), 'NO_NODE');
    await a.remove('/job/sharding');
    expect(await a.isExisted('/job/sharding')).toBe(false);
    const seq = await a.persistSequential('/q/n-', 'x');
    expect(seq).toMatch(/^\/q\/n-\d{10}$/);
    const time = await a.getRegistryCenterTime('/systemTime/current');
    expect(Math.abs(time - Date.now())).toBeLessThan(2000);
  });

  it('transactions commit atomically and report the failing index', async () => {
    const ns = clients.namespace();
    const a = await clients.start({ namespace: ns });
    await a.persist('/tx/victim/child/grand', 'g');
    await a.persist('/tx/existing', 'e');
    await a.executeInTransaction([
      { type: 'check', key: '/tx/existing' },
      { type: 'create', key: '/tx/new', value: 'n' },
      { type: 'delete', key: '/tx/victim' },
    ]);
    expect(await a.isExisted('/tx/victim')).toBe(false);
    const error = await expectCode(
      a.executeInTransaction([
        { type: 'create', key: '/tx/new2', value: 'n' },
        { type: 'update', key: '/tx/absent', value: 'x' },
      ]),
      'TRANSACTION_FAILED',
    );
    expect((error as unknown as { failedOperationIndex: number }).failedOperationIndex).toBe(1);
    expect((error.cause as { code: string }).code).toBe('NO_NODE');
    expect(await a.isExisted('/tx/new2')).toBe(false);
  });

  it('watches a subtree', async () => {
    const ns = clients.namespace();
    const a = await clients.start({ namespace: ns });
    const b = await clients.start({ namespace: ns });
    await a.persist('/w/x', '1');
    const log = new EventLog();
    await b.watch('/w', log.listener);
    expect(log.items).toEqual([
      { type: 'ADDED', key: '/w', value: '' },
      { type: 'ADDED', key: '/w/x', value: '1' },
    ]);
    await a.persist('/w/x', '2');
    await a.persist('/w/y/z', '3');
    await a.persistEphemeral('/w/e', 'eph');
    await log.waitForEvent({ type: 'ADDED', key: '/w/e' });
    expect(await b.get('/w/x')).toBe('2');
    await a.close();
    await log.waitForEvent({ type: 'DELETED', key: '/w/e', value: 'eph' });
    expect(log.anomalies()).toEqual([]);
  });

  it('latch excludes', async () => {
    const ns = clients.namespace();
    const a = await clients.start({ namespace: ns });
    const b = await clients.start({ namespace: ns });
    let inside = 0;
    let max = 0;
    const run = (c: typeof a) =>
      c.executeInLeader('/latch', async () => {
        inside += 1;
        max = Math.max(max, inside);
        await new Promise((r) => setTimeout(r, 20));
        inside -= 1;
      });
    await Promise.all([run(a), run(b), run(a), run(b), run(a)]);
    expect(max).toBe(1);
    expect(await a.getChildrenKeys('/latch')).toEqual([]);
  });

  it('deletes a watched subtree in a transaction whatever the watch cache has seen of it', async () => {
    // The deleting client's cache lags the writes of the other client by a notification or more:
    // a descendant it has not seen yet, or one already gone, must neither fail the transaction nor
    // survive it.
    const ns = clients.namespace();
    const a = await clients.start({ namespace: ns });
    const b = await clients.start({ namespace: ns });
    await a.watch('/d', () => {});
    for (let round = 0; round < 20; round++) {
      await b.persist(`/d/${round}/seen/leaf`, 'x');
      await b.persist(`/d/${round}/gone`, 'x');
      await expect.poll(() => a.get(`/d/${round}/gone`)).toBe('x');
      await b.persist(`/d/${round}/unseen/leaf`, 'x');
      await b.remove(`/d/${round}/gone`);
      await a.executeInTransaction([{ type: 'delete', key: `/d/${round}` }]);
      expect(await b.getChildrenKeys('/d')).not.toContain(String(round));
    }
    await a.persist('/d/last/child', 'x');
    await a.executeInTransaction([{ type: 'delete', key: '/d/last' }]);
    expect(await b.isExisted('/d/last')).toBe(false);
  });

  it('decides value checks by the server whatever the watch cache has seen: a changed value fails, a restored one commits', async () => {
    const ns = clients.namespace();
    const a = await clients.start({ namespace: ns });
    const b = await clients.start({ namespace: ns });
    await a.persist('/v/x', 'old');
    await a.persist('/v/y', '0');
    await a.watch('/v', () => {});
    for (let round = 1; round <= 20; round++) {
      // Changed by another client just now: A's cache may still hold 'old'.
      await b.update('/v/x', `new-${round}`);
      const error = await expectCode(
        a.executeInTransaction([
          { type: 'check', key: '/v/x', value: 'old' },
          { type: 'update', key: '/v/y', value: `stale-${round}` },
        ]),
        'TRANSACTION_FAILED',
      );
      expect((error.cause as { code: string }).code).toBe('VALUE_MISMATCH');
      // Changed and changed back: the value checked is the one at the commit.
      await b.update('/v/x', 'old');
      await a.executeInTransaction([
        { type: 'check', key: '/v/x', value: 'old' },
        { type: 'update', key: '/v/y', value: String(round) },
      ]);
      expect(await b.getDirectly('/v/y')).toBe(String(round));
    }
  });
});
