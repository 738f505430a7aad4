/**
 * How the `elasticjob` CLI reports an error: one message on stderr and an exit code.
 *
 * @module
 * @internal
 */
import { JobsFileError } from '../bootstrap-file/jobs-file-error.js';
import { JobConfigurationError } from '../config/job-configuration-error.js';
import { JobSetupError } from '../kernel/job-setup-error.js';
import {
  JobConfigurationConflictError,
  JobNotFoundError,
  ServerNotFoundError,
} from '../lifecycle/lifecycle-errors.js';
import { RegistryConfigurationError } from '../registry/registry-configuration.js';
import { RegistryError } from '../registry/registry-error.js';
import { CliError, ExitCode, type ExitCodeValue } from './errors.js';

/**
 * The exit code and message of an error (see {@link ExitCode}).
 * @internal
 */
export function classifyError(error: unknown): { code: ExitCodeValue; message: string } {
  if (error instanceof CliError) return { code: error.exitCode, message: error.message };
  if (error instanceof JobNotFoundError || error instanceof ServerNotFoundError) {
    return { code: ExitCode.UNKNOWN_JOB, message: error.message };
  }
  if (error instanceof JobConfigurationConflictError)
    return { code: ExitCode.CONFLICT, message: error.message };
  if (error instanceof RegistryError) {
    const unreachable = error.code === 'TIMEOUT' || error.code === 'CONNECTION_LOSS';
    return {
      code: ExitCode.REGISTRY,
      message: `${unreachable ? 'Registry unreachable' : 'Registry error'} (${error.code})${error.path === undefined ? '' : ` at '${error.path}'`}: ${error.message}`,
    };
  }
  if (error instanceof RegistryConfigurationError) {
    return { code: ExitCode.USAGE, message: `Invalid registry option '${error.field}': ${error.message}` };
  }
  if (error instanceof JobConfigurationError) {
    return { code: ExitCode.USAGE, message: describeConfigurationError(error) };
  }
  if (error instanceof JobsFileError || error instanceof JobSetupError || error instanceof TypeError) {
    return { code: ExitCode.USAGE, message: error.message };
  }
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return { code: ExitCode.INTERNAL, message: `internal error: ${detail}` };
}

/**
 * A configuration error as lines: the subject, then one `  - problem` line per issue (a YAML syntax
 * error keeps its excerpt and caret).
 * @internal
 */
export function describeConfigurationError(error: JobConfigurationError): string {
  if (error.issues.length === 1) return error.message;
  const subject =
    error.jobName === undefined
      ? 'Invalid job configuration'
      : `Invalid configuration of job '${error.jobName}'`;
  return `${subject}: ${error.issues.length} problems:\n${error.issues.map((issue) => `  - ${issue.message}`).join('\n')}`;
}
