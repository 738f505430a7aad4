import { createRegistryCenter } from '@elasticjob-ts/core';
import { type EtcdTestServer, startEtcdServer } from '@elasticjob-ts/test-support';
import { afterAll, beforeAll } from 'vitest';
import { type LifecycleRegistryFixture, lifecycleBehaviourSuite } from './behaviour/lifecycle-behaviour.js';
import { operatorsBehaviourSuite } from './behaviour/operators-behaviour.js';

let server: EtcdTestServer;
beforeAll(async () => {
  server = await startEtcdServer();
});
afterAll(async () => {
  await server?.stop();
});

const fixture: LifecycleRegistryFixture = {
  name: 'etcd',
  waitTimeoutMs: 15_000,
  createClient: (namespace) =>
    createRegistryCenter({ type: 'etcd', endpoints: server.endpoints, namespace, sessionTimeoutMs: 4000 }),
};

lifecycleBehaviourSuite(fixture);
operatorsBehaviourSuite(fixture);
