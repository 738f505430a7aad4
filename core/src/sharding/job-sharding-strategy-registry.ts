/**
 * The process-wide registry of sharding strategies, keyed by type (ElasticJob looks them up
 * through its SPI loader, `JobShardingStrategyFactory`).
 *
 * @module
 */

import { JobConfigurationError } from '../config/job-configuration-error.js';
import type { JobShardingStrategy } from './job-sharding-strategy.js';
import {
  averageAllocationStrategy,
  odevitySortByNameStrategy,
  roundRobinByNameStrategy,
  singleShardingBalanceStrategy,
} from './strategies.js';

const BUILT_IN: readonly JobShardingStrategy[] = [
  averageAllocationStrategy,
  odevitySortByNameStrategy,
  roundRobinByNameStrategy,
  singleShardingBalanceStrategy,
];
const builtInTypes = new Set(BUILT_IN.map((strategy) => strategy.type));
const strategies = new Map<string, JobShardingStrategy>(
  BUILT_IN.map((strategy) => [strategy.type, strategy]),
);

/**
 * Registers a custom sharding strategy under its `type`, so jobs can select it with
 * `jobShardingStrategyType`. Register before starting the jobs that use it; every instance of a job
 * must register the same strategy, or they will assign items differently.
 *
 * @param strategy - the strategy; its `type` must be a non-empty string not yet registered.
 * @throws {TypeError} when `type` is empty, `sharding` is not a function, or the type is taken
 *   (built-ins `AVG_ALLOCATION`, `ODEVITY`, `ROUND_ROBIN`, `SINGLE_SHARDING_BALANCE` included).
 */
export function registerJobShardingStrategy(strategy: JobShardingStrategy): void {
  if (typeof strategy?.type !== 'string' || strategy.type === '') {
    throw new TypeError('a sharding strategy needs a non-empty string type');
  }
  if (typeof strategy.sharding !== 'function') {
    throw new TypeError(`sharding strategy '${strategy.type}' needs a sharding() function`);
  }
  if (strategies.has(strategy.type)) {
    throw new TypeError(`a sharding strategy of type '${strategy.type}' is already registered`);
  }
  strategies.set(strategy.type, strategy);
}

/**
 * Removes a custom strategy (mainly for tests).
 *
 * @param type - the strategy type.
 * @returns whether a strategy was removed.
 * @throws {TypeError} for a built-in type.
 */
export function unregisterJobShardingStrategy(type: string): boolean {
  if (builtInTypes.has(type))
    throw new TypeError(`the built-in sharding strategy '${type}' cannot be unregistered`);
  return strategies.delete(type);
}

/**
 * The strategy registered under `type`; `''` means the default, `AVG_ALLOCATION` (as ElasticJob
 * treats a blank type).
 *
 * @param type - a `jobShardingStrategyType` value.
 * @param jobName - the job asking, named in the error when given.
 * @returns the strategy.
 * @throws {JobConfigurationError} with field `jobShardingStrategyType`, naming the unknown type and
 *   the registered types.
 */
export function getJobShardingStrategy(type: string, jobName?: string): JobShardingStrategy {
  const strategy = strategies.get(type === '' ? averageAllocationStrategy.type : type);
  if (strategy !== undefined) return strategy;
  throw new JobConfigurationError(
    'jobShardingStrategyType',
    `jobShardingStrategyType = ${JSON.stringify(type) ?? String(type)} is not a registered sharding strategy; ` +
      `expected one of ${listJobShardingStrategyTypes().join(', ')} (register custom ones with registerJobShardingStrategy)`,
    jobName === undefined ? {} : { jobName },
  );
}

/** @returns every registered strategy type, built-ins first, then custom ones in registration order. */
export function listJobShardingStrategyTypes(): string[] {
  return [...strategies.keys()];
}
