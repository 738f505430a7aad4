/**
 * Runs many seeds and summarises them: seeds per second, simulated cluster-hours, violations by
 * kind, and the first failing seeds with the trace that led to each failure.
 *
 * @module
 */
import { Worker } from 'node:worker_threads';
import type { Violation } from './run-ledger.js';
import type { SeedOutcome, SeedWorkerData } from './seed-worker.js';
import {
  type EventChannelMode,
  SIMULATION_EPOCH_MS,
  type SimulationResult,
  simulateSeed,
} from './simulation.js';

/** Options of {@link runSeeds}. */
export interface BatchOptions {
  /** First seed. @defaultValue 1 */
  readonly from?: number;
  /** Number of seeds. */
  readonly seeds: number;
  /** Simulated minutes per seed. @defaultValue 2 */
  readonly minutes?: number;
  /** How watch events reach the processes (see `SimulationOptions.eventChannel`). @defaultValue 'ordered' */
  readonly eventChannel?: EventChannelMode;
  /**
   * Worker threads running seeds in parallel (each seed is independent, so the outcome per seed is
   * the same as in one thread). With more than one, a failing seed is run once more on the calling
   * thread to keep its {@link SimulationResult} (trace) for the first 20 failures. @defaultValue 1
   */
  readonly workers?: number;
  /** Called after each seed (progress output), in completion order. */
  readonly onResult?: (outcome: SeedOutcome) => void;
}

/** A failing seed and its violations. */
export interface FailingSeed {
  readonly seed: number;
  /** Violation kinds, in the order found. */
  readonly violationKinds: readonly string[];
  /** The whole result with its trace (the first 20 failing seeds only). */
  readonly result: SimulationResult | undefined;
}

/** Failing seeds whose whole result (trace) a batch keeps. */
const FAILURES_KEPT = 20;

/** The summary of a batch. */
export interface BatchSummary {
  readonly seeds: number;
  readonly elapsedMs: number;
  /** CPU time used (user + system), ms. */
  readonly cpuMs: number;
  /** Sum over seeds of the process-time simulated, in hours. */
  readonly clusterHours: number;
  readonly runs: number;
  /** Number of seeds showing each violation kind. */
  readonly seedsByKind: ReadonlyMap<string, number>;
  /** Failing seeds, in seed order (the first 20 keep their result for traces). */
  readonly failures: readonly FailingSeed[];
}

/**
 * Runs `seeds` seeds from `from`, one after the other.
 *
 * @param options - see {@link BatchOptions}.
 */
export async function runSeeds(options: BatchOptions): Promise<BatchSummary> {
  const from = options.from ?? 1;
  const minutes = options.minutes ?? 2;
  const eventChannel = options.eventChannel ?? 'ordered';
  const started = performance.now();
  const cpuStart = process.cpuUsage();
  const seedsByKind = new Map<string, number>();
  const failing: SeedOutcome[] = [];
  let clusterMs = 0;
  let runs = 0;
  const record = (outcome: SeedOutcome): void => {
    clusterMs += outcome.processMs;
    runs += outcome.runCount;
    if (outcome.violationKinds.length > 0) {
      for (const kind of new Set(outcome.violationKinds)) {
        seedsByKind.set(kind, (seedsByKind.get(kind) ?? 0) + 1);
      }
      failing.push(outcome);
    }
    options.onResult?.(outcome);
  };
  const kept = new Map<number, SimulationResult>();
  const workers = Math.min(options.workers ?? 1, options.seeds);
  if (workers > 1) {
    await runInWorkers(
      { first: from, end: from + options.seeds, stride: workers, minutes, eventChannel },
      record,
    );
  } else {
    for (let seed = from; seed < from + options.seeds; seed++) {
      const result = await simulateSeed(seed, { minutes, eventChannel });
      if (result.violations.length > 0 && kept.size < FAILURES_KEPT) kept.set(seed, result);
      record(outcomeOf(result));
    }
  }
  const cpu = process.cpuUsage(cpuStart);
  const elapsedMs = performance.now() - started;
  failing.sort((a, b) => a.seed - b.seed);
  const failures: FailingSeed[] = [];
  for (const outcome of failing) {
    let result = kept.get(outcome.seed);
    if (result === undefined && failures.length < FAILURES_KEPT) {
      result = await simulateSeed(outcome.seed, { minutes, eventChannel });
    }
    failures.push({ seed: outcome.seed, violationKinds: outcome.violationKinds, result });
  }
  return {
    seeds: options.seeds,
    elapsedMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    clusterHours: clusterMs / 3_600_000,
    runs,
    seedsByKind,
    failures,
  };
}

function outcomeOf(result: SimulationResult): SeedOutcome {
  return {
    seed: result.seed,
    violationKinds: result.violations.map((violation) => violation.kind),
    processMs: result.processMs,
    runCount: result.runCount,
  };
}

/**
 * Runs the seeds in `stride` worker threads, worker `w` taking `first + w`, `first + w + stride`,
 * …; resolves once every worker has finished, rejects on the first worker error.
 */
async function runInWorkers(range: SeedWorkerData, record: (outcome: SeedOutcome) => void): Promise<void> {
  const url = new URL('./seed-worker.js', import.meta.url);
  await Promise.all(
    Array.from({ length: range.stride }, (_, w) => {
      const worker = new Worker(url, { workerData: { ...range, first: range.first + w } });
      worker.on('message', (outcome: SeedOutcome) => record(outcome));
      return new Promise<void>((resolve, reject) => {
        worker.once('error', reject);
        worker.once('exit', (code) =>
          code === 0 ? resolve() : reject(new Error(`simulation worker ${w} exited with code ${code}`)),
        );
      });
    }),
  );
}

/**
 * The trace lines that led to a violation: everything the chaos and the operator did, every
 * connection state change, and the runs of the violation's job and item, up to the violation.
 */
export function traceOfViolation(result: SimulationResult, violation: Violation): string {
  const untilMs = violation.atMs - SIMULATION_EPOCH_MS;
  const itemPattern =
    violation.jobName !== undefined && violation.item !== undefined
      ? ` ${violation.jobName} item ${violation.item} `
      : undefined;
  const jobPattern = violation.jobName !== undefined ? `${violation.jobName}` : undefined;
  return result.trace.format((entry) => {
    if (entry.atMs > untilMs) return entry.actor === 'check';
    if (entry.actor === 'chaos' || entry.actor === 'operator' || entry.actor === 'check') return true;
    if (entry.text.startsWith('registry ') || entry.text.startsWith('process ')) return true;
    if (itemPattern !== undefined) return ` ${entry.text} `.includes(itemPattern);
    return jobPattern === undefined || entry.text.includes(jobPattern);
  });
}
