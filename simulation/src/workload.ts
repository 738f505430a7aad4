/**
 * The workload a seed describes: the jobs (cron period, sharding total count, failover, misfire,
 * monitorExecution, item durations that may overrun the cron, item concurrency), the registry
 * session timeout, the initial cluster size and clock skews.
 *
 * @module
 */
import { executorPoolSizeProviderTypes, registerExecutorPoolSizeProvider } from '@elasticjob-ts/core';
import type { Random } from './random.js';

/** One job of a simulated cluster. */
export interface JobSpec {
  readonly jobName: string;
  /** Cron period in seconds (`0/{period} * * * * ?`); divides 60. */
  readonly periodSeconds: number;
  readonly shardingTotalCount: number;
  readonly failover: boolean;
  readonly misfire: boolean;
  readonly monitorExecution: boolean;
  /** Longest item run, ms; item runs last 10–100 % of it, and may overrun the cron period. */
  readonly maxItemDurationMs: number;
  /** Items of one run in flight at once (a registered pool size provider). */
  readonly poolSize: number;
  /** Probability that one item run stops as soon as its signal is aborted. */
  readonly honorsAbortProbability: number;
}

/** Everything a seed fixes before the first event. */
export interface ClusterSpec {
  readonly seed: number;
  readonly sessionTimeoutMs: number;
  readonly initialProcesses: number;
  readonly maxProcesses: number;
  /** Largest absolute clock skew of a process, ms. */
  readonly maxSkewMs: number;
  /** Largest one-way registry latency of a process, ms. */
  readonly maxLatencyMs: number;
  /** Largest watch delivery delay (delay + batch window), ms. */
  readonly maxWatchDelayMs: number;
  readonly jobs: readonly JobSpec[];
  /** Simulated length of the run, ms (faults, then a quiet tail, then shutdown). */
  readonly durationMs: number;
  /** Faults and commands happen before this offset (ms from the start). */
  readonly faultPhaseMs: number;
}

/** Item concurrencies the simulator registers as pool size provider types `SIM_POOL_{n}`. */
export const SIM_POOL_SIZES = [2, 4, 64] as const;

/** Registers the `SIM_POOL_{n}` pool size providers (idempotent). */
export function registerSimulationPoolSizes(): void {
  const known = new Set(executorPoolSizeProviderTypes());
  for (const size of SIM_POOL_SIZES) {
    const type = poolSizeType(size);
    if (!known.has(type)) registerExecutorPoolSizeProvider(type, () => size);
  }
}

/** The pool size provider type of a concurrency. */
export function poolSizeType(size: number): string {
  return `SIM_POOL_${size}`;
}

const PERIODS_SECONDS = [1, 2, 3, 5] as const;
const ITEM_COUNTS = [1, 2, 3, 4, 5, 8, 12, 16, 32, 64] as const;
/** Longest item run as a fraction of the period: short, near, overrunning, far overrunning. */
const DURATION_FACTORS = [0.2, 0.6, 1.4, 2.5] as const;

/**
 * Draws a cluster from a seed.
 *
 * @param seed - the seed (recorded in the spec).
 * @param random - the workload stream of that seed.
 * @param minutes - simulated minutes per run (> 0).
 */
export function generateClusterSpec(seed: number, random: Random, minutes: number): ClusterSpec {
  const sessionTimeoutMs = random.pick([2000, 3000, 5000, 8000]);
  const jobCount = random.pick([1, 1, 2, 3]);
  const jobs: JobSpec[] = [];
  for (let index = 0; index < jobCount; index++) {
    const periodSeconds = random.pick(PERIODS_SECONDS);
    const monitorExecution = random.chance(0.8);
    jobs.push({
      jobName: `job${index}`,
      periodSeconds,
      shardingTotalCount: random.chance(0.15) ? random.int(1, 64) : random.pick(ITEM_COUNTS),
      failover: monitorExecution && random.chance(0.6),
      misfire: random.chance(0.6),
      monitorExecution,
      maxItemDurationMs: Math.round(periodSeconds * 1000 * random.pick(DURATION_FACTORS)),
      poolSize: random.pick(SIM_POOL_SIZES),
      honorsAbortProbability: random.pick([0, 0.5, 1]),
    });
  }
  const durationMs = Math.round(minutes * 60_000);
  return {
    seed,
    sessionTimeoutMs,
    initialProcesses: random.int(2, 4),
    maxProcesses: 6,
    maxSkewMs: random.pick([0, 50, 250]),
    maxLatencyMs: random.pick([0, 5, 30]),
    maxWatchDelayMs: random.pick([0, 20, 150]),
    jobs,
    durationMs,
    faultPhaseMs: Math.round(durationMs * 0.6),
  };
}

/**
 * How long after the last disturbance the cluster must be back to running every item at every
 * fire, per job, ms: a session timeout (a dead instance's session must expire before failover or
 * resharding can act), the time to drain the longest run that was in progress (every queued batch
 * of items at the longest duration), two cron periods (the next fire after the resharding, plus
 * the fire in progress), and the slack {@link slackMs}.
 */
export function recoveryBoundMs(spec: ClusterSpec, job: JobSpec): number {
  return spec.sessionTimeoutMs + drainMs(job) + 2 * job.periodSeconds * 1000 + slackMs(spec);
}

/**
 * How long after a fire an item may start in a quiet cluster, ms: the fire may fall in a run
 * whose items are drained batch by batch (the item runs as a misfire re-run or at the next fire
 * after it), plus one period, plus the slack.
 */
export function fireBoundMs(spec: ClusterSpec, job: JobSpec): number {
  return drainMs(job) + job.periodSeconds * 1000 + slackMs(spec);
}

function drainMs(job: JobSpec): number {
  return Math.ceil(job.shardingTotalCount / job.poolSize) * job.maxItemDurationMs;
}

/**
 * Slack for the registry round trips of one run start and one resharding (up to 40 one-way
 * messages at the largest latency), the watch delivery delay of the events that trigger them (4
 * hops), clock skew on both sides, and 500 ms for the kernel's own bookkeeping between events.
 */
export function slackMs(spec: ClusterSpec): number {
  return 40 * spec.maxLatencyMs + 4 * spec.maxWatchDelayMs + 2 * spec.maxSkewMs + 500;
}
