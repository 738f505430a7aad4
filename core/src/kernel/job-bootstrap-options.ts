/**
 * Options of the job bootstraps.
 *
 * @module
 */
import type { JobEventListener } from '../event/index.js';
import type { ElasticJobListener } from '../listener/index.js';
import type { Logger } from '../logging/logger.js';
import type { TimerService } from './timer-service.js';

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
   * Bound of a normal run's wait for a pending resharding, and of a returning instance's wait for
   * a resharding after a session loss, in ms. The leader never waits for running items.
   * @defaultValue 30000
   */
  readonly reshardingWaitTimeoutMs?: number;
  /**
   * Executor slots reserved for failover: how many items of dead instances this instance runs at
   * once beside its own run, even when its own run fills its executor pool. When its normal lane is
   * idle it may claim its whole pool size on top. Integer in 0..1024.
   * @defaultValue 4
   */
  readonly failoverReservedSlots?: number;
  /**
   * Source of unique ids (event ids). Inject a seeded generator for deterministic simulations.
   * @defaultValue `crypto.randomUUID`
   */
  readonly idGenerator?: () => string;
  /**
   * How long `shutdown()` waits for running items after aborting their signals, in ms. Registry
   * clean-up after the drain is bounded separately (about 1.5 s): with the registry unreachable it
   * is skipped (the session's expiry removes the ephemeral nodes) and the log says so.
   * @defaultValue 30000
   */
  readonly shutdownTimeoutMs?: number;
}

/** Upper bound of {@link JobBootstrapOptions.failoverReservedSlots}. */
export const MAX_FAILOVER_RESERVED_SLOTS = 1024;
