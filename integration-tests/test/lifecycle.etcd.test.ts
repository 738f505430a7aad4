import { createRegistryCenter } from '@elasticjob-ts/core';
import { type EtcdTestServer, startEtcdServer } from '@elasticjob-ts/registry-conformance/servers';
import { afterAll, beforeAll } from 'vitest';
import {
  type LifecycleRegistryFixture,
  lifecycleBehaviourSuite,
} from '../../core/test/lifecycle/lifecycle-behaviour.js';
import { operatorsBehaviourSuite } from '../../core/test/lifecycle/operators-behaviour.js';

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
