/**
 * The two event tracing tables, with ElasticJob's table and column names (`JOB_EXECUTION_LOG`,
 * `JOB_STATUS_TRACE_LOG`) so an operator coming from ElasticJob keeps their SQL.
 *
 * Column value types differ by backend: PostgreSQL stores `timestamptz` and `boolean`; SQLite
 * stores ISO-8601 UTC text (`2026-01-31T08:00:00.000Z`) and `0`/`1`. {@link StoreBackend} converts.
 *
 * @module
 */
import type { ColumnType } from 'kysely';

/** A time column: a `Date` on PostgreSQL, ISO-8601 UTC text on SQLite. */
export type TimeColumn = ColumnType<Date | string, Date | string, Date | string>;

/** A boolean column: `boolean` on PostgreSQL, `0`/`1` on SQLite. */
export type BooleanColumn = ColumnType<boolean | number, boolean | number, boolean | number>;

/** One item execution (ElasticJob `JOB_EXECUTION_LOG`); inserted at start, completed by `id`. */
export interface JobExecutionLogTable {
  /** The execution event id (UUID), shared by the start and the completion. */
  id: string;
  job_name: string;
  task_id: string;
  hostname: string;
  ip: string;
  sharding_item: number;
  /** `NORMAL_TRIGGER`, `MISFIRE` or `FAILOVER`. */
  execution_source: string;
  /** The failure's stack trace; `null` while running and on success. */
  failure_cause: string | null;
  /** `false` while running (as ElasticJob); the outcome once `complete_time` is set. */
  is_success: BooleanColumn;
  start_time: TimeColumn;
  /** `null` while running. */
  complete_time: ColumnType<Date | string | null, Date | string | null, Date | string | null>;
}

/** One phase of a run (ElasticJob `JOB_STATUS_TRACE_LOG`). */
export interface JobStatusTraceLogTable {
  id: string;
  job_name: string;
  /** Always `''` in Lite, as ElasticJob. */
  original_task_id: string;
  task_id: string;
  /** The instance's IP. */
  slave_id: string;
  /** `NORMAL_TRIGGER`, `MISFIRE` or `FAILOVER`. */
  source: string;
  /** `READY` (the only type Lite uses). */
  execution_type: string;
  /** The run's items as a comma list, e.g. `0,1,2` (as ElasticJob). */
  sharding_item: string;
  /** `TASK_STAGING`, `TASK_RUNNING`, `TASK_FINISHED` or `TASK_ERROR`. */
  state: string;
  message: string;
  creation_time: TimeColumn;
}

/** The tracing database, as Kysely sees it. */
export interface TracingDatabase {
  JOB_EXECUTION_LOG: JobExecutionLogTable;
  JOB_STATUS_TRACE_LOG: JobStatusTraceLogTable;
}
