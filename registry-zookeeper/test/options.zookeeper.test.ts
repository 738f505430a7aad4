/**
 * Configuration: validation naming the field, the factory core loads by type, the bounded start.
 */
import { buildRegistryCenter, createRegistryCenter, RegistryConfigurationError } from '@elasticjob-ts/core';
import { findFreePort } from '@elasticjob-ts/test-support';
import { describe, expect, it } from 'vitest';
import { registryCenterFactory, ZookeeperRegistryCenter } from '../src/index.js';
import { expectCode, StateRecorder, useZookeeperServer } from './support/zookeeper-fixture.js';

function configurationError(options: unknown): RegistryConfigurationError {
  try {
    new ZookeeperRegistryCenter(options as never);
  } catch (error) {
    expect(error).toBeInstanceOf(RegistryConfigurationError);
    return error as RegistryConfigurationError;
  }
  throw new Error(`accepted ${JSON.stringify(options)}`);
}

describe('ZooKeeper registry options', () => {
  const fixture = useZookeeperServer();

  it.each([
    [{ namespace: 'ns' }, 'serverLists', /host:port/],
    [{ serverLists: 'zk1', namespace: 'ns' }, 'serverLists', /host:port/],
    [{ serverLists: 'zk1:2181/chroot', namespace: 'ns' }, 'serverLists', /namespace/],
    [{ serverLists: 'zk1:99999', namespace: 'ns' }, 'serverLists', /host:port/],
    [{ serverLists: 'zk1:2181' }, 'namespace', /letters, digits/],
    [{ serverLists: 'zk1:2181', namespace: '/leading' }, 'namespace', /letters, digits/],
    [{ serverLists: 'zk1:2181', namespace: 'ns', sessionTimeoutMs: 0 }, 'sessionTimeoutMs', /integer ≥ 1/],
    [
      { serverLists: 'zk1:2181', namespace: 'ns', connectionTimeoutMs: 1.5 },
      'connectionTimeoutMs',
      /integer/,
    ],
    [{ serverLists: 'zk1:2181', namespace: 'ns', maxRetries: -1 }, 'maxRetries', /integer ≥ 0/],
    [
      { serverLists: 'zk1:2181', namespace: 'ns', baseSleepTimeMs: 500, maxSleepTimeMs: 100 },
      'maxSleepTimeMs',
      /baseSleepTimeMs/,
    ],
    [{ serverLists: 'zk1:2181', namespace: 'ns', digest: 'no-colon' }, 'digest', /user:password/],
    [{ serverLists: 'zk1:2181', namespace: 'ns', digest: 'user:' }, 'digest', /user:password/],
    [{ type: 'etcd', serverLists: 'zk1:2181', namespace: 'ns' }, 'type', /zookeeper/],
    [
      { serverLists: 'zk1:2181', namespace: 'ns', watchMode: 'recursive' },
      'watchMode',
      /'auto', 'persistent', 'one-shot', got "recursive"/,
    ],
    [{ serverLists: 'zk1:2181', namespace: 'ns', watchMode: 1 }, 'watchMode', /one of/],
    [
      { serverLists: 'zk1:2181', namespace: 'ns', sessionTimeoutMilliseconds: 1000 },
      'sessionTimeoutMilliseconds',
      /accepted/,
    ],
  ])('rejects %j naming %s', (options, field, message) => {
    const error = configurationError(options);
    expect(error.field).toBe(field);
    expect(error.message).toMatch(message);
  });

  it('accepts several servers and IPv6 literals', () => {
    const registry = new ZookeeperRegistryCenter({
      serverLists: 'zk1:2181, 10.0.0.2:2182,[::1]:2183',
      namespace: 'a/b',
    });
    expect(registry.namespace).toBe('a/b');
    expect(registry.capabilities).toEqual({
      authentication: true,
      registryCenterTimeResolutionMs: 1,
      maxTransactionOperations: 1000,
    });
  });

  it("core's createRegistryCenter({ type: 'zookeeper' }) loads this package's factory", async () => {
    expect(registryCenterFactory.type).toBe('zookeeper');
    const built = await buildRegistryCenter({ type: 'zookeeper', serverLists: 'zk1:2181', namespace: 'ns' });
    expect(built).toBeInstanceOf(ZookeeperRegistryCenter);
    const registry = await createRegistryCenter({
      type: 'zookeeper',
      serverLists: fixture.server.connectString,
      namespace: 'factory-test',
      sessionTimeoutMs: 4_000,
    });
    try {
      await registry.persist('/k', 'v');
      expect(await registry.getDirectly('/k')).toBe('v');
    } finally {
      await registry.close();
    }
    await expect(
      buildRegistryCenter({ type: 'zookeeper', serverLists: '', namespace: 'ns' } as never),
    ).rejects.toMatchObject({ name: 'RegistryConfigurationError', field: 'serverLists' });
  });

  it('start() against a dead port fails with TIMEOUT naming the server, within the bound, and can be retried', async () => {
    const port = await findFreePort();
    const states = new StateRecorder();
    const registry = new ZookeeperRegistryCenter({
      serverLists: `127.0.0.1:${port}`,
      namespace: 'dead',
      connectionTimeoutMs: 1_000,
    });
    registry.addConnectionStateListener(states.listener);
    const startedAt = Date.now();
    const error = await expectCode(registry.start(), 'TIMEOUT');
    const elapsedMs = Date.now() - startedAt;
    console.log(`start() against a dead port: TIMEOUT after ${elapsedMs} ms (bound 1000 ms)`);
    expect(error.message).toContain(`127.0.0.1:${port}`);
    expect(elapsedMs).toBeGreaterThanOrEqual(990);
    expect(elapsedMs).toBeLessThan(2_000);
    expect(states.states).toEqual([]);
    await expectCode(registry.getDirectly('/x'), 'NOT_STARTED');
    // The client is back in its unstarted state: a second start() tries again.
    await expectCode(registry.start(), 'TIMEOUT');
    await registry.close();
    await expectCode(registry.start(), 'INVALID_STATE');
  });

  it('operations while the server is unreachable fail with CONNECTION_LOSS after the bounded retries', async () => {
    const states = new StateRecorder();
    const registry = new ZookeeperRegistryCenter({
      serverLists: fixture.server.connectString,
      namespace: 'unreachable',
      sessionTimeoutMs: 20_000,
      connectionTimeoutMs: 300,
      baseSleepTimeMs: 50,
      maxSleepTimeMs: 100,
      maxRetries: 2,
    });
    registry.addConnectionStateListener(states.listener);
    await registry.start();
    try {
      await fixture.server.kill();
      await states.waitForState('SUSPENDED');
      const startedAt = Date.now();
      await expectCode(registry.getDirectly('/x'), 'CONNECTION_LOSS');
      const elapsedMs = Date.now() - startedAt;
      // 3 attempts of 300 ms plus two backoff sleeps of at most 50 and 100 ms.
      expect(elapsedMs).toBeGreaterThanOrEqual(900);
      expect(elapsedMs).toBeLessThan(2_500);
      await expectCode(registry.persistSequential('/seq-', 'x'), 'CONNECTION_LOSS');
      await fixture.server.restart();
      await states.waitForState('RECONNECTED');
      expect(await registry.getDirectly('/x')).toBeUndefined();
    } finally {
      await registry.close();
    }
  });
});
