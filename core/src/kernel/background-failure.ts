/**
 * How the kernel logs a failure of registry work it runs in the background: resharding, leader
 * election, failover claims, reconcile, re-registration.
 *
 * @module
 */
import { RegistryError } from '../registry/registry-error.js';
import type { JobContext } from './job-context.js';

/**
 * Logs a failure of background registry work. While the job runs on this instance, it is an error,
 * logged with its cause. Once the job has shut down here, work still pending is abandoned (the
 * shutdown bounds its clean-up and the application then usually closes the registry client), so a
 * registry error then is expected: it is logged at info with its code, and nothing is retried.
 * Anything else than a `RegistryError` stays an error (a bug).
 *
 * @param context - the job's logger and shutdown state.
 * @param error - what the work threw.
 * @param what - what failed, e.g. `'resharding failed'`.
 */
export function logBackgroundFailure(
  context: Pick<JobContext, 'logger' | 'isShutdown'>,
  error: unknown,
  what: string,
): void {
  if (context.isShutdown() && error instanceof RegistryError) {
    context.logger.info({ code: error.code }, `${what} after the job shut down: abandoned`);
  } else {
    context.logger.error({ err: error }, what);
  }
}
