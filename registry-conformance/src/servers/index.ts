/**
 * Test-server harness: starts real ZooKeeper and etcd servers on free loopback ports in temporary
 * directories (or uses `ZK_CONNECT` / `ETCD_ENDPOINTS`), for adapter tests, integration tests and
 * benchmarks. Import from `@elasticjob-ts/registry-conformance/servers`.
 *
 * @module
 */

export * from './etcd.js';
export * from './etcd-cluster.js';
export * from './free-port.js';
export * from './zookeeper.js';
export * from './zookeeper-ensemble.js';
