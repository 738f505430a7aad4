/**
 * The error thrown for invalid job configuration, local or read from the registry.
 *
 * @module
 */

/** One problem found in a job configuration. */
export interface JobConfigurationIssue {
  /**
   * Path of the offending field, dot-separated below the top level: `shardingTotalCount`,
   * `props.script.command.line`, `jobListenerTypes[1]`. `''` means the configuration as a whole
   * (not an object, malformed YAML).
   */
  readonly field: string;
  /** What is wrong: names the field, shows the bad value and lists the accepted values. */
  readonly message: string;
}

/** Options of the {@link JobConfigurationError} constructor. */
export interface JobConfigurationErrorOptions {
  /** The job's name when known (it may itself be the invalid field). */
  readonly jobName?: string;
  /** Every problem found; the first one's field becomes {@link JobConfigurationError.field}. */
  readonly issues?: readonly JobConfigurationIssue[];
  /** The underlying error (e.g. the YAML parser's), if any. */
  readonly cause?: unknown;
  /** The raw text the configuration was parsed from (registry YAML), kept for diagnosis. */
  readonly source?: string;
}

/**
 * Invalid job configuration: a bad field value, an invalid combination of fields (e.g. `failover`
 * without `monitorExecution`), an unknown key, or registry YAML that cannot be read. ElasticJob
 * throws `JobConfigurationException` for the same cases, one problem at a time; this error lists
 * every problem found in {@link JobConfigurationError.issues}.
 *
 * Branch on `field`/`issues[].field`, never on `message` (messages are for humans).
 *
 * @example
 * ```ts
 * try {
 *   resolveJobConfiguration({ jobName: 'orders', shardingTotalCount: 0 });
 * } catch (error) {
 *   if (error instanceof JobConfigurationError) console.log(error.field); // 'shardingTotalCount'
 * }
 * ```
 */
export class JobConfigurationError extends Error {
  /** The first offending field (see {@link JobConfigurationIssue.field}). */
  readonly field: string;
  /** The job's name, when known. */
  readonly jobName: string | undefined;
  /** Every problem found, in field order; never empty. */
  readonly issues: readonly JobConfigurationIssue[];
  /** The raw configuration text (registry YAML) the error concerns, when there was one. */
  readonly source: string | undefined;

  /**
   * @param field - the offending field (used when `options.issues` is absent).
   * @param message - the problem with that field, naming the field, the value and the accepted values.
   * @param options - job name, further issues, cause, raw source text.
   */
  constructor(field: string, message: string, options: JobConfigurationErrorOptions = {}) {
    const issues =
      options.issues !== undefined && options.issues.length > 0 ? options.issues : [{ field, message }];
    super(
      JobConfigurationError.#summarize(options.jobName, issues),
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = 'JobConfigurationError';
    this.field = issues[0]!.field;
    this.jobName = options.jobName;
    this.issues = issues;
    this.source = options.source;
  }

  /**
   * Builds an error from a list of issues.
   *
   * @param issues - at least one issue.
   * @param options - job name, cause, raw source text.
   * @throws {TypeError} when `issues` is empty.
   */
  static fromIssues(
    issues: readonly JobConfigurationIssue[],
    options: Omit<JobConfigurationErrorOptions, 'issues'> = {},
  ): JobConfigurationError {
    const first = issues[0];
    if (first === undefined) throw new TypeError('JobConfigurationError needs at least one issue');
    return new JobConfigurationError(first.field, first.message, { ...options, issues });
  }

  static #summarize(jobName: string | undefined, issues: readonly JobConfigurationIssue[]): string {
    const subject =
      jobName === undefined ? 'Invalid job configuration' : `Invalid configuration of job '${jobName}'`;
    if (issues.length === 1) return `${subject}: ${issues[0]!.message}`;
    return `${subject}: ${issues.length} problems: ${issues.map((issue) => issue.message).join('; ')}`;
  }
}

/**
 * Renders a value for an error message: strings quoted, objects as truncated JSON.
 * @internal
 */
export function describeValue(value: unknown): string {
  if (typeof value === 'string')
    return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
  if (
    value === undefined ||
    typeof value === 'number' ||
    typeof value === 'boolean' ||
    typeof value === 'bigint'
  ) {
    return String(value);
  }
  if (typeof value === 'function' || typeof value === 'symbol') return typeof value;
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch {
    json = undefined;
  }
  if (json === undefined) return Object.prototype.toString.call(value);
  return json.length > 80 ? `${json.slice(0, 77)}...` : json;
}
