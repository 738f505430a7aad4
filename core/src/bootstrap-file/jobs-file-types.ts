/**
 * The shapes of a jobs file and of what loading and starting it return.
 *
 * @module
 */
import type { OneOffJobBootstrap, ScheduleJobBootstrap } from '../bootstrap/schedule-job-bootstrap.js';
import type { JobConfiguration, ResolvedJobConfiguration } from '../config/job-configuration.js';
import type { ElasticJob } from '../job/elastic-job.js';
import type { JobBootstrapOptions } from '../kernel/job-bootstrap-options.js';
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
   * Directory that relative `handler`, registry `module`/TLS file and `tracing.url` SQLite paths
   * start from.
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
 * tracing:                      # event tracing (needs @elasticjob-ts/tracing)
 *   url: sqlite:./history.db    # or postgres://app:${PGPASSWORD}@db:5432/history
 *   retention: { maxAgeMs: 2592000000, maxRows: 5000000 }
 * monitoring:                   # /metrics, /healthz, /readyz (needs @elasticjob-ts/tracing)
 *   port: 9464                  # host: 127.0.0.1 by default
 * ```
 */
export interface JobsFileConfiguration {
  /**
   * The registry: `type` plus that adapter's options, as `createRegistryCenter` takes them
   * (`zookeeper`: `serverLists`, `namespace`, `sessionTimeoutMs`, `connectionTimeoutMs`,
   * `baseSleepTimeMs`, `maxSleepTimeMs`, `maxRetries`, `digest`, `watchMode`; `etcd`: `endpoints`, `namespace`,
   * `sessionTimeoutMs`, `connectionTimeoutMs`, `username`, `password`, `maxTxnOps`, `tls: { ca, cert, key }` as
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
  /**
   * ElasticJob's event tracing of every job in the file (rows in `JOB_EXECUTION_LOG` and
   * `JOB_STATUS_TRACE_LOG`), by the optional `@elasticjob-ts/tracing` package.
   * @defaultValue no event tracing
   */
  readonly tracing?: JobsFileTracingConfiguration;
  /**
   * The monitoring listener (`/metrics` in Prometheus format, `/healthz`, `/readyz`) with the
   * metrics of every job in the file, by the optional `@elasticjob-ts/tracing` package.
   * @defaultValue no listener, no metrics
   */
  readonly monitoring?: JobsFileMonitoringConfiguration;
}

/**
 * The `tracing:` section of a jobs file: the options of the tracing package's
 * `startEventTracing`, by the same names. A database that is down never fails a job: events are
 * queued (bounded), the failures logged, and writes resume when it is back.
 *
 * @example
 * ```yaml
 * tracing:
 *   url: postgres://app:${PGPASSWORD}@db:5432/history
 *   retention: { maxAgeMs: 604800000, intervalMs: 3600000 }
 *   writer: { maxQueuedEvents: 20000 }
 * ```
 */
export interface JobsFileTracingConfiguration {
  /**
   * The history database: `sqlite:<file>` (a relative path starts from the jobs file's directory,
   * or from `baseDir`; `sqlite::memory:` for a database that dies with the process) or
   * `postgres://user:password@host:port/database` (`postgresql://` too). Logs show it with the
   * password masked.
   */
  readonly url: string;
  /** PostgreSQL: connections in the pool. @defaultValue 4 */
  readonly maxConnections?: number;
  /** PostgreSQL: bound on opening a connection, in ms. @defaultValue 5000 */
  readonly connectTimeoutMs?: number;
  /** PostgreSQL: bound on one statement, in ms. @defaultValue 30000 */
  readonly statementTimeoutMs?: number;
  /**
   * Rows to keep (the tracing package's `RetentionPolicy`); at least one of `maxAgeMs` and
   * `maxRows`. @defaultValue every row is kept (as ElasticJob)
   */
  readonly retention?: {
    /** Delete rows whose start (executions) or creation time (status traces) is older, in ms. */
    readonly maxAgeMs?: number;
    /** Keep at most this many newest rows per table. */
    readonly maxRows?: number;
    /** Rows deleted per statement. @defaultValue 1000 */
    readonly batchSize?: number;
    /** How often retention runs, in ms. @defaultValue 3600000 (hourly) */
    readonly intervalMs?: number;
  };
  /** Bounds of the queue between the jobs and the database (the `EventTracingWriter` options). */
  readonly writer?: {
    /** Events kept waiting while the database lags; beyond it the oldest are dropped. @defaultValue 10000 */
    readonly maxQueuedEvents?: number;
    /** Events per write. @defaultValue 500 */
    readonly maxBatchSize?: number;
    /** How long an event may wait for a fuller batch, in ms. @defaultValue 200 */
    readonly flushIntervalMs?: number;
    /** First wait after a failed write, in ms; doubles per failure. @defaultValue 500 */
    readonly retryInitialDelayMs?: number;
    /** Longest wait between retries, in ms. @defaultValue 30000 */
    readonly retryMaxDelayMs?: number;
    /** Least time between two "events dropped" warnings, in ms. @defaultValue 10000 */
    readonly dropWarningIntervalMs?: number;
  };
}

/**
 * The `monitoring:` section of a jobs file: the address options of the tracing package's
 * `startMonitoringServer`, by the same names. The metrics (`ElasticJobMetrics`) observe every job
 * of the file, the registry session and, with `tracing:`, the event queue's drops.
 *
 * @example
 * ```yaml
 * monitoring:
 *   port: 9464
 *   host: 0.0.0.0                 # beyond loopback a bearer token is required
 *   bearerToken: ${METRICS_TOKEN}
 * ```
 */
export interface JobsFileMonitoringConfiguration {
  /** TCP port; `0` picks a free one (see {@link RunningJobs.monitoringUrl}). @defaultValue 9464 */
  readonly port?: number;
  /** Address to bind; any non-loopback address requires `bearerToken`. @defaultValue '127.0.0.1' */
  readonly host?: string;
  /** Required on every route as `Authorization: Bearer <token>` when given. */
  readonly bearerToken?: string;
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
  /** The `tracing:` section, environment references resolved, a relative SQLite path made absolute. */
  readonly tracing?: JobsFileTracingConfiguration;
  /** The `monitoring:` section, environment references resolved. */
  readonly monitoring?: JobsFileMonitoringConfiguration;
}

/** The bootstrap of one job started from a jobs file. */
export type FileJobBootstrap = ScheduleJobBootstrap | OneOffJobBootstrap;

/** The jobs of a file, running. */
export interface RunningJobs {
  /** The bootstraps by job name, in file order. */
  readonly bootstraps: ReadonlyMap<string, FileJobBootstrap>;
  /** The started registry client the jobs share. */
  readonly registry: CoordinatorRegistryCenter;
  /** The history database the jobs' events go to (password masked), when `tracing:` is configured. */
  readonly historyUrl?: string;
  /**
   * Base URL of the monitoring listener (e.g. `http://127.0.0.1:9464`; the bound port when the
   * file says `port: 0`), when `monitoring:` is configured.
   */
  readonly monitoringUrl?: string;
  /**
   * Shuts every job down gracefully (in parallel; each waits up to `shutdownTimeoutMs` for running
   * items), then writes the queued tracing events and closes the history database (at most 10 s),
   * then closes the monitoring listener, then the registry. Idempotent: later calls return the
   * same promise.
   *
   * @throws {AggregateError} of the failures, after everything else was shut down and closed.
   */
  shutdown(): Promise<void>;
}
