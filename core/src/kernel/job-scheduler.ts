/**
 * The per-job engine behind the bootstraps: registration, election, resharding, cron firing,
 * execution, misfire, one-off triggers, rescheduling, connection-state fencing and shutdown.
 * ElasticJob spreads this over `JobScheduler`, `SetUpFacade`, `SchedulerFacade`, the listener
 * managers and `ElasticJobExecutor` (reference §5); here it is one state machine per job, reacting
 * to the job's single subtree watch.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { JobConfiguration, ResolvedJobConfiguration } from '../config/index.js';
import {
  parseJobConfigurationYaml,
  parseShardingItemParameters,
  resolveJobConfiguration,
  toJobConfigurationYaml,
} from '../config/index.js';
import { type CronExpression, parseCron } from '../cron/index.js';
import type { JobErrorHandler } from '../error-handler/index.js';
import { createJobErrorHandler } from '../error-handler/index.js';
import type { ExecutionSource, JobEventListener, JobRunState } from '../event/index.js';
import { JobEventBus } from '../event/index.js';
import { getExecutorPoolSize, resolveJobItemExecutor, runItemsConcurrently } from '../executor/index.js';
import { detectLocalIp, type JobInstance } from '../instance/index.js';
import type { ElasticJob, JobItemExecutor, JobRuntime } from '../job/elastic-job.js';
import { buildTaskId, type ShardingContexts, shardingContextOf } from '../job/sharding-context.js';
import type { ElasticJobListener } from '../listener/index.js';
import { createJobListeners, DistributeOnceJobListener } from '../listener/index.js';
import { createDefaultLogger, type Logger } from '../logging/logger.js';
import type {
  CoordinatorRegistryCenter,
  RegistryConnectionState,
  RegistryEvent,
} from '../registry/registry-center.js';
import { getJobShardingStrategy } from '../sharding/index.js';
import { ConditionWaiters } from './condition-waiters.js';
import { ExecutionService } from './execution-service.js';
import { FailoverService } from './failover-service.js';
import { GuaranteeService } from './guarantee-service.js';
import { JobCache } from './job-cache.js';
import type { JobContext } from './job-context.js';
import { JobNodePath } from './job-node-path.js';
import { JobSetupError } from './job-setup-error.js';
import { LeaderService } from './leader-service.js';
import { ServerService } from './server-service.js';
import { ShardingService } from './sharding-service.js';
import { getDefaultTimerService, type ScheduledTimer, type TimerService } from './timer-service.js';

/** Options shared by {@link ScheduleJobBootstrap} and {@link OneOffJobBootstrap}. */
export interface JobBootstrapOptions {
  /**
   * This job instance's id. Must be unique per job across the cluster.
   * @defaultValue `{ip}@-@{pid}` (ElasticJob's format); set it when several instances share a
   * process or containers share an IP.
   */
  readonly instanceId?: string;
  /** The IP recorded for this instance (`servers/{ip}`). @defaultValue the first non-internal address */
  readonly serverIp?: string;
  /** Where log entries go. @defaultValue a pino logger named `elasticjob` */
  readonly logger?: Logger;
  /** The timer service (and so the clock). @defaultValue the process-wide timer service */
  readonly timerService?: TimerService;
  /** Listener objects, run in addition to the `jobListenerTypes` of the configuration. */
  readonly listeners?: readonly ElasticJobListener[];
  /** Receives every {@link JobEvent} of this job on this instance. */
  readonly onEvent?: JobEventListener;
  /**
   * Bound of the wait for a pending resharding before a run, and of the leader's wait for running
   * items before it reshards, in ms.
   * @defaultValue 30000
   */
  readonly reshardingWaitTimeoutMs?: number;
  /**
   * How long `shutdown()` waits for running items after aborting their signals, in ms.
   * @defaultValue 30000
   */
  readonly shutdownTimeoutMs?: number;
}

/** Lifecycle of a {@link JobScheduler}. */
export type JobSchedulerState = 'NEW' | 'STARTING' | 'STARTED' | 'SHUTTING_DOWN' | 'SHUT_DOWN';

/** What caused a run: the cron, a trigger, a deferred misfire, or a failover claim (with its items). */
type RunReason =
  | { readonly kind: 'CRON' }
  | { readonly kind: 'TRIGGER' }
  | { readonly kind: 'MISFIRE' }
  | { readonly kind: 'FAILOVER'; readonly items: number[] };

/**
 * The engine of one job on one job instance. Use it through {@link ScheduleJobBootstrap} or
 * {@link OneOffJobBootstrap}.
 */
export class JobScheduler {
  readonly paths: JobNodePath;
  readonly instance: JobInstance;
  readonly #registry: CoordinatorRegistryCenter;
  readonly #job: ElasticJob;
  readonly #localConfiguration: ResolvedJobConfiguration;
  readonly #logger: Logger;
  readonly #timers: TimerService;
  readonly #waiters: ConditionWaiters;
  readonly #cache: JobCache;
  readonly #context: JobContext;
  readonly #servers: ServerService;
  readonly #leader: LeaderService;
  readonly #sharding: ShardingService;
  readonly #execution: ExecutionService;
  readonly #failover: FailoverService;
  readonly #guarantee: GuaranteeService;
  readonly #events: JobEventBus;
  readonly #extraListeners: readonly ElasticJobListener[];
  readonly #reshardingWaitTimeoutMs: number;
  readonly #shutdownTimeoutMs: number;
  readonly #scheduled: boolean;

  #state: JobSchedulerState = 'NEW';
  #configuration: ResolvedJobConfiguration;
  #cron: CronExpression | undefined;
  #nextFire: ScheduledTimer | undefined;
  #nextReconcile: ScheduledTimer | undefined;
  #nextFireTimeMs: number | undefined;
  #itemExecutor: JobItemExecutor;
  #errorHandler: JobErrorHandler | undefined;
  #errorHandlerKey = '';
  #listeners: ElasticJobListener[] = [];
  #listenerKey = '';
  #suspended = false;
  #running: Promise<void> | undefined;
  #runAbort: AbortController | undefined;
  #pendingTrigger = false;
  #pendingMisfire = false;
  /** Incremented on every LOST: work started in an older epoch must not trust its registry state. */
  #sessionEpoch = 0;
  /** Items whose misfire flags this instance wrote during the current run (awaited before clearing). */
  #misfireWrite: Promise<number[]> = Promise.resolve([]);
  #pendingFailoverItems: number[] = [];
  #runningItems = new Set<number>();
  #failoverItemsInProgress = new Set<number>();
  /** The first claim after start also recovers nodes a previous process with this id left behind. */
  #ownStaleRecoveryPending = true;
  #failoverClaim: Promise<void> | undefined;
  #failoverClaimAgain = false;
  #unsubscribeState: (() => void) | undefined;
  #unsubscribeEvents: (() => void) | undefined;
  #background = new Set<Promise<unknown>>();

  /**
   * @param registry - a started registry center (shared; not closed by the job).
   * @param job - the job object or typed-job name.
   * @param configuration - the local configuration (validated here).
   * @param options - instance identity, logging, timers, listeners, bounds.
   * @param scheduled - `true` for cron jobs, `false` for one-off jobs.
   * @throws {JobConfigurationError} for invalid configuration (every problem listed).
   * @throws {JobSetupError} for a cron on a one-off job or a missing cron on a scheduled one.
   */
  constructor(
    registry: CoordinatorRegistryCenter,
    job: ElasticJob,
    configuration: JobConfiguration,
    options: JobBootstrapOptions,
    scheduled: boolean,
  ) {
    this.#registry = registry;
    this.#job = job;
    this.#scheduled = scheduled;
    this.#localConfiguration = resolveJobConfiguration(configuration);
    validateRuntimeTypes(this.#localConfiguration);
    if (scheduled && this.#localConfiguration.cron === '') {
      throw new JobSetupError(
        this.#localConfiguration.jobName,
        `Job '${this.#localConfiguration.jobName}': 'cron' is required by ScheduleJobBootstrap; use OneOffJobBootstrap for a job without cron`,
      );
    }
    if (!scheduled && this.#localConfiguration.cron !== '') {
      throw new JobSetupError(
        this.#localConfiguration.jobName,
        `Job '${this.#localConfiguration.jobName}': 'cron' must be empty for OneOffJobBootstrap; use ScheduleJobBootstrap for cron jobs`,
      );
    }
    if (scheduled) {
      parseCron(this.#localConfiguration.cron, {
        timeZone: this.#localConfiguration.timeZone ?? processTimeZone(),
      });
    }
    this.#configuration = this.#localConfiguration;
    const resolved = resolveJobItemExecutor(job, this.#localConfiguration);
    this.#itemExecutor = resolved.executor;
    this.paths = new JobNodePath(this.#localConfiguration.jobName);
    const serverIp = options.serverIp ?? detectLocalIp();
    this.instance = { jobInstanceId: options.instanceId ?? `${serverIp}@-@${process.pid}`, serverIp };
    if (this.instance.jobInstanceId === '' || this.instance.jobInstanceId.includes('/')) {
      throw new JobSetupError(
        this.#localConfiguration.jobName,
        `instanceId '${this.instance.jobInstanceId}' must be non-empty and contain no '/'`,
      );
    }
    this.#logger = (options.logger ?? createDefaultLogger()).child({
      jobName: this.#localConfiguration.jobName,
      instanceId: this.instance.jobInstanceId,
    });
    this.#timers = options.timerService ?? getDefaultTimerService();
    this.#waiters = new ConditionWaiters(this.#timers.clock);
    this.#reshardingWaitTimeoutMs = options.reshardingWaitTimeoutMs ?? 30_000;
    this.#shutdownTimeoutMs = options.shutdownTimeoutMs ?? 30_000;
    this.#extraListeners = options.listeners ?? [];
    this.#events = new JobEventBus({ logger: this.#logger });
    if (options.onEvent) this.#unsubscribeEvents = this.#events.subscribe(options.onEvent);
    this.#cache = new JobCache(registry, this.paths.root, (event) => this.#onRegistryEvent(event));
    this.#context = {
      registry,
      paths: this.paths,
      cache: this.#cache,
      waiters: this.#waiters,
      instance: this.instance,
      logger: this.#logger,
      clock: this.#timers.clock,
      configuration: () => this.#configuration,
      isShutdown: () => this.#state === 'SHUTTING_DOWN' || this.#state === 'SHUT_DOWN',
    };
    this.#servers = new ServerService(this.#context);
    this.#leader = new LeaderService(this.#context, this.#servers);
    this.#sharding = new ShardingService(this.#context, this.#servers, this.#leader, {
      runningWaitTimeoutMs: this.#reshardingWaitTimeoutMs,
    });
    this.#execution = new ExecutionService(this.#context, this.#servers);
    this.#failover = new FailoverService(this.#context);
    this.#guarantee = new GuaranteeService(this.#context);
    this.#jobClassName = resolved.jobClassName;
  }

  readonly #jobClassName: string;

  /** Current lifecycle state. */
  get state(): JobSchedulerState {
    return this.#state;
  }

  /** The configuration in force (the registry copy once started). */
  get configuration(): ResolvedJobConfiguration {
    return this.#configuration;
  }

  /** Next scheduled fire time (epoch ms), if any. */
  get nextFireTimeMs(): number | undefined {
    return this.#nextFireTimeMs;
  }

  /**
   * Items waiting for a failover executor (queued, or orphaned by a gone instance), from the local
   * cache: the failover backlog metric.
   */
  get failoverBacklog(): number {
    return this.#failover.backlog();
  }

  /** Whether this instance currently is the job's leader (cache). */
  isLeader(): boolean {
    return this.#leader.isLeader();
  }

  /** Subscribes to this job's events; returns the unsubscribe function. */
  subscribe(listener: JobEventListener): () => void {
    return this.#events.subscribe(listener);
  }

  /**
   * Registers the job and starts firing: writes the configuration per ElasticJob's startup rule
   * (registry wins unless `overwrite` or absent), registers the server and the ephemeral instance,
   * watches the job subtree, elects a leader, and schedules the next cron fire.
   *
   * @throws {JobSetupError} on a job class conflict or a registry configuration that is invalid.
   * @throws {RegistryError} when the registry fails (nothing is left scheduled).
   */
  async start(): Promise<void> {
    if (this.#state !== 'NEW') {
      throw new JobSetupError(
        this.paths.jobName,
        `Job '${this.paths.jobName}' was already started (${this.#state})`,
      );
    }
    this.#state = 'STARTING';
    try {
      this.#configuration = await this.#setUpConfiguration();
      this.#refreshRunComponents();
      await this.#cache.start();
      // A shutdown command left for a previous run of this instance id does not apply to this one.
      await this.#registry.remove(this.paths.shutdownCommand(this.instance.jobInstanceId));
      await this.#servers.persistServerOnline(this.#localConfiguration.disabled);
      await this.#servers.persistInstanceOnline();
      await this.#waiters.waitFor(
        () => this.#servers.isLocalInstanceAvailable() || this.#serverDisabled(),
        10_000,
      );
      this.#unsubscribeState = this.#registry.addConnectionStateListener((state) =>
        this.#onConnectionState(state),
      );
      this.#state = 'STARTED';
      await this.#electIfNeeded();
      if (this.#scheduled) this.#scheduleNextFire();
      this.#scheduleReconcile();
      this.#tryFailover();
      this.#logger.info(
        { cron: this.#configuration.cron, shardingTotalCount: this.#configuration.shardingTotalCount },
        'job started',
      );
    } catch (error) {
      this.#state = 'SHUT_DOWN';
      this.#nextFire?.cancel();
      this.#unsubscribeState?.();
      await this.#cache.close().catch(() => {});
      throw error;
    }
  }

  async #setUpConfiguration(): Promise<ResolvedJobConfiguration> {
    const registry = this.#registry;
    const paths = this.paths;
    const rootValue = await registry.getDirectly(paths.root);
    if (rootValue !== undefined && rootValue.trim() !== '' && rootValue !== this.#jobClassName) {
      throw new JobSetupError(
        paths.jobName,
        `Job conflict: job '${paths.jobName}' is registered with class '${rootValue}', not '${this.#jobClassName}'`,
      );
    }
    const existing = await registry.getDirectly(paths.config);
    if (existing === undefined || this.#localConfiguration.overwrite) {
      await registry.persist(paths.root, this.#jobClassName);
      await registry.persist(paths.config, toJobConfigurationYaml(this.#localConfiguration));
      return this.#localConfiguration;
    }
    const fromRegistry = parseJobConfigurationYaml(existing);
    validateRuntimeTypes(fromRegistry);
    if (rootValue === undefined || rootValue.trim() === '')
      await registry.persist(paths.root, this.#jobClassName);
    return fromRegistry;
  }

  /** Rebuilds the cron, error handler and listeners when their configuration changed. */
  #refreshRunComponents(): void {
    const config = this.#configuration;
    if (this.#scheduled)
      this.#cron = parseCron(config.cron, { timeZone: config.timeZone ?? processTimeZone() });
    const handlerKey = `${config.jobErrorHandlerType}:${JSON.stringify(config.props)}`;
    if (handlerKey !== this.#errorHandlerKey) {
      const previous = this.#errorHandler;
      this.#errorHandler = createJobErrorHandler(config.jobErrorHandlerType, config.props, this.#logger);
      this.#errorHandlerKey = handlerKey;
      if (previous?.close) this.#track(Promise.resolve(previous.close()));
    }
    const listenerKey = config.jobListenerTypes.join(',');
    if (listenerKey !== this.#listenerKey || this.#listeners.length === 0) {
      this.#listeners = [...createJobListeners(config.jobListenerTypes), ...this.#extraListeners].sort(
        (a, b) => (a.order ?? Number.MAX_SAFE_INTEGER) - (b.order ?? Number.MAX_SAFE_INTEGER),
      );
      this.#listenerKey = listenerKey;
      for (const listener of this.#listeners) {
        if (listener instanceof DistributeOnceJobListener) listener.attachCoordinator(this.#guarantee);
      }
    }
    this.#itemExecutor = resolveJobItemExecutor(this.#job, config).executor;
  }

  // ---------------------------------------------------------------- registry events

  #onRegistryEvent(event: RegistryEvent): void {
    this.#guarantee.onEvent(event.key, event.type);
    this.#waiters.notify();
    if (this.#state !== 'STARTED') return;
    const relative = this.paths.relative(event.key);
    if (relative === undefined) return;
    const parts = relative.split('/');
    switch (parts[0]) {
      case 'config':
        if (parts.length === 1 && event.type === 'UPDATED') this.#onConfigurationChanged(event.value);
        if (parts.length === 1 && event.type === 'DELETED')
          this.#shutdownOnCommand('job removed from the registry');
        return;
      case 'shutdown':
        if (parts.length === 2 && parts[1] === this.instance.jobInstanceId && event.type !== 'DELETED') {
          this.#shutdownOnCommand('operator shutdown command');
        }
        return;
      case 'instances':
        if (parts.length === 2) this.#onInstanceChanged(event, parts[1] as string);
        return;
      case 'servers':
        if (parts.length === 2) this.#onServerChanged(parts[1] as string);
        return;
      case 'leader':
        if (relative === 'leader/election/instance') this.#onLeaderChanged(event);
        else if (
          parts[1] === 'failover' &&
          parts[2] === 'items' &&
          parts.length === 4 &&
          event.type === 'ADDED'
        ) {
          this.#tryFailover();
        } else if (relative === 'leader/sharding/necessary') {
          if (event.type === 'DELETED') this.#sharding.invalidateAssignment();
          else if (this.#leader.isLeader() && !this.#sharding.isResharding) this.#reshardInBackground(true);
        }
        return;
      case 'sharding':
        if (parts[2] === 'instance') this.#sharding.invalidateAssignment();
        return;
      case 'trigger':
        if (parts.length === 2 && parts[1] === this.instance.jobInstanceId && event.type !== 'DELETED') {
          this.#onTrigger();
        }
        return;
      default:
        return;
    }
  }

  #onConfigurationChanged(yaml: string): void {
    let next: ResolvedJobConfiguration;
    try {
      next = parseJobConfigurationYaml(yaml);
      validateRuntimeTypes(next);
      if (this.#scheduled) parseCron(next.cron, { timeZone: next.timeZone ?? processTimeZone() });
    } catch (error) {
      this.#logger.error({ err: error }, 'ignoring an invalid configuration written to the registry');
      return;
    }
    const previous = this.#configuration;
    this.#configuration = next;
    this.#refreshRunComponents();
    if (this.#scheduled && (previous.cron !== next.cron || previous.timeZone !== next.timeZone)) {
      this.#logger.info(
        { cron: next.cron, timeZone: next.timeZone },
        'rescheduling after a configuration change',
      );
      this.#scheduleNextFire();
    }
    if (previous.reconcileIntervalMinutes !== next.reconcileIntervalMinutes) this.#scheduleReconcile();
    if (previous.failover && !next.failover && this.#leader.isLeader()) {
      this.#track(
        this.#failover.removeAllFailoverState().catch((error: unknown) => {
          this.#logger.error(
            { err: error },
            'could not remove failover nodes after failover was switched off',
          );
        }),
      );
    }
    if (
      previous.shardingTotalCount !== next.shardingTotalCount ||
      previous.jobShardingStrategyType !== next.jobShardingStrategyType
    ) {
      this.#sharding.invalidateAssignment();
      if (this.#leader.isLeader()) this.#reshardInBackground(true);
    }
  }

  #onInstanceChanged(event: RegistryEvent, instanceId: string): void {
    if (instanceId === this.instance.jobInstanceId && event.type === 'DELETED') {
      // A vanished own instance node never shuts the job down by itself (ElasticJob #1857, #2383):
      // only an operator command or the job's removal does; otherwise re-register.
      if (!this.#suspended) this.#track(this.#onOwnInstanceDeleted());
      return;
    }
    if (event.type === 'UPDATED') return;
    if (event.type === 'DELETED') this.#tryFailover();
    if (this.#leader.isLeader()) this.#reshardInBackground(this.#membershipForcesResharding());
  }

  async #onOwnInstanceDeleted(): Promise<void> {
    try {
      const registry = this.#registry;
      if (await registry.isExisted(this.paths.shutdownCommand(this.instance.jobInstanceId))) {
        this.#shutdownOnCommand('operator shutdown command');
        return;
      }
      if (!(await registry.isExisted(this.paths.config))) {
        this.#shutdownOnCommand('job removed from the registry');
        return;
      }
      if (
        this.#state === 'STARTED' &&
        !(await registry.isExisted(this.paths.instance(this.instance.jobInstanceId)))
      ) {
        await this.#servers.persistInstanceOnline();
        this.#logger.warn('own instance node vanished: re-registered');
      }
    } catch (error) {
      this.#logger.error({ err: error }, 'could not re-create the instance node');
    }
  }

  /** Shuts the job down on an operator's command (not tracked: shutdown awaits tracked work). */
  #shutdownOnCommand(reason: string): void {
    if (this.#state !== 'STARTED') return;
    this.#logger.info({ reason }, 'shutting down');
    const command = this.paths.shutdownCommand(this.instance.jobInstanceId);
    void this.shutdown()
      .then(() => this.#registry.remove(command)) // the acknowledgement
      .catch((error: unknown) => {
        this.#logger.error({ err: error }, 'shutdown on command failed');
      });
  }

  #onServerChanged(ip: string): void {
    if (ip === this.instance.serverIp && this.#serverDisabled() && this.#leader.isLeader()) {
      this.#track(
        this.#leader.abdicate().catch((error: unknown) => {
          this.#logger.error({ err: error }, 'could not give up leadership after the server was disabled');
        }),
      );
      return;
    }
    if (ip === this.instance.serverIp && !this.#serverDisabled() && !this.#leader.hasLeader()) {
      this.#track(this.#electIfNeeded());
    }
    if (this.#leader.isLeader()) this.#reshardInBackground(this.#membershipForcesResharding());
  }

  /** ElasticJob: with `staticSharding`, membership changes reshard only while nothing is assigned yet. */
  #membershipForcesResharding(): boolean {
    return !(this.#configuration.staticSharding && this.#cache.children(this.paths.sharding).length > 0);
  }

  #onLeaderChanged(event: RegistryEvent): void {
    if (event.type === 'DELETED') {
      this.#track(this.#electIfNeeded());
    } else if (event.value === this.instance.jobInstanceId && this.#sharding.needsResharding()) {
      this.#reshardInBackground();
    }
  }

  #serverDisabled(): boolean {
    return this.#cache.get(this.paths.server(this.instance.serverIp)) === 'DISABLED';
  }

  async #electIfNeeded(): Promise<void> {
    if (this.#state !== 'STARTED' || this.#suspended || this.#leader.hasLeader() || this.#serverDisabled())
      return;
    try {
      const leader = await this.#leader.electLeader();
      if (leader && this.#sharding.needsResharding()) this.#reshardInBackground();
    } catch (error) {
      this.#logger.error({ err: error }, 'leader election failed');
    }
  }

  #reshardInBackground(force = false): void {
    if (this.#suspended) return;
    this.#track(
      this.#sharding.requestResharding(force).catch((error: unknown) => {
        this.#logger.error({ err: error }, 'resharding failed');
      }),
    );
  }

  #track(promise: Promise<unknown>): void {
    this.#background.add(promise);
    void promise.finally(() => this.#background.delete(promise));
  }

  // ---------------------------------------------------------------- connection states

  #onConnectionState(state: RegistryConnectionState): void {
    switch (state) {
      case 'SUSPENDED':
        this.#suspended = true;
        this.#logger.warn('registry connection suspended: no new runs until it is back');
        return;
      case 'LOST':
        this.#suspended = true;
        this.#sessionEpoch++;
        this.#logger.warn('registry session lost: aborting running items');
        this.#runAbort?.abort(new Error('registry session lost'));
        return;
      case 'RECONNECTED':
        this.#suspended = false;
        this.#track(
          this.#reRegister().then(() => {
            // Fires missed while suspended count as one misfire: run once now (misfire policy).
            if (this.#pendingMisfire && this.#configuration.misfire && this.#running === undefined) {
              this.#pendingMisfire = false;
              this.#startRun({ kind: 'CRON' });
            }
          }),
        );
        return;
      default:
        return;
    }
  }

  async #reRegister(): Promise<void> {
    if (this.#state !== 'STARTED') return;
    try {
      await this.#servers.persistServerOnline(this.#localConfiguration.disabled);
      // Within the same session the ephemeral node is still there: replacing it would make peers
      // see this live instance disappear for a moment and fail its running items over.
      if (!(await this.#registry.isExisted(this.paths.instance(this.instance.jobInstanceId)))) {
        await this.#servers.persistInstanceOnline();
      }
      if (this.#running === undefined) await this.#execution.clearOwnRunningNodes();
      this.#sharding.invalidateAssignment();
      await this.#electIfNeeded();
      if (this.#leader.isLeader() && this.#sharding.needsResharding()) this.#reshardInBackground();
      this.#tryFailover();
      this.#logger.info('re-registered after reconnecting');
    } catch (error) {
      this.#logger.error({ err: error }, 're-registration after reconnecting failed');
    }
  }

  // ---------------------------------------------------------------- reconcile

  /** Arms the next reconcile, `reconcileIntervalMinutes` from now (none when <= 0). */
  #scheduleReconcile(): void {
    this.#nextReconcile?.cancel();
    this.#nextReconcile = undefined;
    const minutes = this.#configuration.reconcileIntervalMinutes;
    if (minutes <= 0 || this.#state !== 'STARTED') return;
    const dueMs = this.#timers.clock.now() + minutes * 60_000;
    this.#nextReconcile = this.#timers.scheduleAt(dueMs, () => {
      this.#scheduleReconcile();
      this.#track(this.#reconcile());
    });
  }

  /**
   * Reconcile (ElasticJob `ReconcileService`, reference §5.10, extended per the failover issue):
   * on the leader, reshard when items point at instances that are gone or unavailable and no
   * resharding is pending, and repair `running`/`failover`/`failovering` nodes whose owner is gone
   * (claimed by failover when it is on, deleted otherwise), so no stale node blocks the job.
   */
  async #reconcile(): Promise<void> {
    if (this.#state !== 'STARTED' || this.#suspended || !this.#leader.isLeader()) return;
    try {
      const config = this.#configuration;
      const staticLocked = config.staticSharding && this.#cache.children(this.paths.sharding).length > 0;
      if (!this.#sharding.isNeedSharding() && !staticLocked && this.#sharding.needsResharding()) {
        this.#logger.warn('reconcile: sharding points at instances that are gone; resharding');
        await this.#sharding.requestResharding(true);
      }
      if (config.failover) {
        this.#tryFailover();
        return;
      }
      const live = new Set(await this.#registry.getChildrenKeys(this.paths.instances));
      for (const name of await this.#registry.getChildrenKeys(this.paths.sharding)) {
        for (const node of ['running', 'failover', 'failovering'] as const) {
          const path = `${this.paths.sharding}/${name}/${node}`;
          const owner = await this.#registry.getDirectly(path);
          if (owner !== undefined && !live.has(owner)) {
            this.#logger.warn({ item: name, node, owner }, 'reconcile: removing a node whose owner is gone');
            await this.#registry.remove(path);
          }
        }
      }
    } catch (error) {
      this.#logger.error({ err: error }, 'reconcile failed');
    }
  }

  // ---------------------------------------------------------------- firing

  #scheduleNextFire(): void {
    this.#nextFire?.cancel();
    this.#nextFire = undefined;
    this.#nextFireTimeMs = undefined;
    if (this.#cron === undefined || this.#state !== 'STARTED') return;
    const now = this.#timers.clock.now();
    const next = this.#cron.next(new Date(now));
    if (next === undefined) {
      this.#logger.info('cron has no future fire time; the job will not fire again');
      return;
    }
    const fireTimeMs = next.getTime();
    this.#nextFireTimeMs = fireTimeMs;
    this.#nextFire = this.#timers.scheduleAt(fireTimeMs, () => this.#onFire(fireTimeMs));
  }

  #onFire(fireTimeMs: number): void {
    if (this.#state !== 'STARTED') return;
    this.#scheduleNextFire();
    if (this.#suspended) {
      this.#logger.warn({ fireTimeMs }, 'fire skipped: registry connection suspended');
      if (this.#configuration.misfire) this.#pendingMisfire = true;
      return;
    }
    if (this.#running !== undefined) {
      this.#logger.info({ fireTimeMs }, 'previous run still in progress: misfire');
      if (this.#configuration.misfire) {
        this.#pendingMisfire = true;
        const previous = this.#misfireWrite;
        const write = this.#flagMisfire().then(async (items) => [...(await previous), ...items]);
        this.#misfireWrite = write;
        this.#track(write);
      }
      return;
    }
    this.#startRun({ kind: 'CRON' });
  }

  /** Writes misfire flags for the local items; resolves with the items flagged (none on error). */
  async #flagMisfire(): Promise<number[]> {
    try {
      const items = await this.#sharding.localItems();
      await this.#execution.setMisfire(items);
      return items;
    } catch (error) {
      this.#logger.error({ err: error }, 'could not write misfire flags');
      return [];
    }
  }

  #onTrigger(): void {
    this.#track(
      this.#registry.remove(this.paths.trigger(this.instance.jobInstanceId)).catch((error: unknown) => {
        this.#logger.error({ err: error }, 'could not delete the trigger node');
      }),
    );
    if (this.#running !== undefined) {
      this.#pendingTrigger = true; // coalesced: one pending run, never dropped (ElasticJob TODO)
      return;
    }
    this.#startRun({ kind: 'TRIGGER' });
  }

  /**
   * Runs this instance's items once now (ElasticJob `triggerJob`), or after the current run if one
   * is in progress.
   */
  triggerLocally(): void {
    if (this.#state !== 'STARTED') return;
    if (this.#running !== undefined) this.#pendingTrigger = true;
    else this.#startRun({ kind: 'TRIGGER' });
  }

  /**
   * Asks every live instance of the job to run once (ElasticJob `triggerAllInstances`): writes
   * `trigger/{instanceId}` for each instance node present.
   */
  async triggerAllInstances(): Promise<void> {
    const ids = await this.#registry.getChildrenKeys(this.paths.instances);
    for (const id of ids) await this.#registry.persist(this.paths.trigger(id), '');
  }

  #startRun(reason: RunReason): void {
    const run = this.#runLoop(reason).finally(() => {
      this.#running = undefined;
      this.#waiters.notify();
      // ElasticJob `failoverIfNecessary` at the end of every run: a busy instance only queued
      // orphaned items; now that it is idle it claims them.
      this.#tryFailover();
    });
    this.#running = run;
  }

  async #runLoop(reason: RunReason): Promise<void> {
    let next: RunReason | undefined = reason;
    while (next !== undefined && this.#state === 'STARTED' && !this.#suspended) {
      if (next.kind === 'FAILOVER') await this.#executeFailoverRun(next.items);
      else await this.#executeRun(next.kind === 'MISFIRE');
      const misfireAfterFailover =
        next.kind === 'FAILOVER' && this.#pendingMisfire && this.#configuration.misfire;
      if (this.#pendingFailoverItems.length > 0) {
        next = { kind: 'FAILOVER', items: this.#pendingFailoverItems.splice(0) };
      } else if (this.#pendingTrigger) {
        this.#pendingTrigger = false;
        next = { kind: 'TRIGGER' };
      } else if (misfireAfterFailover) {
        next = { kind: 'MISFIRE' }; // the misfire deferred for the failover run
      } else {
        next = undefined;
      }
    }
  }

  /**
   * Claims orphaned and queued items if failover is on (serialized; a request during a claim
   * causes one more claim). Claimed items run at once, or right after the current run.
   */
  #tryFailover(): void {
    const config = this.#configuration;
    if (!config.failover || this.#state !== 'STARTED' || this.#suspended) return;
    if (this.#failoverClaim !== undefined) {
      this.#failoverClaimAgain = true;
      return;
    }
    const claim = (async () => {
      do {
        this.#failoverClaimAgain = false;
        const idle = this.#running === undefined;
        const capacity = getExecutorPoolSize(config.jobExecutorThreadPoolSizeProviderType);
        const includeOwnStale = this.#ownStaleRecoveryPending;
        const result = await this.#failover.claim(
          idle,
          capacity,
          (item) =>
            this.#runningItems.has(item) ||
            this.#failoverItemsInProgress.has(item) ||
            this.#pendingFailoverItems.includes(item),
          includeOwnStale,
        );
        if (includeOwnStale) this.#ownStaleRecoveryPending = false;
        if (result.claimed.length > 0) {
          this.#logger.info(
            { items: result.claimed, queued: result.queued },
            'failover: claimed orphaned items',
          );
          if (this.#running === undefined) this.#startRun({ kind: 'FAILOVER', items: result.claimed });
          else this.#pendingFailoverItems.push(...result.claimed);
        } else if (result.queued.length > 0) {
          this.#logger.info({ queued: result.queued }, 'failover: items queued for an idle instance');
        }
      } while (this.#failoverClaimAgain && this.#state === 'STARTED' && !this.#suspended);
    })();
    this.#failoverClaim = claim;
    this.#track(
      claim
        .catch((error: unknown) => {
          this.#logger.error({ err: error }, 'failover claim failed');
        })
        .finally(() => {
          this.#failoverClaim = undefined;
        }),
    );
  }

  /** A run of items claimed by failover: only those items, then their failover nodes are cleared. */
  async #executeFailoverRun(items: readonly number[]): Promise<void> {
    const abort = new AbortController();
    this.#runAbort = abort;
    const config = this.#configuration;
    const contexts = this.#contexts(config, items, abort.signal);
    try {
      this.#postStatus(contexts, 'FAILOVER', 'TASK_STAGING', `Job '${config.jobName}' execute begin.`);
      await this.#callListeners('before', contexts, false);
      // Until their failover nodes are cleared these items stay "running here" for claims, or a
      // claim in between would take this instance's own finished items for orphans.
      for (const item of items) this.#failoverItemsInProgress.add(item);
      try {
        await this.#executeItems(config, contexts, 'FAILOVER');
        await this.#failover.completeFailover(items);
      } finally {
        for (const item of items) this.#failoverItemsInProgress.delete(item);
      }
      await this.#callListeners('after', contexts, false);
    } catch (error) {
      this.#logger.error({ err: error, items }, 'failover run failed');
      await this.#handleError(error).catch((handlerError: unknown) => {
        this.#logger.error({ err: handlerError }, 'error handler rejected');
      });
    } finally {
      if (this.#runAbort === abort) this.#runAbort = undefined;
    }
  }

  /** One run (ElasticJob `ElasticJobExecutor.execute`, reference §5.6). Never rejects. */
  async #executeRun(misfireOnly = false): Promise<void> {
    const abort = new AbortController();
    this.#runAbort = abort;
    try {
      const config = this.#configuration;
      if (!(await this.#checkTimeDiff(config))) return;
      if (this.#sharding.isNeedSharding() || (this.#leader.isLeader() && this.#sharding.needsResharding())) {
        const settled = await this.#sharding.waitUntilSharded(this.#reshardingWaitTimeoutMs);
        if (!settled) {
          this.#logger.warn(
            `resharding still pending after ${this.#reshardingWaitTimeoutMs} ms; run skipped`,
          );
          return;
        }
      }
      let items = await this.#sharding.localItems();
      const skipped = new Set([
        ...this.#execution.disabledItems(items),
        ...this.#failover.itemsFailedOverElsewhere(items),
      ]);
      items = items.filter((item) => !skipped.has(item));
      if (config.monitorExecution) {
        const elsewhere = this.#execution.itemsRunningElsewhere(items);
        items = items.filter((item) => !elsewhere.includes(item));
      }
      const contexts = this.#contexts(config, items, abort.signal);
      this.#postStatus(contexts, 'NORMAL_TRIGGER', 'TASK_STAGING', `Job '${config.jobName}' execute begin.`);
      await this.#callListeners('before', contexts);
      if (!misfireOnly) await this.#executeItems(config, contexts, 'NORMAL_TRIGGER');
      // Misfire: re-run once, right after the overrun, for the items flagged while it ran.
      while (config.misfire && this.#pendingMisfire && !abort.signal.aborted && this.#state === 'STARTED') {
        // A dead instance's items go first: the misfire stays pending and runs after the failover run.
        if (config.failover && this.#failover.backlog() > 0) break;
        this.#pendingMisfire = false;
        if (this.#sharding.isNeedSharding()) break;
        const written = await this.#misfireWrite;
        this.#misfireWrite = Promise.resolve([]);
        const local = await this.#sharding.localItems();
        const flagged = [...new Set([...written, ...this.#execution.misfiredItems(local)])].filter((item) =>
          local.includes(item),
        );
        const misfired = flagged.length > 0 ? flagged.sort((a, b) => a - b) : local;
        await this.#execution.clearMisfire(flagged);
        const misfireContexts = this.#contexts(this.#configuration, misfired, abort.signal);
        await this.#executeItems(this.#configuration, misfireContexts, 'MISFIRE');
      }
      await this.#callListeners('after', contexts);
    } catch (error) {
      this.#logger.error({ err: error }, 'run failed');
      await this.#handleError(error).catch((handlerError: unknown) => {
        this.#logger.error({ err: handlerError }, 'error handler rejected');
      });
    } finally {
      if (this.#runAbort === abort) this.#runAbort = undefined;
    }
  }

  async #checkTimeDiff(config: ResolvedJobConfiguration): Promise<boolean> {
    if (config.maxTimeDiffSeconds < 0) return true;
    const registryTimeMs = await this.#registry.getRegistryCenterTime(this.paths.systemTime);
    const diffMs = Math.abs(this.#timers.clock.now() - registryTimeMs);
    const toleranceMs =
      config.maxTimeDiffSeconds * 1000 + this.#registry.capabilities.registryCenterTimeResolutionMs;
    if (diffMs <= toleranceMs) return true;
    const error = new JobSetupError(
      config.jobName,
      `Time different between job server and register center exceed '${config.maxTimeDiffSeconds}' seconds, max time different is '${Math.round(diffMs / 1000)}' seconds.`,
    );
    await this.#handleError(error);
    return config.jobErrorHandlerType !== 'THROW';
  }

  #contexts(
    config: ResolvedJobConfiguration,
    items: readonly number[],
    signal: AbortSignal,
  ): ShardingContexts {
    const parameters = parseShardingItemParameters(config.shardingItemParameters, config.shardingTotalCount);
    return {
      taskId: buildTaskId(config.jobName, items, this.instance.jobInstanceId),
      jobName: config.jobName,
      shardingTotalCount: config.shardingTotalCount,
      jobParameter: config.jobParameter,
      shardingItemParameters: new Map(items.map((item) => [item, parameters.get(item)])),
      signal,
    };
  }

  async #executeItems(
    config: ResolvedJobConfiguration,
    contexts: ShardingContexts,
    source: ExecutionSource,
  ): Promise<void> {
    const requested = [...contexts.shardingItemParameters.keys()];
    if (requested.length === 0) {
      this.#postStatus(
        contexts,
        source,
        'TASK_FINISHED',
        `Sharding item for job '${config.jobName}' is empty.`,
      );
      return;
    }
    const epoch = this.#sessionEpoch;
    for (const item of requested) this.#runningItems.add(item);
    let items: number[];
    try {
      items = config.monitorExecution ? await this.#execution.registerJobBegin(requested) : requested;
    } catch (error) {
      for (const item of requested) this.#runningItems.delete(item);
      throw error;
    }
    for (const item of requested) if (!items.includes(item)) this.#runningItems.delete(item);
    if (items.length === 0) {
      this.#postStatus(
        contexts,
        source,
        'TASK_FINISHED',
        `Sharding item for job '${config.jobName}' is empty.`,
      );
      return;
    }
    this.#postStatus(contexts, source, 'TASK_RUNNING', '');
    const runtime: JobRuntime = {
      configuration: config,
      isNeedSharding: async () => this.#sharding.isNeedSharding(),
    };
    const limit = getExecutorPoolSize(config.jobExecutorThreadPoolSizeProviderType);
    const failures = await runItemsConcurrently(items, limit, (item) =>
      this.#executeItem(contexts, item, source, runtime),
    );
    try {
      if (epoch !== this.#sessionEpoch) {
        // The session that wrote our running nodes is gone: others may own these items now.
        this.#logger.warn({ items }, 'session lost during the run: clearing only running nodes still ours');
        if (config.monitorExecution) await this.#execution.clearRunningNodesStillOwned(items);
      } else if (config.monitorExecution) {
        await this.#execution.registerJobCompleted(items);
      }
    } finally {
      for (const item of items) this.#runningItems.delete(item);
      if (failures.size === 0) {
        this.#postStatus(contexts, source, 'TASK_FINISHED', '');
      } else {
        const messages = [...failures].map(([item, error]) => `${item}=${errorMessage(error)}`).join(', ');
        this.#postStatus(contexts, source, 'TASK_ERROR', `{${messages}}`);
      }
    }
  }

  async #executeItem(
    contexts: ShardingContexts,
    item: number,
    source: ExecutionSource,
    runtime: JobRuntime,
  ): Promise<void> {
    const id = randomUUID();
    const startTimeMs = this.#timers.clock.now();
    const base = {
      kind: 'execution' as const,
      id,
      hostname: hostname(),
      ip: this.instance.serverIp,
      taskId: contexts.taskId,
      jobName: contexts.jobName,
      source,
      shardingItem: item,
      startTimeMs,
    };
    this.#events.post(base);
    try {
      await this.#itemExecutor.process(shardingContextOf(contexts, item), runtime);
      this.#events.post({ ...base, completeTimeMs: this.#timers.clock.now(), success: true });
    } catch (error) {
      this.#events.post({
        ...base,
        completeTimeMs: this.#timers.clock.now(),
        success: false,
        failureCause: error instanceof Error ? (error.stack ?? error.message) : String(error),
      });
      await this.#handleError(error).catch((handlerError: unknown) => {
        this.#logger.error({ err: handlerError, item }, 'error handler rejected');
      });
      throw error;
    }
  }

  async #callListeners(
    phase: 'before' | 'after',
    contexts: ShardingContexts,
    includeDistributeOnce = true,
  ): Promise<void> {
    if (contexts.shardingItemParameters.size === 0) return;
    for (const listener of this.#listeners) {
      if (!includeDistributeOnce && listener instanceof DistributeOnceJobListener) continue;
      try {
        if (phase === 'before') await listener.beforeJobExecuted(contexts);
        else await listener.afterJobExecuted(contexts);
      } catch (error) {
        await this.#handleError(error);
      }
    }
  }

  async #handleError(error: unknown): Promise<void> {
    if (this.#errorHandler === undefined) {
      this.#logger.error({ err: error }, 'job error');
      return;
    }
    await this.#errorHandler.handleException(this.paths.jobName, error);
  }

  #postStatus(
    contexts: ShardingContexts,
    source: ExecutionSource,
    state: JobRunState,
    message: string,
  ): void {
    this.#events.post({
      kind: 'status',
      id: randomUUID(),
      jobName: contexts.jobName,
      taskId: contexts.taskId,
      slaveId: this.instance.serverIp,
      source,
      executionType: 'READY',
      shardingItems: [...contexts.shardingItemParameters.keys()],
      state,
      message,
      creationTimeMs: this.#timers.clock.now(),
    });
  }

  // ---------------------------------------------------------------- shutdown

  /**
   * Stops the job on this instance: no more fires, running items' signals aborted and awaited up
   * to `shutdownTimeoutMs`, leadership given up, the instance node removed, the watch and every
   * timer released. The registry client is left open (it is the caller's). Idempotent.
   */
  async shutdown(): Promise<void> {
    if (this.#state === 'SHUT_DOWN' || this.#state === 'SHUTTING_DOWN') {
      while (this.#state !== 'SHUT_DOWN')
        await this.#waiters.waitFor(() => this.#state === 'SHUT_DOWN', 1000);
      return;
    }
    const wasStarted = this.#state === 'STARTED';
    this.#state = 'SHUTTING_DOWN';
    this.#nextFire?.cancel();
    this.#nextFire = undefined;
    this.#nextFireTimeMs = undefined;
    this.#nextReconcile?.cancel();
    this.#nextReconcile = undefined;
    this.#unsubscribeState?.();
    this.#runAbort?.abort(new Error(`job '${this.paths.jobName}' is shutting down`));
    this.#waiters.cancelAll(); // bounded waits inside the run (resharding, guarantee) end now
    this.#sharding.close();
    const running = this.#running;
    if (running !== undefined) {
      const drained = await Promise.race([
        running.then(() => true),
        new Promise<boolean>((resolve) => {
          const timer = this.#timers.clock.setTimeout(() => resolve(false), this.#shutdownTimeoutMs, {
            unref: true,
          });
          void running.finally(() => timer.cancel());
        }),
      ]);
      if (!drained) this.#logger.warn(`running items did not finish within ${this.#shutdownTimeoutMs} ms`);
    }
    this.#waiters.cancelAll();
    await Promise.allSettled([...this.#background]);
    if (wasStarted) {
      const results = await Promise.allSettled([this.#leader.abdicate(), this.#servers.removeInstance()]);
      for (const result of results) {
        if (result.status === 'rejected')
          this.#logger.error({ err: result.reason }, 'shutdown cleanup failed');
      }
    }
    await this.#cache.close();
    await Promise.resolve(this.#errorHandler?.close?.()).catch(() => {});
    this.#unsubscribeEvents?.();
    await this.#events.close();
    this.#state = 'SHUT_DOWN';
    this.#logger.info('job shut down');
  }
}

/** Checks the type names a configuration refers to against the registries (names the field). */
function validateRuntimeTypes(config: ResolvedJobConfiguration): void {
  getJobShardingStrategy(config.jobShardingStrategyType);
  getExecutorPoolSize(config.jobExecutorThreadPoolSizeProviderType);
}

/** The process's IANA time zone (ElasticJob: the JVM default zone), used when `timeZone` is unset. */
function processTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
