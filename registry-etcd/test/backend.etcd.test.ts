/**
 * etcd-specific behaviour checked at the key level: layout, implicit parents written by other
 * tools, leases of ephemeral nodes, sequence counters, transaction compilation corner cases, latch
 * cleanup, server time, configuration validation and loading through core's factory.
 */
import {
  buildRegistryCenter,
  createRegistryCenter,
  RegistryConfigurationError,
  RegistryError,
} from '@elasticjob-ts/core';
import { type EtcdTestServer, startEtcdServer } from '@elasticjob-ts/test-support';
import { type Etcd3, type IKeyValue, Range } from 'etcd3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EtcdRegistryCenter, registryCenterFactory } from '../src/index.js';
import { adminClient } from './support/etcd-fixture.js';

let server: EtcdTestServer;
let admin: Etcd3;
let counter = 0;
const clients: EtcdRegistryCenter[] = [];

beforeAll(async () => {
  server = await startEtcdServer();
  admin = adminClient(server);
}, 60_000);

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
});

afterAll(async () => {
  admin?.close();
  await server?.stop();
});

function namespace(): string {
  counter += 1;
  return `backend-${process.pid}-${counter}`;
}

async function started(ns: string, sessionTimeoutMs = 10_000): Promise<EtcdRegistryCenter> {
  const client = new EtcdRegistryCenter({
    type: 'etcd',
    endpoints: server.endpoints,
    namespace: ns,
    sessionTimeoutMs,
  });
  clients.push(client);
  await client.start();
  return client;
}

/** Every raw key below `/{ns}` (including bookkeeping keys), with value and lease. */
async function rawKeys(ns: string): Promise<Map<string, IKeyValue>> {
  const response = await admin.kv.range({ key: Buffer.from(`/${ns}`), range_end: Buffer.from(`/${ns}0`) });
  return new Map(response.kvs.map((kv) => [kv.key.toString(), kv]));
}

describe('key layout', () => {
  it('nodes are real keys below /{namespace}, parents included, with value ""', async () => {
    const ns = namespace();
    const client = await started(ns);
    await client.persist('/a/b/c', 'v');
    const keys = await rawKeys(ns);
    expect([...keys.keys()]).toEqual([`/${ns}/a`, `/${ns}/a/b`, `/${ns}/a/b/c`]);
    expect(keys.get(`/${ns}/a/b/c`)?.value.toString()).toBe('v');
    expect(keys.get(`/${ns}/a`)?.value.toString()).toBe('');
  });

  it('keys written by other tools without parents are visible through their implicit parents', async () => {
    const ns = namespace();
    const client = await started(ns);
    await admin.put(`/${ns}/x/y/z`).value('deep');
    expect(await client.getChildrenKeys('/')).toEqual(['x']);
    expect(await client.getChildrenKeys('/x')).toEqual(['y']);
    expect(await client.getNumChildren('/x/y')).toBe(1);
    expect(await client.isExisted('/x/y')).toBe(true);
    expect(await client.getDirectly('/x/y')).toBe('');
    expect(await client.get('/x/y/z')).toBe('deep');
    await client.remove('/x');
    expect((await rawKeys(ns)).size).toBe(0);
  });

  it('remove is prefix-safe at the key level', async () => {
    const ns = namespace();
    const client = await started(ns);
    for (const path of ['/a/b', '/a/b/c', '/a/bc', '/a/b-x', '/a/b.c/d']) await client.persist(path, path);
    await client.remove('/a/b');
    expect([...(await rawKeys(ns)).keys()].sort()).toEqual(
      [`/${ns}/a`, `/${ns}/a/b-x`, `/${ns}/a/b.c`, `/${ns}/a/b.c/d`, `/${ns}/a/bc`].sort(),
    );
  });
});

describe('ephemeral nodes and leases', () => {
  it('are attached to the session lease; persist and update over them keep the lease', async () => {
    const ns = namespace();
    const client = await started(ns);
    await client.persistEphemeral('/e', 'v1');
    const lease = (key: string) => rawKeys(ns).then((keys) => keys.get(`/${ns}${key}`)?.lease);
    expect(await lease('/e')).toBe(client.sessionId);
    await client.persist('/e', 'v2');
    await client.update('/e', 'v3');
    await client.executeInTransaction([{ type: 'update', key: '/e', value: 'v4' }]);
    expect(await lease('/e')).toBe(client.sessionId);
    expect(await client.getDirectly('/e')).toBe('v4');
    await client.persist('/p', 'persistent');
    expect(await lease('/p')).toBe('0');
  });

  it('persistEphemeral over a node with children replaces the whole subtree', async () => {
    const ns = namespace();
    const client = await started(ns);
    await client.persist('/n/child', 'c');
    await client.persistEphemeral('/n', 'eph');
    expect(await client.getChildrenKeys('/n')).toEqual([]);
    expect(await client.getDirectly('/n')).toBe('eph');
  });
});

describe('sequential nodes', () => {
  it('suffixes are unique and increasing across concurrent clients; counters are not nodes', async () => {
    const ns = namespace();
    const writers = await Promise.all([started(ns), started(ns), started(ns)]);
    const created = (
      await Promise.all(
        writers.map(async (writer) => {
          const paths: string[] = [];
          for (let index = 0; index < 10; index++)
            paths.push(await writer.persistSequential('/q/item-', 'x'));
          return paths;
        }),
      )
    ).flat();
    expect(new Set(created).size).toBe(30);
    const suffixes = created.map((path) => Number(path.slice('/q/item-'.length))).sort((a, b) => a - b);
    expect(suffixes).toEqual(Array.from({ length: 30 }, (_, index) => index + 1));
    expect(created.every((path) => /^\/q\/item-\d{10}$/.test(path))).toBe(true);
    expect(await writers[0]!.getNumChildren('/q')).toBe(30);
    expect(await writers[0]!.getChildrenKeys('/')).toEqual(['q']);
    // A name taken by other means is skipped, not overwritten.
    await writers[0]!.persist('/q/item-0000000031', 'squatter');
    expect(await writers[1]!.persistSequential('/q/item-', 'y')).toBe('/q/item-0000000032');
    expect(await writers[1]!.getDirectly('/q/item-0000000031')).toBe('squatter');
  });
});

describe('transactions', () => {
  it('a subtree deleted and partly re-created in one transaction commits as one Txn', async () => {
    const ns = namespace();
    const client = await started(ns);
    await client.persist('/t/old/leaf', 'l');
    await client.persist('/t/keep', 'k');
    await client.executeInTransaction([
      { type: 'delete', key: '/t' },
      { type: 'create', key: '/t', value: 'new root' },
      { type: 'create', key: '/t/fresh', value: 'f' },
      { type: 'update', key: '/t/fresh', value: 'f2' },
    ]);
    expect(await client.getDirectly('/t')).toBe('new root');
    expect(await client.getChildrenKeys('/t')).toEqual(['fresh']);
    expect(await client.getDirectly('/t/fresh')).toBe('f2');
  });

  it('names the failing operation after inferring from earlier ones, and commits nothing', async () => {
    const ns = namespace();
    const client = await started(ns);
    await client.persist('/present', 'p');
    const error = await client
      .executeInTransaction([
        { type: 'update', key: '/present', value: 'changed' },
        { type: 'delete', key: '/present' },
        { type: 'check', key: '/present' },
      ])
      .catch((caught: unknown) => caught);
    expect(RegistryError.is(error, 'TRANSACTION_FAILED')).toBe(true);
    const failure = error as RegistryError;
    expect(failure.failedOperationIndex).toBe(2);
    expect(failure.path).toBe('/present');
    expect(RegistryError.is(failure.cause, 'NO_NODE')).toBe(true);
    expect(await client.getDirectly('/present')).toBe('p');
  });

  it('a failure on server state is found by re-reading, with the cause naming the missing parent', async () => {
    const ns = namespace();
    const client = await started(ns);
    await client.persist('/a', 'a');
    const error = (await client
      .executeInTransaction([
        { type: 'update', key: '/a', value: 'a2' },
        { type: 'create', key: '/missing/child', value: 'c' },
      ])
      .catch((caught: unknown) => caught)) as RegistryError;
    expect(error.code).toBe('TRANSACTION_FAILED');
    expect(error.failedOperationIndex).toBe(1);
    expect(error.path).toBe('/missing/child');
    expect((error.cause as RegistryError).code).toBe('NO_NODE');
    expect((error.cause as RegistryError).path).toBe('/missing');
    expect(await client.getDirectly('/a')).toBe('a');
  });
});

describe('latch', () => {
  it('a waiter that times out removes its queue entry; the holder keeps the latch', async () => {
    const ns = namespace();
    const holder = await started(ns);
    const waiter = await started(ns);
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let entered!: () => void;
    const enteredPromise = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const holding = holder.executeInLeader('/latch', async () => {
      entered();
      await held;
      return 'held';
    });
    await enteredPromise;
    const error = await waiter
      .executeInLeader('/latch', () => 'never', { waitTimeoutMs: 300 })
      .catch((caught: unknown) => caught);
    expect(RegistryError.is(error, 'TIMEOUT')).toBe(true);
    expect(await holder.getNumChildren('/latch')).toBe(1);
    release();
    expect(await holding).toBe('held');
    expect(await holder.getNumChildren('/latch')).toBe(0);
  });
});

describe('registry center time', () => {
  it('is the server clock from the HTTP Date header (whole seconds), and the key is written', async () => {
    const ns = namespace();
    const client = await started(ns);
    const before = Date.now();
    const time = await client.getRegistryCenterTime('/job/systemTime/current');
    expect(time % 1000).toBe(0);
    expect(time).toBeGreaterThanOrEqual(before - 1_000);
    expect(time).toBeLessThanOrEqual(Date.now());
    expect(await client.isExisted('/job/systemTime/current')).toBe(true);
  });
});

describe('configuration', () => {
  const valid = { type: 'etcd' as const, endpoints: 'http://127.0.0.1:2379', namespace: 'ok' };

  it.each([
    ['endpoints', { endpoints: [] }],
    ['endpoints', { endpoints: 'localhost:2379' }],
    ['endpoints', { endpoints: ['http://a:1', 'https://b:2'] }],
    ['endpoints', { endpoints: 'http://a:1/path' }],
    ['namespace', { namespace: '/leading' }],
    ['namespace', { namespace: '' }],
    ['sessionTimeoutMs', { sessionTimeoutMs: 0 }],
    ['connectionTimeoutMs', { connectionTimeoutMs: Number.NaN }],
    ['password', { username: 'u' }],
    ['username', { password: 'p' }],
    ['tls.key', { tls: { cert: 'CERT' } }],
    ['maxTxnOps', { maxTxnOps: 5 }],
    ['maxTxnOps', { maxTxnOps: 128.5 }],
    ['maxTxnOps', { maxTxnOps: '1024' }],
    ['type', { type: 'zookeeper' }],
  ])('rejects a bad %s with RegistryConfigurationError naming it', (field, override) => {
    let error: unknown;
    try {
      new EtcdRegistryCenter({ ...valid, ...override } as never);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(RegistryConfigurationError);
    expect((error as RegistryConfigurationError).field).toBe(field);
  });

  it('accepts a comma-separated endpoint list and rounds the session up to whole seconds', async () => {
    const client = new EtcdRegistryCenter({
      ...valid,
      endpoints: ` ${server.endpoints[0]} , ${server.endpoints[0]}/ `,
      namespace: namespace(),
      sessionTimeoutMs: 1_500,
    });
    clients.push(client);
    await client.start();
    const ttl = await admin.leaseClient.leaseTimeToLive({ ID: client.sessionId ?? '' });
    expect(ttl.grantedTTL).toBe('2');
  });

  it('is loaded by core through createRegistryCenter({ type: "etcd" })', async () => {
    expect(registryCenterFactory.type).toBe('etcd');
    const ns = namespace();
    const registry = await createRegistryCenter({ type: 'etcd', endpoints: server.endpoints, namespace: ns });
    clients.push(registry as EtcdRegistryCenter);
    expect(registry).toBeInstanceOf(EtcdRegistryCenter);
    expect(registry.capabilities).toEqual({
      authentication: true,
      registryCenterTimeResolutionMs: 1000,
      maxTransactionOperations: 64,
    });
    await registry.persist('/via-factory', 'yes');
    expect(await registry.getDirectly('/via-factory')).toBe('yes');
    await expect(
      buildRegistryCenter({ type: 'etcd', endpoints: 'nope', namespace: ns }),
    ).rejects.toBeInstanceOf(RegistryConfigurationError);
  });
});

describe('permissions scoped to the namespace prefix', () => {
  it('a role with read-write on /{namespace}/ only is enough for every feature', async () => {
    // Checked against a real auth-enabled server in auth.etcd.test.ts; here: no key outside it.
    const ns = namespace();
    const client = await started(ns);
    await client.persistSequential('/s-', '');
    await client.watch('/', () => undefined);
    await client.executeInLeader('/l', () => undefined);
    const outside = await admin.kv.range({
      key: Buffer.from(`/${ns}`),
      range_end: Range.prefix(`/${ns}/`).start,
    });
    expect(outside.kvs).toEqual([]);
  });
});
