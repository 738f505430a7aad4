/**
 * Authentication against a dedicated etcd with auth enabled: missing or wrong credentials and a user
 * without rights on the namespace get NO_AUTH, never silent success.
 */
import { RegistryError } from '@elasticjob-ts/core';
import { CONFORMANCE_DIGEST, EventRecorder } from '@elasticjob-ts/registry-conformance';
import type { EtcdTestServer } from '@elasticjob-ts/test-support';
import { type Etcd3, Range } from 'etcd3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EtcdRegistryCenter } from '../src/index.js';
import { adminClient, splitDigest, startAuthEtcdServer } from './support/etcd-fixture.js';

let server: EtcdTestServer;
let admin: Etcd3;
const clients: EtcdRegistryCenter[] = [];
const { username, password } = splitDigest(CONFORMANCE_DIGEST);

beforeAll(async () => {
  server = await startAuthEtcdServer();
  admin = adminClient(server, true);
  // A user that may only touch keys below '/other/'.
  await admin.role('other-only').create();
  await admin.role('other-only').grant({ permission: 'Readwrite', range: Range.prefix('/other/') });
  await admin.user('outsider').create('outsider-secret');
  await admin.user('outsider').addRole('other-only');
}, 60_000);

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
});

afterAll(async () => {
  admin?.close();
  await server?.stop();
});

function client(
  credentials: { username?: string; password?: string },
  namespace = 'secured',
): EtcdRegistryCenter {
  const result = new EtcdRegistryCenter({
    type: 'etcd',
    endpoints: server.endpoints,
    namespace,
    sessionTimeoutMs: 4_000,
    connectionTimeoutMs: 5_000,
    ...credentials,
  });
  clients.push(result);
  return result;
}

describe('authentication', () => {
  it('a client with valid credentials can use every feature', async () => {
    const owner = client({ username, password });
    await owner.start();
    const events = new EventRecorder({ defaultTimeoutMs: 10_000 });
    await owner.watch('/', events.listener);
    await owner.persist('/job/config', 'c');
    await owner.persistEphemeral('/job/instances/i1', 'i');
    const sequential = await owner.persistSequential('/job/seq-', 's');
    await owner.executeInTransaction([{ type: 'create', key: '/job/tx', value: 't' }]);
    expect(await owner.executeInLeader('/job/latch', () => 'led')).toBe('led');
    expect(
      Math.abs((await owner.getRegistryCenterTime('/job/systemTime/current')) - Date.now()),
    ).toBeLessThan(2_000);
    expect(await owner.getChildrenKeys('/job')).toEqual([
      'tx',
      'systemTime',
      'seq-0000000001',
      'latch',
      'instances',
      'config',
    ]);
    expect(sequential).toBe('/job/seq-0000000001');
    await events.waitForEvent({ type: 'ADDED', key: '/job/tx', value: 't' });
  });

  it('start() without credentials rejects with NO_AUTH', async () => {
    const error = await client({})
      .start()
      .catch((caught: unknown) => caught);
    expect(RegistryError.is(error, 'NO_AUTH')).toBe(true);
  });

  it('start() with a wrong password rejects with NO_AUTH, quickly (no retry loop)', async () => {
    const startedAt = performance.now();
    const error = await client({ username, password: 'wrong' })
      .start()
      .catch((caught: unknown) => caught);
    expect(RegistryError.is(error, 'NO_AUTH')).toBe(true);
    expect(performance.now() - startedAt).toBeLessThan(2_000);
  });

  it('a user without rights on the namespace gets NO_AUTH on start(), and its own prefix works', async () => {
    const error = await client({ username: 'outsider', password: 'outsider-secret' }, 'secured')
      .start()
      .catch((caught: unknown) => caught);
    expect(RegistryError.is(error, 'NO_AUTH')).toBe(true);
    const allowed = client({ username: 'outsider', password: 'outsider-secret' }, 'other');
    await allowed.start();
    await allowed.persist('/mine', 'ok');
    expect(await allowed.getDirectly('/mine')).toBe('ok');
  });

  it('credentials revoked while running: operations fail with NO_AUTH, never silently', async () => {
    await admin.user('temporary').create('temporary-secret');
    await admin.user('temporary').addRole('elasticjob');
    const temporary = client({ username: 'temporary', password: 'temporary-secret' }, 'temp');
    await temporary.start();
    await temporary.persist('/before', 'ok');
    await admin.user('temporary').removeRole('elasticjob');
    const error = await temporary.persist('/after', 'denied').catch((caught: unknown) => caught);
    expect(RegistryError.is(error, 'NO_AUTH')).toBe(true);
    const owner = client({ username, password }, 'temp');
    await owner.start();
    expect(await owner.isExisted('/after')).toBe(false);
  });
});
