import { createRegistryCenter } from '@elasticjob-ts/core';
import { startZookeeperServer, type ZookeeperTestServer } from '@elasticjob-ts/registry-conformance/servers';
import { afterAll, beforeAll } from 'vitest';
import {
  type LifecycleRegistryFixture,
  lifecycleBehaviourSuite,
} from '../../core/test/lifecycle/lifecycle-behaviour.js';
import { operatorsBehaviourSuite } from '../../core/test/lifecycle/operators-behaviour.js';

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
    }),
};

lifecycleBehaviourSuite(fixture);
operatorsBehaviourSuite(fixture);
