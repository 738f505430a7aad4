/**
 * A worker thread of a parallel batch ({@link runSeeds} with `workers` > 1): runs every
 * `stride`-th seed from `first` below `end` and posts one {@link SeedOutcome} per seed. Seeds do
 * not share state, so a seed gives the same outcome in any worker.
 *
 * @module
 */
import { parentPort, workerData } from 'node:worker_threads';
import { type EventChannelMode, simulateSeed } from './simulation.js';

/** What the parent gives a worker. */
export interface SeedWorkerData {
  /** The worker's first seed. */
  readonly first: number;
  /** The first seed not run (exclusive bound). */
  readonly end: number;
  /** Step between the worker's seeds (the number of workers). */
  readonly stride: number;
  /** Simulated minutes per seed. */
  readonly minutes: number;
  /** How watch events reach the processes. */
  readonly eventChannel: EventChannelMode;
}

/** What a worker posts per seed: the figures of a {@link SimulationResult}, without its trace. */
export interface SeedOutcome {
  readonly seed: number;
  /** Kinds of the seed's violations, in the order found (empty: the seed ran clean). */
  readonly violationKinds: readonly string[];
  /** Simulated time every process was alive, summed, in ms. */
  readonly processMs: number;
  /** Item runs recorded. */
  readonly runCount: number;
}

const data = workerData as SeedWorkerData;
for (let seed = data.first; seed < data.end; seed += data.stride) {
  const result = await simulateSeed(seed, { minutes: data.minutes, eventChannel: data.eventChannel });
  const outcome: SeedOutcome = {
    seed,
    violationKinds: result.violations.map((violation) => violation.kind),
    processMs: result.processMs,
    runCount: result.runCount,
  };
  parentPort?.postMessage(outcome);
}
