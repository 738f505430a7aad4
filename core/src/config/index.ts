/**
 * Job configuration: the model ({@link JobConfiguration}), defaults and validation
 * ({@link resolveJobConfiguration}), the sharding-item-parameter grammar and the registry YAML form.
 *
 * @example
 * ```ts
 * import { parseJobConfigurationYaml, resolveJobConfiguration, toJobConfigurationYaml } from '@elasticjob-ts/core';
 *
 * const config = resolveJobConfiguration({ jobName: 'orders', cron: '0/5 * * * * ?', shardingTotalCount: 3 });
 * const yaml = toJobConfigurationYaml(config); // what goes into /{namespace}/orders/config
 * parseJobConfigurationYaml(yaml); // deep-equals config
 * ```
 *
 * @module
 */
export * from './job-configuration.js';
export {
  JobConfigurationError,
  type JobConfigurationErrorOptions,
  type JobConfigurationIssue,
} from './job-configuration-error.js';
export { parseJobConfigurationYaml, toJobConfigurationYaml } from './job-configuration-yaml.js';
export {
  DEFAULT_JOB_ERROR_HANDLER_TYPE,
  DEFAULT_JOB_EXECUTOR_THREAD_POOL_SIZE_PROVIDER_TYPE,
  DEFAULT_JOB_SHARDING_STRATEGY_TYPE,
  JOB_CONFIGURATION_DEFAULTS,
  JOB_CONFIGURATION_KEYS,
  JOB_NAME_PATTERN,
  resolveJobConfiguration,
} from './resolve-job-configuration.js';
export { parseShardingItemParameters } from './sharding-item-parameters.js';
export {
  scheduleIssues,
  validateJobConfiguration,
  validateJobConfigurationYaml,
} from './validate-job-configuration.js';
