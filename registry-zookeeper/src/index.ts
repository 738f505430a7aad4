/**
 * `@elasticjob-ts/registry-zookeeper` (being built; see the root README).
 *
 * @module
 */
export {};
