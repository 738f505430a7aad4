import { createRegistryCenter } from '@elasticjob-ts/core';
import { startZookeeperServer, type ZookeeperTestServer } from '@elasticjob-ts/test-support';
import { afterAll, beforeAll } from 'vitest';
import { lifecycleBehaviourSuite } from './behaviour/lifecycle-behaviour.js';

let server: ZookeeperTestServer;
beforeAll(async () => {
  server = await startZookeeperServer();
});
afterAll(async () => {
  await server?.stop();
});

lifecycleBehaviourSuite({
  name: 'zookeeper',
  waitTimeoutMs: 15_000,
  createClient: (namespace) =>
    createRegistryCenter({
      type: 'zookeeper',
      serverLists: server.connectString,
      namespace,
      sessionTimeoutMs: 4000,
    }),
});
