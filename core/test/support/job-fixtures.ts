import { type ResolvedJobConfiguration, resolveJobConfiguration } from '../../src/index.js';

/**
 * A resolved configuration of a job (3 items unless told) with the builder defaults and the given props, for
 * executor tests.
 */
export function jobConfigurationWith(
  props: Record<string, string> = {},
  jobName = 'orders',
  shardingTotalCount = 3,
): ResolvedJobConfiguration {
  return resolveJobConfiguration({ jobName, shardingTotalCount, props });
}
