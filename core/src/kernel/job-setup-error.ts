/**
 * Raised when a job cannot be set up or run as configured: a job class conflict in the registry,
 * a cron on a one-off job, an instance id that is not usable, a clock too far from the registry's.
 */
export class JobSetupError extends Error {
  /** The job concerned. */
  readonly jobName: string;

  /**
   * @param jobName - the job concerned.
   * @param message - what is wrong and what is accepted.
   */
  constructor(jobName: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'JobSetupError';
    this.jobName = jobName;
  }
}
