/**
 * Reconcile (ElasticJob `ReconcileService`, extended): every `reconcileIntervalMinutes`, on the
 * leader, reshard when items point at instances that are gone or unavailable, and repair
 * `running`/`failover`/`failovering` nodes whose owner is gone (claimed by failover when it is on,
 * deleted otherwise), so no stale node blocks the job.
 *
 * @module
 */

import { logBackgroundFailure } from '../background-failure.js';
import type { LeaderService } from '../election/leader-service.js';
import type { FailoverCoordinator } from '../failover/failover-coordinator.js';
import type { SessionService } from '../instance/session-service.js';
import type { JobContext } from '../job-context.js';
import type { ShardingService } from '../sharding/sharding-service.js';
import type { ScheduledTimer, TimerService } from '../timer-service.js';

/** The periodic repair pass of one job. */
export class ReconcileService {
  #next: ScheduledTimer | undefined;

  constructor(
    private readonly context: JobContext,
    private readonly timers: TimerService,
    private readonly leader: LeaderService,
    private readonly sharding: ShardingService,
    private readonly failover: FailoverCoordinator,
    private readonly session: SessionService,
    private readonly track: (work: Promise<unknown>) => void,
  ) {}

  /** Arms the next reconcile, `reconcileIntervalMinutes` from now (none when <= 0). */
  schedule(): void {
    this.cancel();
    const minutes = this.context.configuration().reconcileIntervalMinutes;
    if (minutes <= 0 || this.context.isShutdown()) return;
    this.#next = this.timers.scheduleAt(this.timers.clock.now() + minutes * 60_000, () => {
      this.schedule();
      this.track(this.reconcile());
    });
  }

  /** Cancels the armed reconcile. */
  cancel(): void {
    this.#next?.cancel();
    this.#next = undefined;
  }

  /** One reconcile pass (leader only). Never rejects. */
  async reconcile(): Promise<void> {
    const { registry, paths, cache, logger } = this.context;
    if (this.context.isShutdown() || this.session.suspended || !this.leader.isLeader()) return;
    try {
      const config = this.context.configuration();
      const staticLocked = config.staticSharding && cache.children(paths.sharding).length > 0;
      if (!this.sharding.isNeedSharding() && !staticLocked && this.sharding.needsResharding()) {
        logger.warn('reconcile: sharding points at instances that are gone; resharding');
        await this.sharding.requestResharding(true);
      }
      if (config.failover) {
        this.failover.tryFailover();
        return;
      }
      const live = new Set(await registry.getChildrenKeys(paths.instances));
      for (const name of await registry.getChildrenKeys(paths.sharding)) {
        for (const node of ['running', 'failover', 'failovering'] as const) {
          const path = `${paths.sharding}/${name}/${node}`;
          const owner = await registry.getDirectly(path);
          if (owner !== undefined && owner !== '' && !live.has(owner)) {
            logger.warn({ item: name, node, owner }, 'reconcile: removing a node whose owner is gone');
            await registry.remove(path);
          }
        }
      }
    } catch (error) {
      logBackgroundFailure(this.context, error, 'reconcile failed');
    }
  }
}
