/**
 * Routes the job subtree's registry events (one watch per job) to the service that owns each
 * path, the way ElasticJob's listener managers do: configuration, shutdown commands, instances,
 * servers, leader election, resharding flag, failover queue, sharding items, triggers.
 *
 * @module
 */

import type { RegistryEvent } from '../registry/registry-center.js';
import { logBackgroundFailure } from './background-failure.js';
import type { ConfigurationService } from './config/configuration-service.js';
import type { LeaderService } from './election/leader-service.js';
import type { FailoverCoordinator } from './failover/failover-coordinator.js';
import type { FailoverService } from './failover/failover-service.js';
import type { GuaranteeService } from './guarantee/guarantee-service.js';
import type { ServerService } from './instance/server-service.js';
import type { SessionService } from './instance/session-service.js';
import type { JobContext } from './job-context.js';
import type { MisfireListener } from './misfire/misfire-listener.js';
import type { ReconcileService } from './reconcile/reconcile-service.js';
import type { ShardingService } from './sharding/sharding-service.js';
import type { FireScheduler } from './trigger/fire-scheduler.js';
import type { TriggerService } from './trigger/trigger-service.js';

/** The services events are routed to. */
export interface RoutedServices {
  started(): boolean;
  suspended(): boolean;
  readonly config: ConfigurationService;
  readonly servers: ServerService;
  readonly leader: LeaderService;
  readonly sharding: ShardingService;
  readonly session: SessionService;
  readonly failover: FailoverCoordinator;
  readonly failoverState: FailoverService;
  readonly guarantee: GuaranteeService;
  readonly misfire: MisfireListener;
  readonly triggers: TriggerService;
  readonly fires: FireScheduler;
  readonly reconcile: ReconcileService;
  refreshRunComponents(): void;
  electIfNeeded(): Promise<void>;
  shutdownOnCommand(reason: string): void;
  track(work: Promise<unknown>): void;
}

/** Dispatch of one job's registry events. */
export class RegistryEventRouter {
  constructor(
    readonly context: JobContext,
    private readonly s: RoutedServices,
  ) {}

  /** Handles one event (after the cache applied it). */
  route(event: RegistryEvent): void {
    const { paths, instance, waiters } = this.context;
    this.s.guarantee.onEvent(event.key, event.type);
    waiters.notify();
    if (!this.s.started()) return;
    const relative = paths.relative(event.key);
    if (relative === undefined) return;
    const parts = relative.split('/');
    const own = parts[1] === instance.jobInstanceId;
    switch (parts[0]) {
      case 'config':
        if (parts.length === 1 && event.type === 'UPDATED') this.#onConfigurationChanged(event.value);
        if (parts.length === 1 && event.type === 'DELETED')
          this.s.shutdownOnCommand('job removed from the registry');
        return;
      case 'shutdown':
        if (parts.length === 2 && own && event.type !== 'DELETED')
          this.s.shutdownOnCommand('operator shutdown command');
        return;
      case 'instances':
        if (parts.length === 2) this.#onInstanceChanged(event, parts[1] as string);
        return;
      case 'servers':
        if (parts.length === 2) this.#onServerChanged(parts[1] as string);
        return;
      case 'leader':
        this.#onLeaderNode(relative, parts, event);
        return;
      case 'sharding':
        if (parts[2] === 'instance') this.s.sharding.invalidateAssignment();
        if (parts.length === 3) {
          this.s.misfire.onItemEvent(Number(parts[1]), parts[2] as string, event.type);
          // A mark of an instance already gone (its deletion seen first): the item is an orphan.
          if (
            (parts[2] === 'running' || parts[2] === 'failovering') &&
            event.type !== 'DELETED' &&
            this.s.failoverState.namesGoneInstance(event.value)
          )
            this.s.failover.tryFailover();
        }
        return;
      case 'trigger':
        if (parts.length === 2 && own && event.type !== 'DELETED') this.s.triggers.onTrigger();
        return;
      default:
        return;
    }
  }

  #onLeaderNode(relative: string, parts: string[], event: RegistryEvent): void {
    if (relative === 'leader/election/instance') {
      if (event.type === 'DELETED') this.s.track(this.s.electIfNeeded());
      else if (event.value === this.context.instance.jobInstanceId && this.s.sharding.needsResharding())
        this.reshardInBackground();
    } else if (
      parts[1] === 'failover' &&
      parts[2] === 'items' &&
      parts.length === 4 &&
      event.type === 'ADDED'
    ) {
      this.s.failover.tryFailover();
    } else if (relative === 'leader/sharding/necessary') {
      if (event.type === 'DELETED') {
        this.s.sharding.invalidateAssignment();
        this.s.session.onReshardingCommitted();
      } else if (this.s.leader.isLeader()) {
        // Also during a pass: a flag set after the pass's last direct read (a returning instance)
        // would otherwise be left pending. The request coalesces into one more iteration, which
        // reads the flag directly (this event may be late, or of the pass's own write).
        this.reshardInBackground();
      }
    }
  }

  /**
   * Applies a configuration the registry changed while the job was starting: events are routed
   * only once it has started, and the start read the configuration before its watch began.
   */
  applyConfigurationChangedDuringStart(): void {
    const yaml = this.context.cache.get(this.context.paths.config);
    if (yaml !== undefined && yaml !== this.s.config.appliedYaml) this.#onConfigurationChanged(yaml);
  }

  #onConfigurationChanged(yaml: string): void {
    const { logger } = this.context;
    const previous = this.s.config.apply(yaml, logger);
    if (previous === undefined) return;
    const next = this.s.config.current;
    this.s.refreshRunComponents();
    if (previous.cron !== next.cron || previous.timeZone !== next.timeZone) {
      logger.info({ cron: next.cron, timeZone: next.timeZone }, 'rescheduling after a configuration change');
      this.s.fires.schedule();
    }
    if (previous.reconcileIntervalMinutes !== next.reconcileIntervalMinutes) this.s.reconcile.schedule();
    if (previous.failover && !next.failover && this.s.leader.isLeader()) {
      this.s.track(
        this.s.failoverState.removeAllFailoverState().catch((error: unknown) => {
          logBackgroundFailure(
            this.context,
            error,
            'could not remove failover nodes after failover was switched off',
          );
        }),
      );
    }
    if (
      previous.shardingTotalCount !== next.shardingTotalCount ||
      previous.jobShardingStrategyType !== next.jobShardingStrategyType
    ) {
      this.s.sharding.invalidateAssignment();
      if (this.s.leader.isLeader()) this.reshardInBackground(true);
    }
  }

  #onInstanceChanged(event: RegistryEvent, instanceId: string): void {
    if (instanceId === this.context.instance.jobInstanceId && event.type === 'DELETED') {
      // A vanished own instance node never shuts the job down by itself: only an operator command
      // or the job's removal does; otherwise re-register.
      if (!this.s.suspended()) this.s.track(this.#onOwnInstanceDeleted());
      return;
    }
    if (event.type === 'UPDATED') return;
    if (event.type === 'DELETED') this.s.failover.tryFailover();
    // An item whose owner is gone is reassigned at once; joins reshard before the next fire.
    if (this.s.leader.isLeader()) this.reshardInBackground(this.#membershipForcesResharding());
  }

  async #onOwnInstanceDeleted(): Promise<void> {
    const { registry, paths, instance, logger } = this.context;
    try {
      if (await registry.isExisted(paths.shutdownCommand(instance.jobInstanceId))) {
        this.s.shutdownOnCommand('operator shutdown command');
        return;
      }
      if (!(await registry.isExisted(paths.config))) {
        this.s.shutdownOnCommand('job removed from the registry');
        return;
      }
      if (this.s.started() && !(await registry.isExisted(paths.instance(instance.jobInstanceId)))) {
        await this.s.servers.persistInstanceOnline();
        logger.warn('own instance node vanished: re-registered');
      }
    } catch (error) {
      logBackgroundFailure(this.context, error, 'could not re-create the instance node');
    }
  }

  #onServerChanged(ip: string): void {
    const { instance, logger } = this.context;
    if (ip === instance.serverIp && this.serverDisabled() && this.s.leader.isLeader()) {
      this.s.track(
        this.s.leader.abdicate().catch((error: unknown) => {
          logBackgroundFailure(
            this.context,
            error,
            'could not give up leadership after the server was disabled',
          );
        }),
      );
      return;
    }
    if (ip === instance.serverIp && !this.serverDisabled() && !this.s.leader.hasLeader()) {
      this.s.track(this.s.electIfNeeded());
    }
    if (this.s.leader.isLeader()) this.reshardInBackground(this.#membershipForcesResharding());
  }

  /** ElasticJob: with `staticSharding`, membership changes reshard only while nothing is assigned yet. */
  #membershipForcesResharding(): boolean {
    const { cache, paths } = this.context;
    return !(this.s.config.current.staticSharding && cache.children(paths.sharding).length > 0);
  }

  /** Whether this instance's server is `DISABLED` (cache). */
  serverDisabled(): boolean {
    const { cache, paths, instance } = this.context;
    return cache.get(paths.server(instance.serverIp)) === 'DISABLED';
  }

  /** Starts (or coalesces into) a resharding on the leader, in the background. */
  reshardInBackground(force = false): void {
    if (this.s.suspended()) return;
    this.s.track(
      this.s.sharding.requestResharding(force).catch((error: unknown) => {
        logBackgroundFailure(this.context, error, 'resharding failed');
      }),
    );
  }
}
