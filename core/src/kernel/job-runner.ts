/**
 * Wires one job on one job instance: builds every service by constructor injection, starts them
 * in order, routes the job subtree's registry events to the service that owns each path, and
 * shuts everything down. The services hold the behaviour; this file holds only the wiring and the
 * lifecycle. See `docs/architecture.md` for the registry layout and the events between services.
 *
 * @module
 */

import { randomUUID } from 'node:crypto';
import type { JobConfiguration, ResolvedJobConfiguration } from '../config/index.js';
import { JobConfigurationError } from '../config/job-configuration-error.js';
import { JobEventBus, type JobEventListener } from '../event/index.js';
import { detectLocalIp, type JobInstance } from '../instance/index.js';
import type { ElasticJob } from '../job/elastic-job.js';
import { createDefaultLogger, type Logger } from '../logging/logger.js';
import type { CoordinatorRegistryCenter } from '../registry/registry-center.js';
import { logBackgroundFailure } from './background-failure.js';
import { ConditionWaiters } from './condition-waiters.js';
import { ConfigurationService } from './config/configuration-service.js';
import { CoordinationQueue, type CoordinationTurn } from './coordination-queue.js';
import { LeaderService } from './election/leader-service.js';
import { AdmissionService } from './execution/admission-service.js';
import { ExecutionService } from './execution/execution-service.js';
import { OwnItemWrites } from './execution/own-item-writes.js';
import { RunAbortReason, RunExecutor } from './execution/run-executor.js';
import { RunLanes } from './execution/run-lanes.js';
import { FailoverCoordinator } from './failover/failover-coordinator.js';
import { FailoverService } from './failover/failover-service.js';
import { GuaranteeService } from './guarantee/guarantee-service.js';
import { ServerService } from './instance/server-service.js';
import { SessionService } from './instance/session-service.js';
import { type JobBootstrapOptions, MAX_FAILOVER_RESERVED_SLOTS } from './job-bootstrap-options.js';
import { JobCache } from './job-cache.js';
import { type JobContext, withinMs } from './job-context.js';
import { JobNodePath } from './job-node-path.js';
import { JobSetupError } from './job-setup-error.js';
import { MisfireListener } from './misfire/misfire-listener.js';
import { ReconcileService } from './reconcile/reconcile-service.js';
import { RegistryEventRouter } from './registry-event-router.js';
import { ShardingService } from './sharding/sharding-service.js';
import { getDefaultTimerService, type TimerService } from './timer-service.js';
import { AdmissionLead } from './trigger/admission-lead.js';
import { FireScheduler } from './trigger/fire-scheduler.js';
import { TriggerService } from './trigger/trigger-service.js';

/** Lifecycle of a {@link JobRunner}. */
export type JobRunnerState = 'NEW' | 'STARTING' | 'STARTED' | 'SHUTTING_DOWN' | 'SHUT_DOWN';

/** Bound of each registry clean-up step of a shutdown, in ms. */
const CLEANUP_BOUND_MS = 500;

/** One job on one job instance. Used through the bootstraps. */
export class JobRunner {
  readonly paths: JobNodePath;
  readonly instance: JobInstance;
  readonly #registry: CoordinatorRegistryCenter;
  readonly #execution: ExecutionService;
  readonly #logger: Logger;
  readonly #timers: TimerService;
  readonly #waiters: ConditionWaiters;
  readonly #cache: JobCache;
  readonly #events: JobEventBus;
  readonly #config: ConfigurationService;
  readonly #servers: ServerService;
  readonly #session: SessionService;
  readonly #leader: LeaderService;
  readonly #sharding: ShardingService;
  /** This job's turn on the process's coordination queue (elections, resharding passes). */
  readonly #turn: CoordinationTurn;
  /** The pending election of this instance, if any (callers join it). */
  #election: Promise<void> | undefined;
  readonly #failover: FailoverCoordinator;
  readonly #guarantee: GuaranteeService;
  readonly #lanes: RunLanes;
  readonly #fires: FireScheduler;
  readonly #triggers: TriggerService;
  readonly #reconcile: ReconcileService;
  readonly #router: RegistryEventRouter;
  readonly #shutdownTimeoutMs: number;
  readonly #scheduled: boolean;
  readonly #background = new Set<Promise<unknown>>();
  #unsubscribeEvents: (() => void) | undefined;
  #state: JobRunnerState = 'NEW';

  /**
   * @throws {JobConfigurationError} for invalid configuration or options (naming the field).
   * @throws {JobSetupError} for a cron on a one-off job, a missing cron on a scheduled one, or an
   *   invalid `instanceId`.
   */
  constructor(
    registry: CoordinatorRegistryCenter,
    job: ElasticJob,
    configuration: JobConfiguration,
    options: JobBootstrapOptions,
    scheduled: boolean,
  ) {
    this.#registry = registry;
    this.#scheduled = scheduled;
    this.#config = new ConfigurationService(job, configuration, scheduled, options.listeners ?? []);
    const jobName = this.#config.local.jobName;
    this.paths = new JobNodePath(jobName);
    const serverIp = options.serverIp ?? detectLocalIp();
    this.instance = { jobInstanceId: options.instanceId ?? `${serverIp}@-@${process.pid}`, serverIp };
    if (this.instance.jobInstanceId === '' || this.instance.jobInstanceId.includes('/')) {
      throw new JobSetupError(
        jobName,
        `instanceId '${this.instance.jobInstanceId}' must be non-empty and contain no '/'`,
      );
    }
    const reserved = options.failoverReservedSlots ?? 4;
    if (!Number.isInteger(reserved) || reserved < 0 || reserved > MAX_FAILOVER_RESERVED_SLOTS) {
      throw new JobConfigurationError(
        'failoverReservedSlots',
        `failoverReservedSlots must be an integer in 0..${MAX_FAILOVER_RESERVED_SLOTS}, got ${String(reserved)}`,
        { jobName },
      );
    }
    this.#logger = (options.logger ?? createDefaultLogger()).child({
      jobName,
      instanceId: this.instance.jobInstanceId,
    });
    this.#timers = options.timerService ?? getDefaultTimerService();
    this.#waiters = new ConditionWaiters(this.#timers.clock);
    const reshardingWaitTimeoutMs = options.reshardingWaitTimeoutMs ?? 30_000;
    this.#shutdownTimeoutMs = options.shutdownTimeoutMs ?? 30_000;
    this.#events = new JobEventBus({ logger: this.#logger });
    if (options.onEvent) this.#unsubscribeEvents = this.#events.subscribe(options.onEvent);
    this.#cache = new JobCache(registry, this.paths.root, (event) => this.#router.route(event));
    const context: JobContext = {
      registry,
      paths: this.paths,
      cache: this.#cache,
      waiters: this.#waiters,
      instance: this.instance,
      logger: this.#logger,
      clock: this.#timers.clock,
      events: this.#events,
      newId: options.idGenerator ?? randomUUID,
      configuration: () => this.#config.current,
      isShutdown: () => this.#state === 'SHUTTING_DOWN' || this.#state === 'SHUT_DOWN',
    };
    const track = (work: Promise<unknown>) => this.#track(work);
    this.#servers = new ServerService(context);
    this.#leader = new LeaderService(context, this.#servers);
    // Elections and reshardings of this process's jobs take turns, the job firing soonest first.
    const coordination = CoordinationQueue.of(this.#timers);
    this.#turn = (task, dueMs) =>
      coordination.run(dueMs ?? this.#fires.nextFireTimeMs ?? Number.POSITIVE_INFINITY, task);
    this.#sharding = new ShardingService(context, this.#servers, this.#leader, this.#turn);
    this.#session = new SessionService(
      context,
      this.#servers,
      this.#config.local.disabled,
      reshardingWaitTimeoutMs,
      {
        onLost: () => this.#lanes.abortAll(new RunAbortReason('SESSION_LOST', 'registry session lost')),
        onReRegistered: (afterLoss) => this.#onReRegistered(afterLoss),
        onAdmissionOpen: () => {
          this.#failover.tryFailover(true); // claims the session could not use are taken up again
          this.#lanes.requestMisfireIfPending(); // fires missed while away count as one misfire
        },
        invalidateAssignment: () => this.#sharding.invalidateAssignment(),
      },
      (timeoutMs) => this.#sharding.waitForFlagCleared(timeoutMs),
    );
    // Both the admission gate and the running-mark clears write items' nodes; what they committed
    // guides the next admission while the watch events of those writes are on their way.
    const ownWrites = new OwnItemWrites();
    const execution = new ExecutionService(context, ownWrites);
    this.#execution = execution;
    const failover = new FailoverService(context);
    this.#guarantee = new GuaranteeService(context);
    const lead = AdmissionLead.of(this.#timers);
    const executor = new RunExecutor(
      context,
      new AdmissionService(context, this.#servers, this.#session, ownWrites),
      execution,
      failover,
      this.#session,
      {
        listeners: () => this.#config.listeners,
        itemExecutor: () => this.#config.itemExecutor,
        handleError: (error) => this.#handleError(error),
        isNeedSharding: () => this.#sharding.isNeedSharding(),
      },
      track,
      this.#timers,
      lead,
    );
    this.#lanes = new RunLanes(
      context,
      executor,
      this.#sharding,
      execution,
      this.#session,
      {
        failoverReservedSlots: reserved,
        reshardingWaitTimeoutMs,
        awaitLeader: async () => {
          // Every run asks: the usual answer (a leader in the cache) costs no timer.
          if (this.#leader.hasLeader()) return;
          await withinMs(this.#timers.clock, this.#electIfNeeded(), reshardingWaitTimeoutMs);
        },
        poolSize: () => this.#config.poolSize(),
        onIdle: () => this.#failover.tryFailover(),
        onRunEnded: () => {
          if (this.#failover.claimWanted()) this.#failover.tryFailover(); // a claim reads every item
        },
      },
      track,
    );
    this.#failover = new FailoverCoordinator(context, failover, this.#lanes, executor, this.#session, track);
    this.#fires = new FireScheduler(
      context,
      this.#timers,
      this.#lanes,
      () => this.#config.cron,
      () => this.#state === 'STARTED',
      lead,
    );
    this.#triggers = new TriggerService(context, this.#lanes, track);
    this.#reconcile = new ReconcileService(
      context,
      this.#timers,
      this.#leader,
      this.#sharding,
      this.#failover,
      this.#session,
      track,
    );
    this.#router = new RegistryEventRouter(context, {
      started: () => this.#state === 'STARTED',
      suspended: () => this.#session.suspended,
      config: this.#config,
      servers: this.#servers,
      leader: this.#leader,
      sharding: this.#sharding,
      session: this.#session,
      failover: this.#failover,
      failoverState: failover,
      guarantee: this.#guarantee,
      misfire: new MisfireListener(context, this.#lanes),
      triggers: this.#triggers,
      fires: this.#fires,
      reconcile: this.#reconcile,
      refreshRunComponents: () => this.#config.refreshRunComponents(this.#logger, this.#guarantee, track),
      electIfNeeded: () => this.#electIfNeeded(),
      shutdownOnCommand: (reason) => this.#shutdownOnCommand(reason),
      track,
    });
  }

  get configuration(): ResolvedJobConfiguration {
    return this.#config.current;
  }
  get nextFireTimeMs(): number | undefined {
    return this.#fires.nextFireTimeMs;
  }
  get failoverBacklog(): number {
    return this.#failover.backlog();
  }
  isLeader(): boolean {
    return this.#leader.isLeader();
  }
  subscribe(listener: JobEventListener): () => void {
    return this.#events.subscribe(listener);
  }
  triggerAllInstances(): Promise<void> {
    return this.#triggers.triggerAllInstances();
  }

  /**
   * Registers the job and starts firing (see `ScheduleJobBootstrap.schedule`).
   *
   * @throws {JobSetupError} on a job class conflict, an invalid registry configuration, or a second start.
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
      await this.#config.setUp(this.#registry, this.paths);
      this.#config.refreshRunComponents(this.#logger, this.#guarantee, (work) => this.#track(work));
      await this.#cache.start();
      // A shutdown command left for a previous run of this instance id does not apply to this one.
      await this.#registry.remove(this.paths.shutdownCommand(this.instance.jobInstanceId));
      await this.#servers.persistServerOnline(this.#config.local.disabled);
      await this.#servers.persistInstanceOnline();
      await this.#waiters.waitFor(
        () => this.#servers.isLocalInstanceAvailable() || this.#router.serverDisabled(),
        10_000,
      );
      this.#session.listen((work) => this.#track(work));
      this.#state = 'STARTED';
      this.#track(this.#execution.clearLeftoversAtStart((item) => this.#lanes.holds(item)));
      await this.#electIfNeeded();
      if (this.#scheduled) this.#fires.schedule();
      this.#router.applyConfigurationChangedDuringStart();
      this.#reconcile.schedule();
      this.#failover.tryFailover(true);
      this.#logger.info(
        { cron: this.#config.current.cron, shardingTotalCount: this.#config.current.shardingTotalCount },
        'job started',
      );
    } catch (error) {
      this.#state = 'SHUT_DOWN';
      this.#fires.cancel();
      this.#session.close();
      await this.#servers.withdrawInstance();
      await this.#cache.close().catch((e: unknown) => this.#logger.warn({ err: e }, 'job cache not closed'));
      throw error;
    }
  }

  async #onReRegistered(afterLoss: boolean): Promise<void> {
    await this.#execution.clearOwnRunningNodes((item) => this.#lanes.holds(item));
    this.#sharding.invalidateAssignment();
    await this.#electIfNeeded();
    // After a loss the returning instance needs a resharding committed after its return.
    if (this.#leader.isLeader() && (afterLoss || this.#sharding.needsResharding()))
      this.#router.reshardInBackground(afterLoss);
  }

  /**
   * Elects when the job has no leader, in the job's turn; a call while an election is pending joins
   * it. Never rejects (a failed election is logged; the next leader event or fire tries again).
   */
  #electIfNeeded(): Promise<void> {
    if (
      this.#state !== 'STARTED' ||
      this.#session.suspended ||
      this.#leader.hasLeader() ||
      this.#router.serverDisabled()
    )
      return Promise.resolve();
    if (this.#election !== undefined) return this.#election;
    const election = (async () => {
      try {
        const leader = await this.#turn(() => this.#leader.electLeader());
        if (leader && this.#sharding.needsResharding()) this.#router.reshardInBackground();
      } catch (error) {
        logBackgroundFailure(
          {
            logger: this.#logger,
            isShutdown: () => this.#state === 'SHUTTING_DOWN' || this.#state === 'SHUT_DOWN',
          },
          error,
          'leader election failed',
        );
      }
    })().finally(() => {
      if (this.#election === election) this.#election = undefined;
    });
    this.#election = election;
    return election;
  }

  async #handleError(error: unknown): Promise<void> {
    const handler = this.#config.errorHandler;
    if (handler === undefined) {
      this.#logger.error({ err: error }, 'job error');
      return;
    }
    await handler.handleException(this.paths.jobName, error);
  }

  #track(promise: Promise<unknown>): void {
    this.#background.add(promise);
    void promise.finally(() => this.#background.delete(promise));
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

  /**
   * Stops the job on this instance: no more fires, running items' signals aborted and awaited up
   * to `shutdownTimeoutMs`, then registry clean-up (leadership, instance node) bounded; with the
   * registry unreachable the clean-up is skipped and logged (the session's expiry does it). The
   * watch, every timer and the event bus are released. The registry client stays open. Idempotent.
   */
  async shutdown(): Promise<void> {
    if (this.#state === 'SHUT_DOWN' || this.#state === 'SHUTTING_DOWN') {
      while (this.#state !== 'SHUT_DOWN')
        await this.#waiters.waitFor(() => this.#state === 'SHUT_DOWN', 1000);
      return;
    }
    const wasStarted = this.#state === 'STARTED';
    this.#state = 'SHUTTING_DOWN';
    const clock = this.#timers.clock;
    this.#fires.cancel();
    this.#reconcile.cancel();
    this.#session.close();
    this.#lanes.close(new RunAbortReason('SHUTDOWN', `job '${this.paths.jobName}' is shutting down`));
    this.#waiters.cancelAll(); // bounded waits inside runs (resharding, guarantee) end now
    this.#sharding.close();
    const drained = await withinMs(
      clock,
      this.#lanes.drained().then(() => true),
      this.#shutdownTimeoutMs,
    );
    if (drained === undefined)
      this.#logger.warn(`running items did not finish within ${this.#shutdownTimeoutMs} ms`);
    this.#waiters.cancelAll();
    await withinMs(clock, Promise.allSettled([...this.#background]), CLEANUP_BOUND_MS);
    if (wasStarted) {
      // While the session lasts (a partition shorter than the session timeout), leadership and the
      // instance node stay unless removed: the withdrawal is retried when the connection is back.
      const withdrawn = await withinMs(
        clock,
        this.#servers.withdrawInstance(() => this.#leader.abdicate()).then(() => true),
        CLEANUP_BOUND_MS * 2,
      );
      if (withdrawn === undefined) {
        this.#logger.info(
          `registry did not answer within ${CLEANUP_BOUND_MS * 2} ms: skipped releasing leadership and removing the instance node; retried when the connection is back in this session, else the session expiry removes them`,
        );
      }
    }
    await withinMs(clock, this.#cache.close(), CLEANUP_BOUND_MS);
    await Promise.resolve(this.#config.errorHandler?.close?.()).catch(() => {});
    this.#unsubscribeEvents?.();
    await this.#events.close();
    this.#state = 'SHUT_DOWN';
    this.#logger.info('job shut down');
  }
}
