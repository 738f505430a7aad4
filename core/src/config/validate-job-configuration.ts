/**
 * {@link validateJobConfiguration}: every check a job configuration gets before it is written or
 * started, with every problem reported once.
 *
 * @module
 */
import { CronExpressionError, parseCron } from '../cron/index.js';
import type { JobConfiguration, ResolvedJobConfiguration } from './job-configuration.js';
import { JobConfigurationError, type JobConfigurationIssue } from './job-configuration-error.js';
import { readJobConfigurationYamlFields } from './job-configuration-yaml.js';
import { resolveWithOptions, sortIssues } from './resolve-job-configuration.js';

/**
 * The problems of a job's schedule: its `cron` (Quartz syntax; an empty cron is a one-off job and
 * has none) and its `timeZone`. Values of the wrong type are left to {@link resolveJobConfiguration},
 * which reports them.
 *
 * @param cron - the `cron` field as given.
 * @param timeZone - the `timeZone` field as given.
 * @returns one issue (field `cron` or `timeZone`) per problem; `[]` when the schedule is valid.
 */
export function scheduleIssues(cron: unknown, timeZone: unknown): JobConfigurationIssue[] {
  const zone = typeof timeZone === 'string' && timeZone !== '' ? timeZone : undefined;
  if (typeof cron !== 'string' || cron === '') {
    // No expression to evaluate: the zone alone can still be wrong.
    return zone === undefined ? [] : cronIssues('* * * * * ?', zone).filter((i) => i.field === 'timeZone');
  }
  const issues = cronIssues(cron, zone);
  // A bad zone hides the expression's own problems: check the expression without it too.
  if (zone !== undefined && issues.some((issue) => issue.field === 'timeZone')) {
    issues.push(...cronIssues(cron, undefined));
  }
  return issues;
}

function cronIssues(cron: string, timeZone: string | undefined): JobConfigurationIssue[] {
  try {
    parseCron(cron, timeZone === undefined ? {} : { timeZone });
    return [];
  } catch (error) {
    if (!(error instanceof CronExpressionError)) throw error;
    return [{ field: error.field === 'timeZone' ? 'timeZone' : 'cron', message: error.message }];
  }
}

/**
 * Validates a job configuration completely and applies the defaults: every check of
 * {@link resolveJobConfiguration} plus the Quartz syntax of `cron` and `timeZone` (which
 * `resolveJobConfiguration` leaves to the kernel). Every problem is reported, once, in one error:
 * an invalid `shardingTotalCount` does not hide an invalid `cron`.
 *
 * Not checked: whether the sharding-strategy, thread-pool, error-handler and listener types are
 * registered in this process (the kernel checks them where the job runs).
 *
 * @param config - the configuration as users write it.
 * @returns the configuration with every field present (frozen).
 * @throws {JobConfigurationError} listing every problem in field order; `field` is the first one.
 */
export function validateJobConfiguration(config: JobConfiguration): ResolvedJobConfiguration {
  return validateWithSource(config, undefined);
}

/**
 * {@link validateJobConfiguration} for the YAML of a `config` node (as
 * {@link parseJobConfigurationYaml} reads it).
 *
 * @param text - the YAML text.
 * @returns the resolved configuration.
 * @throws {JobConfigurationError} for malformed YAML (the first syntax error, with line, column and a
 *   caret), or listing every invalid field; the text is the error's `source`.
 */
export function validateJobConfigurationYaml(text: string): ResolvedJobConfiguration {
  return validateWithSource(readJobConfigurationYamlFields(text), text);
}

function validateWithSource(config: unknown, source: string | undefined): ResolvedJobConfiguration {
  const fields = typeof config === 'object' && config !== null ? (config as Record<string, unknown>) : {};
  const schedule = scheduleIssues(fields.cron, fields.timeZone);
  let resolved: ResolvedJobConfiguration | undefined;
  let structural: JobConfigurationError | undefined;
  try {
    resolved = resolveWithOptions(config, source === undefined ? {} : { source });
  } catch (error) {
    if (!(error instanceof JobConfigurationError)) throw error;
    structural = error;
  }
  if (structural === undefined && schedule.length === 0) return resolved!;
  const seen = new Set<string>();
  const issues = sortIssues([...(structural?.issues ?? []), ...schedule]).filter((issue) => {
    const key = `${issue.field}\u0000${issue.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  const jobName = typeof fields.jobName === 'string' ? fields.jobName : undefined;
  throw JobConfigurationError.fromIssues(issues, {
    ...(jobName === undefined ? {} : { jobName }),
    ...(source === undefined ? {} : { source }),
    ...(structural === undefined ? {} : { cause: structural }),
  });
}
