/**
 * Runs many seeds and summarises them: seeds per second, simulated cluster-hours, violations by
 * kind, and the first failing seeds with the trace that led to each failure.
 *
 * @module
 */
import type { Violation } from './run-ledger.js';
import { SIMULATION_EPOCH_MS, type SimulationResult, simulateSeed } from './simulation.js';

/** Options of {@link runSeeds}. */
export interface BatchOptions {
  /** First seed. @defaultValue 1 */
  readonly from?: number;
  /** Number of seeds. */
  readonly seeds: number;
  /** Simulated minutes per seed. @defaultValue 2 */
  readonly minutes?: number;
  /** Called after each seed (progress output). */
  readonly onResult?: (result: SimulationResult) => void;
}

/** A failing seed and its first violation. */
export interface FailingSeed {
  readonly seed: number;
  readonly violations: readonly Violation[];
  readonly result: SimulationResult;
}

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
  const started = performance.now();
  const cpuStart = process.cpuUsage();
  const seedsByKind = new Map<string, number>();
  const failures: FailingSeed[] = [];
  let clusterMs = 0;
  let runs = 0;
  for (let seed = from; seed < from + options.seeds; seed++) {
    const result = await simulateSeed(seed, { minutes: options.minutes ?? 2 });
    clusterMs += result.processMs;
    runs += result.runCount;
    if (result.violations.length > 0) {
      for (const kind of new Set(result.violations.map((v) => v.kind))) {
        seedsByKind.set(kind, (seedsByKind.get(kind) ?? 0) + 1);
      }
      failures.push({ seed, violations: result.violations, result });
    }
    options.onResult?.(result);
  }
  const cpu = process.cpuUsage(cpuStart);
  return {
    seeds: options.seeds,
    elapsedMs: performance.now() - started,
    cpuMs: (cpu.user + cpu.system) / 1000,
    clusterHours: clusterMs / 3_600_000,
    runs,
    seedsByKind,
    failures,
  };
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
