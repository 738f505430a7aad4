/**
 * Exit codes of the `elasticjob` CLI and the error that carries one.
 *
 * @module
 */

/**
 * Process exit codes of the `elasticjob` CLI. Scripts branch on these; messages go to stderr and
 * are for humans.
 *
 * | code | meaning |
 * | --- | --- |
 * | 0 | success |
 * | 1 | unexpected internal error (a bug: please report it) |
 * | 2 | bad usage or an invalid value (unknown option, malformed registry URL, invalid config value) |
 * | 3 | the job or server named does not exist in the registry (the message lists the known ones) |
 * | 4 | the registry is unreachable or failed (timeout, connection loss, no auth, ...) |
 * | 5 | conflict: the job configuration changed since it was read; nothing was written |
 */
export const ExitCode = Object.freeze({
  OK: 0,
  INTERNAL: 1,
  USAGE: 2,
  UNKNOWN_JOB: 3,
  REGISTRY: 4,
  CONFLICT: 5,
} as const);

/** One of the {@link ExitCode} values. */
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * An error the CLI reports as one message on stderr and maps to its exit code.
 */
export class CliError extends Error {
  /** The process exit code this error ends the CLI with. */
  readonly exitCode: ExitCodeValue;

  /**
   * @param exitCode - see {@link ExitCode}.
   * @param message - what is wrong, naming the thing at fault and what is accepted.
   */
  constructor(exitCode: ExitCodeValue, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}
