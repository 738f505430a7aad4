/**
 * `@elasticjob-ts/registry-etcd` (being built; see the root README).
 *
 * @module
 */
export {};
