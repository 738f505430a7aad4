/**
 * Defaults and validation of job configuration: {@link resolveJobConfiguration}.
 *
 * @module
 */

import { z } from 'zod';
import type { JobConfiguration, ResolvedJobConfiguration } from './job-configuration.js';
import {
  describeValue,
  JobConfigurationError,
  type JobConfigurationIssue,
} from './job-configuration-error.js';
import { analyzeShardingItemParameters, shardingItemParametersMessage } from './sharding-item-parameters.js';

const JAVA_INT_MIN = -2_147_483_648;
const JAVA_INT_MAX = 2_147_483_647;

/**
 * Accepted job names: letters and digits of any script (Unicode letters, their combining marks,
 * digits: `orders`, `报表`, `Abrechnung-2`), `_`, `-`, `.`, not `.` or `..`. The name is a registry
 * path segment, so `/` is excluded; whitespace and other punctuation are too (ElasticJob only
 * requires a non-empty name, so a Java-written namespace may hold names refused here).
 */
export const JOB_NAME_PATTERN: RegExp = /^[\p{L}\p{M}\p{N}_.-]+$/u;

/** The default sharding strategy type (ElasticJob `AverageAllocationJobShardingStrategy`). */
export const DEFAULT_JOB_SHARDING_STRATEGY_TYPE = 'AVG_ALLOCATION';
/** The default item thread-pool size provider type (ElasticJob `CPUUsageJobExecutorThreadPoolSizeProvider`). */
export const DEFAULT_JOB_EXECUTOR_THREAD_POOL_SIZE_PROVIDER_TYPE = 'CPU';
/** The default error handler type (ElasticJob `LogJobErrorHandler`). */
export const DEFAULT_JOB_ERROR_HANDLER_TYPE = 'LOG';

/**
 * The defaults of every optional field: ElasticJob's `JobConfiguration.Builder` defaults (not the
 * registry POJO's or the Spring Boot starter's, which use `false`/`false`/`0` for `monitorExecution`,
 * `misfire`, `reconcileIntervalMinutes`). Also used for keys absent from registry YAML.
 */
export const JOB_CONFIGURATION_DEFAULTS: Readonly<
  Omit<ResolvedJobConfiguration, 'jobName' | 'shardingTotalCount'>
> = Object.freeze({
  cron: '',
  timeZone: undefined,
  shardingItemParameters: '',
  jobParameter: '',
  monitorExecution: true,
  failover: false,
  misfire: true,
  maxTimeDiffSeconds: -1,
  reconcileIntervalMinutes: 10,
  jobShardingStrategyType: DEFAULT_JOB_SHARDING_STRATEGY_TYPE,
  jobExecutorThreadPoolSizeProviderType: DEFAULT_JOB_EXECUTOR_THREAD_POOL_SIZE_PROVIDER_TYPE,
  jobErrorHandlerType: DEFAULT_JOB_ERROR_HANDLER_TYPE,
  jobListenerTypes: Object.freeze([]) as readonly string[],
  extraConfigurations: Object.freeze([]) as readonly unknown[],
  description: '',
  props: Object.freeze({}) as Readonly<Record<string, string>>,
  disabled: false,
  overwrite: false,
  label: undefined,
  staticSharding: false,
});

/** What each field accepts, for error messages. */
const ACCEPTED: Readonly<Record<keyof JobConfiguration, string>> = {
  jobName: `a non-empty string of letters and digits of any script, '_', '-', '.' (not '.' or '..', no '/')`,
  cron: 'a string (Quartz cron; empty for a one-off job)',
  timeZone: `a string (IANA zone or 'GMT+08:00')`,
  shardingTotalCount: `an integer from 1 to ${JAVA_INT_MAX}`,
  shardingItemParameters: `a string of 'item=parameter' pairs joined by ','`,
  jobParameter: 'a string',
  monitorExecution: 'true or false',
  failover: 'true or false',
  misfire: 'true or false',
  maxTimeDiffSeconds: `an integer (seconds; < 0 disables the check)`,
  reconcileIntervalMinutes: `an integer (minutes; <= 0 disables reconcile)`,
  jobShardingStrategyType: 'a string (a registered sharding strategy type)',
  jobExecutorThreadPoolSizeProviderType: `a string ('CPU', 'SINGLE_THREAD' or a registered type)`,
  jobErrorHandlerType: 'a string (a registered error handler type)',
  jobListenerTypes: 'an array of strings (registered listener types)',
  extraConfigurations: 'an array',
  description: 'a string',
  props: 'an object mapping strings to strings',
  disabled: 'true or false',
  overwrite: 'true or false',
  label: 'a string',
  staticSharding: 'true or false',
};

/** Every key of {@link JobConfiguration}, in declaration order (the order issues are reported in). */
export const JOB_CONFIGURATION_KEYS: readonly (keyof JobConfiguration)[] = Object.freeze(
  Object.keys(ACCEPTED) as (keyof JobConfiguration)[],
);

const javaInt = z.int().min(JAVA_INT_MIN).max(JAVA_INT_MAX);

const schema = z.strictObject({
  jobName: z
    .string()
    .regex(JOB_NAME_PATTERN)
    .refine((name) => name !== '.' && name !== '..'),
  cron: z.string().optional(),
  timeZone: z.string().optional(),
  shardingTotalCount: z.int().min(1).max(JAVA_INT_MAX),
  shardingItemParameters: z.string().optional(),
  jobParameter: z.string().optional(),
  monitorExecution: z.boolean().optional(),
  failover: z.boolean().optional(),
  misfire: z.boolean().optional(),
  maxTimeDiffSeconds: javaInt.optional(),
  reconcileIntervalMinutes: javaInt.optional(),
  jobShardingStrategyType: z.string().optional(),
  jobExecutorThreadPoolSizeProviderType: z.string().optional(),
  jobErrorHandlerType: z.string().optional(),
  jobListenerTypes: z.array(z.string()).optional(),
  extraConfigurations: z.array(z.unknown()).optional(),
  description: z.string().optional(),
  props: z.record(z.string(), z.string()).optional(),
  disabled: z.boolean().optional(),
  overwrite: z.boolean().optional(),
  label: z.string().optional(),
  staticSharding: z.boolean().optional(),
} satisfies Record<keyof JobConfiguration, z.ZodType>);

/** Options of the internal resolver shared with the YAML reader. */
interface ResolveOptions {
  readonly source?: string;
}

/**
 * Validates a job configuration and applies ElasticJob's builder defaults
 * (`JobConfiguration.Builder` in ElasticJob's API module) to every absent field.
 *
 * Checks, all reported at once in one {@link JobConfigurationError}:
 * - `jobName`: non-empty, letters and digits of any script, `_`, `-`, `.` only (not `.`/`..`); it is a registry path
 *   segment.
 * - `shardingTotalCount`: an integer from 1 to 2^31−1 (Java `int`).
 * - `shardingItemParameters`: the grammar of {@link parseShardingItemParameters}, items within
 *   `0..shardingTotalCount-1`, no duplicates (stricter than ElasticJob).
 * - `maxTimeDiffSeconds`, `reconcileIntervalMinutes`: Java `int`s; booleans are booleans; `props`
 *   maps strings to strings; `jobListenerTypes` is an array of strings; `extraConfigurations` an array.
 * - `failover: true` with `monitorExecution: false` is rejected: failover detects crashed items
 *   through `running` nodes, which only `monitorExecution` writes (ElasticJob accepts the pair and
 *   silently never fails over).
 * - Unknown keys are rejected (typo protection), naming the key and the closest known key.
 *
 * Not checked here: cron and time-zone syntax, and whether the sharding-strategy, thread-pool,
 * error-handler and listener types are registered — the kernel checks those against its registries
 * at startup; here they only need to be strings.
 *
 * Normalization (as ElasticJob treats `null`/empty values): `timeZone: ''` becomes `undefined`; an
 * empty `jobShardingStrategyType`, `jobExecutorThreadPoolSizeProviderType` or `jobErrorHandlerType`
 * becomes its default. Arrays and `props` are copied; the result is frozen (shallowly, plus its
 * arrays and `props`).
 *
 * @param config - the configuration as users write it.
 * @returns the configuration with every field present.
 * @throws {JobConfigurationError} listing every problem; `field` is the first offending field
 *   (`''` when `config` is not an object), `jobName` is set when it is a string.
 *
 * @example
 * ```ts
 * const resolved = resolveJobConfiguration({ jobName: 'orders', cron: '0/5 * * * * ?', shardingTotalCount: 3 });
 * resolved.monitorExecution; // true
 * resolved.reconcileIntervalMinutes; // 10
 * ```
 */
export function resolveJobConfiguration(config: JobConfiguration): ResolvedJobConfiguration {
  return resolveWithOptions(config, {});
}

/**
 * {@link resolveJobConfiguration} with a source text attached to errors.
 * @internal
 */
export function resolveWithOptions(config: unknown, options: ResolveOptions): ResolvedJobConfiguration {
  const jobName =
    typeof config === 'object' &&
    config !== null &&
    typeof (config as { jobName?: unknown }).jobName === 'string'
      ? (config as { jobName: string }).jobName
      : undefined;
  const fail = (issues: JobConfigurationIssue[]): never => {
    throw JobConfigurationError.fromIssues(sortIssues(issues), {
      ...(jobName === undefined ? {} : { jobName }),
      ...(options.source === undefined ? {} : { source: options.source }),
    });
  };

  const parsed = schema.safeParse(config, { reportInput: true });
  const issues: JobConfigurationIssue[] = parsed.success ? [] : parsed.error.issues.flatMap(toIssues);
  if (issues.some((issue) => issue.field === '')) fail(issues);

  const input = config as Record<string, unknown>;
  const total = input.shardingTotalCount as number;
  const parameters = input.shardingItemParameters;
  if (typeof parameters === 'string') {
    for (const problem of analyzeShardingItemParameters(parameters, total).problems) {
      issues.push({
        field: 'shardingItemParameters',
        message: shardingItemParametersMessage(parameters, problem, total),
      });
    }
  }
  if (input.failover === true && input.monitorExecution === false) {
    issues.push({
      field: 'failover',
      message:
        'failover = true requires monitorExecution = true (failover detects crashed items through the ' +
        'running nodes that monitorExecution writes), but monitorExecution = false; ' +
        'set monitorExecution to true or failover to false',
    });
  }
  if (issues.length > 0 || !parsed.success) fail(issues);

  const c = parsed.data!;
  const d = JOB_CONFIGURATION_DEFAULTS;
  return Object.freeze({
    jobName: c.jobName,
    cron: c.cron ?? d.cron,
    timeZone: c.timeZone === undefined || c.timeZone === '' ? undefined : c.timeZone,
    shardingTotalCount: c.shardingTotalCount,
    shardingItemParameters: c.shardingItemParameters ?? d.shardingItemParameters,
    jobParameter: c.jobParameter ?? d.jobParameter,
    monitorExecution: c.monitorExecution ?? d.monitorExecution,
    failover: c.failover ?? d.failover,
    misfire: c.misfire ?? d.misfire,
    maxTimeDiffSeconds: c.maxTimeDiffSeconds ?? d.maxTimeDiffSeconds,
    reconcileIntervalMinutes: c.reconcileIntervalMinutes ?? d.reconcileIntervalMinutes,
    jobShardingStrategyType: c.jobShardingStrategyType || d.jobShardingStrategyType,
    jobExecutorThreadPoolSizeProviderType:
      c.jobExecutorThreadPoolSizeProviderType || d.jobExecutorThreadPoolSizeProviderType,
    jobErrorHandlerType: c.jobErrorHandlerType || d.jobErrorHandlerType,
    jobListenerTypes: Object.freeze([...(c.jobListenerTypes ?? [])]),
    extraConfigurations: Object.freeze([...(c.extraConfigurations ?? [])]),
    description: c.description ?? d.description,
    props: Object.freeze({ ...(c.props ?? {}) }),
    disabled: c.disabled ?? d.disabled,
    overwrite: c.overwrite ?? d.overwrite,
    label: c.label,
    staticSharding: c.staticSharding ?? d.staticSharding,
  });
}

function toIssues(issue: z.core.$ZodIssue): JobConfigurationIssue[] {
  if (issue.code === 'unrecognized_keys') {
    const prefix = issue.path.length === 0 ? '' : `${fieldOf(issue.path)}.`;
    return issue.keys.map((key) => ({
      field: `${prefix}${key}`,
      message: unknownKeyMessage(`${prefix}${key}`, key),
    }));
  }
  const field = fieldOf(issue.path);
  if (field === '') {
    return [{ field, message: `a job configuration must be an object, got ${describeValue(issue.input)}` }];
  }
  const top = issue.path[0] as keyof JobConfiguration;
  const accepted = issue.path.length === 1 ? ACCEPTED[top] : 'a string';
  if (issue.input === undefined && issue.path.length === 1) {
    return [{ field, message: `${field} is required: expected ${accepted}` }];
  }
  return [{ field, message: `${field} = ${describeValue(issue.input)} is invalid: expected ${accepted}` }];
}

function fieldOf(path: readonly PropertyKey[]): string {
  let field = '';
  for (const segment of path) {
    if (typeof segment === 'number') field += `[${segment}]`;
    else field += field === '' ? String(segment) : `.${String(segment)}`;
  }
  return field;
}

function unknownKeyMessage(field: string, key: string): string {
  const suggestion = closestKey(key);
  return (
    `${field} is not a job configuration key` +
    (suggestion === undefined ? '' : ` (did you mean '${suggestion}'?)`) +
    `; accepted keys: ${JOB_CONFIGURATION_KEYS.join(', ')}`
  );
}

function closestKey(key: string): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of JOB_CONFIGURATION_KEYS) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(key.length / 4)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/**
 * Issues in field order (see {@link JOB_CONFIGURATION_KEYS}), stable within a field.
 * @internal
 */
export function sortIssues(issues: JobConfigurationIssue[]): JobConfigurationIssue[] {
  const rank = (issue: JobConfigurationIssue): number => {
    const top = issue.field.split(/[.[]/)[0] as keyof JobConfiguration;
    const index = JOB_CONFIGURATION_KEYS.indexOf(top);
    return index < 0 ? JOB_CONFIGURATION_KEYS.length : index;
  };
  return issues
    .map((issue, index) => ({ issue, index }))
    .sort((x, y) => rank(x.issue) - rank(y.issue) || x.index - y.index)
    .map(({ issue }) => issue);
}
