/**
 * Jobs declared in a file: validation of the whole file ({@link loadJobsFile}) and running it
 * ({@link runJobsFromFile}, {@link runJobsFromConfig}).
 *
 * @module
 */
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { OneOffJobBootstrap, ScheduleJobBootstrap } from '../bootstrap/schedule-job-bootstrap.js';
import type { JobConfiguration, ResolvedJobConfiguration } from '../config/job-configuration.js';
import { describeValue, JobConfigurationError } from '../config/job-configuration-error.js';
import { resolveJobConfiguration } from '../config/resolve-job-configuration.js';
import { parseCron } from '../cron/cron-expression.js';
import { CronExpressionError } from '../cron/cron-expression-error.js';
import { createJobErrorHandler } from '../error-handler/error-handler-registry.js';
import { getExecutorPoolSize } from '../executor/executor-pool-size.js';
import { resolveJobItemExecutor, typedJobTypes } from '../executor/job-item-executor-registry.js';
import type { ElasticJob } from '../job/elastic-job.js';
import type { JobBootstrapOptions } from '../kernel/job-bootstrap-options.js';
import { JobSetupError } from '../kernel/job-setup-error.js';
import { createJobListeners } from '../listener/job-listener-registry.js';
import { type Logger, silentLogger } from '../logging/logger.js';
import type { CoordinatorRegistryCenter } from '../registry/registry-center.js';
import {
  BUILT_IN_REGISTRY_PACKAGES,
  buildRegistryCenter,
  type RegistryCenterConfiguration,
  RegistryConfigurationError,
  validateNamespace,
} from '../registry/registry-configuration.js';
import { getJobShardingStrategy } from '../sharding/job-sharding-strategy-registry.js';
import {
  type HandlerReference,
  instantiateHandlerExport,
  type JobHandlerContext,
  loadJobHandler,
  parseHandlerReference,
} from './job-handler.js';
import { formatIssuePath, JobsFileError, type JobsFileIssue } from './jobs-file-error.js';
import { parseJobsFileText, substituteEnvironment } from './read-jobs-file.js';

/** Options of {@link loadJobsFile}, {@link runJobsFromFile} and their `Config` variants. */
export interface JobsFileOptions {
  /**
   * Where `${NAME}` references are looked up.
   * @defaultValue `process.env`
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * Directory that relative `handler` and registry `module`/TLS file paths start from.
   * @defaultValue the jobs file's directory; `process.cwd()` for a configuration object
   */
  readonly baseDir?: string;
  /** Overrides the file's `instanceId` (see {@link JobsFileConfiguration.instanceId}). */
  readonly instanceId?: string;
  /** Overrides the file's `serverIp`. */
  readonly serverIp?: string;
  /**
   * Logger of every job. @defaultValue each job's default (pino on stderr, named `elasticjob`)
   */
  readonly logger?: Logger;
  /**
   * Registry options merged over the file's `registry:` section after validation, for what a file
   * cannot hold (e.g. a memory registry's `server` object in tests).
   */
  readonly registryOverrides?: Readonly<Record<string, unknown>>;
}

/**
 * The shape of a jobs file (YAML or JSON) and of the object {@link runJobsFromConfig} takes.
 *
 * @example
 * ```yaml
 * registry:                     # one line to change to switch backends
 *   type: zookeeper             # zookeeper | etcd | memory | a custom type with `module`
 *   serverLists: zk1:2181,zk2:2181
 *   namespace: shop
 *   digest: ${ZK_DIGEST}        # environment reference; error if unset
 * instanceId: orders-1          # optional
 * jobs:
 *   orders:                     # the job name (unless `jobName` is given)
 *     handler: ./jobs/orders.js#ordersJob
 *     cron: 0/5 * * * * ?
 *     shardingTotalCount: 3
 *     shardingItemParameters: 0=Beijing,1=Shanghai,2=Guangzhou
 *   backup:
 *     type: SCRIPT
 *     cron: 0 0 2 * * ?
 *     shardingTotalCount: 1
 *     props:
 *       script.command.line: ./backup.sh
 * ```
 */
export interface JobsFileConfiguration {
  /**
   * The registry: `type` plus that adapter's options, as `createRegistryCenter` takes them
   * (`zookeeper`: `serverLists`, `namespace`, `sessionTimeoutMs`, `connectionTimeoutMs`,
   * `baseSleepTimeMs`, `maxSleepTimeMs`, `maxRetries`, `digest`; `etcd`: `endpoints`, `namespace`,
   * `sessionTimeoutMs`, `connectionTimeoutMs`, `username`, `password`, `tls: { ca, cert, key }` as
   * PEM text or `tls: { caFile, certFile, keyFile }` as paths; `memory`: `namespace`,
   * `sessionTimeoutMs`; other types: `module` plus its options).
   */
  readonly registry: Readonly<Record<string, unknown>>;
  /**
   * The jobs, by name. Each entry has the {@link JobConfiguration} fields (`jobName` defaults to
   * the key; `cron` absent or `''` makes a one-off job, started and run by `trigger`) plus exactly
   * one of:
   * - `handler: './path/module.js#exportName'` — see {@link JobHandlerExport} for what the export
   *   may be (`#exportName` optional: default export); with {@link runJobsFromConfig} the value may
   *   also be the export itself;
   * - `type: SCRIPT | HTTP` (or a registered typed job), configured by `props`.
   */
  readonly jobs: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  /**
   * This process's job instance id, for every job in the file; unique per job in the cluster.
   * @defaultValue `{ip}@-@{pid}`
   */
  readonly instanceId?: string;
  /** The IP recorded for this instance. @defaultValue the first non-internal address */
  readonly serverIp?: string;
  /** How long shutdown waits for running items, in ms. @defaultValue 30000 */
  readonly shutdownTimeoutMs?: number;
  /** Bound of resharding waits, in ms. @defaultValue 30000 */
  readonly reshardingWaitTimeoutMs?: number;
}

/** One validated job of a jobs file. */
export interface LoadedJob {
  /** The job's name. */
  readonly jobName: string;
  /** The key of the job in `jobs:` (the job name unless `jobName` was given). */
  readonly key: string;
  /** Its configuration as written (defaults not applied), handed to the bootstrap. */
  readonly configuration: JobConfiguration;
  /** Its configuration with defaults applied. */
  readonly resolved: ResolvedJobConfiguration;
  /** The job object built from `handler`, or the typed job name (`SCRIPT`, `HTTP`). */
  readonly job: ElasticJob;
  /** `true` for a cron job ({@link ScheduleJobBootstrap}), `false` for a one-off job. */
  readonly scheduled: boolean;
}

/** A validated jobs file: everything needed to start, nothing started. */
export interface LoadedJobsFile {
  /** The file (absolute path), or `undefined` for a configuration object. */
  readonly file: string | undefined;
  /** The registry configuration, environment references resolved. */
  readonly registry: RegistryCenterConfiguration;
  /** The jobs, in file order. */
  readonly jobs: readonly LoadedJob[];
  /** Options handed to every bootstrap (`instanceId`, `serverIp`, timeouts, logger). */
  readonly bootstrapOptions: JobBootstrapOptions;
}

/** The bootstrap of one job started from a jobs file. */
export type FileJobBootstrap = ScheduleJobBootstrap | OneOffJobBootstrap;

/** The jobs of a file, running. */
export interface RunningJobs {
  /** The bootstraps by job name, in file order. */
  readonly bootstraps: ReadonlyMap<string, FileJobBootstrap>;
  /** The started registry client the jobs share. */
  readonly registry: CoordinatorRegistryCenter;
  /**
   * Shuts every job down gracefully (in parallel; each waits up to `shutdownTimeoutMs` for running
   * items), then closes the registry. Idempotent: later calls return the same promise.
   *
   * @throws {AggregateError} of the failures, after everything else was shut down and closed.
   */
  shutdown(): Promise<void>;
}

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
});

const REGISTRY_SCHEMAS: Readonly<Record<string, z.ZodType>> = {
  zookeeper: z.strictObject({
    type: z.literal('zookeeper'),
    serverLists: nonEmpty,
    namespace: nonEmpty,
    sessionTimeoutMs: ms.optional(),
    connectionTimeoutMs: ms.optional(),
    baseSleepTimeMs: ms.optional(),
    maxSleepTimeMs: ms.optional(),
    maxRetries: z.int().min(0).max(100).optional(),
    digest: nonEmpty.optional(),
  }),
  etcd: z.strictObject({
    type: z.literal('etcd'),
    endpoints: z.union([nonEmpty, z.array(nonEmpty).min(1)]),
    namespace: nonEmpty,
    sessionTimeoutMs: ms.optional(),
    connectionTimeoutMs: ms.optional(),
    username: nonEmpty.optional(),
    password: z.string().optional(),
    tls: z
      .strictObject({
        ca: nonEmpty.optional(),
        cert: nonEmpty.optional(),
        key: nonEmpty.optional(),
        caFile: nonEmpty.optional(),
        certFile: nonEmpty.optional(),
        keyFile: nonEmpty.optional(),
      })
      .optional(),
  }),
  memory: z.strictObject({
    type: z.literal('memory'),
    namespace: nonEmpty.optional(),
    sessionTimeoutMs: ms.optional(),
  }),
};

const CUSTOM_REGISTRY_SCHEMA = z.looseObject({ type: nonEmpty, module: nonEmpty });

/**
 * Reads and validates a jobs file without starting anything (no registry connection, no job).
 * Handler modules are imported, and class/factory handlers called, to check them.
 *
 * Checks, all reported at once: YAML syntax; the top-level keys (`registry`, `jobs`,
 * `instanceId`, `serverIp`, `shutdownTimeoutMs`, `reshardingWaitTimeoutMs`); `${ENV}` references;
 * the registry section per type (then the adapter's own validation); per job every
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
 * cron jobs are scheduled, one-off jobs (no cron) registered to run on `trigger`. If anything fails
 * while starting, the jobs already started are shut down and the registry is closed before the
 * error is rethrown.
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

  const jobs: LoadedJob[] = [];
  const jobsRecord = record.jobs;
  if (jobsRecord !== null && typeof jobsRecord === 'object' && !Array.isArray(jobsRecord)) {
    const names = new Map<string, string>();
    for (const [key, entry] of Object.entries(jobsRecord as Record<string, unknown>)) {
      if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) continue; // reported by TOP_LEVEL
      const job = await validateJob(
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
  return { file, registry, jobs, bootstrapOptions };
}

async function validateRegistry(
  section: unknown,
  baseDir: string,
  issues: JobsFileIssue[],
  overrides?: Readonly<Record<string, unknown>>,
): Promise<RegistryCenterConfiguration | undefined> {
  const builtIn = Object.keys(BUILT_IN_REGISTRY_PACKAGES);
  if (section === null || typeof section !== 'object' || Array.isArray(section)) {
    issues.push({ path: 'registry', message: `expected a map with a 'type', got ${describeValue(section)}` });
    return undefined;
  }
  const record = section as Record<string, unknown>;
  // An unresolved environment reference was reported already; the adapter would only repeat it.
  const unresolved = hasIssueUnder(issues, 'registry');
  const type = record.type;
  if (typeof type !== 'string' || type === '') {
    issues.push({
      path: 'registry.type',
      message: `${type === undefined ? 'is required' : `${describeValue(type)} is invalid`}; accepted: ${builtIn.join(', ')}, or any type with a 'module'`,
    });
    return undefined;
  }
  const schema = REGISTRY_SCHEMAS[type] ?? CUSTOM_REGISTRY_SCHEMA;
  const parsed = schema.safeParse(record, { reportInput: true });
  const before = issues.length;
  if (!parsed.success) {
    const accepted = schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
    issues.push(...parsed.error.issues.flatMap((issue) => zodIssues(issue, ['registry'], accepted)));
  }
  if (typeof record.namespace === 'string') {
    try {
      validateNamespace(record.namespace);
    } catch (error) {
      issues.push({ path: 'registry.namespace', message: messageOf(error) });
    }
  }
  if (issues.length > before) return undefined;

  const configuration: Record<string, unknown> = { ...record };
  if (typeof configuration.module === 'string' && isFilePath(configuration.module)) {
    configuration.module = pathToFileURL(resolve(baseDir, configuration.module)).href;
  }
  const tls = configuration.tls as Record<string, string | undefined> | undefined;
  if (tls !== undefined) {
    const material: Record<string, string> = {};
    for (const name of ['ca', 'cert', 'key'] as const) {
      const inline = tls[name];
      const fromFile = tls[`${name}File`];
      if (inline !== undefined && fromFile !== undefined) {
        issues.push({
          path: `registry.tls.${name}File`,
          message: `give either '${name}' or '${name}File', not both`,
        });
      } else if (fromFile !== undefined) {
        const path = resolve(baseDir, fromFile);
        try {
          material[name] = await readFile(path, 'utf8');
        } catch (cause) {
          issues.push({
            path: `registry.tls.${name}File`,
            message: `cannot read '${path}': ${messageOf(cause)}`,
          });
        }
      } else if (inline !== undefined) {
        material[name] = inline;
      }
    }
    configuration.tls = material;
  }
  if (issues.length > before || unresolved) return undefined;
  const result = { ...configuration, ...(overrides ?? {}) } as unknown as RegistryCenterConfiguration;
  try {
    // The adapter validates its own options; building a client connects nothing.
    await buildRegistryCenter(result);
  } catch (error) {
    const field = error instanceof RegistryConfigurationError ? error.field : 'type';
    issues.push({ path: `registry.${field}`, message: messageOf(error) });
    return undefined;
  }
  return result;
}

async function validateJob(
  key: string,
  entry: Record<string, unknown>,
  handlerValue: unknown,
  file: string | undefined,
  baseDir: string,
  issues: JobsFileIssue[],
): Promise<LoadedJob | undefined> {
  const prefix = `jobs.${key}`;
  const before = issues.length;
  const { handler: written, type, ...rest } = entry;
  const handler = handlerValue ?? written;
  const configuration = { jobName: key, ...rest } as unknown as JobConfiguration;

  let resolved: ResolvedJobConfiguration | undefined;
  try {
    resolved = resolveJobConfiguration(configuration);
  } catch (error) {
    pushJobError(error, prefix, issues);
  }

  if (handler === undefined && type === undefined) {
    issues.push({
      path: prefix,
      message: `needs either 'handler' ('./path/module.js#exportName') or 'type' (${typedJobTypes().join(', ')})`,
    });
  } else if (handler !== undefined && type !== undefined) {
    issues.push({ path: `${prefix}.type`, message: `'type' and 'handler' exclude each other; give one` });
  } else if (type !== undefined && (typeof type !== 'string' || !typedJobTypes().includes(type))) {
    issues.push({
      path: `${prefix}.type`,
      message: `${describeValue(type)} is not a typed job type; accepted: ${typedJobTypes().join(', ')}`,
    });
  }
  let reference: HandlerReference | undefined;
  if (typeof handler === 'string') {
    try {
      reference = parseHandlerReference(handler, baseDir);
    } catch (error) {
      issues.push({ path: `${prefix}.handler`, message: messageOf(error) });
    }
  } else if (handler !== undefined && handlerValue === undefined) {
    issues.push({
      path: `${prefix}.handler`,
      message: `expected a string './path/module.js#exportName', got ${describeValue(handler)}`,
    });
  }
  if (resolved === undefined || issues.length > before) return undefined;

  if (resolved.cron !== '') {
    try {
      parseCron(resolved.cron, resolved.timeZone === undefined ? {} : { timeZone: resolved.timeZone });
    } catch (error) {
      pushJobError(error, prefix, issues);
    }
  }
  const runtimeChecks: (() => unknown)[] = [
    () => getJobShardingStrategy(resolved.jobShardingStrategyType, resolved.jobName),
    () => getExecutorPoolSize(resolved.jobExecutorThreadPoolSizeProviderType),
    () => {
      const errorHandler = createJobErrorHandler(resolved.jobErrorHandlerType, resolved.props, silentLogger);
      return errorHandler.close?.();
    },
    () => createJobListeners(resolved.jobListenerTypes),
  ];
  for (const check of runtimeChecks) {
    try {
      await check();
    } catch (error) {
      pushJobError(error, prefix, issues);
    }
  }

  const context: JobHandlerContext = { jobName: resolved.jobName, configuration: resolved, file };
  let job: unknown = type;
  try {
    if (reference !== undefined) job = await loadJobHandler(reference, context);
    else if (handler !== undefined) job = await instantiateHandlerExport(handler, 'handler', context);
  } catch (error) {
    issues.push({ path: `${prefix}.handler`, message: messageOf(error) });
    return undefined;
  }
  try {
    resolveJobItemExecutor(job as ElasticJob, resolved);
  } catch (error) {
    if (error instanceof JobConfigurationError) pushJobError(error, prefix, issues);
    else
      issues.push({ path: `${prefix}.handler`, message: `${describeHandler(handler)}: ${messageOf(error)}` });
  }
  if (issues.length > before) return undefined;
  return {
    jobName: resolved.jobName,
    key,
    configuration,
    resolved,
    job: job as ElasticJob,
    scheduled: resolved.cron !== '',
  };
}

function describeHandler(handler: unknown): string {
  return typeof handler === 'string' ? `handler ${JSON.stringify(handler)}` : 'handler';
}

/** Maps configuration, cron and setup errors of one job to issues under `jobs.{key}`. */
function pushJobError(error: unknown, prefix: string, issues: JobsFileIssue[]): void {
  if (error instanceof JobConfigurationError) {
    for (const issue of error.issues) {
      const field = issue.field === 'elasticJobType' ? 'type' : issue.field;
      // An unknown key: the job entry also accepts `handler` and `type`.
      const message = issue.message.includes('is not a job configuration key')
        ? `${issue.message}, handler, type`
        : issue.message;
      issues.push({ path: field === '' ? prefix : `${prefix}.${field}`, message });
    }
  } else if (error instanceof CronExpressionError) {
    issues.push({
      path: `${prefix}.${error.field === 'timeZone' ? 'timeZone' : 'cron'}`,
      message: error.message,
    });
  } else if (error instanceof JobSetupError || error instanceof TypeError) {
    issues.push({ path: prefix, message: error.message });
  } else {
    throw error;
  }
}

/** Turns a zod issue into jobs-file issues with messages naming the value and what is accepted. */
function zodIssues(
  issue: z.core.$ZodIssue,
  base: readonly string[],
  acceptedKeys: readonly string[],
): JobsFileIssue[] {
  const path = formatIssuePath([...base, ...(issue.path as (string | number)[])]);
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => ({
        path: path === '' ? key : `${path}.${key}`,
        message: `unknown key; accepted: ${acceptedKeys.join(', ')}`,
      }));
    case 'invalid_type':
      return [
        {
          path,
          message:
            issue.input === undefined
              ? `is required: expected ${expectedType(issue.expected)}`
              : `expected ${expectedType(issue.expected)}, got ${describeValue(issue.input)}`,
        },
      ];
    case 'invalid_value':
      return [
        {
          path,
          message: `expected ${issue.values.map((value) => JSON.stringify(value)).join(' or ')}, got ${describeValue(issue.input)}`,
        },
      ];
    case 'invalid_union':
      return [{ path, message: `expected a string or a list of strings, got ${describeValue(issue.input)}` }];
    case 'too_small':
    case 'too_big': {
      const bound =
        issue.code === 'too_small' ? `>= ${String(issue.minimum)}` : `<= ${String(issue.maximum)}`;
      const what = issue.origin === 'string' ? 'length' : issue.origin === 'array' ? 'size' : 'value';
      const nonEmptyMinimum = issue.code === 'too_small' && Number(issue.minimum) === 1;
      const expected =
        issue.origin === 'string' && nonEmptyMinimum
          ? 'a non-empty string'
          : issue.origin === 'array' && nonEmptyMinimum
            ? 'a non-empty list'
            : `${what} ${bound}`;
      return [{ path, message: `expected ${expected}, got ${describeValue(issue.input)}` }];
    }
    default:
      return [{ path, message: `${issue.message}, got ${describeValue(issue.input)}` }];
  }
}

function expectedType(expected: string): string {
  const names: Record<string, string> = {
    record: 'a map',
    object: 'a map',
    array: 'a list',
    int: 'an integer',
    number: 'a number',
    string: 'a string',
    boolean: 'true or false',
  };
  return names[expected] ?? expected;
}

function hasIssueUnder(issues: readonly JobsFileIssue[], path: string): boolean {
  return issues.some((issue) => issue.path === path || issue.path.startsWith(`${path}.`));
}

function isFilePath(specifier: string): boolean {
  return specifier.startsWith('./') || specifier.startsWith('../') || isAbsolute(specifier);
}

/** Copies plain objects and arrays (so env substitution never mutates the caller's object). */
function cloneData(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(cloneData);
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const copy: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      Object.defineProperty(copy, key, {
        value: cloneData(item),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return copy;
  }
  return value;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
