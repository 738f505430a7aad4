/**
 * What every per-job service shares, injected through constructors (no singletons, unlike
 * ElasticJob's `JobRegistry.getInstance()`).
 *
 * @module
 */
import type { ResolvedJobConfiguration } from '../config/job-configuration.js';
import type { JobEventBus } from '../event/job-event-bus.js';
import type { JobInstance } from '../instance/index.js';
import type { Logger } from '../logging/logger.js';
import type { CoordinatorRegistryCenter } from '../registry/registry-center.js';
import type { Clock } from '../time/clock.js';
import type { ConditionWaiters } from './condition-waiters.js';
import type { JobCache } from './job-cache.js';
import type { JobNodePath } from './job-node-path.js';

/** Shared state and collaborators of one job on one job instance. */
export interface JobContext {
  readonly registry: CoordinatorRegistryCenter;
  readonly paths: JobNodePath;
  readonly cache: JobCache;
  readonly waiters: ConditionWaiters;
  readonly instance: JobInstance;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly events: JobEventBus;
  /** A fresh unique id (event ids); injectable for deterministic simulations. */
  newId(): string;
  /** The current configuration (the registry copy once started). */
  configuration(): ResolvedJobConfiguration;
  /** Whether the job is shutting down or shut down on this instance. */
  isShutdown(): boolean;
}

/**
 * Resolves `promise`, or `undefined` after `timeoutMs` on `clock` (the promise keeps running;
 * its rejection is ignored). Bounds clean-up that must not hold a shutdown.
 */
export async function withinMs<T>(
  clock: Clock,
  promise: Promise<T>,
  timeoutMs: number,
): Promise<T | undefined> {
  let timer: { cancel(): void } | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = clock.setTimeout(() => resolve(undefined), timeoutMs, { unref: true });
  });
  promise.catch(() => {});
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    timer?.cancel();
  }
}
