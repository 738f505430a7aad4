/**
 * Test-server harness: starts real ZooKeeper, etcd and PostgreSQL servers on free loopback ports in temporary
 * directories (or uses `ZK_CONNECT` / `ETCD_ENDPOINTS` / `POSTGRES_URL`), for adapter tests,
 * integration tests, event tracing tests and benchmarks. Import from `@elasticjob-ts/registry-conformance/servers`.
 *
 * @module
 */

export * from './etcd.js';
export * from './free-port.js';
export * from './postgresql.js';
export * from './zookeeper.js';
