/**
 * {@link tracingHistorySource}: the console's {@link HistorySource} over the tracing package's
 * history store (`@elasticjob-ts/tracing`: ElasticJob's `JOB_EXECUTION_LOG` and
 * `JOB_STATUS_TRACE_LOG` tables on SQLite or PostgreSQL).
 *
 * @module
 */
import type { HistoryQueries } from '@elasticjob-ts/tracing';
import type { HistorySource } from './history-source.js';

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
      const page = await queries.findExecutions(
        {
          jobName: query.jobName,
          shardingItem: query.item,
          ip: query.ip,
          success: query.success,
          fromMs: query.fromMs,
          toMs: query.toMs,
        },
        { limit: query.limit, cursor: query.cursor },
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
      const page = await queries.findStatusTraces(
        { jobName: query.jobName, taskId: query.taskId },
        { limit: query.limit, cursor: query.cursor },
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
      const buckets = await queries.jobStatistics({
        jobName: query.jobName,
        granularity: query.bucket,
        fromMs: query.fromMs,
        toMs: query.toMs,
      });
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
