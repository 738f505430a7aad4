import { createRegistryCenter, RegistryConfigurationError } from '@elasticjob-ts/core';
import { describe, expect, it } from 'vitest';
import {
  getDefaultMemoryRegistryServer,
  MemoryRegistryCenter,
  MemoryRegistryServer,
  registryCenterFactory,
} from '../src/index.js';

describe('configuration', () => {
  it("is built by core's createRegistryCenter({ type: 'memory' })", async () => {
    const server = new MemoryRegistryServer();
    const registry = await createRegistryCenter({ type: 'memory', namespace: 'configured', server });
    expect(registry).toBeInstanceOf(MemoryRegistryCenter);
    expect(registry.namespace).toBe('configured');
    await registry.persist('/a', '1');
    expect(server.dump('/configured/a')).toEqual([{ path: '/configured/a', value: '1' }]);
    await registry.close();
  });

  it('defaults to the process-wide server, namespace elasticjob and a 60 s session timeout', () => {
    const registry = registryCenterFactory.create({ type: 'memory' }) as MemoryRegistryCenter;
    expect(registryCenterFactory.type).toBe('memory');
    expect(registry.server).toBe(getDefaultMemoryRegistryServer());
    expect(registry.namespace).toBe('elasticjob');
    expect(registry.sessionTimeoutMs).toBe(60_000);
  });

  it.each([
    [{ type: 'memory', namespace: '/bad/' }, 'namespace'],
    [{ type: 'memory', sessionTimeoutMs: 0 }, 'sessionTimeoutMs'],
    [{ type: 'memory', sessionTimeoutMs: '5000' }, 'sessionTimeoutMs'],
    [{ type: 'memory', server: {} }, 'server'],
    [{ type: 'memory', digest: 'no-colon' }, 'digest'],
    [{ type: 'memory', clock: {} }, 'clock'],
    [{ type: 'memory', serverLists: 'localhost:2181' }, 'serverLists'],
    [{ type: 'zookeeper' }, 'type'],
  ])('rejects %j naming %s', (configuration, field) => {
    let error: unknown;
    try {
      registryCenterFactory.create(configuration as never);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(RegistryConfigurationError);
    expect(error).toMatchObject({ field });
    expect((error as Error).message).toContain(field);
  });

  it('the constructor validates the same way', () => {
    expect(() => new MemoryRegistryCenter({ namespace: 'a//b' })).toThrow(RegistryConfigurationError);
  });
});
