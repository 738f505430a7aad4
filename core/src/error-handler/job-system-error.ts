/**
 * {@link JobSystemError}: the error the job-execution layer throws when a job fails at run time
 * (typed job items, the `THROW` error handler). Invalid configuration (unknown types, missing or
 * bad props) is a `JobConfigurationError` from the config module instead.
 *
 * @module
 */

/**
 * Stable codes of {@link JobSystemError}. Codes are public API; messages are not.
 *
 * | code | meaning |
 * | --- | --- |
 * | `ITEM_FAILED` | A typed job's item failed: the script exited non-zero or could not start, the HTTP call failed, timed out, was aborted or answered ≥ 400. ElasticJob throws `JobSystemException` / `JobExecutionException`. |
 * | `JOB_ERROR_RETHROWN` | The `THROW` error handler rethrowing a job's error; `cause` is the original error. |
 */
export type JobSystemErrorCode = 'ITEM_FAILED' | 'JOB_ERROR_RETHROWN';

/** Options of the {@link JobSystemError} constructor. */
export interface JobSystemErrorOptions {
  /** The error that caused this one. */
  readonly cause?: unknown;
}

/**
 * A job execution failure (ElasticJob `JobSystemException`, `JobExecutionException`). Branch on
 * {@link code}, never on the message.
 *
 * @example
 * ```ts
 * try {
 *   await executor.process(context, runtime);
 * } catch (error) {
 *   if (JobSystemError.is(error, 'ITEM_FAILED')) console.error(error.message);
 * }
 * ```
 */
export class JobSystemError extends Error {
  /** Stable machine-readable code. */
  readonly code: JobSystemErrorCode;

  /**
   * @param code - stable error code.
   * @param message - what went wrong; names the job, the item and the command or URL where known.
   * @param options - `cause`.
   */
  constructor(code: JobSystemErrorCode, message: string, options: JobSystemErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'JobSystemError';
    this.code = code;
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
