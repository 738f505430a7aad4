/**
 * The checks of a job configuration that only a process running the job can make: whether the
 * types it names are registered in this process. ElasticJob resolves them by SPI where the job
 * runs (`JobShardingStrategyFactory`, `JobExecutorThreadPoolSizeProviderFactory`,
 * `JobErrorHandlerFactory`, `ElasticJobListenerFactory`); here they are the registries of
 * `registerJobShardingStrategy`, `registerExecutorPoolSizeProvider`, `registerJobErrorHandler`
 * and `registerJobListener`.
 *
 * Every check runs, whatever else is wrong, so that one error lists every problem: the library
 * API and the jobs file both reject a configuration before anything is written to the registry,
 * and a configuration read from the registry is checked the same way before it is adopted.
 *
 * @module
 */
import type { JobConfiguration, ResolvedJobConfiguration } from '../../config/job-configuration.js';
import { JobConfigurationError, type JobConfigurationIssue } from '../../config/job-configuration-error.js';
import {
  DEFAULT_JOB_ERROR_HANDLER_TYPE,
  DEFAULT_JOB_EXECUTOR_THREAD_POOL_SIZE_PROVIDER_TYPE,
  DEFAULT_JOB_SHARDING_STRATEGY_TYPE,
} from '../../config/resolve-job-configuration.js';
import { createJobErrorHandler } from '../../error-handler/error-handler-registry.js';
import { getExecutorPoolSize } from '../../executor/executor-pool-size.js';
import { createJobListeners } from '../../listener/job-listener-registry.js';
import { silentLogger } from '../../logging/logger.js';
import { getJobShardingStrategy } from '../../sharding/job-sharding-strategy-registry.js';

type TypeField =
  | 'jobShardingStrategyType'
  | 'jobExecutorThreadPoolSizeProviderType'
  | 'jobErrorHandlerType'
  | 'jobListenerTypes';

/**
 * The problems of the registered types a configuration names: `jobShardingStrategyType`,
 * `jobExecutorThreadPoolSizeProviderType`, `jobErrorHandlerType` (built once with the job's
 * `props`, so that the handler's own checks of its props run too, then closed) and
 * `jobListenerTypes` (unknown or repeated types).
 *
 * @param configuration - the configuration as given; its fields are read where `resolved` is
 *   absent (an absent or empty field stands for the default type; a field of the wrong type is
 *   skipped, structural validation reports it).
 * @param resolved - the same configuration validated, when it was valid; the error handler is only
 *   built from valid `props`.
 * @returns one issue per problem, each under its own field; `[]` when every type is registered.
 * @throws whatever a check throws other than a `JobConfigurationError` or a `TypeError` (a bug).
 */
export function registeredTypeIssues(
  configuration: JobConfiguration | ResolvedJobConfiguration,
  resolved: ResolvedJobConfiguration | undefined,
): JobConfigurationIssue[] {
  const raw = configuration as unknown as Record<string, unknown>;
  const typeOf = (field: TypeField, fallback: string): string | undefined => {
    if (resolved !== undefined) return resolved[field] as string;
    const value = raw[field];
    if (value === undefined || value === null || value === '') return fallback;
    return typeof value === 'string' ? value : undefined;
  };
  const jobName = typeof raw.jobName === 'string' ? raw.jobName : undefined;
  const issues: JobConfigurationIssue[] = [];
  const check = (field: TypeField, run: () => unknown): void => {
    try {
      run();
    } catch (error) {
      if (error instanceof JobConfigurationError) issues.push(...error.issues);
      else if (error instanceof TypeError) issues.push({ field, message: error.message });
      else throw error;
    }
  };
  const strategy = typeOf('jobShardingStrategyType', DEFAULT_JOB_SHARDING_STRATEGY_TYPE);
  if (strategy !== undefined)
    check('jobShardingStrategyType', () => getJobShardingStrategy(strategy, jobName));
  const pool = typeOf(
    'jobExecutorThreadPoolSizeProviderType',
    DEFAULT_JOB_EXECUTOR_THREAD_POOL_SIZE_PROVIDER_TYPE,
  );
  if (pool !== undefined) check('jobExecutorThreadPoolSizeProviderType', () => getExecutorPoolSize(pool));
  const errorHandlerType = typeOf('jobErrorHandlerType', DEFAULT_JOB_ERROR_HANDLER_TYPE);
  if (errorHandlerType !== undefined && resolved !== undefined) {
    check('jobErrorHandlerType', () => {
      const probe = createJobErrorHandler(errorHandlerType, resolved.props, silentLogger);
      // A probe that never handled an error: nothing of the job is lost if its close fails.
      Promise.resolve()
        .then(() => probe.close?.())
        .catch(() => {});
    });
  }
  const listeners = resolved?.jobListenerTypes ?? raw.jobListenerTypes;
  if (Array.isArray(listeners) && listeners.every((type) => typeof type === 'string')) {
    check('jobListenerTypes', () => createJobListeners(listeners));
  }
  return issues;
}
