/**
 * When runs start. Two lanes per job instance: the normal lane runs cron fires, one-off triggers
 * and misfire re-runs one at a time; the failover lane runs claimed failover items at once, beside
 * the normal lane, on capacity reserved for failover, so a dead instance's items never wait for
 * this instance's own long run, a misfire loop or a resharding.
 *
 * @module
 */
import type { ExecutionService } from '../execution/execution-service.js';
import type { SessionService } from '../instance/session-service.js';
import type { JobContext } from '../job-context.js';
import type { ShardingService } from '../sharding/sharding-service.js';
import { RunAbort } from './run-abort.js';
import type { RunAbortReason, RunExecutor, RunKind } from './run-executor.js';

/** Options of {@link RunLanes}. */
export interface RunLanesOptions {
  /** Items this instance may run as failover beside its own run. */
  readonly failoverReservedSlots: number;
  /** Bound of a normal run's wait for a pending election or resharding, in ms. */
  readonly reshardingWaitTimeoutMs: number;
  /**
   * Resolves once the job has a leader: at once when it has one, else when an election of this
   * instance ends (started or joined; bounded by {@link reshardingWaitTimeoutMs}). ElasticJob's
   * `LeaderService.isLeaderUntilBlock` before each run's sharding.
   */
  awaitLeader(): Promise<void>;
  /** The executor pool size (items of one run executed at once). */
  poolSize(): number;
  /** Called when a lane becomes idle (failover claims may use the capacity). */
  onIdle(): void;
  /**
   * Called after each run of a normal loop that goes on (a misfire or trigger follows): items the
   * run held are free again, and a loop that never ends would otherwise never reach
   * {@link onIdle}.
   */
  onRunEnded(): void;
}

/** The normal lane and the failover lane of one job instance. */
export class RunLanes {
  #normal: Promise<void> | undefined;
  readonly #failoverRuns = new Set<Promise<void>>();
  #failoverItems = 0;
  #pendingTrigger = false;
  #pendingMisfire = false;
  /**
   * Whether the pending misfire re-run makes up for a fire of this instance (one it skipped, or
   * flagged during a run). Otherwise it was requested for flags seen in the registry, and runs
   * only the items flagged there.
   */
  #misfireFromFire = false;
  /** Items whose misfire flags this instance wrote during the current normal run. */
  #misfireWrite: Promise<number[]> = Promise.resolve([]);
  /** The session epoch those writes were started in. */
  #misfireWriteEpoch = 0;
  readonly #aborts = new Set<RunAbort>();
  /** Set by {@link close}: every run created from then on starts aborted with it. */
  #closedBy: RunAbortReason | undefined;

  constructor(
    private readonly context: JobContext,
    private readonly executor: RunExecutor,
    private readonly sharding: ShardingService,
    private readonly execution: ExecutionService,
    private readonly session: SessionService,
    private readonly options: RunLanesOptions,
    private readonly track: (work: Promise<unknown>) => void,
  ) {}

  /** Whether a normal run (fire, trigger, misfire re-run) is in progress. */
  get normalBusy(): boolean {
    return this.#normal !== undefined;
  }

  /** Whether a run of this instance (either lane) holds `item` now. */
  holds(item: number): boolean {
    return this.executor.runningHere(item);
  }

  /** How many more items this instance may claim for failover right now. */
  failoverCapacity(): number {
    const idleShare = this.#normal === undefined ? this.options.poolSize() : 0;
    return Math.max(0, this.options.failoverReservedSlots + idleShare - this.#failoverItems);
  }

  /**
   * Whether a cron fire may be prepared ahead of its scheduled time (see `admission-lead.ts`):
   * the normal lane is idle with nothing queued, the session admits runs and no resharding is
   * pending, so the run would start at once and neither misfire nor wait.
   */
  mayPrepareAhead(): boolean {
    return (
      this.#normal === undefined &&
      !this.#pendingTrigger &&
      !this.#pendingMisfire &&
      this.session.admissionOpen &&
      !this.sharding.isNeedSharding()
    );
  }

  /**
   * A cron fire: run now, or flag a misfire if a normal run is still in progress. A fire handed
   * over ahead of its time (only when {@link mayPrepareAhead}) is prepared and admitted now and
   * calls user code at `fireTimeMs`.
   */
  fire(fireTimeMs: number): void {
    const { logger } = this.context;
    const config = this.context.configuration();
    if (!this.session.admissionOpen) {
      logger.warn({ fireTimeMs }, 'fire skipped: registry session suspended or not re-established');
      if (config.misfire) this.#misfireFromFire = this.#pendingMisfire = true;
      return;
    }
    if (this.#normal !== undefined) {
      logger.info({ fireTimeMs }, 'previous run still in progress: misfire');
      if (config.misfire) {
        this.#misfireFromFire = this.#pendingMisfire = true;
        const epoch = this.session.epoch;
        const previous = this.#misfireWriteEpoch === epoch ? this.#misfireWrite : Promise.resolve([]);
        // After the writes of earlier fires of this run: their flags stand until the re-run
        // clears them, so only items not flagged yet are written (a run lasting n seconds used to
        // write every flag n times, each write after the first failing into item-by-item reads
        // and writes while the watch cache did not show the flags yet).
        const write = previous.then(async (done) => [...done, ...(await this.#flagMisfire(done))]);
        this.#misfireWrite = write;
        this.#misfireWriteEpoch = epoch;
        this.track(write);
      }
      return;
    }
    this.#startNormal('CRON', fireTimeMs);
  }

  /** A one-off trigger: run now, or once after the current normal run (coalesced, never dropped). */
  trigger(): void {
    if (this.#normal !== undefined) this.#pendingTrigger = true;
    else this.#startNormal('TRIGGER');
  }

  /**
   * Runs the items flagged misfired in the registry now if the normal lane is idle, otherwise
   * right after it (a flag seen by the misfire listener).
   */
  requestMisfire(): void {
    if (!this.context.configuration().misfire) return;
    this.#pendingMisfire = true;
    if (this.#normal === undefined && this.session.admissionOpen) this.#startNormal('MISFIRE');
  }

  /** Runs the misfire re-run now if fires were missed (e.g. while the connection was away). */
  requestMisfireIfPending(): void {
    if (this.#pendingMisfire) this.requestMisfire();
  }

  /** Runs items this instance claimed by failover, at once. */
  startFailover(items: readonly number[]): void {
    const abort = this.#newAbort();
    this.#failoverItems += items.length;
    const run = this.executor
      .execute('FAILOVER', items, abort)
      .then(() => {})
      .finally(() => {
        this.#aborts.delete(abort);
        this.#failoverItems -= items.length;
        this.#failoverRuns.delete(run);
        this.context.waiters.notify();
        this.options.onIdle();
      });
    this.#failoverRuns.add(run);
  }

  /** Aborts every run in progress. */
  abortAll(reason: RunAbortReason): void {
    for (const abort of this.#aborts) abort.abort(reason);
  }

  /**
   * Aborts every run in progress and every run created later (the job is shutting down): a
   * failover claim or a fire already on its way when the shutdown began starts no user code.
   */
  close(reason: RunAbortReason): void {
    this.#closedBy = reason;
    this.abortAll(reason);
  }

  /** Resolves when no run is in progress, including runs started while waiting. */
  async drained(): Promise<void> {
    for (;;) {
      const runs = [this.#normal, ...this.#failoverRuns].filter((run) => run !== undefined);
      if (runs.length === 0) return;
      await Promise.allSettled(runs);
    }
  }

  /** A registered abort controller for a new run, aborted at once after {@link close}. */
  #newAbort(): RunAbort {
    const abort = new RunAbort();
    this.#aborts.add(abort);
    if (this.#closedBy !== undefined) abort.abort(this.#closedBy);
    return abort;
  }

  /** @param scheduledFireTimeMs - the cron fire a `CRON` run serves. */
  #startNormal(kind: RunKind, scheduledFireTimeMs?: number): void {
    const run = this.#normalLoop(kind, scheduledFireTimeMs).finally(() => {
      this.#normal = undefined;
      this.context.waiters.notify();
      this.options.onIdle();
    });
    this.#normal = run;
  }

  async #normalLoop(first: RunKind, scheduledFireTimeMs: number | undefined): Promise<void> {
    let next: RunKind | undefined = first;
    let fire = scheduledFireTimeMs; // only the first run serves the fire
    while (next !== undefined && !this.context.isShutdown() && this.session.admissionOpen) {
      await this.#runNormal(next, fire);
      fire = undefined;
      if (this.#pendingTrigger) {
        this.#pendingTrigger = false;
        next = 'TRIGGER';
      } else if (this.#pendingMisfire && this.context.configuration().misfire) {
        next = 'MISFIRE'; // right after the overrun, whoever owns the items now
      } else {
        next = undefined;
      }
      if (next !== undefined) this.options.onRunEnded();
    }
  }

  async #runNormal(kind: RunKind, scheduledFireTimeMs: number | undefined): Promise<void> {
    const abort = this.#newAbort();
    try {
      const fromFire = this.#misfireFromFire;
      if (kind === 'MISFIRE') this.#misfireFromFire = this.#pendingMisfire = false;
      // A run needs the assignment of the current membership: the leader a gone one left is
      // elected, and a resharding the leader has not started yet is done first; both within one
      // `reshardingWaitTimeoutMs`.
      const deadline = this.context.clock.now() + this.options.reshardingWaitTimeoutMs;
      await this.options.awaitLeader();
      if (this.sharding.reshardingPending()) {
        const remaining = Math.max(0, deadline - this.context.clock.now());
        const settled = await this.sharding.waitUntilSharded(remaining);
        if (!settled)
          this.context.logger.warn('resharding still pending: running on the assignment as committed');
      }
      const local = await this.sharding.localItems();
      let candidates = local;
      let flagged: number[] = [];
      if (kind === 'MISFIRE') {
        // Flags written in an ended session may still hang in the registry client's retries: the
        // cache shows them once they land, and a run making up for a fire with no flag seen runs
        // every local item. A run requested for flags seen in the registry reads them there: the
        // cache may still show flags this lane's last re-run cleared (a late watch event), and
        // running those items again would run them twice for one fire.
        const write = await this.session.whileEpochLasts(this.#misfireWriteEpoch, this.#misfireWrite);
        const written = write.settled ? write.value : [];
        this.#misfireWrite = Promise.resolve([]);
        const seen = fromFire
          ? this.execution.misfiredItems(local)
          : await this.execution.readMisfiredItems(local);
        flagged = [...new Set([...written, ...seen])].filter((i) => local.includes(i));
        candidates = flagged.length > 0 ? flagged.sort((a, b) => a - b) : fromFire ? local : [];
        if (candidates.length === 0) return;
      }
      // A cron run's admission refuses the items that already ran for its fire (see FencingStamp).
      const admission = await this.executor.execute(kind, candidates, abort, scheduledFireTimeMs);
      if (admission === undefined) return;
      const runningElsewhere = [...admission.refused].filter(([, why]) => why.startsWith('running on'));
      const done = flagged.filter((item) => !runningElsewhere.some(([i]) => i === item));
      if (done.length > 0) await this.#whileSessionLasts(admission.epoch, this.execution.clearMisfire(done));
      if (kind !== 'MISFIRE' && runningElsewhere.length > 0 && this.context.configuration().misfire) {
        // Still running on its previous owner: run it here as soon as that run ends.
        const items = runningElsewhere.map(([item]) => item);
        await this.#whileSessionLasts(admission.epoch, this.execution.setMisfire(items));
      }
    } catch (error) {
      this.context.logger.error({ err: error, kind }, 'run failed');
    } finally {
      this.#aborts.delete(abort);
    }
  }

  /**
   * Awaits the misfire bookkeeping of a run admitted in `epoch` until that session ends; past it,
   * the bookkeeping goes on in the background and the lane is free for the runs of the new session.
   */
  async #whileSessionLasts(epoch: number, work: Promise<void>): Promise<void> {
    if ((await this.session.whileEpochLasts(epoch, work)).settled) return;
    this.track(
      work.catch((error: unknown) => {
        this.context.logger.warn({ err: error }, 'misfire bookkeeping of a run of an ended session failed');
      }),
    );
  }

  /**
   * Writes misfire flags for the local items not in `flagged` (written earlier in this run);
   * resolves with the items flagged now (none on error).
   */
  async #flagMisfire(flagged: readonly number[]): Promise<number[]> {
    try {
      const items = (await this.sharding.localItems()).filter((item) => !flagged.includes(item));
      if (items.length > 0) await this.execution.setMisfire(items);
      return items;
    } catch (error) {
      this.context.logger.error({ err: error }, 'could not write misfire flags');
      return [];
    }
  }
}
