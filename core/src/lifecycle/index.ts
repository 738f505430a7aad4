/**
 * The lifecycle (operation) API: what operators, consoles and the `elasticjob` CLI use to inspect
 * and steer running jobs through the registry alone — ElasticJob's `elasticjob-lifecycle` module
 * with the same class and method names. It works on any
 * {@link CoordinatorRegistryCenter}; it never talks to job processes.
 *
 * @example
 * ```ts
 * import { createJobOperationAPIs, createRegistryCenter } from '@elasticjob-ts/core';
 *
 * const registry = await createRegistryCenter({ type: 'etcd', endpoints: ['http://127.0.0.1:2379'], namespace: 'shop' });
 * const { jobOperateAPI, jobStatisticsAPI, shardingStatisticsAPI } = createJobOperationAPIs(registry);
 * await jobOperateAPI.trigger('orders');
 * console.log(await jobStatisticsAPI.getJobBriefInfo('orders')); // { status: 'OK', instanceCount: 3, ... }
 * console.log(await shardingStatisticsAPI.getShardingInfo('orders')); // [{ item: 0, status: 'RUNNING', ... }, ...]
 * await registry.close();
 * ```
 *
 * @module
 */
export {
  DEFAULT_SHUTDOWN_COMMAND_TIMEOUT_MS,
  type JobShutdownOptions,
  type ShutdownDelivery,
} from './instance-shutdown.js';
export {
  JobConfigurationAPI,
  type JobConfigurationReplacement,
  type JobConfigurationWriteOptions,
} from './job-configuration-api.js';
export {
  type JobInstanceTarget,
  JobOperateAPI,
  type JobRemovalResult,
  type JobServerStatusOptions,
  type JobServerTarget,
} from './job-operate-api.js';
export { createJobOperationAPIs, type JobOperationAPIs } from './job-operation-apis.js';
export { type JobBriefInfo, JobStatisticsAPI, type JobStatus } from './job-statistics-api.js';
export { JobConfigurationConflictError, JobNotFoundError, ServerNotFoundError } from './lifecycle-errors.js';
export { SHUTDOWN_COMMAND_NODE, shutdownCommandPath } from './lifecycle-registry.js';
export { type ServerBriefInfo, ServerStatisticsAPI } from './server-statistics-api.js';
export { ShardingOperateAPI } from './sharding-operate-api.js';
export {
  type ShardingInfo,
  type ShardingItemStatus,
  ShardingStatisticsAPI,
} from './sharding-statistics-api.js';
export {
  configurationVersion,
  type StoredJobConfiguration,
} from './stored-job-configuration.js';
