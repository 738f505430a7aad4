/**
 * The `elasticjob` CLI against a real Redis server through a `redis://host:port/namespace` URL: a
 * listing, a write (disabling an item) and the job's view of it. The whole CLI scenario suite
 * runs on ZooKeeper and etcd (`cli.*.test.ts`); this proves the Redis URL form reaches the adapter.
 */
import { existsSync } from 'node:fs';
import {
  type CoordinatorRegistryCenter,
  createRegistryCenter,
  ScheduleJobBootstrap,
  silentLogger,
} from '@elasticjob-ts/core';
import { type RedisTestServer, startRedisServer } from '@elasticjob-ts/test-support';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { cli, MAIN } from './cli.behaviour.js';

const NEVER = '0 0 0 1 1 ? 2099';

describe('elasticjob CLI on Redis (redis:// URL)', { timeout: 60_000 }, () => {
  const namespace = `cli-redis-${process.pid}`;
  let server: RedisTestServer;
  let observer: CoordinatorRegistryCenter;
  let client: CoordinatorRegistryCenter;
  let bootstrap: ScheduleJobBootstrap;

  beforeAll(async () => {
    if (!existsSync(MAIN)) {
      throw new Error(
        `${MAIN} is missing: build first (npx turbo run build --filter=@elasticjob-ts/core...)`,
      );
    }
    server = await startRedisServer();
    const connect = () => createRegistryCenter({ type: 'redis', url: server.url, namespace });
    observer = await connect();
    client = await connect();
    bootstrap = new ScheduleJobBootstrap(
      client,
      { execute: () => undefined },
      { jobName: 'orders', cron: NEVER, shardingTotalCount: 2, description: 'order sync' },
      { instanceId: 'a', serverIp: '10.0.0.1', logger: silentLogger },
    );
    await bootstrap.schedule();
    await vi.waitFor(
      async () => expect(await observer.getDirectly('/orders/sharding/1/instance')).toBe('a'),
      {
        timeout: 15_000,
        interval: 50,
      },
    );
  }, 60_000);

  afterAll(async () => {
    await bootstrap?.shutdown();
    await client?.close();
    await observer?.close();
    await server?.stop();
  }, 60_000);

  it('lists the job and disables an item', async () => {
    const url = `redis://${server.host}:${server.port}/${namespace}`;
    const jobs = await cli(['jobs', '--json', '--registry', url]);
    expect(jobs.stderr).toBe('');
    expect(jobs.code).toBe(0);
    expect(JSON.parse(jobs.stdout)).toEqual([
      expect.objectContaining({ jobName: 'orders', cron: NEVER, instanceCount: 1, shardingTotalCount: 2 }),
    ]);
    const disabled = await cli(['disable', 'orders', '--item', '1', '--registry', url]);
    expect(disabled.code).toBe(0);
    expect(disabled.stdout).toBe("Disabled item 1 of job 'orders'\n");
    expect(await observer.isExisted('/orders/sharding/1/disabled')).toBe(true);
  });
});
