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
   * session (another instance may take the item over). Long-running jobs should check it. In the
   * contexts the kernel hands over it is an accessor, made on first read: a spread copy of the
   * context (`{ ...context }`) does not carry it, so pass the context itself or the signal.
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

/** The fields of a run's {@link ShardingContexts}, besides its signal. */
export type ShardingContextsFields = Omit<ShardingContexts, 'signal'>;

/**
 * A run's {@link ShardingContexts} as the kernel builds them. `signal` is an accessor on the
 * prototype that reads the run's signal when first asked (a run makes its `AbortSignal` only on
 * demand), so a spread copy of the object does not carry it. A class, not an object literal with
 * a getter: V8 builds such a literal in dictionary mode, about 1 µs per object (Node.js 20), and
 * every run of every job makes one.
 */
export class RunShardingContexts implements ShardingContexts {
  readonly taskId: string;
  readonly jobName: string;
  readonly shardingTotalCount: number;
  readonly jobParameter: string;
  readonly shardingItemParameters: ReadonlyMap<number, string | undefined>;
  /** Set only when the run serves a fire (`declare`: no own `undefined` property otherwise). */
  declare readonly scheduledFireTimeMs?: number;
  readonly #run: { readonly signal: AbortSignal };

  /**
   * @param fields - the run's fields; `scheduledFireTimeMs` is left out of the object when undefined.
   * @param run - what holds the run's signal (read on each access of {@link signal}).
   */
  constructor(fields: ShardingContextsFields, run: { readonly signal: AbortSignal }) {
    this.taskId = fields.taskId;
    this.jobName = fields.jobName;
    this.shardingTotalCount = fields.shardingTotalCount;
    this.jobParameter = fields.jobParameter;
    this.shardingItemParameters = fields.shardingItemParameters;
    if (fields.scheduledFireTimeMs !== undefined) this.scheduledFireTimeMs = fields.scheduledFireTimeMs;
    this.#run = run;
  }

  /** The run's signal; see {@link ShardingContext.signal}. */
  get signal(): AbortSignal {
    return this.#run.signal;
  }
}

/** One item's {@link ShardingContext}: a class for the reason {@link RunShardingContexts} gives. */
class ItemShardingContext implements ShardingContext {
  readonly jobName: string;
  readonly taskId: string;
  readonly shardingTotalCount: number;
  readonly jobParameter: string;
  readonly shardingItem: number;
  readonly shardingParameter: string | undefined;
  readonly fencingToken: number;
  /** Set only when the run serves a fire (`declare`: no own `undefined` property otherwise). */
  declare readonly scheduledFireTimeMs?: number;
  readonly #contexts: ShardingContexts;

  constructor(contexts: ShardingContexts, item: number, fencingToken: number) {
    this.jobName = contexts.jobName;
    this.taskId = contexts.taskId;
    this.shardingTotalCount = contexts.shardingTotalCount;
    this.jobParameter = contexts.jobParameter;
    this.shardingItem = item;
    this.shardingParameter = contexts.shardingItemParameters.get(item);
    this.fencingToken = fencingToken;
    if (contexts.scheduledFireTimeMs !== undefined) this.scheduledFireTimeMs = contexts.scheduledFireTimeMs;
    this.#contexts = contexts;
  }

  /** The run's signal, read from the run when asked: a run makes its signal only on first use. */
  get signal(): AbortSignal {
    return this.#contexts.signal;
  }
}

/**
 * The per-item context of `item` within a run. Its `signal` is an accessor on the prototype (see
 * {@link RunShardingContexts}); the other fields are own properties.
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
  return new ItemShardingContext(contexts, item, fencingToken);
}
