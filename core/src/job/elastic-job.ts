/**
 * The job types users implement (ElasticJob `SimpleJob`, `DataflowJob`) and the item-executor SPI
 * that runs them. Typed jobs (`SCRIPT`, `HTTP`) need no code: they are named by a type string.
 *
 * @module
 */
import type { ResolvedJobConfiguration } from '../config/job-configuration.js';
import type { ShardingContext } from './sharding-context.js';

/** A job whose items each run `execute` once per fire (ElasticJob `SimpleJob`). */
export interface SimpleJob {
  /**
   * Runs one sharding item. A rejection (or throw) fails the item and goes to the error handler.
   * @param context - the item's context, with an `AbortSignal`.
   */
  execute(context: ShardingContext): Promise<void> | void;
}

/**
 * A job that fetches and processes data per item (ElasticJob `DataflowJob`). With the prop
 * `streaming.process=true` it loops fetch → process until a fetch returns nothing or resharding is
 * needed; otherwise it fetches once.
 */
export interface DataflowJob<T = unknown> {
  /** Fetches the next batch for the item; empty (or `undefined`/`null`) means no data. */
  fetchData(
    context: ShardingContext,
  ): Promise<readonly T[] | null | undefined> | readonly T[] | null | undefined;
  /** Processes a non-empty batch. */
  processData(context: ShardingContext, data: readonly T[]): Promise<void> | void;
}

/** Type names of the built-in typed jobs (no user code; configured by props). */
export type TypedJobType = 'SCRIPT' | 'HTTP';

/** What a bootstrap accepts as the job: an object implementing a job interface, or a typed-job name. */
export type ElasticJob = SimpleJob | DataflowJob | TypedJobType | (string & {});

/** What an item executor may ask of the kernel while running an item. */
export interface JobRuntime {
  /** The configuration of the current run. */
  readonly configuration: ResolvedJobConfiguration;
  /** Whether the leader flagged resharding (dataflow streaming stops its loop on it). */
  isNeedSharding(): Promise<boolean>;
}

/**
 * Runs one item of one kind of job (ElasticJob `JobItemExecutor`). Rejects to fail the item.
 */
export interface JobItemExecutor {
  process(context: ShardingContext, runtime: JobRuntime): Promise<void>;
}
