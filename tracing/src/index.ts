/**
 * `@elasticjob-ts/tracing`: ElasticJob's event tracing (every item execution and run phase in
 * `JOB_EXECUTION_LOG` / `JOB_STATUS_TRACE_LOG`, SQLite or PostgreSQL), the history query API and
 * `elasticjob history` CLI, Prometheus metrics with a `/metrics` `/healthz` `/readyz` listener, and
 * OpenTelemetry spans per item execution. Depends on core's public event API only.
 *
 * @example
 * ```ts
 * import { ElasticJobMetrics, startEventTracing, startMonitoringServer } from '@elasticjob-ts/tracing';
 *
 * const tracing = await startEventTracing({ url: 'sqlite:./history.db' });
 * tracing.attach(bootstrap);
 * const metrics = new ElasticJobMetrics();
 * metrics.observeRegistryCenter(registry);
 * metrics.observeJob(bootstrap, { registryCenter: registry });
 * metrics.observeTracing(tracing.writer);
 * const monitoring = await startMonitoringServer({ metrics });
 * ```
 *
 * @module
 */
export { runHistoryCli } from './cli/history-cli.js';
export * from './job-event-tracing.js';
export * from './metrics/elasticjob-metrics.js';
export * from './metrics/execution-spans.js';
export * from './metrics/metric-names.js';
export * from './metrics/monitoring-server.js';
export type { ObservableJob } from './metrics/observable-job.js';
export { type CursorPosition, decodeCursor, encodeCursor } from './query/cursor.js';
export { HistoryQueries } from './query/history-queries.js';
export * from './query/history-types.js';
export type { StatisticsGranularity, StoreBackend } from './store/backend.js';
export * from './store/history-store.js';
export * from './store/history-url.js';
export { HistoryMigrationError, MIGRATION_NAMES, type MigrationName } from './store/migrations.js';
export * from './store/retention.js';
export type * from './store/schema.js';
export * from './writer/event-tracing-writer.js';
