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
export * from './bootstrap/index.js';
export * from './bootstrap-file/index.js';
export { formatPairs, formatTable, toJson } from './cli/format.js';
export * from './config/index.js';
export * from './cron/index.js';
export * from './dump/index.js';
export * from './error-handler/index.js';
export * from './event/index.js';
export * from './executor/index.js';
export * from './instance/index.js';
export * from './job/index.js';
export * from './kernel/index.js';
export * from './lifecycle/index.js';
export * from './listener/index.js';
export * from './logging/index.js';
export * from './registry/index.js';
export * from './sharding/index.js';
export * from './time/clock.js';
