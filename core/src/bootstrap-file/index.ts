/**
 * Jobs declared in a file: a YAML (or JSON) file names the registry and the jobs, and
 * {@link runJobsFromFile} validates all of it, connects and starts every job. The `elasticjob run
 * <file>` command does the same until SIGINT/SIGTERM.
 *
 * @example
 * ```ts
 * import { runJobsFromFile } from '@elasticjob-ts/core';
 *
 * const running = await runJobsFromFile('./elasticjob.yaml');
 * process.once('SIGTERM', () => void running.shutdown());
 * ```
 *
 * @module
 */
export type {
  JobHandlerContext,
  JobHandlerExport,
} from './job-handler.js';
export {
  type FileJobBootstrap,
  type JobsFileConfiguration,
  type JobsFileMonitoringConfiguration,
  type JobsFileOptions,
  type JobsFileTracingConfiguration,
  type LoadedJob,
  type LoadedJobsFile,
  loadJobsConfig,
  loadJobsFile,
  loadRegistryConfigurationFile,
  type RunningJobs,
  runJobsFromConfig,
  runJobsFromFile,
  startJobs,
} from './jobs-file.js';
export { JobsFileError, type JobsFileIssue } from './jobs-file-error.js';
