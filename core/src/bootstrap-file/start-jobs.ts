/**
 * {@link startJobs}: connects a validated jobs file's registry and starts its jobs.
 *
 * @module
 */
import { OneOffJobBootstrap, ScheduleJobBootstrap } from '../bootstrap/schedule-job-bootstrap.js';
import { buildRegistryCenter } from '../registry/registry-configuration.js';
import { messageOf } from './jobs-file-issues.js';
import type { FileJobBootstrap, LoadedJobsFile, RunningJobs } from './jobs-file-types.js';

/**
 * Starts a validated jobs file (see {@link runJobsFromFile}).
 *
 * @param loaded - from {@link loadJobsFile} or {@link loadJobsConfig}.
 * @returns the running jobs.
 * @throws {RegistryError}, {@link JobSetupError} as {@link runJobsFromFile}; nothing is left running.
 */
export async function startJobs(loaded: LoadedJobsFile): Promise<RunningJobs> {
  const registry = await buildRegistryCenter(loaded.registry);
  try {
    await registry.start();
  } catch (error) {
    await registry.close().catch(() => {
      // The start failure is the error to report; close() of a half-started client is best effort.
    });
    throw error;
  }
  const bootstraps = new Map<string, FileJobBootstrap>();
  try {
    for (const job of loaded.jobs) {
      const bootstrap = job.scheduled
        ? new ScheduleJobBootstrap(registry, job.job, job.configuration, loaded.bootstrapOptions)
        : new OneOffJobBootstrap(registry, job.job, job.configuration, loaded.bootstrapOptions);
      bootstraps.set(job.jobName, bootstrap);
      if (bootstrap instanceof ScheduleJobBootstrap) await bootstrap.schedule();
      else await bootstrap.start();
    }
  } catch (error) {
    await Promise.allSettled([...bootstraps.values()].map((bootstrap) => bootstrap.shutdown()));
    await registry.close().catch(() => {
      // The start failure is the error to report.
    });
    throw error;
  }
  let stopping: Promise<void> | undefined;
  const shutdown = (): Promise<void> => {
    stopping ??= (async () => {
      const results = await Promise.allSettled(
        [...bootstraps.values()].map((bootstrap) => bootstrap.shutdown()),
      );
      const failures = results.flatMap((result) => (result.status === 'rejected' ? [result.reason] : []));
      try {
        await registry.close();
      } catch (error) {
        failures.push(error);
      }
      if (failures.length > 0) {
        throw new AggregateError(
          failures,
          `shutting the jobs down failed: ${failures.map(messageOf).join('; ')}`,
        );
      }
    })();
    return stopping;
  };
  return { bootstraps, registry, shutdown };
}
