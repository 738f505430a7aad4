/**
 * Job events: {@link JobExecutionEvent} per item and {@link JobStatusTraceEvent} per run phase,
 * their builders, and the asynchronous {@link JobEventBus}.
 *
 * @example
 * ```ts
 * import { createJobExecutionEvent, jobExecutionSucceeded, JobEventBus } from '@elasticjob-ts/core';
 *
 * const bus = new JobEventBus();
 * bus.subscribe((event) => console.log(event));
 * const start = createJobExecutionEvent({ jobName: 'orders', taskId, source: 'NORMAL_TRIGGER', shardingItem: 0 });
 * bus.post(start);
 * bus.post(jobExecutionSucceeded(start));
 * ```
 *
 * @module
 */
export * from './job-event.js';
export * from './job-event-bus.js';
export * from './job-event-factory.js';
