/**
 * Job listeners: the `ElasticJobListener` interface and the registry that builds a job's listeners
 * from its `jobListenerTypes`.
 *
 * @example
 * ```ts
 * import { createJobListeners, registerJobListener } from '@elasticjob-ts/core';
 *
 * registerJobListener('audit', () => ({
 *   type: 'audit',
 *   order: 1,
 *   beforeJobExecuted: (contexts) => console.log('start', contexts.taskId),
 *   afterJobExecuted: (contexts) => console.log('end', contexts.taskId),
 * }));
 * const listeners = createJobListeners(['audit']);
 * ```
 *
 * @module
 */

export * from './distribute-once-job-listener.js';
export * from './elastic-job-listener.js';
export * from './job-listener-registry.js';
