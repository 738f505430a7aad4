import { RegistryError } from '@elasticjob-ts/core';
import { describe, expect, it, vi } from 'vitest';
import { compact, record, useMemoryRegistry } from './helpers.js';

describe('executeInTransaction', () => {
  const registry = useMemoryRegistry();

  it('rolls back everything when an operation fails, naming it', async () => {
    const client = await registry.client();
    await client.persist('/job/sharding/0/instance', 'old');
    const { events } = await record(client, '/job');
    const before = registry.server.dump();
    const error = await client
      .executeInTransaction([
        { type: 'create', key: '/job/leader', value: 'x' },
        { type: 'create', key: '/job/leader/sharding', value: 'y' },
        { type: 'update', key: '/job/sharding/0/instance', value: 'new' },
        { type: 'delete', key: '/job/sharding/0' },
        { type: 'update', key: '/job/sharding/0/instance', value: 'again' },
      ])
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RegistryError);
    expect(error).toMatchObject({
      code: 'TRANSACTION_FAILED',
      failedOperationIndex: 4,
      path: '/job/sharding/0/instance',
    });
    expect((error as Error).cause).toMatchObject({ code: 'NO_NODE', path: '/job/sharding/0/instance' });
    expect(registry.server.dump()).toEqual(before);
    await client.persist('/job/marker', '');
    await vi.waitFor(() => expect(compact(events).at(-1)).toBe('ADDED /job/marker='));
    expect(compact(events).filter((line) => !line.startsWith('ADDED /job/marker'))).toHaveLength(4);
  });

  it('reports NODE_EXISTS and a create without parent', async () => {
    const client = await registry.client();
    await client.persist('/a', '');
    await expect(
      client.executeInTransaction([
        { type: 'check', key: '/a' },
        { type: 'create', key: '/a' },
      ]),
    ).rejects.toMatchObject({ failedOperationIndex: 1, cause: { code: 'NODE_EXISTS' } });
    await expect(client.executeInTransaction([{ type: 'create', key: '/b/c' }])).rejects.toMatchObject({
      failedOperationIndex: 0,
      cause: { code: 'NO_NODE' },
    });
    expect(await client.isExisted('/b')).toBe(false);
  });

  it('applies all operations against the working copy, in order, with events', async () => {
    const client = await registry.client();
    await client.persist('/t/old/deep', 'd');
    const { events } = await record(client, '/t');
    await client.executeInTransaction([
      { type: 'create', key: '/t/new' },
      { type: 'create', key: '/t/new/child', value: 'c' },
      { type: 'delete', key: '/t/old' },
      { type: 'create', key: '/t/old', value: 'recreated' },
      { type: 'update', key: '/t/new', value: 'n' },
      { type: 'check', key: '/t/new/child' },
    ]);
    expect(await client.get('/t/old')).toBe('recreated');
    expect(await client.getChildrenKeys('/t/old')).toEqual([]);
    await vi.waitFor(() =>
      expect(compact(events.slice(3))).toEqual([
        'ADDED /t/new=',
        'ADDED /t/new/child=c',
        'DELETED /t/old/deep=d',
        'DELETED /t/old=',
        'ADDED /t/old=recreated',
        'UPDATED /t/new=n',
      ]),
    );
  });

  it('rejects a delete of a node deleted earlier in the same transaction', async () => {
    const client = await registry.client();
    await client.persist('/x/y', '');
    await expect(
      client.executeInTransaction([
        { type: 'delete', key: '/x' },
        { type: 'delete', key: '/x/y' },
      ]),
    ).rejects.toMatchObject({ failedOperationIndex: 1, cause: { code: 'NO_NODE' } });
    expect(await client.isExisted('/x/y')).toBe(true);
  });
});
