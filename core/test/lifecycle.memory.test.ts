import { MemoryRegistryCenter, MemoryRegistryServer } from '@elasticjob-ts/registry-memory';
import { lifecycleBehaviourSuite } from './lifecycle/lifecycle-behaviour.js';
import { operatorsBehaviourSuite } from './lifecycle/operators-behaviour.js';

const server = new MemoryRegistryServer();

lifecycleBehaviourSuite({
  name: 'memory',
  waitTimeoutMs: 5000,
  async createClient(namespace) {
    const client = new MemoryRegistryCenter({ server, namespace });
    await client.start();
    return client;
  },
});

operatorsBehaviourSuite({
  name: 'memory',
  waitTimeoutMs: 5000,
  async createClient(namespace) {
    const client = new MemoryRegistryCenter({ server, namespace });
    await client.start();
    return client;
  },
});
