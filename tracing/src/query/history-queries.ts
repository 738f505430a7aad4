/**
 * {@link HistoryQueries}: the typed read API over the event tracing tables, shared by the CLI and
 * the web console. Every filter runs in SQL on an index (see the migrations); pages use keyset
 * cursors, so deep pages cost the same as the first.
 *
 * @module
 */
import type { ExecutionSource, JobRunState } from '@elasticjob-ts/core';
import { type Kysely, type Selectable, sql } from 'kysely';
import type { StoreBackend } from '../store/backend.js';
import type { JobExecutionLogTable, JobStatusTraceLogTable, TracingDatabase } from '../store/schema.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import {
  type ExecutionFilter,
  type ExecutionRecord,
  HistoryQueryError,
  type JobStatisticsBucket,
  type Page,
  type PageRequest,
  type StatisticsRequest,
  type StatusTraceFilter,
  type StatusTraceRecord,
} from './history-types.js';

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 1000;

/** Read queries on one history database; get one from `HistoryStore.queries`. */
export class HistoryQueries {
  /**
   * @param db - the database.
   * @param backend - its backend.
   * @param ready - resolves once the schema exists (migrates on first use).
   */
  constructor(
    private readonly db: Kysely<TracingDatabase>,
    private readonly backend: StoreBackend,
    private readonly ready: () => Promise<void>,
  ) {}

  /**
   * Item executions matching `filter`, newest first (by start time, then id).
   *
   * @param filter - see {@link ExecutionFilter}.
   * @param page - limit (1..1000, default 50) and cursor.
   * @throws {HistoryQueryError} for a bad limit, cursor or filter value.
   * @throws the database error.
   */
  async findExecutions(filter: ExecutionFilter = {}, page: PageRequest = {}): Promise<Page<ExecutionRecord>> {
    const limit = checkLimit(page.limit);
    checkTimeRange(filter.fromMs, filter.toMs);
    if (
      filter.shardingItem !== undefined &&
      (!Number.isSafeInteger(filter.shardingItem) || filter.shardingItem < 0)
    ) {
      throw new HistoryQueryError(`shardingItem must be a non-negative integer, got ${filter.shardingItem}`);
    }
    await this.ready();
    const b = this.backend;
    let query = this.db.selectFrom('JOB_EXECUTION_LOG').selectAll();
    if (filter.jobName !== undefined) query = query.where('job_name', '=', filter.jobName);
    if (filter.shardingItem !== undefined) query = query.where('sharding_item', '=', filter.shardingItem);
    if (filter.ip !== undefined) query = query.where('ip', '=', filter.ip);
    if (filter.hostname !== undefined) query = query.where('hostname', '=', filter.hostname);
    if (filter.taskId !== undefined) query = query.where('task_id', '=', filter.taskId);
    if (filter.source !== undefined) query = query.where('execution_source', '=', filter.source);
    if (filter.success !== undefined) {
      query = query
        .where('complete_time', 'is not', null)
        .where('is_success', '=', b.encodeBoolean(filter.success));
    }
    if (filter.running === true) query = query.where('complete_time', 'is', null);
    if (filter.running === false) query = query.where('complete_time', 'is not', null);
    if (filter.fromMs !== undefined) query = query.where('start_time', '>=', b.encodeTime(filter.fromMs));
    if (filter.toMs !== undefined) query = query.where('start_time', '<', b.encodeTime(filter.toMs));
    if (filter.failureText !== undefined && filter.failureText !== '') {
      query = query.where(b.containsText('failure_cause', filter.failureText));
    }
    if (page.cursor !== undefined) {
      const after = decodeCursor(page.cursor);
      const t = b.encodeTime(after.timeMs);
      query = query.where((eb) =>
        eb.or([eb('start_time', '<', t), eb.and([eb('start_time', '=', t), eb('id', '<', after.id)])]),
      );
    }
    const rows = await query
      .orderBy('start_time', 'desc')
      .orderBy('id', 'desc')
      .limit(limit + 1)
      .execute();
    const items = rows.slice(0, limit).map((row) => this.#execution(row));
    const last = items.at(-1);
    return rows.length > limit && last !== undefined
      ? { items, nextCursor: encodeCursor({ timeMs: last.startTimeMs, id: last.id }) }
      : { items };
  }

  /**
   * Status traces matching `filter`, oldest first (by creation time, then id): with `taskId`, the
   * phases of one run in order.
   *
   * @param filter - see {@link StatusTraceFilter}; at least `taskId` or `jobName`.
   * @param page - limit (1..1000, default 50) and cursor.
   * @throws {HistoryQueryError} for a missing filter, a bad limit or cursor.
   * @throws the database error.
   */
  async findStatusTraces(
    filter: StatusTraceFilter,
    page: PageRequest = {},
  ): Promise<Page<StatusTraceRecord>> {
    const limit = checkLimit(page.limit);
    checkTimeRange(filter.fromMs, filter.toMs);
    if (filter.taskId === undefined && filter.jobName === undefined) {
      throw new HistoryQueryError('status traces need a taskId or a jobName filter');
    }
    await this.ready();
    const b = this.backend;
    let query = this.db.selectFrom('JOB_STATUS_TRACE_LOG').selectAll();
    if (filter.taskId !== undefined) query = query.where('task_id', '=', filter.taskId);
    if (filter.jobName !== undefined) query = query.where('job_name', '=', filter.jobName);
    if (filter.fromMs !== undefined) query = query.where('creation_time', '>=', b.encodeTime(filter.fromMs));
    if (filter.toMs !== undefined) query = query.where('creation_time', '<', b.encodeTime(filter.toMs));
    if (page.cursor !== undefined) {
      const after = decodeCursor(page.cursor);
      const t = b.encodeTime(after.timeMs);
      query = query.where((eb) =>
        eb.or([eb('creation_time', '>', t), eb.and([eb('creation_time', '=', t), eb('id', '>', after.id)])]),
      );
    }
    const rows = await query
      .orderBy('creation_time', 'asc')
      .orderBy('id', 'asc')
      .limit(limit + 1)
      .execute();
    const items = rows.slice(0, limit).map((row) => this.#statusTrace(row));
    const last = items.at(-1);
    return rows.length > limit && last !== undefined
      ? { items, nextCursor: encodeCursor({ timeMs: last.creationTimeMs, id: last.id }) }
      : { items };
  }

  /**
   * Per job and time bucket: runs, failures, running, p50/p95 duration, computed in SQL
   * (`percentile_cont`) over item executions by start time.
   *
   * @param request - job, granularity (`hour` default, or `day`), time range.
   * @returns buckets ordered by job name, then bucket start.
   * @throws {HistoryQueryError} for a bad granularity or time range.
   * @throws the database error.
   */
  async jobStatistics(request: StatisticsRequest = {}): Promise<JobStatisticsBucket[]> {
    const granularity = request.granularity ?? 'hour';
    if (granularity !== 'hour' && granularity !== 'day') {
      throw new HistoryQueryError(`granularity must be 'hour' or 'day', got '${String(granularity)}'`);
    }
    checkTimeRange(request.fromMs, request.toMs);
    await this.ready();
    const b = this.backend;
    const duration = b.durationSeconds();
    const bucket = b.bucketStartMs('start_time', granularity);
    let query = this.db
      .selectFrom('JOB_EXECUTION_LOG')
      .select([
        'job_name',
        bucket.as('bucket_start_ms'),
        sql<number>`count(*)`.as('runs'),
        sql<number>`sum(case when complete_time is not null and is_success = ${b.encodeBoolean(false)} then 1 else 0 end)`.as(
          'failures',
        ),
        sql<number>`sum(case when complete_time is null then 1 else 0 end)`.as('running'),
        b.percentile(duration, 0.5).as('p50'),
        b.percentile(duration, 0.95).as('p95'),
      ]);
    if (request.jobName !== undefined) query = query.where('job_name', '=', request.jobName);
    if (request.fromMs !== undefined) query = query.where('start_time', '>=', b.encodeTime(request.fromMs));
    if (request.toMs !== undefined) query = query.where('start_time', '<', b.encodeTime(request.toMs));
    const rows = await query.groupBy(['job_name', sql`2`]).orderBy('job_name').orderBy(sql`2`).execute();
    return rows.map((row) => ({
      jobName: row.job_name,
      bucketStartMs: Number(row.bucket_start_ms),
      runs: Number(row.runs),
      failures: Number(row.failures),
      running: Number(row.running),
      p50DurationSeconds: row.p50 === null ? null : Number(row.p50),
      p95DurationSeconds: row.p95 === null ? null : Number(row.p95),
    }));
  }

  /**
   * The job names that have executions, sorted.
   *
   * @throws the database error.
   */
  async jobNames(): Promise<string[]> {
    await this.ready();
    const rows = await this.db
      .selectFrom('JOB_EXECUTION_LOG')
      .select('job_name')
      .distinct()
      .orderBy('job_name')
      .execute();
    return rows.map((row) => row.job_name);
  }

  #execution(row: Selectable<JobExecutionLogTable>): ExecutionRecord {
    const completed = row.complete_time !== null;
    return {
      id: row.id,
      jobName: row.job_name,
      taskId: row.task_id,
      hostname: row.hostname,
      ip: row.ip,
      shardingItem: Number(row.sharding_item),
      source: row.execution_source as ExecutionSource,
      startTimeMs: this.backend.decodeTime(row.start_time),
      ...(row.complete_time !== null ? { completeTimeMs: this.backend.decodeTime(row.complete_time) } : {}),
      ...(completed ? { success: Boolean(row.is_success) } : {}),
      ...(row.failure_cause !== null ? { failureCause: row.failure_cause } : {}),
    };
  }

  #statusTrace(row: Selectable<JobStatusTraceLogTable>): StatusTraceRecord {
    return {
      id: row.id,
      jobName: row.job_name,
      originalTaskId: row.original_task_id,
      taskId: row.task_id,
      slaveId: row.slave_id,
      source: row.source as ExecutionSource,
      executionType: row.execution_type,
      shardingItems: row.sharding_item === '' ? [] : row.sharding_item.split(',').map(Number),
      state: row.state as JobRunState,
      message: row.message,
      creationTimeMs: this.backend.decodeTime(row.creation_time),
    };
  }
}

function checkLimit(limit: number | undefined): number {
  const value = limit ?? DEFAULT_LIMIT;
  if (!Number.isSafeInteger(value) || value < 1 || value > MAX_LIMIT) {
    throw new HistoryQueryError(`limit must be an integer from 1 to ${MAX_LIMIT}, got ${String(limit)}`);
  }
  return value;
}

function checkTimeRange(fromMs: number | undefined, toMs: number | undefined): void {
  for (const [field, value] of [
    ['fromMs', fromMs],
    ['toMs', toMs],
  ] as const) {
    if (value !== undefined && !Number.isFinite(value)) {
      throw new HistoryQueryError(`${field} must be epoch milliseconds, got ${String(value)}`);
    }
  }
  if (fromMs !== undefined && toMs !== undefined && fromMs > toMs) {
    throw new HistoryQueryError(`fromMs (${fromMs}) must not be after toMs (${toMs})`);
  }
}
