export * from './elastic-job.js';
export type { ShardingContext, ShardingContexts } from './sharding-context.js';
