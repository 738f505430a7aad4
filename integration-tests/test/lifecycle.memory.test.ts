import { MemoryRegistryCenter, MemoryRegistryServer } from '@elasticjob-ts/registry-memory';
import { type LifecycleRegistryFixture, lifecycleBehaviourSuite } from './behaviour/lifecycle-behaviour.js';
import { operatorsBehaviourSuite } from './behaviour/operators-behaviour.js';

const server = new MemoryRegistryServer();

const fixture: LifecycleRegistryFixture = {
  name: 'memory',
  waitTimeoutMs: 5000,
  async createClient(namespace) {
    const client = new MemoryRegistryCenter({ server, namespace });
    await client.start();
    return client;
  },
};

lifecycleBehaviourSuite(fixture);
operatorsBehaviourSuite(fixture);
