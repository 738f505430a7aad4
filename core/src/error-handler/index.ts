/**
 * Error handlers: the SPI, the built-in `LOG`, `THROW`, `IGNORE` and `WEBHOOK` types, their
 * registry, and {@link JobSystemError}.
 *
 * @example
 * ```ts
 * import { createJobErrorHandler, registerJobErrorHandler } from '@elasticjob-ts/core';
 *
 * registerJobErrorHandler('CONSOLE', () => ({
 *   type: 'CONSOLE',
 *   handleException: (jobName, error) => console.error(jobName, error),
 * }));
 * const handler = createJobErrorHandler('CONSOLE', {}, logger);
 * ```
 *
 * @module
 */
export * from './built-in-error-handlers.js';
export * from './error-handler-registry.js';
export * from './job-error-handler.js';
export * from './job-system-error.js';
export * from './webhook-error-handler.js';
