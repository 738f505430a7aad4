/**
 * `@elasticjob-ts/core`: the registry contract and the job kernel of ElasticJob-TS, a decentralized
 * distributed cron scheduler re-implementing Apache ElasticJob-Lite.
 *
 * @example
 * ```ts
 * import { createRegistryCenter } from '@elasticjob-ts/core';
 *
 * const registry = await createRegistryCenter({ type: 'memory' });
 * await registry.persist('/orders/config', 'cron: 0/5 * * * * ?');
 * ```
 *
 * @module
 */
export * from './registry/index.js';
export * from './time/clock.js';
