/**
 * One consistent-enough read of a job's runtime state for the statistics APIs. Internal.
 *
 * @module
 * @internal
 */
import { runItemsConcurrently } from '../executor/run-items-concurrently.js';
import type { LifecycleRegistry, LiveInstance } from './lifecycle-registry.js';
import { type StoredJobConfiguration, toStoredConfiguration } from './stored-job-configuration.js';

/** State of one sharding item as stored. @internal */
export interface ItemSnapshot {
  readonly item: number;
  /** `sharding/{item}/instance`. */
  readonly owner: string | undefined;
  /** `sharding/{item}/running` (`''` for a legacy empty node). */
  readonly running: string | undefined;
  readonly disabled: boolean;
  /** `sharding/{item}/completed` exists (ElasticJob 2.x layout only). */
  readonly completed: boolean;
  /** `sharding/{item}/failover`. */
  readonly failover: string | undefined;
}

/** @internal */
export interface JobSnapshot {
  readonly jobName: string;
  /** The `config` node: valid (`configuration`) or not (`error`). */
  readonly stored: StoredJobConfiguration;
  readonly instances: readonly LiveInstance[];
  /** `servers/{ip}` values. */
  readonly servers: ReadonlyMap<string, string>;
  /** `leader/sharding/necessary` or `leader/sharding/processing` exists. */
  readonly reshardingPending: boolean;
}

/**
 * Reads config, live instances, servers and resharding flags of a job.
 * @returns `undefined` when the job has no `config` node; an invalid configuration is returned as
 *   such (`stored.error`), never thrown.
 * @internal
 */
export async function readJobSnapshot(
  reader: LifecycleRegistry,
  jobName: string,
): Promise<JobSnapshot | undefined> {
  const registry = reader.registry;
  const paths = reader.paths(jobName);
  const yaml = await registry.getDirectly(paths.config);
  if (yaml === undefined) return undefined;
  const stored = toStoredConfiguration(jobName, yaml);
  const [instances, servers, necessary, processing] = await Promise.all([
    reader.liveInstances(jobName),
    reader.serverStates(jobName),
    registry.isExisted(paths.shardingNecessary),
    registry.isExisted(paths.shardingProcessing),
  ]);
  return { jobName, stored, instances, servers, reshardingPending: necessary || processing };
}

/**
 * Every item of the job: `0..shardingTotalCount-1` and the numeric children of `sharding/` beyond
 * it that still hold more than their fencing counter, ascending.
 * @internal
 */
export async function readItems(
  reader: LifecycleRegistry,
  jobName: string,
  shardingTotalCount: number,
): Promise<ItemSnapshot[]> {
  const registry = reader.registry;
  const paths = reader.paths(jobName);
  const numbers = new Set<number>();
  for (let item = 0; item < shardingTotalCount; item++) numbers.add(item);
  for (const child of await registry.getChildrenKeys(paths.sharding)) {
    if (!/^(0|[1-9]\d{0,8})$/.test(child) || numbers.has(Number(child))) continue;
    // An item removed by a smaller count keeps only its fencing counter: not an item any more.
    const nodes = await registry.getChildrenKeys(paths.shardingItem(Number(child)));
    if (!(nodes.length === 1 && nodes[0] === 'fencing')) numbers.add(Number(child));
  }
  const items = [...numbers].sort((a, b) => a - b);
  const snapshots = new Map<number, ItemSnapshot>();
  // Bounded: a job of 50,000 items would otherwise queue 250,000 reads at once, and the last ones
  // would time out in the client's queue as if the registry were unreachable.
  const failures = await runItemsConcurrently(items, ITEMS_READ_AT_ONCE, async (item) => {
    const [owner, running, disabled, completed, failover] = await Promise.all([
      registry.getDirectly(paths.shardingNode(item, 'instance')),
      registry.getDirectly(paths.shardingNode(item, 'running')),
      registry.isExisted(paths.shardingNode(item, 'disabled')),
      registry.isExisted(`${paths.shardingItem(item)}/completed`),
      registry.getDirectly(paths.shardingNode(item, 'failover')),
    ]);
    snapshots.set(item, {
      item,
      owner: owner === '' ? undefined : owner,
      running,
      disabled,
      completed,
      failover,
    });
  });
  const [first] = failures.values();
  if (failures.size > 0) throw first;
  return items.map((item) => snapshots.get(item) as ItemSnapshot);
}

/** Items whose nodes {@link readItems} reads at the same time (5 reads each). */
const ITEMS_READ_AT_ONCE = 64;
