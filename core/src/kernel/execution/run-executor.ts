/**
 * One run of one job instance (ElasticJob `ElasticJobExecutor.execute`): staging, `before`
 * listeners, admission, user code per item (with its fencing token), running marks cleared,
 * `after` listeners, and the status trace. A run admitted under a session that has since ended
 * never calls user code; an abort the operator asked for (shutdown) is not an error.
 *
 * @module
 */
import { hostname } from 'node:os';
import { parseShardingItemParameters } from '../../config/index.js';
import type { ResolvedJobConfiguration } from '../../config/job-configuration.js';
import {
  createJobExecutionEvent,
  createJobStatusTraceEvent,
  type ExecutionSource,
  type JobRunState,
  jobExecutionFailed,
  jobExecutionSucceeded,
} from '../../event/index.js';
import { getExecutorPoolSize, runItemsConcurrently } from '../../executor/index.js';
import type { JobItemExecutor, JobRuntime } from '../../job/elastic-job.js';
import {
  buildTaskId,
  RunShardingContexts,
  type ShardingContexts,
  shardingContextOf,
} from '../../job/sharding-context.js';
import type { ElasticJobListener } from '../../listener/index.js';
import { DistributeOnceJobListener } from '../../listener/index.js';
import type { FailoverService } from '../failover/failover-service.js';
import type { SessionService } from '../instance/session-service.js';
import { type JobContext, withinMs } from '../job-context.js';
import { JobSetupError } from '../job-setup-error.js';
import type { TimerService } from '../timer-service.js';
import type { AdmissionLead } from '../trigger/admission-lead.js';
import type { Admission, AdmissionService } from './admission-service.js';
import type { ExecutionService } from './execution-service.js';
import type { RunAbort } from './run-abort.js';

/** What caused a run. */
export type RunKind = 'CRON' | 'TRIGGER' | 'MISFIRE' | 'FAILOVER';

/** Why a run's signal was aborted. */
export class RunAbortReason extends Error {
  /** @param cause - `SHUTDOWN` (asked for by the operator) or `SESSION_LOST`. */
  constructor(
    readonly abortCause: 'SHUTDOWN' | 'SESSION_LOST',
    message: string,
  ) {
    super(message);
    this.name = 'RunAbortReason';
  }
}

/** The run components that change with the configuration. */
export interface RunComponents {
  listeners(): readonly ElasticJobListener[];
  itemExecutor(): JobItemExecutor;
  handleError(error: unknown): Promise<void>;
  isNeedSharding(): boolean;
}

/** Bound of registry bookkeeping at the end of a run while the job shuts down, in ms. */
const SHUTDOWN_BOOKKEEPING_BOUND_MS = 500;

/** What an item that is not started hands back to its run (one settled promise for all). */
const NOTHING_TO_AWAIT: Promise<void> = Promise.resolve();

/** This host's name, read once (a system call per execution event cost 2.5 % of the simulator's CPU). */
const HOSTNAME = hostname();

/** What every item of one run is started with. */
interface ItemsRun {
  readonly contexts: ShardingContexts;
  readonly abort: RunAbort;
  readonly source: ExecutionSource;
  readonly runtime: JobRuntime;
}

/** Executes runs; reserves items locally so two runs of this instance never run one item. */
export class RunExecutor {
  readonly #reserved = new Set<number>();
  #parsedParameters: { config: ResolvedJobConfiguration; parameters: Map<number, string> } | undefined;
  #runtimeOf: JobRuntime | undefined;
  readonly #isNeedSharding = async (): Promise<boolean> => this.components.isNeedSharding();

  constructor(
    private readonly context: JobContext,
    private readonly admission: AdmissionService,
    private readonly execution: ExecutionService,
    private readonly failover: FailoverService,
    private readonly session: SessionService,
    private readonly components: RunComponents,
    /** Keeps background work (bookkeeping that outlived its session) for the shutdown to await. */
    private readonly track: (work: Promise<unknown>) => void,
    /** Waits for a cron run's scheduled time when it was prepared ahead of it. */
    private readonly timers: TimerService,
    /** Learns how long a cron run's preparation takes (the fire's timer goes off that far ahead). */
    private readonly lead: AdmissionLead,
  ) {}

  /** Whether some run of this instance holds `item` now. */
  runningHere(item: number): boolean {
    return this.#reserved.has(item);
  }

  /**
   * Runs `candidates` as a run of `kind`. Never rejects.
   *
   * @param scheduledFireTimeMs - for a `CRON` run, the scheduled time of the fire it serves.
   * @returns the admission (undefined when the run stopped before it).
   */
  async execute(
    kind: RunKind,
    candidates: readonly number[],
    abort: RunAbort,
    scheduledFireTimeMs?: number,
  ): Promise<Admission | undefined> {
    const config = this.context.configuration();
    const source: ExecutionSource =
      kind === 'FAILOVER' ? 'FAILOVER' : kind === 'MISFIRE' ? 'MISFIRE' : 'NORMAL_TRIGGER';
    const epoch = this.session.epoch;
    const preparedFromMs = this.context.clock.now();
    if (abort.aborted) {
      // Created after the job began to shut down (a claim or fire already on its way): nothing is
      // admitted or started, and failover claims are given up for another instance to take.
      if (kind === 'FAILOVER') await this.#releaseClaims(candidates, undefined, epoch);
      return undefined;
    }
    // Off by default (`maxTimeDiffSeconds: -1`): no registry read, and no await, on each fire.
    if (kind !== 'FAILOVER' && config.maxTimeDiffSeconds >= 0 && !(await this.#checkTimeDiff(config)))
      return undefined;
    const mode = kind === 'FAILOVER' ? 'FAILOVER' : 'OWN';
    const { eligible, refused: prechecked } = this.admission.precheck(mode, candidates);
    const mine = eligible.filter((item) => !this.#reserved.has(item));
    for (const item of mine) this.#reserved.add(item);
    const held = new Set(mine);
    const release = (items: Iterable<number>) => {
      for (const item of items) if (held.delete(item)) this.#reserved.delete(item);
    };
    try {
      const staged = this.#contexts(config, mine, abort, scheduledFireTimeMs);
      if (mine.length === 0) {
        if (kind === 'FAILOVER') await this.#releaseClaims(candidates, undefined, epoch);
        // Refused from the cache alone (an operator's `disabled` flag is not news on every fire).
        const notDisabled = [...prechecked].filter(([, why]) => why !== 'disabled');
        if (notDisabled.length > 0)
          this.context.logger.info({ refused: Object.fromEntries(notDisabled), kind }, 'items not admitted');
        this.#postStatus(
          staged,
          source,
          'TASK_FINISHED',
          `Sharding item for job '${config.jobName}' is empty.`,
        );
        return { admitted: new Map(), refused: prechecked, epoch };
      }
      this.#postStatus(staged, source, 'TASK_STAGING', `Job '${config.jobName}' execute begin.`);
      if (this.#hasListeners(staged)) await this.#callListeners('before', staged, kind !== 'FAILOVER');
      let admission: Admission | undefined;
      try {
        admission = await this.admission.admit(mode, mine, epoch, scheduledFireTimeMs);
        for (const [item, why] of prechecked) (admission.refused as Map<number, string>).set(item, why);
        release(admission.refused.keys());
        if (admission.abandoned !== undefined)
          await this.#bookkeeping(this.execution.clearRunningNodesStillOwned(admission.abandoned), epoch);
        if (kind === 'FAILOVER') await this.#releaseClaims(candidates, admission, epoch);
        const items = [...admission.admitted.keys()];
        if (admission.refused.size > 0)
          this.context.logger.info(
            { refused: Object.fromEntries(admission.refused), kind },
            'items not admitted',
          );
        // The staged contexts when every staged item was admitted (the usual fire): the same values.
        const contexts = sameItems(staged, items)
          ? staged
          : this.#contexts(config, items, abort, scheduledFireTimeMs);
        if (kind === 'CRON' && scheduledFireTimeMs !== undefined) {
          this.lead.record(this.context.clock.now() - preparedFromMs);
          // Prepared ahead of the fire: user code starts at the scheduled time, not before.
          if (items.length > 0) await this.#untilFire(scheduledFireTimeMs, abort);
        }
        if (items.length === 0) {
          const why = [...new Set(admission.refused.values())].join('; ');
          this.#postStatus(
            staged,
            source,
            'TASK_FINISHED',
            `Sharding item for job '${config.jobName}' is empty.${why === '' ? '' : ` Not admitted: ${why}.`}`,
          );
        } else if (epoch !== this.session.epoch) {
          await this.#bookkeeping(this.execution.clearRunningNodesStillOwned(admission.admitted), epoch);
          this.#postStatus(
            contexts,
            source,
            'TASK_FINISHED',
            `Run dropped before it started: the registry session it was admitted under has ended.`,
          );
        } else {
          await this.#runItems(config, contexts, abort, source, admission, epoch);
          // A run of the item here also ends a claim of this instance on it that a failover run
          // could not clear (its bookkeeping failed while the connection was away).
          const claimed = kind === 'FAILOVER' ? items : this.#claimedHere(items);
          if (claimed.length > 0) await this.#bookkeeping(this.failover.completeFailover(claimed), epoch);
        }
      } finally {
        if (this.#hasListeners(staged)) await this.#callListeners('after', staged, kind !== 'FAILOVER');
      }
      return admission;
    } catch (error) {
      this.context.logger.error({ err: error, kind }, 'run failed');
      await this.components.handleError(error).catch((handlerError: unknown) => {
        this.context.logger.error({ err: handlerError }, 'error handler rejected');
      });
      return undefined;
    } finally {
      release([...held]);
    }
  }

  /** Resolves at `fireTimeMs` on the clock (at once if past), or when the run is aborted. */
  #untilFire(fireTimeMs: number, abort: RunAbort): Promise<void> {
    if (abort.aborted || this.context.clock.now() >= fireTimeMs) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = this.timers.scheduleAt(fireTimeMs, () => {
        stopListening();
        resolve();
      });
      const stopListening = abort.onAbort(() => {
        timer.cancel();
        resolve();
      });
    });
  }

  /** Items of `items` whose `failover` node names this instance (cache). */
  #claimedHere(items: readonly number[]): number[] {
    const { cache, paths, instance } = this.context;
    return items.filter((item) => cache.get(paths.shardingNode(item, 'failover')) === instance.jobInstanceId);
  }

  /**
   * Gives up the failover claims of items a failover run will not execute (running elsewhere,
   * here in another run, reassigned): otherwise their `failover` nodes would keep the owner's
   * runs out while this instance lives. Not when the session failed the admission: the claims
   * stay, and the first claim after the re-registration takes them up again.
   */
  async #releaseClaims(candidates: readonly number[], admission: Admission | undefined, epoch: number) {
    if (epoch !== this.session.epoch || !this.session.admissionOpen) return;
    const unrun = candidates.filter((item) => admission?.admitted.has(item) !== true);
    if (unrun.length === 0) return;
    await this.#bookkeeping(this.failover.completeFailover(unrun), epoch).catch((error: unknown) => {
      this.context.logger.warn({ err: error, items: unrun }, 'could not give up failover claims');
    });
  }

  async #runItems(
    config: ResolvedJobConfiguration,
    contexts: ShardingContexts,
    abort: RunAbort,
    source: ExecutionSource,
    admission: Admission,
    epoch: number,
  ): Promise<void> {
    const items = [...admission.admitted.keys()];
    this.#postStatus(contexts, source, 'TASK_RUNNING', '');
    const run: ItemsRun = { contexts, abort, source, runtime: this.#runtime(config) };
    const dropped: number[] = [];
    const limit = getExecutorPoolSize(config.jobExecutorThreadPoolSizeProviderType);
    // A queued item of a run aborted meanwhile (shutdown, LOST) or admitted under a session that
    // has ended never calls user code. A monitored item (fencing token > 0) also waits for the
    // registry's word that the session is still held: a process resuming from a long freeze would
    // otherwise start it before its client noticed the loss. Answered at once in the usual case:
    // user code then starts in the turn of the fire, with no async layer of ours in between.
    const failures = await runItemsConcurrently(items, limit, (item) => {
      const token = admission.admitted.get(item)?.token ?? 0;
      const startable = abort.aborted ? false : this.session.startableNow(epoch, token > 0);
      if (startable === true) return this.#executeItem(run, item, token);
      if (startable === false) {
        dropped.push(item);
        return NOTHING_TO_AWAIT;
      }
      return this.#executeWhenStartable(run, item, token, epoch, dropped);
    });
    if (epoch !== this.session.epoch) {
      this.context.logger.warn(
        { items },
        'session lost during the run: clearing only running nodes still ours',
      );
      await this.#bookkeeping(this.execution.clearRunningNodesStillOwned(admission.admitted), epoch);
    } else {
      await this.#bookkeeping(this.execution.registerJobCompleted(admission.admitted), epoch);
    }
    const shutdownAbort = isShutdownAbort(abort);
    const real = [...failures].filter(() => !shutdownAbort);
    if (real.length > 0) {
      const messages = real.map(([item, error]) => `${item}=${errorMessage(error)}`).join(', ');
      this.#postStatus(contexts, source, 'TASK_ERROR', `{${messages}}`);
    } else if (shutdownAbort) {
      this.#postStatus(
        contexts,
        source,
        'TASK_FINISHED',
        `Job '${config.jobName}' aborted: the job is shutting down.`,
      );
    } else if (dropped.length > 0) {
      this.#postStatus(
        contexts,
        source,
        'TASK_FINISHED',
        `Items ${dropped.join(',')} dropped: the registry session ended.`,
      );
    } else {
      this.#postStatus(contexts, source, 'TASK_FINISHED', '');
    }
  }

  /**
   * {@link #executeItem} once the session's asynchronous check allows it (connected again, or the
   * registry confirmed the session); the item is dropped into `dropped` when it does not, or when
   * the run was aborted meanwhile.
   */
  async #executeWhenStartable(
    run: ItemsRun,
    item: number,
    fencingToken: number,
    epoch: number,
    dropped: number[],
  ): Promise<void> {
    const startable = await (fencingToken > 0
      ? this.session.confirmedIn(epoch)
      : this.session.connectedIn(epoch));
    if (!startable || run.abort.aborted) {
      dropped.push(item);
      return;
    }
    await this.#executeItem(run, item, fencingToken);
  }

  /** ElasticJob's `maxTimeDiffSeconds` check against the registry's clock (when it is on). */
  async #checkTimeDiff(config: ResolvedJobConfiguration): Promise<boolean> {
    const { registry, paths, clock } = this.context;
    const registryTimeMs = await registry.getRegistryCenterTime(paths.systemTime);
    const diffMs = Math.abs(clock.now() - registryTimeMs);
    const toleranceMs =
      config.maxTimeDiffSeconds * 1000 + registry.capabilities.registryCenterTimeResolutionMs;
    if (diffMs <= toleranceMs) return true;
    const error = new JobSetupError(
      config.jobName,
      `Time different between job server and register center exceed '${config.maxTimeDiffSeconds}' seconds, max time different is '${Math.round(diffMs / 1000)}' seconds.`,
    );
    await this.components.handleError(error);
    return config.jobErrorHandlerType !== 'THROW';
  }

  /**
   * Awaits the registry bookkeeping of a run admitted in `epoch`: while shutting down for a
   * bounded time only, and not past the end of that session. Once the session has ended, the
   * run's user code is over and its bookkeeping is fenced by the run's tokens, but it may hang in
   * the registry client's retries through the reconnect for seconds (ZooKeeper: the read before the
   * transaction). Awaited, it would keep the normal lane busy and the run's items reserved, so the
   * first fires after the return would be taken for an overrun and the returning instance would
   * skip its items. It goes on in the background instead.
   */
  async #bookkeeping(work: Promise<void>, epoch: number): Promise<void> {
    if (this.context.isShutdown()) {
      await withinMs(this.context.clock, work, SHUTDOWN_BOOKKEEPING_BOUND_MS);
      return;
    }
    if ((await this.session.whileEpochLasts(epoch, work)).settled) return;
    this.track(
      work.catch((error: unknown) => {
        this.context.logger.warn({ err: error }, 'registry bookkeeping of a run of an ended session failed');
      }),
    );
  }

  async #executeItem(
    { contexts, abort, source, runtime }: ItemsRun,
    item: number,
    fencingToken: number,
  ): Promise<void> {
    const { clock, instance, events, logger } = this.context;
    // Not built when nobody listens (no tracing, no `onEvent`).
    const started = events.hasSubscribers
      ? createJobExecutionEvent({
          id: this.context.newId(),
          hostname: HOSTNAME,
          ip: instance.serverIp,
          taskId: contexts.taskId,
          jobName: contexts.jobName,
          source,
          shardingItem: item,
          startTimeMs: clock.now(),
          scheduledFireTimeMs: contexts.scheduledFireTimeMs,
        })
      : undefined;
    if (started !== undefined) events.post(started);
    try {
      await this.components.itemExecutor().process(shardingContextOf(contexts, item, fencingToken), runtime);
      if (started !== undefined) events.post(jobExecutionSucceeded(started, clock.now()));
    } catch (error) {
      if (started !== undefined) events.post(jobExecutionFailed(started, error, clock.now()));
      if (isShutdownAbort(abort)) {
        logger.info({ item }, 'item aborted: the job is shutting down');
        return;
      }
      await this.components.handleError(error).catch((handlerError: unknown) => {
        logger.error({ err: handlerError, item }, 'error handler rejected');
      });
      throw error;
    }
  }

  /** Whether {@link #callListeners} has anything to call (checked first: most jobs have none). */
  #hasListeners(contexts: ShardingContexts): boolean {
    return contexts.shardingItemParameters.size > 0 && this.components.listeners().length > 0;
  }

  async #callListeners(
    phase: 'before' | 'after',
    contexts: ShardingContexts,
    includeDistributeOnce: boolean,
  ): Promise<void> {
    if (contexts.shardingItemParameters.size === 0) return;
    for (const listener of this.components.listeners()) {
      if (!includeDistributeOnce && listener instanceof DistributeOnceJobListener) continue;
      try {
        if (phase === 'before') await listener.beforeJobExecuted(contexts);
        else await listener.afterJobExecuted(contexts);
      } catch (error) {
        await this.components.handleError(error);
      }
    }
  }

  #contexts(
    config: ResolvedJobConfiguration,
    items: readonly number[],
    abort: RunAbort,
    scheduledFireTimeMs: number | undefined,
  ): ShardingContexts {
    const parameters = this.#itemParameters(config);
    return new RunShardingContexts(
      {
        taskId: buildTaskId(config.jobName, items, this.context.instance.jobInstanceId),
        jobName: config.jobName,
        shardingTotalCount: config.shardingTotalCount,
        jobParameter: config.jobParameter,
        shardingItemParameters: new Map(items.map((item) => [item, parameters.get(item)])),
        scheduledFireTimeMs,
      },
      abort, // its signal is made when first read (by user code, mostly never): see RunAbort
    );
  }

  /** What the item executor is handed besides the context: one per configuration, not per run. */
  #runtime(config: ResolvedJobConfiguration): JobRuntime {
    if (this.#runtimeOf?.configuration !== config)
      this.#runtimeOf = { configuration: config, isNeedSharding: this.#isNeedSharding };
    return this.#runtimeOf;
  }

  /** The configuration's item parameters, parsed once per configuration (not on every run). */
  #itemParameters(config: ResolvedJobConfiguration): Map<number, string> {
    if (this.#parsedParameters?.config !== config) {
      const parameters = parseShardingItemParameters(
        config.shardingItemParameters,
        config.shardingTotalCount,
      );
      this.#parsedParameters = { config, parameters };
    }
    return this.#parsedParameters.parameters;
  }

  #postStatus(
    contexts: ShardingContexts,
    source: ExecutionSource,
    state: JobRunState,
    message: string,
  ): void {
    if (!this.context.events.hasSubscribers) return; // nobody listens: nothing to build
    this.context.events.post(
      createJobStatusTraceEvent({
        id: this.context.newId(),
        jobName: contexts.jobName,
        taskId: contexts.taskId,
        slaveId: this.context.instance.serverIp,
        source,
        shardingItems: contexts.shardingItemParameters.keys(),
        state,
        message,
        creationTimeMs: this.context.clock.now(),
      }),
    );
  }
}

/** Whether `contexts` are of exactly `items`, in that order. */
function sameItems(contexts: ShardingContexts, items: readonly number[]): boolean {
  if (contexts.shardingItemParameters.size !== items.length) return false;
  let index = 0;
  for (const item of contexts.shardingItemParameters.keys()) if (item !== items[index++]) return false;
  return true;
}

function isShutdownAbort(abort: RunAbort): boolean {
  return abort.aborted && abort.reason instanceof RunAbortReason && abort.reason.abortCause === 'SHUTDOWN';
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
