/**
 * The event tracing, metrics and monitoring listener of a jobs file, started through the optional
 * `@elasticjob-ts/tracing` package (see {@link startJobs}).
 *
 * @module
 * @internal
 */
import { createDefaultLogger } from '../logging/logger.js';
import type { CoordinatorRegistryCenter } from '../registry/registry-center.js';
import { JobsFileError } from './jobs-file-error.js';
import type { FileJobBootstrap, LoadedJobsFile } from './jobs-file-types.js';
import {
  importTracingPackage,
  loadTracingPackage,
  type MetricsHandle,
  type TracingHandle,
  tracingPackageMissing,
} from './tracing-package.js';

/** Tracing and monitoring of a jobs file, running. */
export interface RunningObservability {
  /** The history database, password masked; `undefined` without `tracing:`. */
  readonly historyUrl: string | undefined;
  /** The listener's base URL; `undefined` without `monitoring:`. */
  readonly monitoringUrl: string | undefined;
  /** Sends a job's events to the history database; call it before the job starts. */
  attachJob(job: FileJobBootstrap): void;
  /** Observes a started job's metrics and the registry session it uses. */
  observeJob(job: FileJobBootstrap, registry: CoordinatorRegistryCenter): void;
  /** Writes the queued events (at most 10 s) and closes the history database. */
  closeTracing(): Promise<void>;
  /** Stops observing and closes the monitoring listener. */
  closeMonitoring(): Promise<void>;
}

/**
 * Starts what a jobs file's `tracing:` and `monitoring:` sections ask for: event tracing first
 * (the database is migrated before the first write, so a database that is down does not stop the
 * jobs), then the metrics and their listener. Logs one `info` line for each, naming where the
 * history and the metrics are.
 *
 * @param loaded - the validated file.
 * @param load - imports the tracing package. @defaultValue a dynamic `import()`
 * @returns the running parts, or `undefined` when the file configures neither.
 * @throws {JobsFileError} at path `tracing` (or `monitoring`) when the tracing package is not
 *   installed; nothing is started.
 * @throws the tracing package's errors (a SQLite file that cannot be opened, a port in use);
 *   whatever had started is closed first.
 */
export async function startObservability(
  loaded: LoadedJobsFile,
  load: () => Promise<unknown> = loadTracingPackage,
): Promise<RunningObservability | undefined> {
  if (loaded.tracing === undefined && loaded.monitoring === undefined) return undefined;
  const tracingPackage = await importTracingPackage(load);
  if (tracingPackage === undefined) {
    throw new JobsFileError(loaded.file, [
      { path: loaded.tracing === undefined ? 'monitoring' : 'tracing', message: tracingPackageMissing() },
    ]);
  }
  const logger = loaded.bootstrapOptions.logger ?? createDefaultLogger();

  let tracing: TracingHandle | undefined;
  let historyUrl: string | undefined;
  if (loaded.tracing !== undefined) {
    tracing = await tracingPackage.startEventTracing({ ...loaded.tracing, logger });
    historyUrl = tracingPackage.maskPassword(loaded.tracing.url);
    logger.info(
      { historyUrl },
      `event tracing: job history in ${historyUrl} (JOB_EXECUTION_LOG, JOB_STATUS_TRACE_LOG)`,
    );
  }

  let metrics: MetricsHandle | undefined;
  let monitoring: { readonly url: string; close(): Promise<void> } | undefined;
  if (loaded.monitoring !== undefined) {
    try {
      metrics = new tracingPackage.ElasticJobMetrics({ logger });
      if (tracing !== undefined) metrics.observeTracing(tracing.writer);
      monitoring = await tracingPackage.startMonitoringServer({ ...loaded.monitoring, metrics });
    } catch (error) {
      await tracing?.close().catch(() => {
        // The listener's failure is the error to report.
      });
      throw error;
    }
    logger.info(
      { monitoringUrl: monitoring.url },
      `monitoring: metrics at ${monitoring.url}/metrics, health at /healthz and /readyz`,
    );
  }

  const unobserve: Array<() => void> = [];
  const observedRegistries = new Set<CoordinatorRegistryCenter>();
  return {
    historyUrl,
    monitoringUrl: monitoring?.url,
    attachJob(job) {
      tracing?.attach(job);
    },
    observeJob(job, registry) {
      if (metrics === undefined) return;
      if (!observedRegistries.has(registry)) {
        observedRegistries.add(registry);
        unobserve.push(metrics.observeRegistryCenter(registry));
      }
      unobserve.push(metrics.observeJob(job, { registryCenter: registry }));
    },
    closeTracing: () => tracing?.close() ?? Promise.resolve(),
    async closeMonitoring() {
      for (const stop of unobserve.splice(0)) stop();
      await monitoring?.close();
    },
  };
}
