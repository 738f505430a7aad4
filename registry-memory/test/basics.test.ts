import { RegistryError } from '@elasticjob-ts/core';
import { describe, expect, it, vi } from 'vitest';
import { MemoryRegistryCenter } from '../src/index.js';
import { compact, record, useMemoryRegistry } from './helpers.js';

describe('MemoryRegistryCenter basics', () => {
  const registry = useMemoryRegistry();

  it('stores nodes under the namespace and isolates namespaces', async () => {
    const a = await registry.client({ namespace: 'alpha' });
    const b = await registry.client({ namespace: 'beta' });
    await a.persist('/job/config', 'x');
    expect(await a.get('/job/config')).toBe('x');
    expect(await b.isExisted('/job/config')).toBe(false);
    expect(registry.server.dump('/alpha')).toEqual([
      { path: '/alpha', value: '' },
      { path: '/alpha/job', value: '' },
      { path: '/alpha/job/config', value: 'x' },
    ]);
    expect(registry.server.nodeCount).toBe(3);
  });

  it('rejects NOT_STARTED before start and after close, TypeError for bad keys', async () => {
    const client = new MemoryRegistryCenter({ server: registry.server });
    await expect(client.get('/a')).rejects.toMatchObject({ code: 'NOT_STARTED' });
    await client.start();
    await expect(client.start()).rejects.toMatchObject({ code: 'INVALID_STATE' });
    await expect(client.get('a')).rejects.toThrow(TypeError);
    await expect(client.persist('/a/', 'v')).rejects.toThrow(/'\/a\/'/);
    await client.close();
    await client.close();
    await expect(client.get('/a')).rejects.toSatisfy((error) => RegistryError.is(error, 'NOT_STARTED'));
  });

  it('orders children descending and numbers sequential nodes across clients', async () => {
    const a = await registry.client();
    const b = await registry.client();
    for (const item of ['0', '1', '10', '2', '9']) await a.persist(`/items/${item}`, '');
    expect(await b.getChildrenKeys('/items')).toEqual(['9', '2', '10', '1', '0']);
    expect(await b.getNumChildren('/items')).toBe(5);
    expect(await a.persistSequential('/seq/n-', 'a')).toBe('/seq/n-0000000000');
    expect(await b.persistEphemeralSequential('/seq/n-')).toBe('/seq/n-0000000001');
    await a.remove('/seq');
    expect(await b.persistSequential('/seq/n-', 'b')).toBe('/seq/n-0000000002');
  });

  it('remove is recursive and prefix-safe', async () => {
    const client = await registry.client();
    await client.persist('/a/b/c', '1');
    await client.persist('/a/bc', '2');
    await client.remove('/a/b');
    await client.remove('/a/missing');
    expect(await client.getChildrenKeys('/a')).toEqual(['bc']);
  });

  it('update needs the node; getRegistryCenterTime returns the server clock', async () => {
    const client = await registry.client();
    await expect(client.update('/absent', 'v')).rejects.toMatchObject({ code: 'NO_NODE', path: '/absent' });
    await registry.clock.advance(1234);
    expect(await client.getRegistryCenterTime('/systemTime/current')).toBe(registry.clock.now());
  });

  it('watch delivers a snapshot before resolving, then changes in commit order', async () => {
    const client = await registry.client();
    await client.persist('/w/a', '1');
    await client.persist('/w/a/b', '2');
    const { events } = await record(client, '/w');
    expect(compact(events)).toEqual(['ADDED /w=', 'ADDED /w/a=1', 'ADDED /w/a/b=2']);
    await client.update('/w/a', '3');
    await client.remove('/w/a');
    await client.persist('/wx', 'outside');
    await vi.waitFor(() => expect(events).toHaveLength(6));
    expect(compact(events.slice(3))).toEqual(['UPDATED /w/a=3', 'DELETED /w/a/b=2', 'DELETED /w/a=3']);
  });
});
