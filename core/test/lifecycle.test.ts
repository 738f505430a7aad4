/**
 * Lifecycle API argument checks, errors and registry-error propagation, on the memory registry with
 * registry state written directly (the behaviour with running instances is in lifecycle/).
 */
import { MemoryRegistryCenter, MemoryRegistryServer } from '@elasticjob-ts/registry-memory';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type CoordinatorRegistryCenter,
  createJobOperationAPIs,
  JobConfigurationError,
  JobNotFoundError,
  RegistryError,
  resolveJobConfiguration,
  ServerNotFoundError,
  SHUTDOWN_COMMAND_NODE,
  shutdownCommandPath,
  toJobConfigurationYaml,
  toJobInstanceYaml,
} from '../src/index.js';

const server = new MemoryRegistryServer();
const clients: CoordinatorRegistryCenter[] = [];
let seq = 0;

afterEach(async () => {
  for (const client of clients.splice(0)) await client.close();
});

async function registry(): Promise<CoordinatorRegistryCenter> {
  const client = new MemoryRegistryCenter({ server, namespace: `lifecycle-unit-${seq++}` });
  await client.start();
  clients.push(client);
  return client;
}

async function writeJob(client: CoordinatorRegistryCenter, jobName: string, cron = '0 0 * * * ?', total = 3) {
  await client.persist(`/${jobName}`, 'SimpleJob');
  await client.persist(
    `/${jobName}/config`,
    toJobConfigurationYaml(resolveJobConfiguration({ jobName, cron, shardingTotalCount: total })),
  );
}

async function writeInstance(
  client: CoordinatorRegistryCenter,
  jobName: string,
  instanceId: string,
  serverIp: string,
) {
  await client.persist(`/${jobName}/servers/${serverIp}`, 'ENABLED');
  await client.persistEphemeral(
    `/${jobName}/instances/${instanceId}`,
    toJobInstanceYaml({ jobInstanceId: instanceId, serverIp }),
  );
}

/** A registry whose every data method rejects with CONNECTION_LOSS. */
function failingRegistry(inner: CoordinatorRegistryCenter): CoordinatorRegistryCenter {
  return new Proxy(inner, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || property === 'close') return value;
      return () =>
        Promise.reject(new RegistryError('CONNECTION_LOSS', 'connection lost (test)', { path: '/' }));
    },
  });
}

describe('lifecycle API arguments and errors', () => {
  it('names the missing job and lists the known ones', async () => {
    const client = await registry();
    await writeJob(client, 'orders');
    await writeJob(client, 'reports');
    await client.persist('/not-a-job/data', 'x'); // a root child without config is no job
    const apis = createJobOperationAPIs(client);
    const error = await apis.jobOperateAPI.trigger('ordres').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobNotFoundError);
    expect(error).toMatchObject({ jobName: 'ordres', knownJobNames: ['orders', 'reports'] });
    expect((error as Error).message).toMatch(/'ordres'.*known jobs: orders, reports/);
    for (const call of [
      () => apis.jobConfigurationAPI.getJobConfiguration('nope'),
      () => apis.jobConfigurationAPI.removeJobConfiguration('nope'),
      () => apis.jobOperateAPI.disable('nope'),
      () => apis.jobOperateAPI.shutdown('nope', '10.0.0.1'),
      () => apis.shardingOperateAPI.disable('nope', 0),
      () => apis.jobStatisticsAPI.getJobBriefInfo('nope'),
      () => apis.shardingStatisticsAPI.getShardingInfo('nope'),
    ]) {
      await expect(call()).rejects.toBeInstanceOf(JobNotFoundError);
    }
    expect(await apis.jobStatisticsAPI.getJobsTotalCount()).toBe(2);
  });

  it('lists and operates jobs named in any script, as ElasticJob allows', async () => {
    const client = await registry();
    await writeJob(client, '报表');
    await writeJob(client, 'Abrechnung-2');
    const apis = createJobOperationAPIs(client);
    const names = (await apis.jobStatisticsAPI.getAllJobsBriefInfo()).map((brief) => brief.jobName);
    expect(names).toEqual(expect.arrayContaining(['报表', 'Abrechnung-2']));
    await expect(apis.jobOperateAPI.trigger('报表')).resolves.toEqual([]); // no live instance to trigger
    await apis.jobOperateAPI.disable('报表');
    expect(await apis.jobStatisticsAPI.getJobBriefInfo('报表')).toMatchObject({ jobName: '报表' });
  });

  it('reads the items of a large job a bounded number at a time', async () => {
    const client = await registry();
    await writeJob(client, 'wide', '0 0 * * * ?', 2_000);
    let inFlight = 0;
    let most = 0;
    const counting = new Proxy(client, {
      get(target, property) {
        const value = Reflect.get(target, property, target);
        if (typeof value !== 'function') return value;
        if (property !== 'getDirectly' && property !== 'isExisted') return value.bind(target);
        return async (...args: unknown[]) => {
          inFlight += 1;
          most = Math.max(most, inFlight);
          try {
            return await value.apply(target, args);
          } finally {
            inFlight -= 1;
          }
        };
      },
    });
    const infos = await createJobOperationAPIs(counting).shardingStatisticsAPI.getShardingInfo('wide');
    expect(infos).toHaveLength(2_000);
    expect(infos.map((info) => info.item)).toEqual(Array.from({ length: 2_000 }, (_, item) => item));
    // 64 items of 5 reads each (all at once, 10,000 reads were queued).
    expect(most).toBeLessThanOrEqual(64 * 5);
  });

  it('lists only the count of known jobs when there are many', async () => {
    const client = await registry();
    for (let i = 0; i < 12; i++) await writeJob(client, `job-${String(i).padStart(2, '0')}`);
    const error = await createJobOperationAPIs(client)
      .jobOperateAPI.trigger('nope')
      .catch((e: unknown) => e as JobNotFoundError);
    expect((error as JobNotFoundError).knownJobNames).toHaveLength(12);
    expect((error as Error).message).toMatch(/12 jobs are registered \(e\.g\. job-00, .*, \.\.\.\)/);
  });

  it('rejects invalid arguments with a TypeError naming them', async () => {
    const apis = createJobOperationAPIs(await registry());
    await expect(apis.jobOperateAPI.disable()).rejects.toThrow(/jobName or serverIp is required/);
    await expect(apis.jobOperateAPI.shutdown()).rejects.toThrow(TypeError);
    await expect(apis.jobOperateAPI.trigger('a/b')).rejects.toThrow(/jobName must be a job name/);
    await expect(apis.jobOperateAPI.trigger('a b')).rejects.toThrow(/jobName must be a job name/);
    await expect(apis.jobOperateAPI.enable(undefined, '')).rejects.toThrow(/serverIp must be/);
    await expect(apis.shardingOperateAPI.disable('orders', -1)).rejects.toThrow(
      /item must be .* integer >= 0, got -1/,
    );
    await expect(apis.shardingOperateAPI.disable('orders', 1.5)).rejects.toThrow(/item/);
    await expect(apis.jobStatisticsAPI.getJobsBriefInfoByIp('a/b')).rejects.toThrow(/serverIp/);
    expect(() => shutdownCommandPath('orders', '')).toThrow(/instanceId/);
    expect(shutdownCommandPath('orders', '10.0.0.1@-@7')).toBe(
      `/orders/${SHUTDOWN_COMMAND_NODE}/10.0.0.1@-@7`,
    );
  });

  it('checks an item against the stored shardingTotalCount when disabling (not when enabling)', async () => {
    const client = await registry();
    await writeJob(client, 'orders', '0 0 * * * ?', 3);
    const { shardingOperateAPI } = createJobOperationAPIs(client);
    await expect(shardingOperateAPI.disable('orders', 3)).rejects.toThrow(
      /from 0 to 2 \(shardingTotalCount 3\), got 3/,
    );
    expect(await client.isExisted('/orders/sharding/3')).toBe(false);
    await client.persist('/orders/sharding/5/disabled', ''); // left over from a larger count
    await shardingOperateAPI.enable('orders', 5);
    expect(await client.isExisted('/orders/sharding/5/disabled')).toBe(false);
  });

  it('names an unknown server IP and lists the known ones', async () => {
    const client = await registry();
    await writeJob(client, 'orders');
    await writeInstance(client, 'orders', '10.0.0.1@-@1', '10.0.0.1');
    const apis = createJobOperationAPIs(client);
    for (const call of [
      () => apis.jobOperateAPI.disable(undefined, '10.0.0.9'),
      () => apis.jobOperateAPI.shutdown(undefined, '10.0.0.9'),
      () => apis.jobOperateAPI.remove(undefined, '10.0.0.9'),
      () => apis.serverStatisticsAPI.getServerBriefInfo('10.0.0.9'),
    ]) {
      const error = await call().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ServerNotFoundError);
      expect(error).toMatchObject({ serverIp: '10.0.0.9', knownServerIps: ['10.0.0.1'] });
    }
    expect(await apis.jobStatisticsAPI.getJobsBriefInfoByIp('10.0.0.9')).toEqual([]);
  });

  it('refuses an unknown server of a job, naming the known ones, unless forced; checks the address', async () => {
    const client = await registry();
    await writeJob(client, 'orders');
    await writeInstance(client, 'orders', 'pod-a', '10.0.0.1');
    const { jobOperateAPI } = createJobOperationAPIs(client);
    for (const operation of ['disable', 'enable'] as const) {
      await expect(jobOperateAPI[operation]('orders', '10.0.0.11')).rejects.toSatisfy(
        (error) =>
          error instanceof ServerNotFoundError &&
          error.jobName === 'orders' &&
          error.knownServerIps.join() === '10.0.0.1' &&
          error.message ===
            `Server '10.0.0.11' is not a server of job 'orders' in namespace '${client.namespace}'; known servers: 10.0.0.1`,
      );
    }
    await expect(jobOperateAPI.shutdown('orders', '10.0.0.11')).rejects.toBeInstanceOf(ServerNotFoundError);
    await expect(jobOperateAPI.remove('orders', '10.0.0.11')).rejects.toBeInstanceOf(ServerNotFoundError);
    for (const bad of ['10.0.0.300', 'host name', '10.0.0']) {
      await expect(jobOperateAPI.disable('orders', bad)).rejects.toThrow(
        /serverIp must be a server of the job or an IPv4\/IPv6 address/,
      );
      await expect(jobOperateAPI.disable('orders', bad, { force: true })).rejects.toBeInstanceOf(TypeError);
    }
    await expect(jobOperateAPI.disable(undefined, 'nohost')).rejects.toBeInstanceOf(TypeError);
    expect(await client.getChildrenKeys('/orders/servers')).toEqual(['10.0.0.1']); // no debris
  });

  it('pre-disables a server of a job that it has not joined yet, when forced', async () => {
    const client = await registry();
    await writeJob(client, 'orders');
    const { jobOperateAPI } = createJobOperationAPIs(client);
    expect(await jobOperateAPI.disable('orders', '10.0.0.5', { force: true })).toEqual([
      { jobName: 'orders', serverIp: '10.0.0.5' },
    ]);
    expect(await jobOperateAPI.disable('orders', 'fd00::5', { force: true })).toEqual([
      { jobName: 'orders', serverIp: 'fd00::5' },
    ]);
    await client.remove('/orders/servers/fd00::5');
    expect(await client.getDirectly('/orders/servers/10.0.0.5')).toBe('DISABLED');
    expect(await jobOperateAPI.disable('orders')).toEqual([{ jobName: 'orders', serverIp: '10.0.0.5' }]);
  });

  it('shuts down by IP across jobs, matching the instances by their YAML serverIp', async () => {
    const client = await registry();
    await writeJob(client, 'orders');
    await writeJob(client, 'reports');
    await writeInstance(client, 'orders', 'pod-a', '10.0.0.1');
    await writeInstance(client, 'orders', 'pod-b', '10.0.0.2');
    await writeInstance(client, 'reports', 'pod-a', '10.0.0.1');
    const { jobOperateAPI } = createJobOperationAPIs(client);
    const noFallback = { fallback: false } as const;
    expect(await jobOperateAPI.shutdown(undefined, '10.0.0.1', noFallback)).toEqual([
      { jobName: 'orders', instanceId: 'pod-a', serverIp: '10.0.0.1', delivery: 'SHUTDOWN_COMMAND' },
      { jobName: 'reports', instanceId: 'pod-a', serverIp: '10.0.0.1', delivery: 'SHUTDOWN_COMMAND' },
    ]);
    expect(await client.getChildrenKeys('/orders/shutdown')).toEqual(['pod-a']);
    expect(await client.getChildrenKeys('/reports/shutdown')).toEqual(['pod-a']);
    expect(await client.isExisted('/orders/instances/pod-a')).toBe(true);
    const removed = await jobOperateAPI.remove('orders', undefined, noFallback);
    expect(removed.instances.map((i) => i.instanceId)).toEqual(['pod-a', 'pod-b']);
    expect(removed.servers).toEqual([
      { jobName: 'orders', serverIp: '10.0.0.1' },
      { jobName: 'orders', serverIp: '10.0.0.2' },
    ]);
    expect(await client.getChildrenKeys('/orders/servers')).toEqual([]);
  });

  it('validates a configuration update completely before writing, naming the field', async () => {
    const client = await registry();
    await writeJob(client, 'orders');
    await writeJob(client, 'adhoc', '');
    const { jobConfigurationAPI } = createJobOperationAPIs(client);
    const before = await client.getDirectly('/orders/config');
    const current = await jobConfigurationAPI.getJobConfiguration('orders');
    const field = async (promise: Promise<unknown>) => {
      const error = await promise.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(JobConfigurationError);
      return (error as JobConfigurationError).field;
    };
    expect(
      await field(
        jobConfigurationAPI.updateJobConfiguration({ ...current, failover: true, monitorExecution: false }),
      ),
    ).toBe('failover');
    expect(await field(jobConfigurationAPI.updateJobConfiguration({ ...current, cron: 'nonsense' }))).toBe(
      'cron',
    );
    expect(
      await field(jobConfigurationAPI.updateJobConfiguration({ ...current, timeZone: 'Mars/Olympus' })),
    ).toBe('timeZone');
    expect(await field(jobConfigurationAPI.updateJobConfiguration({ ...current, cron: '' }))).toBe('cron');
    const adhoc = await jobConfigurationAPI.getJobConfiguration('adhoc');
    expect(await field(jobConfigurationAPI.updateJobConfiguration({ ...adhoc, cron: '0 0 * * * ?' }))).toBe(
      'cron',
    );
    expect(await client.getDirectly('/orders/config')).toBe(before);
    expect(await client.getDirectly('/orders')).toBe('SimpleJob');
  });

  it('never swallows registry errors', async () => {
    const client = await registry();
    await writeJob(client, 'orders');
    const apis = createJobOperationAPIs(failingRegistry(client));
    for (const call of [
      () => apis.jobOperateAPI.trigger('orders'),
      () => apis.jobOperateAPI.disable(undefined, '10.0.0.1'),
      () => apis.jobConfigurationAPI.getJobConfiguration('orders'),
      () => apis.jobStatisticsAPI.getAllJobsBriefInfo(),
      () => apis.serverStatisticsAPI.getAllServersBriefInfo(),
      () => apis.shardingStatisticsAPI.getShardingInfo('orders'),
      () => apis.shardingOperateAPI.enable('orders', 0),
    ]) {
      await expect(call()).rejects.toMatchObject({ name: 'RegistryError', code: 'CONNECTION_LOSS' });
    }
  });
});
