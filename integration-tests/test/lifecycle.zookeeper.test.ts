import { createRegistryCenter } from '@elasticjob-ts/core';
import {
  startZookeeperServer,
  type ZookeeperTestServer,
  zookeeperWatchModeFromEnv,
} from '@elasticjob-ts/test-support';
import { afterAll, beforeAll } from 'vitest';
import { type LifecycleRegistryFixture, lifecycleBehaviourSuite } from './behaviour/lifecycle-behaviour.js';
import { operatorsBehaviourSuite } from './behaviour/operators-behaviour.js';

let server: ZookeeperTestServer;
beforeAll(async () => {
  server = await startZookeeperServer();
});
afterAll(async () => {
  await server?.stop();
});

const fixture: LifecycleRegistryFixture = {
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
};

lifecycleBehaviourSuite(fixture);
operatorsBehaviourSuite(fixture);
