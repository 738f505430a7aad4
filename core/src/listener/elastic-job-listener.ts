/**
 * Job listeners (ElasticJob `ElasticJobListener`): called before and after every run of this
 * instance, in ascending `order`.
 *
 * @module
 */
import type { ShardingContexts } from '../job/sharding-context.js';

/** Called around every run of the job on this instance. Errors go to the error handler. */
export interface ElasticJobListener {
  /** The type name it is registered under (config `jobListenerTypes`). */
  readonly type: string;
  /** Lower runs first. @defaultValue Number.MAX_SAFE_INTEGER */
  readonly order?: number;
  /**
   * Called before the run's items are admitted and started. For a cron fire this may be shortly
   * before the scheduled time (`contexts.scheduledFireTimeMs`): the run is prepared ahead so its
   * items start at that time (at most 500 ms ahead, by how long preparations took in this process
   * in the last 30 to 60 s).
   */
  beforeJobExecuted(contexts: ShardingContexts): void | Promise<void>;
  afterJobExecuted(contexts: ShardingContexts): void | Promise<void>;
}
