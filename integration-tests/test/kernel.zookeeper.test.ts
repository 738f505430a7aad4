import { createRegistryCenter } from '@elasticjob-ts/core';
import {
  startZookeeperServer,
  type ZookeeperTestServer,
  zookeeperWatchModeFromEnv,
} from '@elasticjob-ts/test-support';
import { afterAll, beforeAll } from 'vitest';
import { kernelBehaviourSuite } from './behaviour/kernel-behaviour.js';

let server: ZookeeperTestServer;
beforeAll(async () => {
  server = await startZookeeperServer();
});
afterAll(async () => {
  await server?.stop();
});

kernelBehaviourSuite({
  name: 'zookeeper',
  waitTimeoutMs: 15_000,
  createClient: (namespace) =>
    createRegistryCenter({
      type: 'zookeeper',
      serverLists: server.connectString,
      namespace,
      sessionTimeoutMs: 4000,
      ...zookeeperWatchModeFromEnv(),
    }),
});
