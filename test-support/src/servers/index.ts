/**
 * Test-server harness: starts real ZooKeeper and etcd servers (single or 3-member), Redis (single,
 * TLS, or primary + replica + Sentinels) on free loopback ports in temporary directories (or uses
 * `ZK_CONNECT` / `ETCD_ENDPOINTS` / `REDIS_URL` for single servers), for adapter tests,
 * integration tests and benchmarks.
 *
 * @module
 */

export * from './binaries.js';
export * from './etcd.js';
export * from './etcd-cluster.js';
export * from './free-port.js';
export * from './postgresql.js';
export * from './process-utils.js';
export * from './redis.js';
export * from './redis-protocol.js';
export * from './redis-sentinel.js';
export * from './tcp-proxy.js';
export * from './tls-material.js';
export * from './zookeeper.js';
export * from './zookeeper-ensemble.js';
