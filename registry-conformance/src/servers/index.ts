/**
 * Test-server harness: starts real ZooKeeper, etcd and Redis servers on free loopback ports in temporary
 * directories (or uses `ZK_CONNECT` / `ETCD_ENDPOINTS` / `REDIS_URL`), for adapter tests, integration tests and
 * benchmarks. Import from `@elasticjob-ts/registry-conformance/servers`.
 *
 * @module
 */

export * from './etcd.js';
export * from './etcd-cluster.js';
export * from './free-port.js';
export * from './redis.js';
export * from './tcp-proxy.js';
export * from './zookeeper.js';
