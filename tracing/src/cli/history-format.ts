/**
 * Table output of `elasticjob history` (aligned columns, times in ISO-8601 UTC, durations in
 * seconds, a `next page:` line when there are more rows).
 *
 * @module
 */
import { formatTable } from '@elasticjob-ts/core';
import type {
  ExecutionRecord,
  JobStatisticsBucket,
  Page,
  StatusTraceRecord,
} from '../query/history-types.js';

const iso = (ms: number | undefined): string | undefined =>
  ms === undefined ? undefined : new Date(ms).toISOString();
const seconds = (value: number | null | undefined): string | undefined =>
  value === null || value === undefined ? undefined : value.toFixed(3);

function nextPage(cursor: string | undefined): string {
  return cursor === undefined ? '' : `next page: --cursor ${cursor}\n`;
}

/**
 * @param page - a page of executions.
 * @returns the table and, when more rows exist, a `next page: --cursor …` line.
 */
export function formatExecutions(page: Page<ExecutionRecord>): string {
  const rows = page.items.map((e) => [
    iso(e.startTimeMs),
    e.jobName,
    e.shardingItem,
    e.source,
    e.success === undefined ? 'running' : e.success ? 'success' : 'failure',
    seconds(e.completeTimeMs === undefined ? undefined : (e.completeTimeMs - e.startTimeMs) / 1000),
    e.ip,
    e.hostname,
    e.taskId,
    e.failureCause?.split('\n')[0],
  ]);
  return (
    formatTable(
      ['START', 'JOB', 'ITEM', 'SOURCE', 'RESULT', 'SECONDS', 'IP', 'HOST', 'TASK', 'FAILURE'],
      rows,
    ) + nextPage(page.nextCursor)
  );
}

/**
 * @param page - a page of status traces.
 * @returns the table and, when more rows exist, a `next page: --cursor …` line.
 */
export function formatStatusTraces(page: Page<StatusTraceRecord>): string {
  const rows = page.items.map((s) => [
    iso(s.creationTimeMs),
    s.jobName,
    s.state,
    s.source,
    s.shardingItems.join(','),
    s.slaveId,
    s.taskId,
    s.message,
  ]);
  return (
    formatTable(['TIME', 'JOB', 'STATE', 'SOURCE', 'ITEMS', 'SLAVE', 'TASK', 'MESSAGE'], rows) +
    nextPage(page.nextCursor)
  );
}

/**
 * @param buckets - statistics buckets.
 * @returns the table.
 */
export function formatStatistics(buckets: readonly JobStatisticsBucket[]): string {
  const rows = buckets.map((b) => [
    b.jobName,
    iso(b.bucketStartMs),
    b.runs,
    b.failures,
    b.running,
    seconds(b.p50DurationSeconds),
    seconds(b.p95DurationSeconds),
  ]);
  return formatTable(['JOB', 'BUCKET', 'RUNS', 'FAILURES', 'RUNNING', 'P50_SECONDS', 'P95_SECONDS'], rows);
}
