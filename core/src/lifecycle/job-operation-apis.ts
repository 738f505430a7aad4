/**
 * {@link createJobOperationAPIs}: every lifecycle API over one registry client.
 *
 * @module
 */
import type { CoordinatorRegistryCenter } from '../registry/registry-center.js';
import { JobConfigurationAPI } from './job-configuration-api.js';
import { JobOperateAPI } from './job-operate-api.js';
import { JobStatisticsAPI } from './job-statistics-api.js';
import { ServerStatisticsAPI } from './server-statistics-api.js';
import { ShardingOperateAPI } from './sharding-operate-api.js';
import { ShardingStatisticsAPI } from './sharding-statistics-api.js';

/** Every lifecycle API, sharing one registry client (ElasticJob's `JobAPIFactory` products). */
export interface JobOperationAPIs {
  /** Read, update, remove job configuration. */
  readonly jobConfigurationAPI: JobConfigurationAPI;
  /** Trigger, disable/enable, shut down, remove. */
  readonly jobOperateAPI: JobOperateAPI;
  /** Disable/enable single sharding items. */
  readonly shardingOperateAPI: ShardingOperateAPI;
  /** Job counts and statuses. */
  readonly jobStatisticsAPI: JobStatisticsAPI;
  /** Servers across jobs. */
  readonly serverStatisticsAPI: ServerStatisticsAPI;
  /** Per-item sharding state. */
  readonly shardingStatisticsAPI: ShardingStatisticsAPI;
}

/**
 * Creates every lifecycle API over one started registry client (ElasticJob's `JobAPIFactory`, which
 * takes a connect string and builds the client itself; here the caller owns the client, so any
 * registry type works: `createRegistryCenter({ type: 'zookeeper' | 'etcd' | 'memory', ... })`).
 * The APIs hold no state besides the client and never close it.
 *
 * @param registry - a started registry client of the jobs' namespace.
 * @returns the six APIs.
 *
 * @example
 * ```ts
 * const registry = await createRegistryCenter({ type: 'zookeeper', serverLists: 'localhost:2181', namespace: 'shop' });
 * const apis = createJobOperationAPIs(registry);
 * await apis.jobOperateAPI.disable('orders', '10.0.0.7');
 * console.log(await apis.jobStatisticsAPI.getAllJobsBriefInfo());
 * await registry.close();
 * ```
 */
export function createJobOperationAPIs(registry: CoordinatorRegistryCenter): JobOperationAPIs {
  return Object.freeze({
    jobConfigurationAPI: new JobConfigurationAPI(registry),
    jobOperateAPI: new JobOperateAPI(registry),
    shardingOperateAPI: new ShardingOperateAPI(registry),
    jobStatisticsAPI: new JobStatisticsAPI(registry),
    serverStatisticsAPI: new ServerStatisticsAPI(registry),
    shardingStatisticsAPI: new ShardingStatisticsAPI(registry),
  });
}
