/**
 * The kernel's watch-backed job cache on the memory registry: values and the children index follow
 * creates, updates and deletes, including a recursive delete reported only for its top node.
 */
import { MemoryRegistryCenter, MemoryRegistryServer } from '@elasticjob-ts/registry-memory';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { CoordinatorRegistryCenter, RegistryEvent } from '../src/index.js';
import { JobCache } from '../src/kernel/job-cache.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function registry(): Promise<MemoryRegistryCenter> {
  const server = new MemoryRegistryServer();
  const client = new MemoryRegistryCenter({ server, namespace: 'cache' });
  await client.start();
  cleanups.push(() => client.close());
  return client;
}

/** A cache over `client` whose watch hides the DELETED events of descendants of `hideUnder`. */
async function cacheOf(
  client: MemoryRegistryCenter,
  hideUnder?: string,
): Promise<{ cache: JobCache; events: RegistryEvent[] }> {
  const events: RegistryEvent[] = [];
  const view: CoordinatorRegistryCenter = Object.create(client, {
    watch: {
      value: (root: string, listener: (event: RegistryEvent) => void) =>
        client.watch(root, (event) => {
          if (hideUnder !== undefined && event.type === 'DELETED' && event.key.startsWith(`${hideUnder}/`))
            return;
          listener(event);
        }),
    },
  });
  const cache = new JobCache(view, '/job', (event) => events.push(event));
  await cache.start();
  cleanups.push(() => cache.close());
  return { cache, events };
}

describe('JobCache', () => {
  it('follows creates, updates and deletes in values and the children index', async () => {
    const client = await registry();
    await client.persist('/job/sharding/0/instance', 'a');
    const { cache, events } = await cacheOf(client);
    await client.persist('/job/sharding/1/instance', 'b');
    await client.update('/job/sharding/0/instance', 'c');
    await vi.waitFor(() => expect(cache.get('/job/sharding/0/instance')).toBe('c'));
    expect(cache.get('/job/sharding/1/instance')).toBe('b');
    expect(cache.children('/job/sharding').sort()).toEqual(['0', '1']);
    expect(cache.children('/job').sort()).toEqual(['sharding']);

    await client.remove('/job/sharding/1');
    await vi.waitFor(() => expect(cache.has('/job/sharding/1/instance')).toBe(false));
    expect(cache.has('/job/sharding/1')).toBe(false);
    expect(cache.children('/job/sharding')).toEqual(['0']);
    expect(events.some((event) => event.type === 'DELETED')).toBe(true);
  });

  it('drops the whole subtree when a recursive delete reports only its top node', async () => {
    const client = await registry();
    await client.persist('/job/sharding/0/running', '1');
    await client.persist('/job/sharding/0/failover', 'a');
    await client.persist('/job/sharding/1/running', '2');
    const { cache } = await cacheOf(client, '/job/sharding');
    expect(cache.children('/job/sharding/0').sort()).toEqual(['failover', 'running']);

    await client.remove('/job/sharding');
    await vi.waitFor(() => expect(cache.has('/job/sharding')).toBe(false));
    for (const path of [
      '/job/sharding/0',
      '/job/sharding/0/running',
      '/job/sharding/0/failover',
      '/job/sharding/1/running',
    ]) {
      expect(cache.has(path)).toBe(false);
      expect(cache.children(path)).toEqual([]);
    }
    expect(cache.children('/job')).toEqual([]);

    await client.persist('/job/sharding/0/running', '3');
    await vi.waitFor(() => expect(cache.get('/job/sharding/0/running')).toBe('3'));
    expect(cache.children('/job/sharding/0')).toEqual(['running']);
    expect(cache.children('/job/sharding')).toEqual(['0']);
  });
});
