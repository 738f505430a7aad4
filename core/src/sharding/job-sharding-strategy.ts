/**
 * The sharding strategy SPI (ElasticJob `JobShardingStrategy`).
 *
 * @module
 */

import type { JobInstance } from '../instance/index.js';

/**
 * Splits a job's sharding items `0..shardingTotalCount-1` among the available instances. Registered
 * by {@link JobShardingStrategy.type} and chosen by the job's `jobShardingStrategyType`
 * (ElasticJob `JobShardingStrategy`, an SPI keyed by type).
 *
 * Contract:
 * - `instances` arrive in the registry's order — descending by `jobInstanceId` (UTF-16 code units) —
 *   and must not be re-sorted: built-in strategies depend on it for their Java-identical results.
 *   They must not be mutated either.
 * - The result has every instance as a key (possibly with `[]`), in the order the strategy assigned
 *   them; each item `0..shardingTotalCount-1` appears in exactly one list; lists are ascending.
 * - An empty `instances` yields an empty map.
 * - Pure: the same input gives the same output (except strategies that read the clock on purpose).
 */
export interface JobShardingStrategy {
  /** Registry key, e.g. `AVG_ALLOCATION`; the value users put in `jobShardingStrategyType`. */
  readonly type: string;
  /**
   * @param instances - available instances, registry (descending id) order; never re-sorted or mutated.
   * @param jobName - the job's name (some strategies hash it).
   * @param shardingTotalCount - the number of items, an integer >= 0.
   * @returns `jobInstanceId` → the items it owns.
   * @throws {TypeError} on invalid arguments (duplicate instance ids, a bad total count).
   */
  sharding(
    instances: readonly JobInstance[],
    jobName: string,
    shardingTotalCount: number,
  ): Map<string, number[]>;
}
