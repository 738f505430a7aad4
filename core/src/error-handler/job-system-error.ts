/**
 * {@link JobSystemError}: the one error type the job-execution layer (item executors, error
 * handlers, listener and handler registries) throws for configuration and execution problems.
 *
 * @module
 */

/**
 * Stable codes of {@link JobSystemError}. Codes are public API; messages are not.
 *
 * | code | meaning |
 * | --- | --- |
 * | `INVALID_CONFIGURATION` | A type name or prop is unknown, missing or malformed; `field` names it (e.g. `jobErrorHandlerType`, `http.uri`). ElasticJob throws `JobConfigurationException` here. |
 * | `ITEM_FAILED` | A typed job's item failed: the script exited non-zero or could not start, the HTTP call failed, timed out or answered ≥ 400. ElasticJob throws `JobSystemException` / `JobExecutionException`. |
 * | `JOB_ERROR_RETHROWN` | The `THROW` error handler rethrowing a job's error; `cause` is the original error. |
 */
export type JobSystemErrorCode = 'INVALID_CONFIGURATION' | 'ITEM_FAILED' | 'JOB_ERROR_RETHROWN';

/** Options of the {@link JobSystemError} constructor. */
export interface JobSystemErrorOptions {
  /** The error that caused this one. */
  readonly cause?: unknown;
  /** For `INVALID_CONFIGURATION`: the configuration field or prop at fault. */
  readonly field?: string;
}

/**
 * A job configuration or execution failure (ElasticJob `JobSystemException`,
 * `JobConfigurationException`, `JobExecutionException` in one type). Branch on {@link code}, never on
 * the message.
 *
 * @example
 * ```ts
 * try {
 *   createJobErrorHandler('MAIL', {}, logger);
 * } catch (error) {
 *   if (JobSystemError.is(error, 'INVALID_CONFIGURATION')) console.error(error.field); // 'jobErrorHandlerType'
 * }
 * ```
 */
export class JobSystemError extends Error {
  /** Stable machine-readable code. */
  readonly code: JobSystemErrorCode;
  /** For `INVALID_CONFIGURATION`: the field or prop at fault; otherwise `undefined`. */
  readonly field: string | undefined;

  /**
   * @param code - stable error code.
   * @param message - what went wrong; names the job, the field and the accepted values where known.
   * @param options - `cause` and `field`.
   */
  constructor(code: JobSystemErrorCode, message: string, options: JobSystemErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'JobSystemError';
    this.code = code;
    this.field = options.field;
  }

  /**
   * Whether `error` is a {@link JobSystemError}, optionally with the given code.
   *
   * @param error - anything caught.
   * @param code - when given, the code must match too.
   */
  static is(error: unknown, code?: JobSystemErrorCode): error is JobSystemError {
    return error instanceof JobSystemError && (code === undefined || error.code === code);
  }
}

/**
 * Renders anything thrown as text for logs and events: the stack (or message) followed by each
 * `cause`, Java-style (`Caused by: ...`), at most 8 levels deep.
 *
 * @param error - anything thrown.
 * @returns the description; `String(error)` for non-errors.
 */
export function describeError(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current !== undefined; depth++) {
    const text =
      current instanceof Error ? (current.stack ?? `${current.name}: ${current.message}`) : String(current);
    parts.push(depth === 0 ? text : `Caused by: ${text}`);
    current = current instanceof Error ? current.cause : undefined;
  }
  return parts.join('\n');
}

/**
 * The message of anything thrown: `error.message` for errors, `String(error)` otherwise.
 *
 * @param error - anything thrown.
 */
export function errorMessageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
