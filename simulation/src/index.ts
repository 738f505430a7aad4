/**
 * `@elasticjob-ts/simulation`: deterministic simulation of an ElasticJob-TS cluster. The real
 * kernel (`ScheduleJobBootstrap`) runs as N job instances against the memory registry in one
 * process, on simulated time, with seeded faults (frozen processes, partitions, session expiry,
 * crashes, latency, delayed watch delivery, clock skew) and operator commands, and the
 * invariants (exclusion, no lost item, convergence, nothing left after shutdown) checked as it
 * runs. Every run replays exactly from its seed. See `docs/simulation.md`.
 *
 * @module
 */
export {
  type BatchOptions,
  type BatchSummary,
  type FailingSeed,
  runSeeds,
  traceOfViolation,
} from './batch.js';
export { Random } from './random.js';
export type { RunRecord, Violation } from './run-ledger.js';
export { ProcessClock, SimulatedTime } from './simulated-time.js';
export {
  EVENT_CHANNEL_MODES,
  type EventChannelMode,
  SIMULATION_EPOCH_MS,
  type SimulationOptions,
  type SimulationResult,
  simulateSeed,
} from './simulation.js';
export { Trace, type TraceEntry } from './trace.js';
export { type ClusterSpec, generateClusterSpec, type JobSpec } from './workload.js';
