/**
 * Quartz cron for ElasticJob-TS: {@link parseCron} reads the Quartz 2.3 dialect ElasticJob jobs are
 * configured with and computes fire times in a time zone, with Quartz's daylight-saving behaviour.
 *
 * @example
 * ```ts
 * import { parseCron } from '@elasticjob-ts/core';
 *
 * const cron = parseCron('0 0/5 * * * ?', { timeZone: 'GMT+08:00' });
 * const next = cron.next(new Date()); // the next multiple of five minutes
 * ```
 *
 * @module
 */

export { type CronExpression, type ParseCronOptions, parseCron } from './cron-expression.js';
export { CronExpressionError, type CronField } from './cron-expression-error.js';
export { parseTimeZone } from './time-zone.js';
