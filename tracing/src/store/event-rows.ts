/**
 * Job events as table rows: one `JOB_EXECUTION_LOG` row per item execution (the completion event
 * overrides its start event, keyed by the event `id`), one `JOB_STATUS_TRACE_LOG` row per status
 * event. Other events (reshardings) have no table and are skipped.
 *
 * @module
 */
import type { JobEvent, JobExecutionEvent, JobStatusTraceEvent } from '@elasticjob-ts/core';
import type { Insertable } from 'kysely';
import type { StoreBackend } from './backend.js';
import type { JobExecutionLogTable, JobStatusTraceLogTable } from './schema.js';

/** The rows of a batch of events. */
export interface EventRows {
  /** One row per execution id, its latest state in the batch. */
  readonly executions: Insertable<JobExecutionLogTable>[];
  readonly statusTraces: Insertable<JobStatusTraceLogTable>[];
}

/**
 * Maps a batch of events to rows.
 *
 * @param events - events in post order.
 * @param backend - how times and booleans are stored.
 */
export function toEventRows(events: readonly JobEvent[], backend: StoreBackend): EventRows {
  const executions = new Map<string, Insertable<JobExecutionLogTable>>();
  const statusTraces: Insertable<JobStatusTraceLogTable>[] = [];
  for (const event of events) {
    if (event.kind === 'execution') executions.set(event.id, executionRow(event, backend));
    else if (event.kind === 'status') statusTraces.push(statusTraceRow(event, backend));
  }
  return { executions: [...executions.values()], statusTraces };
}

function executionRow(event: JobExecutionEvent, backend: StoreBackend): Insertable<JobExecutionLogTable> {
  return {
    id: event.id,
    job_name: event.jobName,
    task_id: event.taskId,
    hostname: event.hostname,
    ip: event.ip,
    sharding_item: event.shardingItem,
    execution_source: event.source,
    failure_cause: event.failureCause ?? null,
    is_success: backend.encodeBoolean(event.success === true),
    start_time: backend.encodeTime(event.startTimeMs),
    complete_time: event.completeTimeMs === undefined ? null : backend.encodeTime(event.completeTimeMs),
  };
}

function statusTraceRow(
  event: JobStatusTraceEvent,
  backend: StoreBackend,
): Insertable<JobStatusTraceLogTable> {
  return {
    id: event.id,
    job_name: event.jobName,
    original_task_id: '',
    task_id: event.taskId,
    slave_id: event.slaveId,
    source: event.source,
    execution_type: event.executionType,
    sharding_item: event.shardingItems.join(','),
    state: event.state,
    message: event.message,
    creation_time: backend.encodeTime(event.creationTimeMs),
  };
}
