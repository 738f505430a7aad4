/**
 * Job execution building blocks: the item executors of `SimpleJob`, `DataflowJob`, `SCRIPT` and
 * `HTTP` jobs, the typed-job registry and {@link resolveJobItemExecutor}, the executor pool size
 * providers and {@link runItemsConcurrently}.
 *
 * @example
 * ```ts
 * import { getExecutorPoolSize, resolveJobItemExecutor, runItemsConcurrently } from '@elasticjob-ts/core';
 *
 * const { executor } = resolveJobItemExecutor({ execute: (ctx) => console.log(ctx.shardingItem) }, config);
 * const failures = await runItemsConcurrently([0, 1, 2], getExecutorPoolSize('CPU'), (item) =>
 *   executor.process(contextOf(item), runtime),
 * );
 * ```
 *
 * @module
 */
export * from './executor-pool-size.js';
export * from './item/dataflow-job-item-executor.js';
export * from './item/http-job-item-executor.js';
export * from './item/script-job-item-executor.js';
export * from './item/sharding-context-json.js';
export * from './item/simple-job-item-executor.js';
export * from './job-item-executor-registry.js';
export * from './run-items-concurrently.js';
