/**
 * Sharding strategies: how a job's items are split among its instances. The built-ins reproduce
 * ElasticJob's assignments exactly (Java `String.hashCode`, `%` and `Math.abs` included), so mixed
 * Java/TypeScript clusters agree.
 *
 * @example
 * ```ts
 * import { getJobShardingStrategy } from '@elasticjob-ts/core';
 *
 * const instances = [{ jobInstanceId: '10.0.0.2@-@1', serverIp: '10.0.0.2' }, { jobInstanceId: '10.0.0.1@-@1', serverIp: '10.0.0.1' }];
 * getJobShardingStrategy('AVG_ALLOCATION').sharding(instances, 'orders', 3);
 * // Map { '10.0.0.2@-@1' => [0, 2], '10.0.0.1@-@1' => [1] }
 * ```
 *
 * @module
 */
export { javaLongToInt, javaStringHashCode } from './java-hash.js';
export type { JobShardingStrategy } from './job-sharding-strategy.js';
export {
  getJobShardingStrategy,
  listJobShardingStrategyTypes,
  registerJobShardingStrategy,
  unregisterJobShardingStrategy,
} from './job-sharding-strategy-registry.js';
export {
  allocateAverage,
  averageAllocationStrategy,
  createSingleShardingBalanceStrategy,
  odevitySortByNameStrategy,
  roundRobinByNameStrategy,
  singleShardingBalanceStrategy,
} from './strategies.js';
