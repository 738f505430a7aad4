/**
 * {@link ElasticJobMetrics}: Prometheus metrics (prom-client) of the jobs, registry sessions and
 * event tracing of this process. ElasticJob has no metrics; names and labels are listed in
 * {@link METRIC_NAMES}. Counters and histograms are fed by job events; gauges are read from the
 * bootstraps' public getters and the registry center when Prometheus scrapes.
 *
 * @module
 */
import {
  type CoordinatorRegistryCenter,
  type JobEvent,
  type JobExecutionEvent,
  JobNodePath,
  type JobStatusTraceEvent,
  type Logger,
  silentLogger,
} from '@elasticjob-ts/core';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import {
  DEFAULT_DURATION_BUCKETS_SECONDS,
  DEFAULT_SCHEDULE_DELAY_BUCKETS_SECONDS,
  METRIC_NAMES,
} from './metric-names.js';
import type { ObservableJob } from './observable-job.js';

/** Options of {@link ElasticJobMetrics}. */
export interface ElasticJobMetricsOptions {
  /** The prom-client registry to register in (e.g. the app's own). @defaultValue a new `Registry` */
  readonly registry?: Registry;
  /** Buckets of `elasticjob_execution_duration_seconds`. @defaultValue {@link DEFAULT_DURATION_BUCKETS_SECONDS} */
  readonly durationBucketsSeconds?: readonly number[];
  /** Buckets of `elasticjob_schedule_delay_seconds`. @defaultValue {@link DEFAULT_SCHEDULE_DELAY_BUCKETS_SECONDS} */
  readonly scheduleDelayBucketsSeconds?: readonly number[];
  /** Where scrape-time registry errors are reported. @defaultValue silentLogger */
  readonly logger?: Logger;
}

/** Anything with the event tracing writer's drop counter. */
export interface DropCounting {
  readonly stats: { readonly droppedEvents: number };
}

interface ObservedJob {
  readonly job: ObservableJob;
  readonly jobName: string;
  readonly registryCenter: CoordinatorRegistryCenter | undefined;
  /** The cron fire time the next NORMAL_TRIGGER run belongs to, epoch ms. */
  expectedFireTimeMs: number | undefined;
}

/**
 * The metrics of this process's jobs.
 *
 * @example
 * ```ts
 * const metrics = new ElasticJobMetrics();
 * metrics.observeRegistryCenter(registry);
 * metrics.observeJob(bootstrap, { registryCenter: registry });
 * const server = await startMonitoringServer({ metrics, port: 9464 });
 * ```
 */
export class ElasticJobMetrics {
  /** The prom-client registry holding the metrics (serve `registry.metrics()`). */
  readonly registry: Registry;
  readonly #logger: Logger;
  readonly #jobs = new Set<ObservedJob>();
  readonly #sessions = new Map<CoordinatorRegistryCenter, boolean>();
  readonly #droppers = new Map<DropCounting, number>();
  readonly #executions: Counter<'job' | 'source' | 'result'>;
  readonly #misfires: Counter<'job'>;
  readonly #failovers: Counter<'job'>;
  readonly #reshardings: Counter<'job'>;
  readonly #duration: Histogram<'job'>;
  readonly #scheduleDelay: Histogram<'job'>;

  /** @param options - see {@link ElasticJobMetricsOptions}. */
  constructor(options: ElasticJobMetricsOptions = {}) {
    this.registry = options.registry ?? new Registry();
    this.#logger = options.logger ?? silentLogger;
    const registers = [this.registry];
    this.#executions = new Counter({
      name: METRIC_NAMES.executions,
      help: 'Item executions completed on this instance, by job, source (NORMAL_TRIGGER, MISFIRE, FAILOVER) and result (success, failure).',
      labelNames: ['job', 'source', 'result'],
      registers,
    });
    this.#misfires = new Counter({
      name: METRIC_NAMES.misfires,
      help: 'Misfire runs: fires that came while the previous run was still running, re-run after it.',
      labelNames: ['job'],
      registers,
    });
    this.#failovers = new Counter({
      name: METRIC_NAMES.failovers,
      help: 'Sharding items this instance ran as failover for a crashed instance.',
      labelNames: ['job'],
      registers,
    });
    this.#reshardings = new Counter({
      name: METRIC_NAMES.reshardings,
      help: 'Reshardings committed by this instance as the job leader.',
      labelNames: ['job'],
      registers,
    });
    this.#duration = new Histogram({
      name: METRIC_NAMES.executionDuration,
      help: 'Item execution duration in seconds.',
      labelNames: ['job'],
      buckets: [...(options.durationBucketsSeconds ?? DEFAULT_DURATION_BUCKETS_SECONDS)],
      registers,
    });
    this.#scheduleDelay = new Histogram({
      name: METRIC_NAMES.scheduleDelay,
      help: "Delay from the cron fire time to the start of the run's items (status TASK_RUNNING), in seconds; cron runs only.",
      labelNames: ['job'],
      buckets: [...(options.scheduleDelayBucketsSeconds ?? DEFAULT_SCHEDULE_DELAY_BUCKETS_SECONDS)],
      registers,
    });
    const jobs = this.#jobs;
    new Gauge({
      name: METRIC_NAMES.leader,
      help: 'Whether an instance of the job in this process is its leader (1) or not (0).',
      labelNames: ['job'],
      registers,
      collect() {
        this.reset();
        const leaders = new Map<string, number>();
        for (const observed of jobs) {
          leaders.set(
            observed.jobName,
            Math.max(leaders.get(observed.jobName) ?? 0, observed.job.isLeader() ? 1 : 0),
          );
        }
        for (const [job, value] of leaders) this.set({ job }, value);
      },
    });
    new Gauge({
      name: METRIC_NAMES.failoverBacklog,
      help: 'Sharding items waiting for a failover executor, as this instance sees them.',
      labelNames: ['job'],
      registers,
      collect() {
        this.reset();
        const backlog = new Map<string, number>();
        for (const observed of jobs) {
          backlog.set(
            observed.jobName,
            Math.max(backlog.get(observed.jobName) ?? 0, observed.job.failoverBacklog),
          );
        }
        for (const [job, value] of backlog) this.set({ job }, value);
      },
    });
    const logger = this.#logger;
    new Gauge({
      name: METRIC_NAMES.instances,
      help: 'Live job instances in the registry center.',
      labelNames: ['job'],
      registers,
      async collect() {
        // Any registry center of the job's local instances answers; a closed one is skipped.
        const byJob = new Map<string, CoordinatorRegistryCenter[]>();
        for (const observed of jobs) {
          if (observed.registryCenter === undefined) continue;
          byJob.set(observed.jobName, [...(byJob.get(observed.jobName) ?? []), observed.registryCenter]);
        }
        for (const [job, registryCenters] of byJob) {
          let lastError: unknown;
          let count: number | undefined;
          for (const registryCenter of registryCenters) {
            try {
              count = (await registryCenter.getChildrenKeys(new JobNodePath(job).instances)).length;
              break;
            } catch (error) {
              lastError = error;
            }
          }
          if (count !== undefined) this.set({ job }, count);
          else {
            this.remove({ job });
            logger.warn(
              { err: lastError, jobName: job },
              `${METRIC_NAMES.instances}: could not read the job instances`,
            );
          }
        }
      },
    });
    const sessions = this.#sessions;
    new Gauge({
      name: METRIC_NAMES.registrySessionUp,
      help: 'Whether every observed registry center session is up (1) or not (0).',
      registers,
      collect() {
        this.set([...sessions.values()].every(Boolean) ? 1 : 0);
      },
    });
    const droppers = this.#droppers;
    new Counter({
      name: METRIC_NAMES.tracingDropped,
      help: 'Job events dropped by the event tracing queue because the history database was down or slow.',
      registers,
      collect() {
        for (const [writer, counted] of droppers) {
          const dropped = writer.stats.droppedEvents;
          if (dropped > counted) this.inc(dropped - counted);
          droppers.set(writer, dropped);
        }
      },
    }).inc(0);
  }

  /**
   * Observes a started job on this instance: subscribes to its events (counters, histograms) and
   * reads its getters at scrape time (gauges).
   *
   * @param job - a started `ScheduleJobBootstrap` or `OneOffJobBootstrap`.
   * @param options - `registryCenter`: the job's registry center, for `elasticjob_instances`.
   * @returns a function that stops observing it (its last counter values stay).
   */
  observeJob(
    job: ObservableJob,
    options: { readonly registryCenter?: CoordinatorRegistryCenter } = {},
  ): () => void {
    const observed: ObservedJob = {
      job,
      jobName: job.configuration.jobName,
      registryCenter: options.registryCenter,
      expectedFireTimeMs: job.nextFireTimeMs,
    };
    this.#jobs.add(observed);
    for (const source of ['NORMAL_TRIGGER', 'MISFIRE', 'FAILOVER']) {
      for (const result of ['success', 'failure'])
        this.#executions.inc({ job: observed.jobName, source, result }, 0);
    }
    for (const counter of [this.#misfires, this.#failovers, this.#reshardings])
      counter.inc({ job: observed.jobName }, 0);
    const unsubscribe = job.subscribe((event) => this.#record(observed, event));
    return () => {
      unsubscribe();
      this.#jobs.delete(observed);
    };
  }

  /**
   * Tracks a registry center's session for `elasticjob_registry_session_up` (and readiness): up
   * from now (the registry center is started), down on `SUSPENDED`/`LOST`, up again on
   * `RECONNECTED`.
   *
   * @param registryCenter - a started registry center.
   * @returns a function that stops tracking it.
   */
  observeRegistryCenter(registryCenter: CoordinatorRegistryCenter): () => void {
    this.#sessions.set(registryCenter, true);
    const remove = registryCenter.addConnectionStateListener((state) => {
      this.#sessions.set(registryCenter, state === 'CONNECTED' || state === 'RECONNECTED');
    });
    return () => {
      remove();
      this.#sessions.delete(registryCenter);
    };
  }

  /**
   * Counts an event tracing writer's drops in `elasticjob_tracing_dropped_total`.
   *
   * @param writer - an `EventTracingWriter`.
   * @returns a function that stops counting it.
   */
  observeTracing(writer: DropCounting): () => void {
    this.#droppers.set(writer, 0);
    return () => this.#droppers.delete(writer);
  }

  /**
   * Ready (`/readyz`): every observed registry center session is up and at least one job is
   * observed.
   */
  isReady(): boolean {
    return this.#sessions.size > 0 && [...this.#sessions.values()].every(Boolean) && this.#jobs.size > 0;
  }

  #record(observed: ObservedJob, event: JobEvent): void {
    const job = event.jobName;
    if (event.kind === 'resharding') {
      this.#reshardings.inc({ job });
      return;
    }
    this.#trackFireTime(observed, event);
    if (event.kind === 'execution') {
      if (event.completeTimeMs === undefined) {
        if (event.source === 'FAILOVER') this.#failovers.inc({ job });
        return;
      }
      this.#executions.inc({
        job,
        source: event.source,
        result: event.success === true ? 'success' : 'failure',
      });
      this.#duration.observe({ job }, Math.max(0, event.completeTimeMs - event.startTimeMs) / 1000);
      return;
    }
    if (event.state === 'TASK_RUNNING' && event.source === 'MISFIRE') this.#misfires.inc({ job });
  }

  /**
   * The events carry no fire time, so the schedule delay is measured against the fire time the job
   * announced (`nextFireTimeMs`) before the run: a cron run's `TASK_RUNNING` (its items starting)
   * is observed against it, then the next one is read. Its `TASK_STAGING` is ignored: a cron run is
   * staged up to 500 ms before its fire (runs prepared ahead). An event later than the expected
   * fire time without a start in between means that fire was skipped (misfire): the expectation
   * moves on.
   */
  #trackFireTime(observed: ObservedJob, event: JobExecutionEvent | JobStatusTraceEvent): void {
    const expected = observed.expectedFireTimeMs;
    const cronRun = event.kind === 'status' && event.source === 'NORMAL_TRIGGER';
    if (cronRun && event.state === 'TASK_STAGING') return;
    if (cronRun && event.state === 'TASK_RUNNING') {
      if (expected !== undefined && event.creationTimeMs >= expected) {
        this.#scheduleDelay.observe({ job: event.jobName }, (event.creationTimeMs - expected) / 1000);
      }
      observed.expectedFireTimeMs = observed.job.nextFireTimeMs;
      return;
    }
    const timeMs =
      event.kind === 'status' ? event.creationTimeMs : (event.completeTimeMs ?? event.startTimeMs);
    if (expected !== undefined && timeMs >= expected)
      observed.expectedFireTimeMs = observed.job.nextFireTimeMs;
  }
}
