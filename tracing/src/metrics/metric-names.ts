/**
 * The metric names, label names and default histogram buckets. Names and labels are a stable,
 * documented interface (dashboards and alerts depend on them): change only by adding.
 *
 * @module
 */

/** Prometheus metric names exported by {@link ElasticJobMetrics}. */
export const METRIC_NAMES = {
  /** Counter `{job, source, result}`: item executions completed on this instance; `result` is `success` or `failure`. */
  executions: 'elasticjob_executions_total',
  /** Counter `{job}`: misfire runs (re-runs of fires that came while the previous run was still running). */
  misfires: 'elasticjob_misfires_total',
  /** Counter `{job}`: sharding items this instance ran as failover for a crashed instance. */
  failovers: 'elasticjob_failovers_total',
  /** Counter `{job}`: reshardings committed by this instance as leader. */
  reshardings: 'elasticjob_reshardings_total',
  /** Histogram `{job}`: item execution duration, seconds. */
  executionDuration: 'elasticjob_execution_duration_seconds',
  /** Histogram `{job}`: delay from the cron fire time to the run's start, seconds (cron runs only). */
  scheduleDelay: 'elasticjob_schedule_delay_seconds',
  /** Gauge `{job}`: 1 when an instance in this process is the job's leader, else 0. */
  leader: 'elasticjob_leader',
  /** Gauge `{job}`: live job instances in the registry center. */
  instances: 'elasticjob_instances',
  /** Gauge `{job}`: items waiting for a failover executor. */
  failoverBacklog: 'elasticjob_failover_backlog',
  /** Gauge: 1 while every observed registry center session is up, else 0. */
  registrySessionUp: 'elasticjob_registry_session_up',
  /** Counter: job events the event tracing queue dropped (history database down or slow). */
  tracingDropped: 'elasticjob_tracing_dropped_total',
} as const;

/** Execution duration buckets, seconds: 10 ms up to 24 h (jobs may run for hours). */
export const DEFAULT_DURATION_BUCKETS_SECONDS: readonly number[] = [
  0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14_400, 28_800, 86_400,
];

/** Schedule delay buckets, seconds: 1 ms up to 4 h (a misfire or a long backlog delays a run). */
export const DEFAULT_SCHEDULE_DELAY_BUCKETS_SECONDS: readonly number[] = [
  0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 14_400,
];
