/**
 * {@link tracingHistorySource}: the console's {@link HistorySource} over the tracing package's
 * history store (`@elasticjob-ts/tracing`: ElasticJob's `JOB_EXECUTION_LOG` and
 * `JOB_STATUS_TRACE_LOG` tables on SQLite or PostgreSQL).
 *
 * @module
 */
import type { HistoryQueries } from '@elasticjob-ts/tracing';
import { HistoryInputError, type HistorySource } from './history-source.js';

const iso = (epochMs: number) => new Date(epochMs).toISOString();

/**
 * Adapts the tracing query API.
 *
 * @param queries - `HistoryStore.queries` of an open store.
 * @param close - closes the store (called by the console's `close()`).
 */
export function tracingHistorySource(queries: HistoryQueries, close: () => Promise<void>): HistorySource {
  return {
    async executions(query) {
      const page = await asInputError(
        queries.findExecutions(
          {
            jobName: query.jobName,
            shardingItem: query.item,
            ip: query.ip,
            success: query.success,
            fromMs: query.fromMs,
            toMs: query.toMs,
          },
          { limit: query.limit, cursor: query.cursor },
        ),
      );
      return {
        items: page.items.map((row) => ({
          id: row.id,
          jobName: row.jobName,
          taskId: row.taskId,
          hostname: row.hostname,
          ip: row.ip,
          shardingItem: row.shardingItem,
          executionSource: row.source,
          failureCause: row.failureCause ?? null,
          success: row.success === true,
          startTime: iso(row.startTimeMs),
          completeTime: row.completeTimeMs === undefined ? null : iso(row.completeTimeMs),
        })),
        nextCursor: page.nextCursor ?? null,
      };
    },
    async statusTraces(query) {
      const page = await asInputError(
        queries.findStatusTraces(
          { jobName: query.jobName, taskId: query.taskId },
          { limit: query.limit, cursor: query.cursor },
        ),
      );
      return {
        items: page.items.map((row) => ({
          id: row.id,
          jobName: row.jobName,
          originalTaskId: row.originalTaskId,
          taskId: row.taskId,
          slaveId: row.slaveId,
          executionType: row.executionType,
          shardingItem: row.shardingItems.join(','),
          state: row.state,
          message: row.message,
          creationTime: iso(row.creationTimeMs),
        })),
        nextCursor: page.nextCursor ?? null,
      };
    },
    async jobStats(query) {
      const buckets = await asInputError(
        queries.jobStatistics({
          jobName: query.jobName,
          granularity: query.bucket,
          fromMs: query.fromMs,
          toMs: query.toMs,
        }),
      );
      return buckets.map((bucket) => ({
        start: iso(bucket.bucketStartMs),
        runs: bucket.runs,
        failures: bucket.failures,
        p50DurationMs: bucket.p50DurationSeconds === null ? null : bucket.p50DurationSeconds * 1000,
        p95DurationMs: bucket.p95DurationSeconds === null ? null : bucket.p95DurationSeconds * 1000,
      }));
    },
    close,
  };
}

/**
 * The console's query parameter of each argument the tracing queries name at the start of a
 * `HistoryQueryError` message (the tracing package is optional, so its class is matched by name).
 */
const FIELDS: ReadonlyArray<readonly [RegExp, string]> = [
  [/^cursor\b/, 'query.cursor'],
  [/^status traces need/, 'query.taskId'],
  [/^shardingItem\b/, 'query.item'],
  [/^limit\b/, 'query.limit'],
  [/^fromMs\b/, 'query.from'],
  [/^toMs\b/, 'query.to'],
  [/^granularity\b/, 'query.bucket'],
];

/** Passes `work` on, with a tracing `HistoryQueryError` turned into a {@link HistoryInputError}. */
async function asInputError<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (!(error instanceof Error) || error.name !== 'HistoryQueryError') throw error;
    const field = FIELDS.find(([pattern]) => pattern.test(error.message))?.[1] ?? 'query';
    throw new HistoryInputError(field, error.message);
  }
}
