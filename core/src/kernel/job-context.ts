/**
 * What every per-job service shares, injected through constructors (no singletons, unlike
 * ElasticJob's `JobRegistry.getInstance()`).
 *
 * @module
 */
import type { ResolvedJobConfiguration } from '../config/job-configuration.js';
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
  /** The current configuration (the registry copy once started). */
  configuration(): ResolvedJobConfiguration;
  /** Whether the job is shutting down or shut down on this instance. */
  isShutdown(): boolean;
}
