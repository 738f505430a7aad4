/**
 * The invariants checked over a whole run: no lost item (every fire's item runs, or is covered by
 * a run in progress that it misfired into, within bounds derived from the configuration) and
 * convergence (once faults stop, the registry settles on a live leader and an assignment of every
 * item to a live instance, with no node left by a gone instance).
 *
 * @module
 */
import type { MemoryRegistryServer } from '@elasticjob-ts/registry-memory';
import type { RunLedger, RunRecord } from './run-ledger.js';
import { SIM_NAMESPACE, type SimProcess } from './sim-process.js';
import { type ClusterSpec, fireBoundMs, type JobSpec, recoveryBoundMs } from './workload.js';

/** A time window in which a fault or command was in effect (global epoch ms, inclusive). */
export interface Disturbance {
  readonly fromMs: number;
  readonly toMs: number;
}

/** A job's sharding total count from `fromMs` on (the operator may change it). */
export interface ItemCountChange {
  readonly fromMs: number;
  readonly count: number;
}

/** Inputs of {@link checkCoverage}. */
export interface CoverageInput {
  readonly spec: ClusterSpec;
  readonly ledger: RunLedger;
  readonly disturbances: readonly Disturbance[];
  readonly itemCounts: ReadonlyMap<string, readonly ItemCountChange[]>;
  readonly startMs: number;
  readonly endMs: number;
}

/**
 * No lost item: for every fire `F` of every job whose window `[F − recovery bound, F + fire
 * bound]` is free of disturbances, every item `0..count−1` has a run that overlaps
 * `[F − skew, F + fire bound]` (it started for this fire, or this fire fell into a run in
 * progress and was misfired). Reports the first fire per job with uncovered items.
 *
 * @returns the number of (fire, item) pairs checked.
 */
export function checkCoverage(input: CoverageInput): number {
  let checked = 0;
  const { spec, ledger } = input;
  for (const job of spec.jobs) {
    const counts = input.itemCounts.get(job.jobName) ?? [];
    const maxCount = Math.max(...counts.map((change) => change.count));
    const sized: JobSpec = { ...job, shardingTotalCount: maxCount };
    const lookbackMs = recoveryBoundMs(spec, sized);
    const boundMs = fireBoundMs(spec, sized);
    const runsByItem = new Map<number, RunRecord[]>();
    for (const run of ledger.runs) {
      if (run.jobName !== job.jobName) continue;
      let list = runsByItem.get(run.item);
      if (list === undefined) {
        list = [];
        runsByItem.set(run.item, list);
      }
      list.push(run);
    }
    const periodMs = job.periodSeconds * 1000;
    for (let fire = input.startMs + periodMs; fire + boundMs <= input.endMs; fire += periodMs) {
      const from = fire - lookbackMs;
      const to = fire + boundMs;
      if (from < input.startMs) continue;
      if (input.disturbances.some((d) => d.toMs >= from && d.fromMs <= to)) continue;
      const count = countAt(counts, fire);
      checked += count;
      const lost: number[] = [];
      for (let item = 0; item < count; item++) {
        const covered = (runsByItem.get(item) ?? []).some(
          (run) => run.startMs <= to && (run.endMs ?? Number.POSITIVE_INFINITY) >= fire - spec.maxSkewMs,
        );
        if (!covered) lost.push(item);
      }
      if (lost.length > 0) {
        ledger.report({
          kind: 'lost-item',
          atMs: fire,
          jobName: job.jobName,
          item: lost[0] as number,
          message: `${job.jobName} items ${formatItems(lost)} of ${count}: the fire at ${fire - input.startMs} ms did not run within ${boundMs} ms, in a window free of faults since ${lookbackMs} ms before`,
        });
        break; // the first lost fire per job tells the story; later ones repeat it
      }
    }
  }
  return checked;
}

function formatItems(items: readonly number[]): string {
  return items.length > 8 ? `${items.slice(0, 8).join(',')},… (${items.length})` : items.join(',');
}

function countAt(counts: readonly ItemCountChange[], atMs: number): number {
  let count = counts[0]?.count ?? 0;
  for (const change of counts) if (change.fromMs <= atMs) count = change.count;
  return count;
}

/** Inputs of {@link checkConvergence}. */
export interface ConvergenceInput {
  readonly spec: ClusterSpec;
  readonly server: MemoryRegistryServer;
  /** The processes alive at the end. */
  readonly live: readonly SimProcess[];
  readonly ledger: RunLedger;
  readonly itemCounts: ReadonlyMap<string, readonly ItemCountChange[]>;
  /** End of the last disturbance, global epoch ms. */
  readonly quietSinceMs: number;
  readonly nowMs: number;
}

/**
 * Convergence after the faults stopped: per job, a leader that is a registered instance, every
 * item assigned to a registered instance, no pending resharding flag, and no `running`,
 * `failover` or `failovering` node naming an instance that is gone; every registered instance
 * belongs to a live process. A job is checked only when the quiet time since the last
 * disturbance is at least its recovery bound.
 *
 * @returns the number of jobs checked.
 */
export function checkConvergence(input: ConvergenceInput): number {
  const { spec, server, live, ledger, nowMs } = input;
  const liveIds = new Set(live.map((process) => process.instanceId));
  let checked = 0;
  for (const job of spec.jobs) {
    const counts = input.itemCounts.get(job.jobName) ?? [];
    const maxCount = Math.max(job.shardingTotalCount, ...counts.map((change) => change.count));
    if (nowMs - input.quietSinceMs < recoveryBoundMs(spec, { ...job, shardingTotalCount: maxCount }))
      continue;
    checked++;
    const root = `/${SIM_NAMESPACE}/${job.jobName}`;
    const nodes = new Map(server.dump(root).map((entry) => [entry.path.slice(root.length + 1), entry.value]));
    const problems: string[] = [];
    const instances = new Set(
      [...nodes.keys()].filter((path) => /^instances\/[^/]+$/.test(path)).map((path) => path.slice(10)),
    );
    for (const id of instances)
      if (!liveIds.has(id)) problems.push(`instance ${id} registered but its process is gone`);
    const leader = nodes.get('leader/election/instance');
    if (leader === undefined || !instances.has(leader)) problems.push(`leader is ${leader ?? 'absent'}`);
    if (nodes.has('leader/sharding/necessary')) problems.push('resharding still pending');
    // Java ElasticJob followers block while this marker exists: it must not outlive a pass.
    if (nodes.has('leader/sharding/processing')) problems.push('resharding marked as processing');
    const count = Number(
      /shardingTotalCount: (\d+)/.exec(nodes.get('config') ?? '')?.[1] ?? job.shardingTotalCount,
    );
    for (let item = 0; item < count; item++) {
      const owner = nodes.get(`sharding/${item}/instance`);
      if (owner === undefined || !instances.has(owner))
        problems.push(`item ${item} assigned to ${owner ?? 'nobody'}`);
      for (const node of ['running', 'failover', 'failovering']) {
        const holder = nodes.get(`sharding/${item}/${node}`);
        if (holder !== undefined && holder !== '' && !instances.has(holder))
          problems.push(`item ${item} ${node} by gone ${holder}`);
      }
    }
    if (problems.length > 0) {
      ledger.report({
        kind: 'no-convergence',
        atMs: nowMs,
        jobName: job.jobName,
        message: `${job.jobName} not converged ${nowMs - input.quietSinceMs} ms after the last fault: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? ` (+${problems.length - 5} more)` : ''}`,
      });
    }
  }
  return checked;
}
