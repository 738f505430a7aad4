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
  /**
   * This item run's fencing token: a per-item counter advanced, by compare-and-set in the same
   * registry transaction that marks the item running, every time a run of the item is admitted
   * anywhere in the cluster. A run that started later always carries a higher token, so a process
   * that was frozen past its session (GC pause, SIGSTOP, VM migration) and resumes a stale run holds
   * a lower token than the run that replaced it. Store the token with every write the job makes to
   * its own data store and reject a write whose token is lower than the one stored (see the
   * README's "Fencing tokens" section). `0` outside a kernel run (e.g. a hand-built context) and
   * for jobs with `monitorExecution: false`, whose runs write nothing to the registry.
   */
  readonly fencingToken: number;
  /**
   * The scheduled time (epoch ms) of the cron fire this run serves, like Quartz's
   * `getScheduledFireTime()`; `undefined` for a one-off trigger, a misfire re-run and a failover
   * run. With {@link fencingToken} it makes an idempotency key for one fire of one item: an item
   * runs at most once per scheduled fire time.
   */
  readonly scheduledFireTimeMs?: number;
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
  /** See {@link ShardingContext.scheduledFireTimeMs}. */
  readonly scheduledFireTimeMs?: number;
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
 * @param fencingToken - the item run's fencing token (`0` when there is none).
 */
export function shardingContextOf(
  contexts: ShardingContexts,
  item: number,
  fencingToken = 0,
): ShardingContext {
  return {
    jobName: contexts.jobName,
    taskId: contexts.taskId,
    shardingTotalCount: contexts.shardingTotalCount,
    jobParameter: contexts.jobParameter,
    shardingItem: item,
    shardingParameter: contexts.shardingItemParameters.get(item),
    // Read from the run when asked for: a run makes its signal only on first use.
    get signal() {
      return contexts.signal;
    },
    fencingToken,
    ...(contexts.scheduledFireTimeMs === undefined
      ? {}
      : { scheduledFireTimeMs: contexts.scheduledFireTimeMs }),
  };
}
