/**
 * What a job sees of one run: ElasticJob's `ShardingContext` (per item) and `ShardingContexts`
 * (per run), plus an `AbortSignal` that fires when the run must stop (shutdown, session loss).
 *
 * @module
 */

/**
 * The context of one sharding item in one run, handed to `SimpleJob.execute` and friends
 * (ElasticJob `api/.../spi/executor/item/param/ShardingContext.java`).
 */
export interface ShardingContext {
  /** The job's name. */
  readonly jobName: string;
  /** `{jobName}@-@{items joined by ','}@-@READY@-@{instanceId}` (ElasticJob's taskId format). */
  readonly taskId: string;
  /** The job's sharding total count. */
  readonly shardingTotalCount: number;
  /** The job-wide parameter (`jobParameter`), `''` when unset. */
  readonly jobParameter: string;
  /** This item, `0..shardingTotalCount-1`. */
  readonly shardingItem: number;
  /** This item's parameter from `shardingItemParameters`, `undefined` when the item has none. */
  readonly shardingParameter: string | undefined;
  /**
   * Aborted when the run must stop: the job is shut down, or this instance lost its registry
   * session (another instance may take the item over). Long-running jobs should check it.
   */
  readonly signal: AbortSignal;
}

/** The context of one run of one job instance over all its items (ElasticJob `ShardingContexts`). */
export interface ShardingContexts {
  /** See {@link ShardingContext.taskId}. */
  readonly taskId: string;
  readonly jobName: string;
  readonly shardingTotalCount: number;
  readonly jobParameter: string;
  /** The items of this run and their parameters (`undefined` = no parameter), ascending by item. */
  readonly shardingItemParameters: ReadonlyMap<number, string | undefined>;
  /** Aborted when the run must stop; see {@link ShardingContext.signal}. */
  readonly signal: AbortSignal;
}

/**
 * Builds ElasticJob's taskId: `{jobName}@-@{items}@-@READY@-@{instanceId}`.
 *
 * @param jobName - the job's name.
 * @param items - the run's items (joined by `,` in the given order).
 * @param instanceId - this job instance's id.
 */
export function buildTaskId(jobName: string, items: readonly number[], instanceId: string): string {
  return `${jobName}@-@${items.join(',')}@-@READY@-@${instanceId}`;
}

/**
 * The per-item context of `item` within a run.
 *
 * @param contexts - the run's contexts.
 * @param item - one of the run's items.
 */
export function shardingContextOf(contexts: ShardingContexts, item: number): ShardingContext {
  return {
    jobName: contexts.jobName,
    taskId: contexts.taskId,
    shardingTotalCount: contexts.shardingTotalCount,
    jobParameter: contexts.jobParameter,
    shardingItem: item,
    shardingParameter: contexts.shardingItemParameters.get(item),
    signal: contexts.signal,
  };
}
