/**
 * Entry points users call (ElasticJob `ScheduleJobBootstrap`, `OneOffJobBootstrap`).
 *
 * @module
 */
import type { JobConfiguration, ResolvedJobConfiguration } from '../config/index.js';
import type { JobEventListener } from '../event/index.js';
import type { JobInstance } from '../instance/index.js';
import type { ElasticJob } from '../job/elastic-job.js';
import type { JobBootstrapOptions } from '../kernel/job-bootstrap-options.js';
import { JobRunner } from '../kernel/job-runner.js';
import type { CoordinatorRegistryCenter } from '../registry/registry-center.js';

abstract class JobBootstrapBase {
  protected readonly scheduler: JobRunner;

  protected constructor(
    registry: CoordinatorRegistryCenter,
    job: ElasticJob,
    configuration: JobConfiguration,
    options: JobBootstrapOptions,
    scheduled: boolean,
  ) {
    this.scheduler = new JobRunner(registry, job, configuration, options, scheduled);
  }

  /** This job instance's identity (`jobInstanceId`, `serverIp`). */
  get instance(): JobInstance {
    return this.scheduler.instance;
  }

  /** The configuration in force (the registry copy once started). */
  get configuration(): ResolvedJobConfiguration {
    return this.scheduler.configuration;
  }

  /**
   * Items waiting for a failover executor (queued, or left running by a gone instance), as this
   * instance's cache sees them: the failover backlog metric. 0 when failover is off.
   */
  get failoverBacklog(): number {
    return this.scheduler.failoverBacklog;
  }

  /** Whether this instance is currently the job's leader. */
  isLeader(): boolean {
    return this.scheduler.isLeader();
  }

  /**
   * Subscribes to this job's events on this instance ({@link JobExecutionEvent} per item,
   * {@link JobStatusTraceEvent} per run phase).
   *
   * @returns the unsubscribe function.
   */
  subscribe(listener: JobEventListener): () => void {
    return this.scheduler.subscribe(listener);
  }

  /**
   * Stops the job on this instance (see `JobRunner.shutdown`): no more fires, running items
   * aborted and drained within `shutdownTimeoutMs`, leadership and the instance node released, no
   * timers or watches left. The registry client stays open. Idempotent.
   */
  shutdown(): Promise<void> {
    return this.scheduler.shutdown();
  }
}

/**
 * Schedules a cron job on this job instance (ElasticJob `ScheduleJobBootstrap`).
 *
 * @example
 * ```ts
 * const registry = await createRegistryCenter({ type: 'memory' });
 * const bootstrap = new ScheduleJobBootstrap(registry, { async execute(ctx) { console.log(ctx.shardingItem); } }, {
 *   jobName: 'orders', cron: '0/5 * * * * ?', shardingTotalCount: 3,
 *   shardingItemParameters: '0=Beijing,1=Shanghai,2=Guangzhou',
 * });
 * await bootstrap.schedule();
 * // ... later
 * await bootstrap.shutdown();
 * ```
 */
export class ScheduleJobBootstrap extends JobBootstrapBase {
  /**
   * @param registry - a started registry center, shared by every job of the process.
   * @param job - a `SimpleJob`, a `DataflowJob`, or a typed-job name (`SCRIPT`, `HTTP`).
   * @param configuration - the job's configuration; `cron` is required.
   * @param options - instance identity, logger, listeners, bounds.
   * @throws {JobConfigurationError} for invalid configuration, every problem in one error: a bad
   *   field, an invalid cron or time zone, a sharding strategy, executor pool size provider, error
   *   handler or listener type not registered in this process. Nothing is written to the registry.
   * @throws {JobSetupError} when `cron` is missing.
   */
  constructor(
    registry: CoordinatorRegistryCenter,
    job: ElasticJob,
    configuration: JobConfiguration,
    options: JobBootstrapOptions = {},
  ) {
    super(registry, job, configuration, options, true);
  }

  /**
   * Registers the job instance and starts firing on the cron.
   *
   * @throws {JobSetupError} on a job class conflict in the registry, or when the registry's
   *   configuration, which the start adopts unless `overwrite` is set, is not valid in this process
   *   (the message names the node and the remedies; the {@link JobConfigurationError} is its `cause`).
   * @throws {RegistryError} when the registry fails.
   */
  schedule(): Promise<void> {
    return this.scheduler.start();
  }

  /** Next scheduled fire time in epoch ms, if any. */
  get nextFireTimeMs(): number | undefined {
    return this.scheduler.nextFireTimeMs;
  }
}

/**
 * A job without cron that runs when triggered (ElasticJob `OneOffJobBootstrap`): `execute()` asks
 * every live instance of the job to run its own items once.
 */
export class OneOffJobBootstrap extends JobBootstrapBase {
  #started: Promise<void> | undefined;

  /**
   * @param registry - a started registry center.
   * @param job - the job object or typed-job name.
   * @param configuration - the job's configuration; `cron` must be absent or empty.
   * @param options - instance identity, logger, listeners, bounds.
   * @throws {JobConfigurationError} for invalid configuration, every problem in one error (see
   *   {@link ScheduleJobBootstrap}'s constructor). Nothing is written to the registry.
   * @throws {JobSetupError} when a cron is given.
   */
  constructor(
    registry: CoordinatorRegistryCenter,
    job: ElasticJob,
    configuration: JobConfiguration,
    options: JobBootstrapOptions = {},
  ) {
    super(registry, job, configuration, options, false);
  }

  /** Registers this instance without firing (done by the first `execute()` if not called). */
  start(): Promise<void> {
    this.#started ??= this.scheduler.start();
    return this.#started;
  }

  /**
   * Triggers one run on every live instance of the job (durable `trigger/{instanceId}` nodes; an
   * instance that is running keeps one pending run).
   *
   * @throws {RegistryError} when the registry fails.
   */
  async execute(): Promise<void> {
    await this.start();
    await this.scheduler.triggerAllInstances();
  }
}
