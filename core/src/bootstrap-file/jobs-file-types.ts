/**
 * The shapes of a jobs file and of what loading and starting it return.
 *
 * @module
 */
import type { OneOffJobBootstrap, ScheduleJobBootstrap } from '../bootstrap/schedule-job-bootstrap.js';
import type { JobConfiguration, ResolvedJobConfiguration } from '../config/job-configuration.js';
import type { ElasticJob } from '../job/elastic-job.js';
import type { JobBootstrapOptions } from '../kernel/job-scheduler.js';
import type { Logger } from '../logging/logger.js';
import type { CoordinatorRegistryCenter } from '../registry/registry-center.js';
import type { RegistryCenterConfiguration } from '../registry/registry-configuration.js';
import type { JobHandlerExport } from './job-handler.js';

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
