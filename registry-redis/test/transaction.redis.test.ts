/**
 * The transaction script's view of the state earlier operations of the same transaction leave:
 * writes below nodes created or deleted earlier, deletes of subtrees holding staged writes,
 * re-creation of deleted nodes, value checks after writes, and the index of the failing operation,
 * also in a transaction of the size the kernel coalesces (1,000 operations).
 */
import { RegistryError, type RegistryTransactionOperation } from '@elasticjob-ts/core';
import { readSubtree } from '@elasticjob-ts/registry-conformance';
import { describe, expect, it } from 'vitest';
import { type ProxiedRedisRegistryCenter, proxiedClient, useRedisServer } from './support/redis-fixture.js';

const redis = useRedisServer('transaction');

async function client(): Promise<ProxiedRedisRegistryCenter> {
  const created = redis.track(await proxiedClient(redis.server, { namespace: redis.namespace() }));
  await created.start();
  return created;
}

/** A client whose namespace holds `/t/a` = 'a' with the child `/t/a/old` = 'o', and `/t/b` = 'b'. */
async function seeded(): Promise<ProxiedRedisRegistryCenter> {
  const registry = await client();
  await registry.persist('/t/a', 'a');
  await registry.persist('/t/a/old', 'o');
  await registry.persist('/t/b', 'b');
  return registry;
}

/** Every node below `/t` with its value, sorted by path. */
async function tree(registry: ProxiedRedisRegistryCenter): Promise<Array<[string, string]>> {
  return [...(await readSubtree(registry, '/t', true))].sort(([a], [b]) => (a < b ? -1 : 1));
}

const SEEDED_TREE: Array<[string, string]> = [
  ['/t', ''],
  ['/t/a', 'a'],
  ['/t/a/old', 'o'],
  ['/t/b', 'b'],
];

/** Runs `operations`, expects them to fail at `index` with `code`, and nothing to have changed. */
async function expectFailure(
  registry: ProxiedRedisRegistryCenter,
  operations: readonly RegistryTransactionOperation[],
  index: number,
  code: string,
): Promise<void> {
  const before = await tree(registry);
  const error = await registry.executeInTransaction(operations).catch((caught: unknown) => caught);
  expect(RegistryError.is(error, 'TRANSACTION_FAILED'), String(error)).toBe(true);
  const failure = error as RegistryError;
  expect(failure.failedOperationIndex).toBe(index);
  expect(failure.path).toBe(operations[index]?.key);
  expect((failure.cause as RegistryError).code).toBe(code);
  expect(await tree(registry)).toEqual(before);
}

describe('redis transaction script', () => {
  it('creates below a node created earlier in the same transaction', async () => {
    const registry = await seeded();
    await registry.executeInTransaction([
      { type: 'create', key: '/t/b/new', value: 'n' },
      { type: 'create', key: '/t/b/new/deeper', value: 'd' },
      { type: 'check', key: '/t/b/new/deeper', value: 'd' },
    ]);
    expect(await tree(registry)).toEqual([...SEEDED_TREE, ['/t/b/new', 'n'], ['/t/b/new/deeper', 'd']]);
  });

  it('a delete removes the nodes created below it earlier; later operations see them gone', async () => {
    const registry = await seeded();
    await registry.executeInTransaction([
      { type: 'create', key: '/t/a/new', value: 'n' },
      { type: 'create', key: '/t/a/new/deeper', value: 'd' },
      { type: 'delete', key: '/t/a' },
      { type: 'create', key: '/t/b/kept', value: 'k' },
    ]);
    expect(await tree(registry)).toEqual([
      ['/t', ''],
      ['/t/b', 'b'],
      ['/t/b/kept', 'k'],
    ]);
    const seededAgain = await seeded();
    await expectFailure(
      seededAgain,
      [
        { type: 'create', key: '/t/a/new', value: 'n' },
        { type: 'delete', key: '/t' },
        { type: 'check', key: '/t/a/new' },
      ],
      2,
      'NO_NODE',
    );
    await expectFailure(
      seededAgain,
      [
        { type: 'create', key: '/t/a/new', value: 'n' },
        { type: 'delete', key: '/t/a' },
        { type: 'update', key: '/t/a/new', value: 'x' },
      ],
      2,
      'NO_NODE',
    );
    await expectFailure(
      seededAgain,
      [
        { type: 'delete', key: '/t/a' },
        { type: 'create', key: '/t/a/child', value: 'orphan' },
      ],
      1,
      'NO_NODE',
    );
  });

  it('a re-created node exists again, and its old children stay gone', async () => {
    const registry = await seeded();
    await expectFailure(
      registry,
      [
        { type: 'delete', key: '/t/a' },
        { type: 'create', key: '/t/a', value: 'again' },
        { type: 'check', key: '/t/a', value: 'again' },
        { type: 'check', key: '/t/a/old' },
      ],
      3,
      'NO_NODE',
    );
    await expectFailure(
      registry,
      [
        { type: 'delete', key: '/t/a' },
        { type: 'create', key: '/t/a', value: 'again' },
        { type: 'update', key: '/t/a/old', value: 'x' },
      ],
      2,
      'NO_NODE',
    );
    await registry.executeInTransaction([
      { type: 'delete', key: '/t/a' },
      { type: 'create', key: '/t/a', value: 'again' },
      { type: 'check', key: '/t/a', value: 'again' },
      { type: 'create', key: '/t/a/old', value: 'fresh' },
    ]);
    expect(await tree(registry)).toEqual([
      ['/t', ''],
      ['/t/a', 'again'],
      ['/t/a/old', 'fresh'],
      ['/t/b', 'b'],
    ]);
  });

  it('a write counts only when no delete of the node or an ancestor came after it', async () => {
    const registry = await seeded();
    // A delete below a written node leaves its value.
    await registry.executeInTransaction([
      { type: 'update', key: '/t/a', value: 'u' },
      { type: 'delete', key: '/t/a/old' },
      { type: 'check', key: '/t/a', value: 'u' },
    ]);
    expect(await tree(registry)).toEqual([
      ['/t', ''],
      ['/t/a', 'u'],
      ['/t/b', 'b'],
    ]);
    // Written after the first delete of its parent, before the second delete of an ancestor.
    await expectFailure(
      registry,
      [
        { type: 'delete', key: '/t/a' },
        { type: 'create', key: '/t/a', value: 'r' },
        { type: 'create', key: '/t/a/n', value: 'n' },
        { type: 'delete', key: '/t' },
        { type: 'create', key: '/t', value: 'root again' },
        { type: 'create', key: '/t/a', value: 'r2' },
        { type: 'check', key: '/t/a', value: 'r2' },
        { type: 'check', key: '/t/a/n' },
      ],
      7,
      'NO_NODE',
    );
  });

  it('a value check sees the latest update or re-creation before it', async () => {
    const registry = await seeded();
    await registry.executeInTransaction([
      { type: 'update', key: '/t/b', value: 'u1' },
      { type: 'check', key: '/t/b', value: 'u1' },
      { type: 'update', key: '/t/b', value: 'u2' },
      { type: 'check', key: '/t/b', value: 'u2' },
    ]);
    expect(await registry.getDirectly('/t/b')).toBe('u2');
    await expectFailure(
      registry,
      [
        { type: 'update', key: '/t/b', value: 'u3' },
        { type: 'check', key: '/t/b', value: 'u2' },
      ],
      1,
      'VALUE_MISMATCH',
    );
    await expectFailure(
      registry,
      [
        { type: 'delete', key: '/t/b' },
        { type: 'create', key: '/t/b', value: 'created' },
        { type: 'check', key: '/t/b', value: 'u2' },
      ],
      2,
      'VALUE_MISMATCH',
    );
    await expectFailure(
      registry,
      [
        { type: 'delete', key: '/t/a' },
        { type: 'create', key: '/t/a' },
        { type: 'create', key: '/t/a', value: 'twice' },
      ],
      2,
      'NODE_EXISTS',
    );
  });

  it('a 1,000-operation transaction of creates and deletes of many jobs commits whole, or names its failing operation', async () => {
    const registry = await client();
    const jobs = 1_000;
    for (let job = 0; job < jobs; job++) {
      await registry.persist(job % 2 === 0 ? `/j${job}/sharding/0` : `/j${job}/sharding/0/running`, '');
    }
    const operations: RegistryTransactionOperation[] = Array.from({ length: jobs }, (_, job) =>
      job % 2 === 0
        ? { type: 'create', key: `/j${job}/sharding/0/running`, value: `${job}` }
        : { type: 'delete', key: `/j${job}/sharding/0/running` },
    );
    const failing = [...operations];
    failing[600] = { type: 'create', key: '/j1/sharding/0/running/below-deleted', value: '' };
    const error = await registry.executeInTransaction(failing).catch((caught: unknown) => caught);
    expect((error as RegistryError).failedOperationIndex).toBe(600);
    expect(((error as RegistryError).cause as RegistryError).code).toBe('NO_NODE');
    expect(await registry.isExisted('/j0/sharding/0/running')).toBe(false);
    expect(await registry.isExisted('/j1/sharding/0/running')).toBe(true);

    await registry.executeInTransaction(operations);
    for (const job of [0, 1, 500, 501, 998, 999]) {
      expect(await registry.getChildrenKeys(`/j${job}/sharding/0`)).toEqual(job % 2 === 0 ? ['running'] : []);
    }
    expect(await registry.getDirectly('/j998/sharding/0/running')).toBe('998');
  });
});
