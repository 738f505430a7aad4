/**
 * `@elasticjob-ts/integration-tests` (being built; see the root README).
 *
 * @module
 */
export {};
