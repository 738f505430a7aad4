/**
 * The built-in error handlers `LOG`, `THROW` and `IGNORE` (ElasticJob
 * `ecosystem/error-handler/normal/*`).
 *
 * @module
 */
import type { Logger } from '../logging/logger.js';
import type { JobErrorHandler } from './job-error-handler.js';
import { JobSystemError } from './job-system-error.js';

/**
 * The log message of a job error, as ElasticJob writes it.
 *
 * @param jobName - the job.
 * @returns `Job '{jobName}' exception occur in job processing`.
 */
export function jobErrorMessage(jobName: string): string {
  return `Job '${jobName}' exception occur in job processing`;
}

/**
 * `LOG` (the default): logs the error at `error` level as `{ err, jobName }` with the message
 * {@link jobErrorMessage} (ElasticJob `LogJobErrorHandler`).
 */
export class LogJobErrorHandler implements JobErrorHandler {
  /** Always `LOG`. */
  readonly type = 'LOG';
  readonly #logger: Logger;

  /** @param logger - where errors go. */
  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /** Logs `error`; never throws. */
  handleException(jobName: string, error: unknown): void {
    this.#logger.error({ err: error, jobName }, jobErrorMessage(jobName));
  }
}

/**
 * `THROW`: rethrows the error wrapped in a {@link JobSystemError} (`JOB_ERROR_RETHROWN`, `cause` =
 * the error), so the run reports `TASK_ERROR` (ElasticJob `ThrowJobErrorHandler`).
 */
export class ThrowJobErrorHandler implements JobErrorHandler {
  /** Always `THROW`. */
  readonly type = 'THROW';

  /** @throws {JobSystemError} `JOB_ERROR_RETHROWN`, always. */
  handleException(jobName: string, error: unknown): never {
    const detail = error instanceof Error ? error.message : String(error);
    throw new JobSystemError('JOB_ERROR_RETHROWN', `${jobErrorMessage(jobName)}: ${detail}`, {
      cause: error,
    });
  }
}

/** `IGNORE`: does nothing (ElasticJob `IgnoreJobErrorHandler`). */
export class IgnoreJobErrorHandler implements JobErrorHandler {
  /** Always `IGNORE`. */
  readonly type = 'IGNORE';

  /** Does nothing. */
  handleException(_jobName: string, _error: unknown): void {}
}
