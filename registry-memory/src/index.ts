/**
 * `@elasticjob-ts/registry-memory`: a real in-process registry center with ZooKeeper's semantics
 * (sessions, ephemeral and sequential nodes, atomic transactions, fair latches, subtree watches,
 * creator-only digest ACLs, namespaces) and test controls (disconnect, reconnect, session expiry,
 * paused event delivery, an injected clock, and per-session fault injection through
 * `registry.faults`: request latency, delayed and batched watch delivery, partitions). The default registry of the kernel's unit tests and
 * of the embedded demo.
 *
 * @example
 * ```ts
 * import { ManualClock } from '@elasticjob-ts/core/adapter';
 * import { MemoryRegistryCenter, MemoryRegistryServer } from '@elasticjob-ts/registry-memory';
 *
 * const clock = new ManualClock();
 * const server = new MemoryRegistryServer({ clock });
 * const registry = new MemoryRegistryCenter({ server, namespace: 'demo', sessionTimeoutMs: 10_000 });
 * await registry.start();
 * await registry.persistEphemeral('/orders/instances/host@-@1', 'jobInstanceId: host@-@1');
 * registry.simulateDisconnect(); // SUSPENDED
 * await clock.advance(10_000); // LOST: the ephemeral node is gone for every client
 * registry.simulateReconnect(); // RECONNECTED with a new session
 * ```
 *
 * Or by configuration: `createRegistryCenter({ type: 'memory', namespace: 'demo' })`.
 *
 * @module
 */
export { type FaultDelay, MemoryRegistryFaults } from './internal/fault-controls.js';
export { MemoryRegistryCenter } from './memory-registry-center.js';
export type { MemoryRegistryCenterOptions } from './memory-registry-options.js';
export {
  getDefaultMemoryRegistryServer,
  type MemoryRegistryDumpEntry,
  MemoryRegistryServer,
  type MemoryRegistryServerOptions,
} from './memory-registry-server.js';
export { registryCenterFactory } from './registry-center-factory.js';
