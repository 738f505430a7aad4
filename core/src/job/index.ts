export * from './elastic-job.js';
export * from './sharding-context.js';
