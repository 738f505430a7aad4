/**
 * `@elasticjob-ts/registry-zookeeper`: the reference registry adapter of ElasticJob-TS, on a real
 * ZooKeeper ensemble through the pure-JavaScript `node-zookeeper-client` (which, unlike the native
 * `zookeeper` binding, has multi-op transactions). Data layout, namespace, digest ACLs and the
 * leader latch's node names are those of ElasticJob-Lite on Curator, so Java and TypeScript
 * instances can share a cluster.
 *
 * @example
 * ```ts
 * import { ZookeeperRegistryCenter } from '@elasticjob-ts/registry-zookeeper';
 *
 * const registry = new ZookeeperRegistryCenter({
 *   serverLists: 'zk1:2181,zk2:2181,zk3:2181',
 *   namespace: 'elasticjob-demo',
 *   sessionTimeoutMs: 10_000,
 * });
 * registry.addConnectionStateListener((state) => console.log('registry', state));
 * await registry.start();
 * await registry.persistEphemeral('/orders/instances/10.0.0.7@-@4242', 'jobInstanceId: 10.0.0.7@-@4242\n');
 * await registry.close();
 * ```
 *
 * Or by configuration: `createRegistryCenter({ type: 'zookeeper', serverLists, namespace })`.
 *
 * @module
 */
export type { ZookeeperRegistryCenterOptions, ZookeeperWatchMode } from './options.js';
export { ZOOKEEPER_DEFAULTS, ZOOKEEPER_WATCH_MODES } from './options.js';
export { registryCenterFactory } from './registry-center-factory.js';
export { ZOOKEEPER_CAPABILITIES, ZookeeperRegistryCenter } from './zookeeper-registry-center.js';
