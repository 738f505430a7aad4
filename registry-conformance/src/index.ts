/**
 * `@elasticjob-ts/registry-conformance` (being built; see the root README).
 *
 * @module
 */
export {};
