import { createRegistryCenter } from '@elasticjob-ts/core';
import { type RedisTestServer, startRedisServer } from '@elasticjob-ts/test-support';
import { afterAll, beforeAll } from 'vitest';
import { kernelBehaviourSuite } from './behaviour/kernel-behaviour.js';

let server: RedisTestServer;
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  await server?.stop();
});

kernelBehaviourSuite({
  name: 'redis',
  waitTimeoutMs: 15_000,
  createClient: (namespace) =>
    createRegistryCenter({ type: 'redis', url: server.url, namespace, sessionTimeoutMs: 4000 }),
});
