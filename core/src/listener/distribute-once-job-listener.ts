/**
 * Distribute-once listeners (ElasticJob `AbstractDistributeOnceElasticJobListener`): callbacks
 * that run once per cluster run — before the first item starts anywhere, and after the last item
 * completed everywhere — instead of once per instance.
 *
 * @module
 */
import type { ShardingContexts } from '../job/sharding-context.js';
import type { ElasticJobListener } from './elastic-job-listener.js';

/** What the kernel hands a distribute-once listener so it can coordinate through the registry. */
export interface DistributeOnceCoordinator {
  coordinate(
    phase: 'started' | 'completed',
    items: readonly number[],
    timeoutMs: number,
    callback: () => void | Promise<void>,
  ): Promise<void>;
}

/** Options of {@link DistributeOnceJobListener}. */
export interface DistributeOnceJobListenerOptions {
  /**
   * Bound of the wait for every item to start, in ms; a timeout is reported to the job's error
   * handler (ElasticJob: `startedTimeoutMilliseconds`, unbounded by default).
   * @defaultValue 60000
   */
  readonly startedTimeoutMs?: number;
  /**
   * Bound of the wait for every item to complete, in ms.
   * @defaultValue 60000
   */
  readonly completedTimeoutMs?: number;
}

/**
 * Extend this to run code once per cluster run. Register instances through the bootstrap's
 * `listeners` option (or a type through `registerJobListener`). The callbacks run on the instance
 * that registers the last item; the others wait, bounded by the timeouts.
 *
 * Caveat (as in ElasticJob): only items present in some instance's run register, so a disabled
 * item or an item skipped because it is still running makes every instance wait until the
 * timeout. Failover runs do not call distribute-once listeners.
 *
 * @example
 * ```ts
 * class Announce extends DistributeOnceJobListener {
 *   readonly type = 'announce';
 *   doBeforeJobExecutedAtLastStarted() { console.log('run starts on the cluster'); }
 *   doAfterJobExecutedAtLastCompleted() { console.log('run completed on the cluster'); }
 * }
 * ```
 */
export abstract class DistributeOnceJobListener implements ElasticJobListener {
  abstract readonly type: string;
  readonly order?: number;
  readonly startedTimeoutMs: number;
  readonly completedTimeoutMs: number;
  #coordinator: DistributeOnceCoordinator | undefined;

  constructor(options: DistributeOnceJobListenerOptions = {}) {
    this.startedTimeoutMs = options.startedTimeoutMs ?? 60_000;
    this.completedTimeoutMs = options.completedTimeoutMs ?? 60_000;
  }

  /** Runs once per cluster run, when every item has started. */
  abstract doBeforeJobExecutedAtLastStarted(contexts: ShardingContexts): void | Promise<void>;
  /** Runs once per cluster run, when every item has completed. */
  abstract doAfterJobExecutedAtLastCompleted(contexts: ShardingContexts): void | Promise<void>;

  /** Called by the kernel when the listener is attached to a job. @internal */
  attachCoordinator(coordinator: DistributeOnceCoordinator): void {
    this.#coordinator = coordinator;
  }

  /** @throws {Error} when used outside a job (no coordinator attached). */
  async beforeJobExecuted(contexts: ShardingContexts): Promise<void> {
    await this.#require().coordinate(
      'started',
      [...contexts.shardingItemParameters.keys()],
      this.startedTimeoutMs,
      () => this.doBeforeJobExecutedAtLastStarted(contexts),
    );
  }

  /** @throws {Error} when used outside a job (no coordinator attached). */
  async afterJobExecuted(contexts: ShardingContexts): Promise<void> {
    await this.#require().coordinate(
      'completed',
      [...contexts.shardingItemParameters.keys()],
      this.completedTimeoutMs,
      () => this.doAfterJobExecutedAtLastCompleted(contexts),
    );
  }

  #require(): DistributeOnceCoordinator {
    if (this.#coordinator === undefined) {
      throw new Error(`distribute-once listener '${this.type}' is not attached to a job`);
    }
    return this.#coordinator;
  }
}
