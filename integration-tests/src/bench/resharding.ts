/**
 * Benchmark 4, resharding convergence: a third instance joins a running 2-instance job, later
 * leaves gracefully; measured from its registration (`instances/{id}` ADDED, seen by a watch of
 * the harness's own client) or its removal (DELETED) until `sharding/{i}/instance` of every item
 * matches the expected `AVG_ALLOCATION` result (same watch), and until the first fire in which
 * every instance ran exactly its new items (from the execution logs). Per backend, repeated.
 *
 * @module
 */
import {
  getJobShardingStrategy,
  type JobInstance,
  type RegistryEvent,
  sortChildrenDescending,
} from '@elasticjob-ts/core';
import type { ItemRun } from '../harness/checker.js';
import { Cluster } from '../harness/cluster.js';
import type { Backend } from './backends.js';
import { sleep } from './processes.js';
import { type BenchTable, formatSpread, spread } from './stats.js';

const JOB = 'reshard';
const ITEMS = 8;

/** Options of {@link benchResharding}. */
export interface ReshardingOptions {
  /** Join/leave cycles per backend. */
  readonly repetitions: number;
}

interface Cycle {
  readonly joinAssignmentMs: number;
  readonly joinRunMs: number;
  readonly leaveAssignmentMs: number;
  readonly leaveRunMs: number;
}

/** Watches the job subtree: instance membership times and the current assignment. */
class AssignmentObserver {
  readonly assignment = new Map<number, string>();
  readonly added = new Map<string, number>();
  readonly deleted = new Map<string, number>();
  #waiters: { predicate: () => boolean; resolve: (atMs: number) => void }[] = [];
  #live = false;

  onEvent(event: RegistryEvent): void {
    const now = Date.now();
    const relative = event.key.slice(`/${JOB}/`.length).split('/');
    if (relative[0] === 'instances' && relative.length === 2 && this.#live) {
      if (event.type === 'ADDED') this.added.set(relative[1] as string, now);
      if (event.type === 'DELETED') this.deleted.set(relative[1] as string, now);
    }
    if (relative[0] === 'sharding' && relative[2] === 'instance' && relative.length === 3) {
      const item = Number(relative[1]);
      if (event.type === 'DELETED') this.assignment.delete(item);
      else this.assignment.set(item, event.value);
    }
    this.#check(now);
  }

  goLive(): void {
    this.#live = true;
  }

  #check(now: number): void {
    for (const waiter of [...this.#waiters]) {
      if (waiter.predicate()) {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        waiter.resolve(now);
      }
    }
  }

  /** Resolves with the time the predicate first held (checked on every event). */
  until(predicate: () => boolean, timeoutMs: number): Promise<number> {
    if (predicate()) return Promise.resolve(Date.now());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`condition not met within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.#waiters.push({
        predicate,
        resolve: (atMs) => {
          clearTimeout(timer);
          resolve(atMs);
        },
      });
    });
  }

  matches(expected: ReadonlyMap<number, string>): boolean {
    if (this.assignment.size !== expected.size) return false;
    for (const [item, owner] of expected) if (this.assignment.get(item) !== owner) return false;
    return true;
  }
}

function expectedAssignment(instanceIds: readonly string[]): Map<number, string> {
  const instances: JobInstance[] = sortChildrenDescending(instanceIds).map((id) => ({
    jobInstanceId: id,
    serverIp: '127.0.0.1',
  }));
  const result = getJobShardingStrategy('AVG_ALLOCATION').sharding(instances, JOB, ITEMS);
  const owner = new Map<number, string>();
  for (const [id, items] of result) for (const item of items) owner.set(item, id);
  return owner;
}

/**
 * The first fire second at or after `fromMs` in which every instance started exactly its items of
 * `expected`; returns the latest start in that second minus `fromMs`.
 */
function firstConformingRunMs(
  runs: readonly ItemRun[],
  expected: ReadonlyMap<number, string>,
  fromMs: number,
): number {
  const owners = new Set(expected.values());
  const bySecond = new Map<number, ItemRun[]>();
  for (const run of runs) {
    if (run.startMs < fromMs || !owners.has(run.instanceId)) continue;
    const second = Math.floor(run.startMs / 1000);
    bySecond.set(second, [...(bySecond.get(second) ?? []), run]);
  }
  for (const second of [...bySecond.keys()].sort((a, b) => a - b)) {
    const group = bySecond.get(second) as ItemRun[];
    const ok = [...owners].every((id) => {
      const got = group
        .filter((run) => run.instanceId === id)
        .map((run) => run.item)
        .sort((a, b) => a - b);
      const want = [...expected]
        .filter(([, owner]) => owner === id)
        .map(([item]) => item)
        .sort((a, b) => a - b);
      return got.length === want.length && got.every((item, i) => item === want[i]);
    });
    if (ok) return Math.max(...group.map((run) => run.startMs)) - fromMs;
  }
  return Number.NaN;
}

async function backendCycles(backend: Backend, repetitions: number): Promise<Cycle[]> {
  const cluster = await Cluster.start(
    {
      registry: backend.connection,
      namespace: `bench-reshard-${Date.now()}`,
      sessionTimeoutMs: 10_000,
      job: {
        jobName: JOB,
        cron: '* * * * * ?',
        shardingTotalCount: ITEMS,
        failover: false,
        monitorExecution: true,
        misfire: true,
        itemDurationMs: 50,
      },
      workerLogLevel: 'warn',
    },
    2,
  );
  const observer = new AssignmentObserver();
  const admin = await cluster.admin();
  const unwatch = await admin.watch(`/${JOB}`, (event) => observer.onEvent(event));
  observer.goLive();
  const cycles: Cycle[] = [];
  try {
    const base = cluster.runningInstanceIds();
    await observer.until(() => observer.matches(expectedAssignment(base)), 20_000);
    await sleep(1500);
    for (let i = 0; i < repetitions; i++) {
      const index = cluster.workers.length;
      const joinerId = `127.0.0.1@-@w${String(index).padStart(2, '0')}`;
      const joined = expectedAssignment([...base, joinerId]);
      const adding = cluster.add();
      const addedAt = await observer
        .until(() => observer.added.has(joinerId), 30_000)
        .then(() => observer.added.get(joinerId) as number);
      const joinConverged = await observer.until(() => observer.matches(joined), 30_000);
      await adding;
      await sleep(2500);
      const joinRunMs = firstConformingRunMs((await cluster.readLogs()).runs, joined, addedAt);

      const stopping = cluster.stop(index);
      const deletedAt = await observer
        .until(() => observer.deleted.has(joinerId), 30_000)
        .then(() => observer.deleted.get(joinerId) as number);
      const left = expectedAssignment(base);
      const leaveConverged = await observer.until(() => observer.matches(left), 30_000);
      await stopping;
      await sleep(2500);
      const leaveRunMs = firstConformingRunMs((await cluster.readLogs()).runs, left, deletedAt);
      cycles.push({
        joinAssignmentMs: joinConverged - addedAt,
        joinRunMs,
        leaveAssignmentMs: leaveConverged - deletedAt,
        leaveRunMs,
      });
    }
  } finally {
    await unwatch();
    await cluster.close();
  }
  return cycles;
}

/**
 * Runs benchmark 4.
 *
 * @param backends - started backends.
 * @param options - cycles per backend.
 * @returns the table and raw figures.
 */
export async function benchResharding(
  backends: readonly Backend[],
  options: ReshardingOptions,
): Promise<BenchTable> {
  const results: { backend: string; cycles: Cycle[] }[] = [];
  for (const backend of backends)
    results.push({ backend: backend.name, cycles: await backendCycles(backend, options.repetitions) });
  return {
    id: 'resharding',
    title: '4. Resharding convergence (2 → 3 → 2 instances)',
    caption:
      `A running 2-instance job (separate processes, ${ITEMS} items of 50 ms, cron every second, ` +
      'monitorExecution on); a third instance joins, then stops gracefully. "assignment" = from its ' +
      '`instances/{id}` ADDED / DELETED event to every `sharding/{i}/instance` matching AVG_ALLOCATION ' +
      '(both seen by one watch); "first run" = from the same event to the end of the first fire in which ' +
      `every instance started exactly its new items. ms, min / median / max over ${options.repetitions} cycles.`,
    header: [
      'backend',
      'join: assignment ms',
      'join: first run ms',
      'leave: assignment ms',
      'leave: first run ms',
    ],
    rows: results.map(({ backend, cycles }) => [
      backend,
      formatSpread(spread(cycles.map((c) => c.joinAssignmentMs))),
      formatSpread(spread(cycles.map((c) => c.joinRunMs))),
      formatSpread(spread(cycles.map((c) => c.leaveAssignmentMs))),
      formatSpread(spread(cycles.map((c) => c.leaveRunMs))),
    ]),
    data: results,
  };
}
