/**
 * A job's configuration is validated completely before anything is written to the registry: every
 * field, the cron and time zone, and the registered types it names, all reported in one
 * `JobConfigurationError`. A registry copy the start would adopt is validated the same way, and an
 * invalid one stops the start with the node and the remedies named, leaving the copy as it is.
 */
import { MemoryRegistryCenter, MemoryRegistryServer } from '@elasticjob-ts/registry-memory';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type CoordinatorRegistryCenter,
  type JobConfiguration,
  JobConfigurationError,
  JobSetupError,
  resolveJobConfiguration,
  ScheduleJobBootstrap,
  toJobConfigurationYaml,
} from '../src/index.js';

const server = new MemoryRegistryServer();
const stops: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

const job = (overrides: Record<string, unknown> = {}): JobConfiguration =>
  ({ jobName: 'orders', cron: '0 0 0 1 1 ? 2099', shardingTotalCount: 2, ...overrides }) as JobConfiguration;

async function client(namespace: string): Promise<MemoryRegistryCenter> {
  const registry = new MemoryRegistryCenter({ server, namespace });
  await registry.start();
  stops.push(() => registry.close());
  return registry;
}

/** A client that records the keys of every write. */
function recording(registry: CoordinatorRegistryCenter, writes: string[]): CoordinatorRegistryCenter {
  return new Proxy(registry, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      if (!['persist', 'update', 'persistEphemeral', 'executeInTransaction'].includes(String(property))) {
        return value.bind(target);
      }
      return (...args: unknown[]) => {
        writes.push(String(property));
        return value.apply(target, args);
      };
    },
  });
}

function bootstrap(
  registry: CoordinatorRegistryCenter,
  configuration: JobConfiguration,
): ScheduleJobBootstrap {
  const created = new ScheduleJobBootstrap(registry, { execute: async () => {} }, configuration, {
    instanceId: '10.0.0.1@-@1',
    serverIp: '10.0.0.1',
  });
  stops.push(() => created.shutdown());
  return created;
}

function thrownBy(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('a configuration given by the application', () => {
  it.each([
    [
      'jobErrorHandlerType',
      { jobErrorHandlerType: 'NOPE' },
      /jobErrorHandlerType 'NOPE' is not registered; accepted: .*LOG/,
    ],
    [
      'jobListenerTypes',
      { jobListenerTypes: ['nope'] },
      /jobListenerTypes: 'nope' not registered; accepted: /,
    ],
    [
      'jobShardingStrategyType',
      { jobShardingStrategyType: 'NOPE' },
      /jobShardingStrategyType = "NOPE" is not a registered sharding strategy; expected one of AVG_ALLOCATION/,
    ],
    [
      'jobExecutorThreadPoolSizeProviderType',
      { jobExecutorThreadPoolSizeProviderType: 'NOPE' },
      /jobExecutorThreadPoolSizeProviderType 'NOPE' is not registered; accepted: /,
    ],
  ])('naming an unregistered %s is refused before any registry write', async (field, overrides, message) => {
    const registry = await client(`unregistered-${field}`);
    const writes: string[] = [];
    const error = thrownBy(() => bootstrap(recording(registry, writes), job(overrides)));

    expect(error).toBeInstanceOf(JobConfigurationError);
    expect((error as JobConfigurationError).field).toBe(field);
    expect((error as JobConfigurationError).jobName).toBe('orders');
    expect((error as Error).message).toMatch(/^Invalid configuration of job 'orders': /);
    expect((error as Error).message).toMatch(message);
    expect(writes).toEqual([]);
    expect(await registry.isExisted('/orders')).toBe(false);
  });

  it('lists every problem in one error: fields, schedule and registered types', () => {
    const error = thrownBy(
      () =>
        new ScheduleJobBootstrap(
          new MemoryRegistryCenter({ server, namespace: 'all-at-once' }),
          { execute: async () => {} },
          job({
            cron: 'x',
            shardingTotalCount: -1,
            jobShardingStrategyType: 'NOPE',
            jobListenerTypes: ['nope'],
          }),
        ),
    ) as JobConfigurationError;

    expect(error).toBeInstanceOf(JobConfigurationError);
    expect(error.issues.map((issue) => issue.field)).toEqual([
      'cron',
      'shardingTotalCount',
      'jobShardingStrategyType',
      'jobListenerTypes',
    ]);
    expect(error.message).toMatch(/^Invalid configuration of job 'orders': 4 problems: /);
  });

  it('reports a bad time zone and a bad cron together, as configuration issues', () => {
    const error = thrownBy(
      () =>
        new ScheduleJobBootstrap(
          new MemoryRegistryCenter({ server, namespace: 'zone' }),
          { execute: async () => {} },
          job({ cron: 'x', timeZone: 'Mars/X' }),
        ),
    ) as JobConfigurationError;

    expect(error).toBeInstanceOf(JobConfigurationError);
    expect(error.issues.map((issue) => issue.field).sort()).toEqual(['cron', 'timeZone']);
    expect(error.jobName).toBe('orders');
  });
});

describe('a configuration adopted from the registry', () => {
  async function storeWithErrorHandler(registry: MemoryRegistryCenter, type: string): Promise<string> {
    const yaml = toJobConfigurationYaml(resolveJobConfiguration(job())).replace(
      /^jobErrorHandlerType: LOG$/m,
      `jobErrorHandlerType: ${type}`,
    );
    expect(yaml).toContain(`jobErrorHandlerType: ${type}`);
    await registry.persist('/orders', '');
    await registry.persist('/orders/config', yaml);
    return yaml;
  }

  it('stops the start when it is invalid here, naming the node and the remedies, and is left as it is', async () => {
    const registry = await client('adopt-invalid');
    const stored = await storeWithErrorHandler(registry, 'REGISTERED_ELSEWHERE');

    const start = bootstrap(registry, job()).schedule();

    const error = (await start.catch((caught: unknown) => caught)) as JobSetupError;
    expect(error).toBeInstanceOf(JobSetupError);
    expect(error.message).toContain(
      "the configuration stored in the registry at '/orders/config' is not valid here",
    );
    expect(error.message).toContain("jobErrorHandlerType 'REGISTERED_ELSEWHERE' is not registered");
    expect(error.message).toContain("'elasticjob config set orders <field> <value>'");
    expect(error.message).toContain('overwrite: true');
    expect(error.cause).toBeInstanceOf(JobConfigurationError);
    expect((error.cause as JobConfigurationError).field).toBe('jobErrorHandlerType');
    expect(await registry.getDirectly('/orders/config')).toBe(stored);
  });

  it('is replaced by a start with overwrite', async () => {
    const registry = await client('adopt-overwrite');
    await storeWithErrorHandler(registry, 'REGISTERED_ELSEWHERE');

    await bootstrap(registry, job({ overwrite: true })).schedule();

    expect(await registry.getDirectly('/orders/config')).toMatch(/^jobErrorHandlerType: LOG$/m);
  });
});
