/**
 * Error handler SPI (ElasticJob `JobErrorHandler`): receives item failures, listener failures and
 * environment-check failures of a job.
 *
 * @module
 */

/** Handles a job's errors. Built-in types: `LOG` (default), `THROW`, `IGNORE`. */
export interface JobErrorHandler {
  /** The type name it is registered under, e.g. `LOG`. */
  readonly type: string;
  /**
   * Handles one error. `THROW` rethrows (the run reports `TASK_ERROR` and stops after its items).
   * @param jobName - the job.
   * @param error - what was thrown.
   */
  handleException(jobName: string, error: unknown): void | Promise<void>;
  /** Releases resources (sockets, timers); called when the job shuts down or the handler is replaced. */
  close?(): void | Promise<void>;
}
