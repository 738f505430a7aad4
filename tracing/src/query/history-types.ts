/**
 * The shapes of the history query API ({@link HistoryQueries}): filters, pages and records. Times
 * are epoch milliseconds, durations are seconds.
 *
 * @module
 */
import type { ExecutionSource, JobRunState } from '@elasticjob-ts/core';

/** Filters of {@link HistoryQueries.findExecutions}; all optional and combined with AND. */
export interface ExecutionFilter {
  /** Exact job name. */
  readonly jobName?: string;
  /** Exact sharding item. */
  readonly shardingItem?: number;
  /** Exact instance IP. */
  readonly ip?: string;
  /** Exact host name. */
  readonly hostname?: string;
  /** Exact taskId (one run of one instance). */
  readonly taskId?: string;
  /** What started the run. */
  readonly source?: ExecutionSource;
  /**
   * `true`: completed successfully; `false`: completed with a failure. Running executions match
   * neither.
   */
  readonly success?: boolean;
  /** Only executions still running (no completion recorded). */
  readonly running?: boolean;
  /** Start time at or after, epoch ms. */
  readonly fromMs?: number;
  /** Start time before, epoch ms. */
  readonly toMs?: number;
  /** The failure cause contains this text (case-insensitive). */
  readonly failureText?: string;
}

/** Filters of {@link HistoryQueries.findStatusTraces}; at least one of them. */
export interface StatusTraceFilter {
  /** Exact taskId: the phases of one run. */
  readonly taskId?: string;
  /** Exact job name. */
  readonly jobName?: string;
  /** Creation time at or after, epoch ms. */
  readonly fromMs?: number;
  /** Creation time before, epoch ms. */
  readonly toMs?: number;
}

/** Which page to read. */
export interface PageRequest {
  /** Rows per page, 1..1000. @defaultValue 50 */
  readonly limit?: number;
  /** The `nextCursor` of the previous page; absent for the first page. */
  readonly cursor?: string;
}

/** One page of results. */
export interface Page<T> {
  readonly items: T[];
  /** Pass as `cursor` to read the next page; absent on the last page. */
  readonly nextCursor?: string;
}

/** One row of `JOB_EXECUTION_LOG`. */
export interface ExecutionRecord {
  readonly id: string;
  readonly jobName: string;
  readonly taskId: string;
  readonly hostname: string;
  readonly ip: string;
  readonly shardingItem: number;
  readonly source: ExecutionSource;
  /** Epoch ms. */
  readonly startTimeMs: number;
  /** Epoch ms; absent while running. */
  readonly completeTimeMs?: number;
  /** Absent while running. */
  readonly success?: boolean;
  /** The failure's stack trace, when it failed. */
  readonly failureCause?: string;
}

/** One row of `JOB_STATUS_TRACE_LOG`. */
export interface StatusTraceRecord {
  readonly id: string;
  readonly jobName: string;
  readonly originalTaskId: string;
  readonly taskId: string;
  /** The instance's IP. */
  readonly slaveId: string;
  readonly source: ExecutionSource;
  readonly executionType: string;
  readonly shardingItems: number[];
  readonly state: JobRunState;
  readonly message: string;
  /** Epoch ms. */
  readonly creationTimeMs: number;
}

/** Input of {@link HistoryQueries.jobStatistics}. */
export interface StatisticsRequest {
  /** Only this job; all jobs when absent. */
  readonly jobName?: string;
  /** Bucket size (UTC hours or days). @defaultValue 'hour' */
  readonly granularity?: 'hour' | 'day';
  /** Start time at or after, epoch ms. */
  readonly fromMs?: number;
  /** Start time before, epoch ms. */
  readonly toMs?: number;
}

/** Executions of one job in one time bucket. */
export interface JobStatisticsBucket {
  readonly jobName: string;
  /** Bucket start (UTC), epoch ms. */
  readonly bucketStartMs: number;
  /** Item executions started in the bucket. */
  readonly runs: number;
  /** Of those, completed with a failure. */
  readonly failures: number;
  /** Of those, still running (no completion recorded). */
  readonly running: number;
  /** Median duration of the completed ones, seconds; `null` when none completed. */
  readonly p50DurationSeconds: number | null;
  /** 95th percentile duration of the completed ones, seconds; `null` when none completed. */
  readonly p95DurationSeconds: number | null;
}

/** A query argument that cannot be used; the message names the field and the accepted values. */
export class HistoryQueryError extends Error {
  override readonly name = 'HistoryQueryError';
}
