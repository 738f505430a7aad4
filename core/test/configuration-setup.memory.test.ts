/**
 * The startup rule of the job configuration (ElasticJob's `ConfigurationService.persist`): a
 * start with `overwrite` writes its configuration and the job root only where they differ from
 * what the registry holds, so restarting instances with an unchanged configuration writes
 * nothing the other instances would be told of.
 */
import { MemoryRegistryCenter, MemoryRegistryServer } from '@elasticjob-ts/registry-memory';
import { afterEach, describe, expect, it } from 'vitest';
import { type CoordinatorRegistryCenter, type JobConfiguration, ScheduleJobBootstrap } from '../src/index.js';

const WRITES = new Set(['persist', 'update', 'persistEphemeral', 'executeInTransaction']);

/** A client whose writes are recorded as `method key` (a transaction: each operation's key). */
function recording(client: MemoryRegistryCenter, writes: string[]): CoordinatorRegistryCenter {
  return new Proxy(client, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      if (!WRITES.has(String(property))) return value.bind(target);
      return (...args: unknown[]) => {
        const [first] = args;
        if (Array.isArray(first)) for (const operation of first) writes.push(`transaction ${operation.key}`);
        else writes.push(`${String(property)} ${String(first)}`);
        return value.apply(target, args);
      };
    },
  });
}

const server = new MemoryRegistryServer();
const stops: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

const job = (overrides: Partial<JobConfiguration> = {}): JobConfiguration => ({
  jobName: 'orders',
  cron: '0 0 0 1 1 ? 2099',
  shardingTotalCount: 2,
  overwrite: true,
  ...overrides,
});

async function start(namespace: string, n: number, configuration: JobConfiguration): Promise<string[]> {
  const client = new MemoryRegistryCenter({ server, namespace });
  await client.start();
  const writes: string[] = [];
  const bootstrap = new ScheduleJobBootstrap(
    recording(client, writes),
    { execute: async () => {} },
    configuration,
    {
      instanceId: `10.0.0.${n}@-@${n}`,
      serverIp: `10.0.0.${n}`,
    },
  );
  await bootstrap.schedule();
  stops.push(async () => {
    await bootstrap.shutdown();
    await client.close();
  });
  return writes;
}

describe('configuration setup with overwrite', () => {
  it('writes the job root and the configuration on the first start', async () => {
    const writes = await start('setup-first', 1, job());
    expect(writes).toContain('persist /orders');
    expect(writes).toContain('persist /orders/config');
  });

  it('writes neither again when the registry holds the same configuration and class', async () => {
    await start('setup-same', 1, job());
    const writes = await start('setup-same', 2, job());
    expect(writes).not.toContain('persist /orders');
    expect(writes).not.toContain('persist /orders/config');
    // The instance still registers itself.
    expect(writes).toContain('persistEphemeral /orders/instances/10.0.0.2@-@2');
  });

  it('writes the configuration, and only it, when it differs from the registry copy', async () => {
    const first = await start('setup-changed', 1, job());
    expect(first).toContain('persist /orders/config');
    const client = new MemoryRegistryCenter({ server, namespace: 'setup-changed' });
    await client.start();
    stops.push(() => client.close());
    const writes = await start('setup-changed', 2, job({ description: 'second' }));
    expect(writes).not.toContain('persist /orders');
    expect(writes).toContain('persist /orders/config');
    expect(await client.getDirectly('/orders/config')).toMatch(/^description: second$/m);
  });
});
