/** Job events built with core's public builders, at chosen times. */
import {
  createJobExecutionEvent,
  createJobStatusTraceEvent,
  type ExecutionSource,
  type JobExecutionEvent,
  jobExecutionFailed,
  jobExecutionSucceeded,
} from '@elasticjob-ts/core';

export const T0 = Date.parse('2026-03-01T08:00:00.000Z');

/** A start event of `job` item `item` at `startMs`. */
export function started(
  job: string,
  item: number,
  startMs: number,
  extra: { source?: ExecutionSource; ip?: string; taskId?: string } = {},
): JobExecutionEvent {
  const ip = extra.ip ?? '10.0.0.1';
  return createJobExecutionEvent({
    jobName: job,
    taskId: extra.taskId ?? `${job}@-@${item}@-@READY@-@${ip}@-@1001`,
    source: extra.source ?? 'NORMAL_TRIGGER',
    shardingItem: item,
    startTimeMs: startMs,
    ip,
    hostname: `host-${ip}`,
  });
}

/** Its success after `seconds`. */
export function succeeded(start: JobExecutionEvent, seconds: number): JobExecutionEvent {
  return jobExecutionSucceeded(start, start.startTimeMs + seconds * 1000);
}

/** Its failure after `seconds` with `message`. */
export function failed(start: JobExecutionEvent, seconds: number, message: string): JobExecutionEvent {
  return jobExecutionFailed(start, new Error(message), start.startTimeMs + seconds * 1000);
}

/** A status event. */
export function status(
  job: string,
  taskId: string,
  state: 'TASK_STAGING' | 'TASK_RUNNING' | 'TASK_FINISHED' | 'TASK_ERROR',
  atMs: number,
) {
  return createJobStatusTraceEvent({
    jobName: job,
    taskId,
    source: 'NORMAL_TRIGGER',
    shardingItems: [0, 1],
    state,
    message: state === 'TASK_STAGING' ? `Job '${job}' execute begin.` : '',
    creationTimeMs: atMs,
  });
}
