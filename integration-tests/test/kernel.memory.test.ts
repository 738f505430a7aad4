import { MemoryRegistryCenter, MemoryRegistryServer } from '@elasticjob-ts/registry-memory';
import { kernelBehaviourSuite } from './behaviour/kernel-behaviour.js';

const server = new MemoryRegistryServer();

kernelBehaviourSuite({
  name: 'memory',
  waitTimeoutMs: 5000,
  async createClient(namespace) {
    const client = new MemoryRegistryCenter({ server, namespace });
    await client.start();
    return client;
  },
});
