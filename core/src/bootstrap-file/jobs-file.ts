/**
 * Jobs declared in a file: validation of the whole file ({@link loadJobsFile}) and running it
 * ({@link runJobsFromFile}, {@link runJobsFromConfig}).
 *
 * @module
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { describeValue } from '../config/job-configuration-error.js';
import type { JobBootstrapOptions } from '../kernel/job-bootstrap-options.js';
import type { RegistryCenterConfiguration } from '../registry/registry-configuration.js';
import { validateJobEntry } from './job-entry.js';
import { JobsFileError, type JobsFileIssue } from './jobs-file-error.js';
import { cloneData, hasIssueUnder, messageOf, zodIssues } from './jobs-file-issues.js';
import type {
  JobsFileConfiguration,
  JobsFileOptions,
  LoadedJob,
  LoadedJobsFile,
  RunningJobs,
} from './jobs-file-types.js';
import { validateObservabilitySections } from './observability-section.js';
import { parseJobsFileText, substituteEnvironment } from './read-jobs-file.js';
import { validateRegistry } from './registry-section.js';
import { startJobs } from './start-jobs.js';

export type {
  FileJobBootstrap,
  JobsFileConfiguration,
  JobsFileMonitoringConfiguration,
  JobsFileOptions,
  JobsFileTracingConfiguration,
  LoadedJob,
  LoadedJobsFile,
  RunningJobs,
} from './jobs-file-types.js';
export { startJobs } from './start-jobs.js';

const ms = z.int().min(1).max(2_147_483_647);
const nonEmpty = z.string().min(1);

const TOP_LEVEL = z.strictObject({
  registry: z.record(z.string(), z.unknown()),
  jobs: z
    .record(z.string(), z.record(z.string(), z.unknown()))
    .refine((jobs) => Object.keys(jobs).length > 0, 'at least one job is required'),
  instanceId: nonEmpty
    .refine(
      (id) => !id.includes('/') && id !== '.' && id !== '..',
      "must contain no '/' and not be '.' or '..'",
    )
    .optional(),
  serverIp: nonEmpty.optional(),
  shutdownTimeoutMs: z.int().min(0).max(2_147_483_647).optional(),
  reshardingWaitTimeoutMs: ms.optional(),
  tracing: z.record(z.string(), z.unknown()).optional(),
  monitoring: z.record(z.string(), z.unknown()).optional(),
});
/**
 * Reads and validates a jobs file without starting anything (no registry connection, no job).
 * Handler modules are imported, and class/factory handlers called, to check them.
 *
 * Checks, all reported at once: YAML syntax; the top-level keys (`registry`, `jobs`,
 * `instanceId`, `serverIp`, `shutdownTimeoutMs`, `reshardingWaitTimeoutMs`, `tracing`,
 * `monitoring`); `${ENV}` references; the registry section per type (then the adapter's own
 * validation); the `tracing:` and `monitoring:` sections (then the tracing package's own checks of
 * the history URL, the retention policy and the listener address; the package is imported, and
 * its absence is a problem naming the `npm install` line); per job every
 * {@link JobConfiguration} field (as `resolveJobConfiguration`), the cron and time zone, the
 * sharding-strategy, thread-pool, error-handler and listener types, `handler` xor `type`, the
 * handler module and export, the typed job's props.
 *
 * @param path - the file (YAML, or JSON); relative to `process.cwd()`.
 * @param options - environment, base directory, overrides.
 * @returns the validated file.
 * @throws {JobsFileError} naming the file and, per problem, the path of the field and the reason.
 */
export async function loadJobsFile(path: string, options: JobsFileOptions = {}): Promise<LoadedJobsFile> {
  const file = resolve(path);
  const data = await readJobsFileData(file);
  return loadJobsData(data, file, options.baseDir ?? dirname(file), options);
}

/**
 * {@link loadJobsFile} for a configuration object of the same shape (environment references in
 * its strings are resolved too; the object is not modified).
 *
 * @param configuration - see {@link JobsFileConfiguration}.
 * @param options - environment, base directory (default `process.cwd()`), overrides.
 * @throws {JobsFileError} (with `file` undefined) naming the path of each bad field.
 */
export function loadJobsConfig(
  configuration: JobsFileConfiguration,
  options: JobsFileOptions = {},
): Promise<LoadedJobsFile> {
  const data = cloneData(configuration) as { jobs?: unknown };
  // Handlers given as values (objects, classes, functions) are taken from the caller's object
  // (never copies) and kept out of environment substitution, so their strings are never rewritten.
  const handlers = new Map<string, unknown>();
  const originalJobs: unknown = (configuration as { jobs?: unknown } | null)?.jobs;
  if (originalJobs !== null && typeof originalJobs === 'object' && !Array.isArray(originalJobs)) {
    for (const [key, entry] of Object.entries(originalJobs as Record<string, unknown>)) {
      const handler =
        entry !== null && typeof entry === 'object' ? (entry as { handler?: unknown }).handler : undefined;
      if (handler !== undefined && handler !== null && typeof handler !== 'string') {
        handlers.set(key, handler);
        ((data.jobs as Record<string, Record<string, unknown>>)[key] as Record<string, unknown>).handler =
          HANDLER_VALUE;
      }
    }
  }
  return loadJobsData(data, undefined, options.baseDir ?? process.cwd(), options, handlers);
}

/** Placeholder of a handler given as a value in {@link loadJobsConfig}. */
const HANDLER_VALUE = 'handler value';

/**
 * Validates a jobs file ({@link loadJobsFile}), connects to its registry and starts every job:
 * cron jobs are scheduled, one-off jobs (no cron) registered to run on `trigger`. With a
 * `tracing:` or `monitoring:` section, the event tracing and the monitoring listener are started
 * first (by the optional `@elasticjob-ts/tracing` package) and every job is traced and observed.
 * If anything fails while starting, whatever was started is stopped and the registry is closed
 * before the error is rethrown.
 *
 * @param path - the file (YAML, or JSON).
 * @param options - environment, overrides, logger.
 * @returns the running jobs; call `shutdown()` to stop them and close the registry.
 * @throws {JobsFileError} for an invalid file (nothing started).
 * @throws {RegistryError} when the registry cannot be reached or fails while the jobs start.
 * @throws {JobSetupError} e.g. on a job class conflict with the registry.
 *
 * @example
 * ```ts
 * const running = await runJobsFromFile('./elasticjob.yaml');
 * process.once('SIGTERM', () => void running.shutdown());
 * ```
 */
export async function runJobsFromFile(path: string, options: JobsFileOptions = {}): Promise<RunningJobs> {
  return startJobs(await loadJobsFile(path, options));
}

/**
 * {@link runJobsFromFile} for a configuration object of the shape of a jobs file.
 *
 * @param configuration - see {@link JobsFileConfiguration}.
 * @param options - environment, base directory, overrides, logger.
 * @throws {JobsFileError} for an invalid configuration (nothing started), otherwise as
 *   {@link runJobsFromFile}.
 *
 * @example
 * ```ts
 * const running = await runJobsFromConfig({
 *   registry: { type: 'etcd', endpoints: 'http://127.0.0.1:2379', namespace: 'shop' },
 *   jobs: { orders: { handler: { execute: (ctx) => console.log(ctx.shardingItem) }, cron: '0/5 * * * * ?', shardingTotalCount: 3 } },
 * });
 * ```
 */
export async function runJobsFromConfig(
  configuration: JobsFileConfiguration,
  options: JobsFileOptions = {},
): Promise<RunningJobs> {
  return startJobs(await loadJobsConfig(configuration, options));
}
/**
 * Reads the `registry:` section of a jobs file (or of any YAML/JSON file with one), resolving
 * environment references in it; other sections are ignored. Used by the `elasticjob` CLI's
 * `--registry <file>`.
 *
 * @param path - the file.
 * @param options - environment and base directory.
 * @returns the registry configuration.
 * @throws {JobsFileError} naming the file and the bad `registry.*` fields.
 */
export async function loadRegistryConfigurationFile(
  path: string,
  options: Pick<JobsFileOptions, 'env' | 'baseDir'> = {},
): Promise<RegistryCenterConfiguration> {
  const file = resolve(path);
  const data = await readJobsFileData(file);
  const issues: JobsFileIssue[] = [];
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new JobsFileError(file, [
      { path: '', message: `expected a map with a 'registry:' section, got ${describeValue(data)}` },
    ]);
  }
  const section = (data as Record<string, unknown>).registry;
  const substituted = substituteEnvironment({ registry: section }, options.env ?? process.env);
  issues.push(...substituted.issues);
  const registry = await validateRegistry(
    (substituted.data as { registry: unknown }).registry,
    options.baseDir ?? dirname(file),
    issues,
  );
  if (issues.length > 0 || registry === undefined) throw new JobsFileError(file, issues);
  return registry;
}

async function readJobsFileData(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    const code = (cause as { code?: string }).code;
    const reason =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : messageOf(cause);
    throw new JobsFileError(file, [{ path: '', message: `cannot read the file: ${reason}` }], { cause });
  }
  const { data, issues } = parseJobsFileText(text);
  if (issues.length > 0) throw new JobsFileError(file, issues);
  return data;
}

async function loadJobsData(
  raw: unknown,
  file: string | undefined,
  baseDir: string,
  options: JobsFileOptions,
  handlerValues: ReadonlyMap<string, unknown> = new Map(),
): Promise<LoadedJobsFile> {
  const issues: JobsFileIssue[] = [];
  const substituted = substituteEnvironment(raw, options.env ?? process.env);
  issues.push(...substituted.issues);
  const data = substituted.data;

  const top = TOP_LEVEL.safeParse(data, { reportInput: true });
  if (!top.success) {
    issues.push(...top.error.issues.flatMap((issue) => zodIssues(issue, [], Object.keys(TOP_LEVEL.shape))));
  }
  const record = (data !== null && typeof data === 'object' ? data : {}) as Record<string, unknown>;

  const registry =
    record.registry !== undefined && (top.success || !hasIssueUnder(issues, 'registry'))
      ? await validateRegistry(record.registry, baseDir, issues, options.registryOverrides)
      : undefined;

  const observability = await validateObservabilitySections(record, baseDir, issues);

  const jobs: LoadedJob[] = [];
  const jobsRecord = record.jobs;
  if (jobsRecord !== null && typeof jobsRecord === 'object' && !Array.isArray(jobsRecord)) {
    const names = new Map<string, string>();
    for (const [key, entry] of Object.entries(jobsRecord as Record<string, unknown>)) {
      if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) continue; // reported by TOP_LEVEL
      const job = await validateJobEntry(
        key,
        entry as Record<string, unknown>,
        handlerValues.get(key),
        file,
        baseDir,
        issues,
      );
      if (job === undefined) continue;
      const previous = names.get(job.jobName);
      if (previous !== undefined) {
        issues.push({
          path: `jobs.${key}.jobName`,
          message: `job name '${job.jobName}' is already used by jobs.${previous}; job names must be unique`,
        });
        continue;
      }
      names.set(job.jobName, key);
      jobs.push(job);
    }
  }

  if (issues.length > 0 || registry === undefined || !top.success) {
    throw new JobsFileError(
      file,
      issues.length > 0 ? issues : [{ path: 'registry', message: 'is required' }],
    );
  }
  const instanceId = options.instanceId ?? top.data.instanceId;
  const serverIp = options.serverIp ?? top.data.serverIp;
  const bootstrapOptions: JobBootstrapOptions = {
    ...(instanceId === undefined ? {} : { instanceId }),
    ...(serverIp === undefined ? {} : { serverIp }),
    ...(top.data.shutdownTimeoutMs === undefined ? {} : { shutdownTimeoutMs: top.data.shutdownTimeoutMs }),
    ...(top.data.reshardingWaitTimeoutMs === undefined
      ? {}
      : { reshardingWaitTimeoutMs: top.data.reshardingWaitTimeoutMs }),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  };
  return { file, registry, jobs, bootstrapOptions, ...observability };
}
