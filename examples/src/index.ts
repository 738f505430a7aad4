/**
 * `@elasticjob-ts/examples` (being built; see the root README).
 *
 * @module
 */
export {};
