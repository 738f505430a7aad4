/**
 * When this instance claims failover items: on a peer's disappearance, on a queued item, when one
 * of its lanes becomes idle, and at reconcile. Claims are serialized; a request during a claim
 * causes one more. Claimed items start at once on the failover lane.
 *
 * @module
 */
import { logBackgroundFailure } from '../background-failure.js';
import type { RunExecutor } from '../execution/run-executor.js';
import type { RunLanes } from '../execution/run-lanes.js';
import type { SessionService } from '../instance/session-service.js';
import type { JobContext } from '../job-context.js';
import type { FailoverService } from './failover-service.js';

/** Claims redone at once after comparisons failed, before waiting for the next trigger. */
const MAX_IMMEDIATE_RETRIES = 3;

/** Serialized failover claims. */
export class FailoverCoordinator {
  #claim: Promise<void> | undefined;
  #again = false;
  /**
   * The first claim after a start or a re-registration also recovers nodes naming this instance
   * that it is not executing: left by a previous process with this id, or claims a run could not
   * use while the session was away.
   */
  #ownStaleRecoveryPending = true;
  /** Whether a run of this instance holds the item now (one function for every claim). */
  readonly #runningHere = (item: number): boolean => this.executor.runningHere(item);

  constructor(
    private readonly context: JobContext,
    private readonly failover: FailoverService,
    private readonly lanes: RunLanes,
    private readonly executor: RunExecutor,
    private readonly session: SessionService,
    private readonly track: (work: Promise<unknown>) => void,
  ) {}

  /** Items waiting for a failover executor (cache): the failover backlog metric. */
  backlog(): number {
    return this.failover.backlog();
  }

  /**
   * Whether a claim should run when a run ends: items are queued, or this instance's own stale
   * claims are still to be recovered (a run here held some of them at the last claim).
   */
  claimWanted(): boolean {
    return this.#ownStaleRecoveryPending || this.failover.backlog() > 0;
  }

  /**
   * Claims orphaned and queued items if failover is on.
   *
   * @param recoverOwnStale - also recover this instance's own stale nodes (after a re-registration).
   */
  tryFailover(recoverOwnStale = false): void {
    if (recoverOwnStale) this.#ownStaleRecoveryPending = true;
    if (!this.context.configuration().failover || this.context.isShutdown() || !this.session.admissionOpen)
      return;
    if (this.#claim !== undefined) {
      this.#again = true;
      return;
    }
    // Nothing to claim in the cache (asked on every run's end): settled here, with no claim's
    // promise. The claim itself asks the cache the same first.
    const deferred = this.failover.deferredIfNothingToClaimInCache(
      this.#runningHere,
      this.#ownStaleRecoveryPending,
    );
    if (deferred !== undefined) {
      if (deferred === 0) this.#ownStaleRecoveryPending = false;
      return;
    }
    const claim = (async () => {
      let retries = 0;
      do {
        this.#again = false;
        const includeOwnStale = this.#ownStaleRecoveryPending;
        const result = await this.failover.claim(
          this.lanes.failoverCapacity(),
          this.#runningHere,
          includeOwnStale,
        );
        // A comparison that failed (an item changed meanwhile, e.g. a leftover mark cleared by the
        // start) is retried at once, with this instance's own stale nodes still recovered.
        // Bounded: comparisons that keep failing wait for the next trigger. Own claims a run here
        // held stay to recover: that run may end without them (see `FailoverClaim.deferred`).
        if (result.failed > 0 && ++retries <= MAX_IMMEDIATE_RETRIES) this.#again = true;
        else if (result.failed === 0 && result.deferred === 0 && includeOwnStale)
          this.#ownStaleRecoveryPending = false;
        if (result.claimed.length > 0) {
          this.context.logger.info(
            { items: result.claimed, queued: result.queued },
            'failover: claimed orphaned items',
          );
          this.lanes.startFailover(result.claimed);
        } else if (result.queued.length > 0) {
          this.context.logger.info(
            { queued: result.queued },
            'failover: items queued for an instance with capacity',
          );
        }
      } while (this.#again && !this.context.isShutdown() && this.session.admissionOpen);
    })();
    this.#claim = claim;
    this.track(
      claim
        .catch((error: unknown) => {
          logBackgroundFailure(this.context, error, 'failover claim failed');
        })
        .finally(() => {
          this.#claim = undefined;
        }),
    );
  }
}
