/**
 * Validation of one `jobs.{key}` entry of a jobs file: every configuration field, the schedule, the
 * registered types, and the handler — every problem reported once.
 *
 * @module
 * @internal
 */
import type { JobConfiguration, ResolvedJobConfiguration } from '../config/job-configuration.js';
import { describeValue, JobConfigurationError } from '../config/job-configuration-error.js';
import { validateJobConfiguration } from '../config/validate-job-configuration.js';
import { CronExpressionError } from '../cron/cron-expression-error.js';
import { resolveJobItemExecutor, typedJobTypes } from '../executor/job-item-executor-registry.js';
import type { ElasticJob } from '../job/elastic-job.js';
import { registeredTypeIssues } from '../kernel/config/registered-type-issues.js';
import { JobSetupError } from '../kernel/job-setup-error.js';
import {
  type HandlerReference,
  instantiateHandlerExport,
  type JobHandlerContext,
  loadJobHandler,
  parseHandlerReference,
} from './job-handler.js';
import type { JobsFileIssue } from './jobs-file-error.js';
import { messageOf } from './jobs-file-issues.js';
import type { LoadedJob } from './jobs-file-types.js';

/**
 * Validates one job entry, pushing one issue per problem under `jobs.{key}`.
 * @returns the loaded job, or `undefined` when it has problems.
 * @internal
 */
export async function validateJobEntry(
  key: string,
  entry: Record<string, unknown>,
  handlerValue: unknown,
  file: string | undefined,
  baseDir: string,
  issues: JobsFileIssue[],
): Promise<LoadedJob | undefined> {
  const prefix = `jobs.${key}`;
  const before = issues.length;
  const { handler: written, type, ...rest } = entry;
  const handler = handlerValue ?? written;
  const configuration = { jobName: key, ...rest } as unknown as JobConfiguration;

  let resolved: ResolvedJobConfiguration | undefined;
  try {
    resolved = validateJobConfiguration(configuration); // fields, cron and time zone, all at once
  } catch (error) {
    pushJobError(error, prefix, issues);
  }

  if (handler === undefined && type === undefined) {
    issues.push({
      path: prefix,
      message: `needs either 'handler' ('./path/module.js#exportName') or 'type' (${typedJobTypes().join(', ')})`,
    });
  } else if (handler !== undefined && type !== undefined) {
    issues.push({ path: `${prefix}.type`, message: `'type' and 'handler' exclude each other; give one` });
  } else if (type !== undefined && (typeof type !== 'string' || !typedJobTypes().includes(type))) {
    issues.push({
      path: `${prefix}.type`,
      message: `${describeValue(type)} is not a typed job type; accepted: ${typedJobTypes().join(', ')}`,
    });
  }
  let reference: HandlerReference | undefined;
  if (typeof handler === 'string') {
    try {
      reference = parseHandlerReference(handler, baseDir);
    } catch (error) {
      issues.push({ path: `${prefix}.handler`, message: messageOf(error) });
    }
  } else if (handler !== undefined && handlerValue === undefined) {
    issues.push({
      path: `${prefix}.handler`,
      message: `expected a string './path/module.js#exportName', got ${describeValue(handler)}`,
    });
  }
  // The registered types are checked whatever else is wrong, each from its own field.
  const typeIssues = registeredTypeIssues(configuration, resolved);
  if (typeIssues.length > 0) pushJobError(JobConfigurationError.fromIssues(typeIssues), prefix, issues);
  if (resolved === undefined || issues.length > before) return undefined;

  const context: JobHandlerContext = { jobName: resolved.jobName, configuration: resolved, file };
  let job: unknown = type;
  try {
    if (reference !== undefined) job = await loadJobHandler(reference, context);
    else if (handler !== undefined) job = await instantiateHandlerExport(handler, 'handler', context);
  } catch (error) {
    issues.push({ path: `${prefix}.handler`, message: messageOf(error) });
    return undefined;
  }
  try {
    resolveJobItemExecutor(job as ElasticJob, resolved);
  } catch (error) {
    if (error instanceof JobConfigurationError) pushJobError(error, prefix, issues);
    else
      issues.push({ path: `${prefix}.handler`, message: `${describeHandler(handler)}: ${messageOf(error)}` });
  }
  if (issues.length > before) return undefined;
  return {
    jobName: resolved.jobName,
    key,
    configuration,
    resolved,
    job: job as ElasticJob,
    scheduled: resolved.cron !== '',
  };
}

function describeHandler(handler: unknown): string {
  return typeof handler === 'string' ? `handler ${JSON.stringify(handler)}` : 'handler';
}

/** Maps configuration, cron and setup errors of one job to issues under `jobs.{key}`. */
function pushJobError(error: unknown, prefix: string, issues: JobsFileIssue[]): void {
  if (error instanceof JobConfigurationError) {
    for (const issue of error.issues) {
      const field = issue.field === 'elasticJobType' ? 'type' : issue.field;
      // An unknown key: the job entry also accepts `handler` and `type`.
      const message = issue.message.includes('is not a job configuration key')
        ? `${issue.message}, handler, type`
        : issue.message;
      issues.push({ path: field === '' ? prefix : `${prefix}.${field}`, message });
    }
  } else if (error instanceof CronExpressionError) {
    issues.push({
      path: `${prefix}.${error.field === 'timeZone' ? 'timeZone' : 'cron'}`,
      message: error.message,
    });
  } else if (error instanceof JobSetupError || error instanceof TypeError) {
    issues.push({ path: prefix, message: error.message });
  } else {
    throw error;
  }
}
