/**
 * The registry session as the job sees it: connection states, a session epoch, and whether runs
 * may be admitted. `SUSPENDED` admits nothing new; `LOST` increments the epoch (work admitted in
 * an older epoch never calls user code), aborts running items, and closes admission until the
 * instance has re-registered and seen a resharding committed after its return, so it never runs
 * items from an assignment cached before the loss.
 *
 * @module
 */

import type { RegistryConnectionState } from '../../registry/registry-center.js';
import { RegistryError } from '../../registry/registry-error.js';
import { logBackgroundFailure } from '../background-failure.js';
import type { JobContext } from '../job-context.js';
import type { ServerService } from './server-service.js';

/** What {@link SessionService.whileEpochLasts} saw first: the work's value, or the session's end. */
export type EpochBound<T> = { readonly settled: true; readonly value: T } | { readonly settled: false };

/** {@link SessionService.whileEpochLasts}'s answer once the session has ended. */
const EPOCH_ENDED: EpochBound<never> = Object.freeze({ settled: false });

/** What the session service asks of the rest of the job. */
export interface SessionHooks {
  /** The session ended: abort running items (their `running` nodes may be taken over). */
  onLost(): void;
  /** The connection is back (same or new session) and the instance re-registered. */
  onReRegistered(afterLoss: boolean): Promise<void>;
  /** Runs may be admitted again after a reconnect (claim failover items, run missed fires). */
  onAdmissionOpen(): void;
  /** Forget the locally known assignment (re-read it directly next time). */
  invalidateAssignment(): void;
}

/** Connection states, session epoch and the admission gate's session condition. */
export class SessionService {
  #suspended = false;
  #epoch = 0;
  /** False from a `LOST` until an assignment committed after the return has been seen. */
  #admissionOpen = true;
  /** Set once this instance has asked for a resharding after its return. */
  #reshardingRequested = false;
  /** Called once, at the end of the current epoch (see {@link whileEpochLasts}). */
  readonly #epochEndListeners = new Set<() => void>();
  #unsubscribe: (() => void) | undefined;

  constructor(
    private readonly context: JobContext,
    private readonly servers: ServerService,
    private readonly localDisabled: boolean,
    private readonly reshardingWaitTimeoutMs: number,
    private readonly hooks: SessionHooks,
    /** Waits until the resharding flag is gone (bounded); `false` on timeout. */
    private readonly awaitResharding: (timeoutMs: number) => Promise<boolean>,
  ) {}

  /** Incremented on every `LOST`. */
  get epoch(): number {
    return this.#epoch;
  }

  /** Whether the connection is suspended or lost and not yet back. */
  get suspended(): boolean {
    return this.#suspended;
  }

  /** Whether runs may be admitted now (connected, and a fresh assignment seen after any loss). */
  get admissionOpen(): boolean {
    return !this.#suspended && this.#admissionOpen;
  }

  /**
   * Whether user code may start now for a run admitted in `epoch`: waits while the connection is
   * suspended (bounded like the resharding wait), and resolves `false` once that session has ended
   * (`LOST`), or when it is still suspended after the bound or at shutdown. A process that resumes
   * from a freeze longer than its session sees `SUSPENDED` first: its queued items wait here for
   * the `LOST` that follows instead of starting on a session that is gone.
   */
  async connectedIn(epoch: number): Promise<boolean> {
    if (epoch === this.#epoch && this.#suspended)
      await this.context.waiters.waitFor(
        () => epoch !== this.#epoch || !this.#suspended || this.context.isShutdown(),
        this.reshardingWaitTimeoutMs,
      );
    return epoch === this.#epoch && !this.#suspended;
  }

  /**
   * {@link connectedIn}, then the registry's word that the server still holds the session
   * (`confirmSession`: at once while a recent answer proves it, else one round trip). A process
   * resuming from a freeze longer than its session runs its overdue timers before its client
   * notices the broken connection; an item whose slot such a timer freed is stopped here. A
   * registry error (no proof) is logged and resolves `false`; the item is dropped.
   */
  async confirmedIn(epoch: number): Promise<boolean> {
    // Connected (the usual case): no wait, and no await of one.
    if ((epoch !== this.#epoch || this.#suspended) && !(await this.connectedIn(epoch))) return false;
    const confirmation = this.context.registry.confirmSession().then(
      () => true,
      (error: unknown) => {
        if (!RegistryError.is(error)) throw error;
        this.context.logger.info(
          { err: error },
          'the registry did not confirm the session: item not started',
        );
        return false;
      },
    );
    const outcome = await this.whileEpochLasts(epoch, confirmation);
    return outcome.settled && outcome.value && epoch === this.#epoch && !this.#suspended;
  }

  /**
   * {@link connectedIn} (`confirmed: false`) or {@link confirmedIn} (`true`) answered without
   * waiting when that is possible, so that an item's user code starts in the turn of its fire:
   * `false` once the session of `epoch` has ended; `true` while connected in it and, for
   * `confirmed`, the registry proves the session without a round trip
   * (`CoordinatorRegistryCenter.isSessionProven`); `undefined` when only the asynchronous check
   * can tell (suspended, no proof at hand, or an adapter without that call).
   */
  startableNow(epoch: number, confirmed: boolean): boolean | undefined {
    if (epoch !== this.#epoch) return false;
    if (this.#suspended) return undefined;
    if (!confirmed) return true;
    return this.context.registry.isSessionProven?.() === true ? true : undefined;
  }

  /**
   * Awaits `work` while the session of `epoch` lasts. Registry work started in a session may hang
   * in the registry client's retries through a loss and the reconnect for seconds (ZooKeeper: reads
   * retried with a backoff of up to 3 s); a run of the new session must not wait for it.
   *
   * @returns `{ settled: true, value }` when `work` resolves first (a rejection is rethrown), or
   *   `{ settled: false }` once that session has ended (at once if it has): `work` goes on, and
   *   the caller keeps track of it.
   */
  whileEpochLasts<T>(epoch: number, work: Promise<T>): Promise<EpochBound<T>> {
    // On every item start and run end: no `finally`, whose extra promises each run paid for.
    return new Promise<EpochBound<T>>((resolve, reject) => {
      const listener = () => resolve(EPOCH_ENDED);
      work.then(
        (value) => {
          this.#epochEndListeners.delete(listener);
          resolve({ settled: true, value });
        },
        (error: unknown) => {
          this.#epochEndListeners.delete(listener);
          reject(error);
        },
      );
      if (epoch !== this.#epoch) resolve(EPOCH_ENDED);
      else this.#epochEndListeners.add(listener);
    });
  }

  /** Starts listening to connection states. */
  listen(track: (work: Promise<unknown>) => void): void {
    this.#unsubscribe = this.context.registry.addConnectionStateListener((state) =>
      this.#onState(state, track),
    );
  }

  /** Stops listening. Idempotent. */
  close(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
  }

  #onState(state: RegistryConnectionState, track: (work: Promise<unknown>) => void): void {
    this.#applyState(state, track);
    this.context.waiters.notify();
  }

  #applyState(state: RegistryConnectionState, track: (work: Promise<unknown>) => void): void {
    const { logger } = this.context;
    switch (state) {
      case 'SUSPENDED':
        this.#suspended = true;
        logger.warn('registry connection suspended: no new runs until it is back');
        return;
      case 'LOST':
        this.#suspended = true;
        this.#epoch++;
        this.#admissionOpen = false;
        this.#reshardingRequested = false;
        this.hooks.invalidateAssignment();
        logger.warn('registry session lost: aborting running items');
        this.hooks.onLost();
        for (const listener of [...this.#epochEndListeners]) listener();
        this.#epochEndListeners.clear();
        return;
      case 'RECONNECTED':
        this.#suspended = false;
        track(this.#reRegister());
        return;
      default:
        return;
    }
  }

  async #reRegister(): Promise<void> {
    if (this.context.isShutdown()) return;
    const { registry, paths, instance, logger } = this.context;
    const afterLoss = !this.#admissionOpen;
    const epoch = this.#epoch;
    try {
      // From here, a deletion of the resharding flag is a resharding that can include this return.
      if (afterLoss) this.#reshardingRequested = true;
      await this.servers.persistServerOnline(this.localDisabled);
      // A shutdown that began meanwhile withdraws the instance node: never re-create it.
      if (this.context.isShutdown()) return;
      // Within the same session the ephemeral node is still there: replacing it would make peers
      // see this live instance disappear for a moment and fail its running items over.
      if (!(await registry.isExisted(paths.instance(instance.jobInstanceId)))) {
        await this.servers.persistInstanceOnline();
      }
      // Ask for a resharding explicitly: the instance node may have been re-created before the loss
      // was reported, so its return may not show as a membership change.
      if (afterLoss) await registry.persist(paths.shardingNecessary, '');
      await this.hooks.onReRegistered(afterLoss);
      if (afterLoss) {
        // The leader reshards on this instance's return: wait until that resharding is committed.
        const resharded = await this.awaitResharding(this.reshardingWaitTimeoutMs);
        if (epoch !== this.#epoch || this.context.isShutdown()) return;
        if (resharded) this.onReshardingCommitted();
        const opened = this.#admissionOpen;
        if (!opened) {
          logger.warn(
            `no resharding within ${this.reshardingWaitTimeoutMs} ms after the session was re-established: admitting on the assignment read now`,
          );
          this.hooks.invalidateAssignment();
          this.#admissionOpen = true;
        }
      }
      logger.info('re-registered after reconnecting');
      this.hooks.onAdmissionOpen();
    } catch (error) {
      logBackgroundFailure(this.context, error, 're-registration after reconnecting failed');
    }
  }

  /**
   * Re-opens admission when a resharding committed after the return was seen later than the
   * bounded wait of the re-registration (called on every deletion of the resharding flag).
   */
  onReshardingCommitted(): void {
    if (this.#admissionOpen || !this.#reshardingRequested || this.#suspended || this.context.isShutdown())
      return;
    this.hooks.invalidateAssignment();
    this.#admissionOpen = true;
    this.context.waiters.notify();
    this.context.logger.info('a resharding committed after the session was re-established: admitting runs');
  }
}
