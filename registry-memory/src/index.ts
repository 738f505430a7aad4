/**
 * `@elasticjob-ts/registry-memory` (being built; see the root README).
 *
 * @module
 */
export {};
