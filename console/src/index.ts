/**
 * The ElasticJob-TS web console and REST API: every job live, operations with roles and an audit
 * log, configuration edit with compare-and-set, and the execution history.
 *
 * @example
 * ```ts
 * import { startConsole } from '@elasticjob-ts/console';
 *
 * const console = await startConsole({
 *   registries: [{ configuration: { type: 'etcd', endpoints: ['http://127.0.0.1:2379'], namespace: 'shop' } }],
 * });
 * console.log(console.url); // http://127.0.0.1:8899/
 * ```
 *
 * @module
 */
export type { ConsoleNamespace } from './api/api-context.js';
export type { Problem } from './api/problem.js';
export type {
  ExecutionQuery,
  ExecutionRecord,
  HistoryPage,
  HistorySource,
  JobStatsBucket,
  JobStatsQuery,
  StatusTraceQuery,
  StatusTraceRecord,
} from './history/history-source.js';
export { tracingHistorySource } from './history/tracing-history-source.js';
export type { ConsoleEvent, JobPart } from './live/change-feed.js';
export type { ConsoleJobStatus, JobDetail, JobSummary } from './registry/console-gateway.js';
export { generateApiToken, hashApiToken, hashPassword, verifyPassword } from './security/credentials.js';
export { ROLES, type Role } from './security/roles.js';
export {
  type ConsoleApiToken,
  type ConsoleUser,
  type ConsoleUsers,
  loadConsoleUsers,
  parseConsoleUsers,
  UsersFileError,
} from './security/users-file.js';
export {
  type ConsoleOptions,
  ConsoleOptionsError,
  type ConsoleRegistryOption,
  isLoopbackHost,
  type RunningConsole,
  startConsole,
} from './start-console.js';
