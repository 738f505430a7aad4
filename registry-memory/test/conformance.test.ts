/**
 * The registry conformance suite against the in-memory registry: one shared server per file (like
 * one ZooKeeper ensemble), the real clock, and the memory test controls as fault injection.
 */
import type { CoordinatorRegistryCenter } from '@elasticjob-ts/core';
import { registryConformanceSuite } from '@elasticjob-ts/registry-conformance';
import { MemoryRegistryCenter, MemoryRegistryServer } from '../src/index.js';

const server = new MemoryRegistryServer();

function asMemoryClient(client: CoordinatorRegistryCenter): MemoryRegistryCenter {
  if (!(client instanceof MemoryRegistryCenter)) throw new TypeError('not a MemoryRegistryCenter');
  return client;
}

registryConformanceSuite({
  name: 'memory',
  create: ({ namespace, digest, sessionTimeoutMs }) =>
    new MemoryRegistryCenter({ server, namespace, digest, sessionTimeoutMs }),
  capabilities: { authentication: true, registryCenterTimeResolutionMs: 1, maxTransactionOperations: 1000 },
  controls: {
    expireSession: async (client) => asMemoryClient(client).expireSession(),
    disconnect: async (client) => asMemoryClient(client).simulateDisconnect(),
    reconnect: async (client) => asMemoryClient(client).simulateReconnect(),
    blackhole: async (client) => asMemoryClient(client).faults.partition({ detectAfterMs: 60_000 }),
    restartServer: async () => server.simulateRestart(),
  },
});
