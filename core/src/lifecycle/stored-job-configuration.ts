/**
 * A job's `config` node as stored: the raw YAML, an opaque version of it, and what it parses to — or
 * why it does not parse. What the statistics APIs, `JobConfigurationAPI` and consoles read so that one
 * broken configuration never hides the rest of the namespace.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { createTwoFilesPatch } from 'diff';
import {
  JobConfigurationError,
  type ResolvedJobConfiguration,
  validateJobConfigurationYaml,
} from '../config/index.js';
import { readJobConfigurationYamlFields } from '../config/job-configuration-yaml.js';

/** The `config` node of a job as stored, with its version and its parse result. */
export interface StoredJobConfiguration {
  /** The job. */
  readonly jobName: string;
  /** The raw value of `/{jobName}/config`, byte for byte. */
  readonly yaml: string;
  /**
   * An opaque version of {@link yaml}: equal values have equal versions, any change changes it
   * (a SHA-256 digest, hex). Pass it as `expectedVersion` to make a write conditional (a console
   * uses it as its `ETag`/`If-Match`).
   */
  readonly version: string;
  /** The configuration, when the stored YAML is valid (every field and the schedule checked). */
  readonly configuration: ResolvedJobConfiguration | undefined;
  /** Why the stored YAML is invalid (every problem, or the first YAML syntax error), else `undefined`. */
  readonly error: JobConfigurationError | undefined;
}

/**
 * The version of a stored configuration value (see {@link StoredJobConfiguration.version}).
 *
 * @param yaml - the stored value.
 * @returns the SHA-256 digest of its UTF-8 bytes, hex.
 */
export function configurationVersion(yaml: string): string {
  return createHash('sha256').update(yaml, 'utf8').digest('hex');
}

/**
 * Parses a stored value without throwing for an invalid one.
 * @internal
 */
export function toStoredConfiguration(jobName: string, yaml: string): StoredJobConfiguration {
  let configuration: ResolvedJobConfiguration | undefined;
  let error: JobConfigurationError | undefined;
  try {
    configuration = validateJobConfigurationYaml(yaml);
  } catch (caught) {
    if (!(caught instanceof JobConfigurationError)) throw caught;
    // Malformed YAML names no job: the node it was read from does.
    error =
      caught.jobName === undefined
        ? JobConfigurationError.fromIssues(caught.issues, { jobName, source: yaml, cause: caught.cause })
        : caught;
  }
  return Object.freeze({ jobName, yaml, version: configurationVersion(yaml), configuration, error });
}

/** What a listing can still show of an invalid configuration. @internal */
export interface ConfigurationSummary {
  readonly description: string;
  readonly cron: string;
  readonly shardingTotalCount: number;
}

/**
 * `description`, `cron` and `shardingTotalCount` of a stored configuration: the resolved values,
 * or, for an invalid one, those of its fields that are readable and of the right type (`''`/`0`
 * otherwise).
 * @internal
 */
export function summarize(stored: StoredJobConfiguration): ConfigurationSummary {
  if (stored.configuration !== undefined) {
    const { description, cron, shardingTotalCount } = stored.configuration;
    return { description, cron, shardingTotalCount };
  }
  let fields: Record<string, unknown> = {};
  try {
    fields = readJobConfigurationYamlFields(stored.yaml);
  } catch {
    // Malformed YAML: nothing is readable; the error says why.
  }
  const total = fields.shardingTotalCount;
  return {
    description: typeof fields.description === 'string' ? fields.description : '',
    cron: typeof fields.cron === 'string' ? fields.cron : '',
    shardingTotalCount: typeof total === 'number' && Number.isSafeInteger(total) && total > 0 ? total : 0,
  };
}

/**
 * A unified diff (`---`/`+++` headers, `@@` hunks, 3 lines of context) from one stored value to
 * another; `''` when they are equal.
 *
 * @param jobName - names the node in the headers (`{jobName}/config`).
 * @param before - the value replaced.
 * @param after - the value written.
 */
export function configurationDiff(jobName: string, before: string, after: string): string {
  if (before === after) return '';
  const patch = createTwoFilesPatch(`${jobName}/config (stored)`, `${jobName}/config (new)`, before, after);
  // Drop the `Index:`/`=====` preamble: the headers name the node.
  return patch.slice(patch.indexOf('---'));
}
