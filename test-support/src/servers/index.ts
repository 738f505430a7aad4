/**
 * Test-server harness: starts real ZooKeeper and etcd servers on free loopback ports in temporary
 * directories (or uses `ZK_CONNECT` / `ETCD_ENDPOINTS`), for adapter tests, integration tests and
 * benchmarks.
 *
 * @module
 */

export * from './binaries.js';
export * from './etcd.js';
export * from './free-port.js';
export * from './zookeeper.js';
