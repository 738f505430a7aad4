/**
 * {@link HistorySource}: what the console needs from the execution history (ElasticJob's event
 * tracing tables `JOB_EXECUTION_LOG` and `JOB_STATUS_TRACE_LOG`). The tracing package's query API
 * is adapted to it; the console never writes history.
 *
 * @module
 */

/**
 * A history query argument the store cannot use (a cursor that is not a previous page's, a
 * status-trace search without a task or a job, an out-of-range time). `field` is the console's
 * query parameter (`query.cursor`, `query.taskId`, ...); the API answers 400 with it.
 */
export class HistoryInputError extends Error {
  override readonly name = 'HistoryInputError';

  /**
   * @param field - the request field at fault, e.g. `query.cursor`.
   * @param message - what is wrong and what is accepted.
   */
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** Filters of an execution search. Every filter is optional; results are newest first. */
export interface ExecutionQuery {
  readonly jobName?: string;
  readonly item?: number;
  readonly ip?: string;
  readonly success?: boolean;
  /** Start time from (inclusive), epoch ms. */
  readonly fromMs?: number;
  /** Start time to (exclusive), epoch ms. */
  readonly toMs?: number;
  /** The `nextCursor` of the previous page. */
  readonly cursor?: string;
  /** Page size, 1..500. */
  readonly limit: number;
}

/** One row of `JOB_EXECUTION_LOG`. */
export interface ExecutionRecord {
  readonly id: string;
  readonly jobName: string;
  readonly taskId: string;
  readonly hostname: string;
  readonly ip: string;
  readonly shardingItem: number;
  /** `NORMAL_TRIGGER`, `MISFIRE` or `FAILOVER`. */
  readonly executionSource: string;
  readonly failureCause: string | null;
  readonly success: boolean;
  /** ISO 8601. */
  readonly startTime: string;
  /** ISO 8601; `null` while running. */
  readonly completeTime: string | null;
}

/** Filters of a status-trace search. */
export interface StatusTraceQuery {
  readonly jobName?: string;
  readonly taskId?: string;
  readonly cursor?: string;
  readonly limit: number;
}

/** One row of `JOB_STATUS_TRACE_LOG`. */
export interface StatusTraceRecord {
  readonly id: string;
  readonly jobName: string;
  readonly originalTaskId: string;
  readonly taskId: string;
  readonly slaveId: string;
  readonly executionType: string;
  readonly shardingItem: string;
  /** `TASK_STAGING`, `TASK_RUNNING`, `TASK_FINISHED`, `TASK_ERROR`, ... */
  readonly state: string;
  readonly message: string;
  /** ISO 8601. */
  readonly creationTime: string;
}

/** One page of results. */
export interface HistoryPage<T> {
  readonly items: readonly T[];
  /** Pass as `cursor` for the next page; `null` on the last page. */
  readonly nextCursor: string | null;
}

/** Per-job statistics in time buckets. */
export interface JobStatsQuery {
  readonly jobName: string;
  readonly fromMs: number;
  readonly toMs: number;
  readonly bucket: 'hour' | 'day';
}

/** One time bucket of {@link JobStatsQuery}. */
export interface JobStatsBucket {
  /** Bucket start, ISO 8601. */
  readonly start: string;
  readonly runs: number;
  readonly failures: number;
  /** Duration percentiles of completed runs, ms; `null` when none completed. */
  readonly p50DurationMs: number | null;
  readonly p95DurationMs: number | null;
}

/** The execution history as the console reads it. */
export interface HistorySource {
  executions(query: ExecutionQuery): Promise<HistoryPage<ExecutionRecord>>;
  statusTraces(query: StatusTraceQuery): Promise<HistoryPage<StatusTraceRecord>>;
  jobStats(query: JobStatsQuery): Promise<readonly JobStatsBucket[]>;
  close(): Promise<void>;
}
