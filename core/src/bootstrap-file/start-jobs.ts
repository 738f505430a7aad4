/**
 * {@link startJobs}: connects a validated jobs file's registry and starts its jobs, with the event
 * tracing and monitoring its `tracing:`/`monitoring:` sections ask for.
 *
 * @module
 */
import { OneOffJobBootstrap, ScheduleJobBootstrap } from '../bootstrap/schedule-job-bootstrap.js';
import type { CoordinatorRegistryCenter } from '../registry/registry-center.js';
import { buildRegistryCenter } from '../registry/registry-configuration.js';
import { messageOf } from './jobs-file-issues.js';
import type { FileJobBootstrap, LoadedJobsFile, RunningJobs } from './jobs-file-types.js';
import { type RunningObservability, startObservability } from './observability.js';

/**
 * Starts a validated jobs file (see {@link runJobsFromFile}): event tracing and the monitoring
 * listener when configured (through the optional `@elasticjob-ts/tracing` package), then the
 * registry client, then every job (its events traced from its start, its metrics observed once
 * started).
 *
 * @param loaded - from {@link loadJobsFile} or {@link loadJobsConfig}.
 * @returns the running jobs.
 * @throws {JobsFileError} when the file configures `tracing:` or `monitoring:` and the tracing
 *   package is not installed (the message names the `npm install` line).
 * @throws {RegistryError}, {@link JobSetupError} as {@link runJobsFromFile}; the tracing package's
 *   errors (a history database file that cannot be opened, a monitoring port in use). Nothing is
 *   left running.
 */
export async function startJobs(loaded: LoadedJobsFile): Promise<RunningJobs> {
  const observability = await startObservability(loaded);
  let registry: CoordinatorRegistryCenter;
  try {
    registry = await buildRegistryCenter(loaded.registry);
  } catch (error) {
    await stopAll(new Map(), observability, undefined);
    throw error;
  }
  try {
    await registry.start();
  } catch (error) {
    // The start failure is the error to report; closing a half-started client is best effort.
    await stopAll(new Map(), observability, registry);
    throw error;
  }
  const bootstraps = new Map<string, FileJobBootstrap>();
  try {
    for (const job of loaded.jobs) {
      const bootstrap = job.scheduled
        ? new ScheduleJobBootstrap(registry, job.job, job.configuration, loaded.bootstrapOptions)
        : new OneOffJobBootstrap(registry, job.job, job.configuration, loaded.bootstrapOptions);
      bootstraps.set(job.jobName, bootstrap);
      observability?.attachJob(bootstrap);
      if (bootstrap instanceof ScheduleJobBootstrap) await bootstrap.schedule();
      else await bootstrap.start();
      observability?.observeJob(bootstrap, registry);
    }
  } catch (error) {
    // The start failure is the error to report.
    await stopAll(bootstraps, observability, registry);
    throw error;
  }
  let stopping: Promise<void> | undefined;
  const shutdown = (): Promise<void> => {
    stopping ??= stopAll(bootstraps, observability, registry).then((failures) => {
      if (failures.length > 0) {
        throw new AggregateError(
          failures,
          `shutting the jobs down failed: ${failures.map(messageOf).join('; ')}`,
        );
      }
    });
    return stopping;
  };
  return {
    bootstraps,
    registry,
    ...(observability?.historyUrl === undefined ? {} : { historyUrl: observability.historyUrl }),
    ...(observability?.monitoringUrl === undefined ? {} : { monitoringUrl: observability.monitoringUrl }),
    shutdown,
  };
}

/**
 * Stops everything in order, each step whatever the previous one did: the jobs (in parallel, so
 * their last events are queued), the event tracing (queued events written, database closed), the
 * monitoring listener, the registry client.
 *
 * @returns the failures, in that order.
 */
async function stopAll(
  bootstraps: ReadonlyMap<string, FileJobBootstrap>,
  observability: RunningObservability | undefined,
  registry: CoordinatorRegistryCenter | undefined,
): Promise<unknown[]> {
  const results = await Promise.allSettled([...bootstraps.values()].map((bootstrap) => bootstrap.shutdown()));
  const failures = results.flatMap((result) => (result.status === 'rejected' ? [result.reason] : []));
  const steps = [observability?.closeTracing, observability?.closeMonitoring, () => registry?.close()];
  for (const step of steps) {
    try {
      await step?.();
    } catch (error) {
      failures.push(error);
    }
  }
  return failures;
}
