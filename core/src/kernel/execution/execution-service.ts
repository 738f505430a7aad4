/**
 * Running marks and misfire flags (ElasticJob `ExecutionService`), batched: a run clears all its
 * `running` nodes in ONE transaction (they are written by the admission gate, also batched), so the
 * per-fire registry cost does not grow with the item count. `running` nodes are persistent and
 * name their owner; a node whose owner is no longer a live instance is stale and is taken over by
 * the admission gate, so no crash leaves an item unrunnable.
 *
 * @module
 */
import type { RegistryTransactionOperation } from '../../registry/registry-center.js';
import { RegistryError } from '../../registry/registry-error.js';
import type { JobContext } from '../job-context.js';
import { executeGroupsInChunks, executeInChunks } from '../transaction-chunks.js';

/** Bookkeeping of which items run where, and of misfired items. */
export class ExecutionService {
  constructor(private readonly context: JobContext) {}

  /**
   * Deletes this run's `running` nodes (failed items included: a failed item is not in flight, so
   * it must not block later runs or resharding, unlike ElasticJob 3.0.6-SNAPSHOT #2513) in one
   * transaction; nodes already gone, taken over or re-admitted since are left alone.
   *
   * @param tokens - the run's items and the fencing tokens they were admitted with.
   */
  async registerJobCompleted(tokens: ReadonlyMap<number, number>): Promise<void> {
    await this.clearRunningNodesStillOwned(tokens);
  }

  /**
   * Deletes the `running` nodes of the run's items that still name this instance and whose
   * fencing counter still holds the run's token, both compared in the transaction that deletes the
   * node. The counter tells this run's node from one a later run of this instance wrote: the
   * bookkeeping of a run whose session ended may reach the registry after such a run started
   * (another instance's admission or failover claim advances the counter too; the admission gate
   * created these nodes and the cache may not show them yet).
   *
   * @param tokens - the run's items and the fencing tokens they were admitted with.
   */
  async clearRunningNodesStillOwned(tokens: ReadonlyMap<number, number>): Promise<void> {
    const { registry, paths, instance } = this.context;
    await executeGroupsInChunks(
      registry,
      [...tokens].map(([item, token]) => [
        { type: 'check', key: paths.shardingNode(item, 'fencing'), value: String(token) } as const,
        { type: 'check', key: paths.shardingNode(item, 'running'), value: instance.jobInstanceId } as const,
        { type: 'delete', key: paths.shardingNode(item, 'running') } as const,
      ]),
    );
  }

  /**
   * Deletes the `running` nodes naming this instance that no run of it holds (leftovers of runs
   * of an ended session, or of a previous process with this instance id): each deletion compares
   * the node and the item's fencing counter as read, so a run admitted meanwhile keeps its node.
   *
   * @param isHeldLocally - whether a run of this instance holds the item now (asked live).
   */
  async clearOwnRunningNodes(isHeldLocally: (item: number) => boolean): Promise<void> {
    const { registry, paths, instance } = this.context;
    const me = instance.jobInstanceId;
    const groups: RegistryTransactionOperation[][] = [];
    for (const name of await registry.getChildrenKeys(paths.sharding)) {
      const item = Number(name);
      if (!Number.isInteger(item) || isHeldLocally(item)) continue;
      const fencing = await registry.getDirectly(paths.shardingNode(item, 'fencing'));
      const running = paths.shardingNode(item, 'running');
      if ((await registry.getDirectly(running)) !== me || isHeldLocally(item)) continue;
      groups.push([
        ...(fencing === undefined
          ? []
          : [{ type: 'check', key: paths.shardingNode(item, 'fencing'), value: fencing } as const]),
        { type: 'check', key: running, value: me },
        { type: 'delete', key: running },
      ]);
    }
    await executeGroupsInChunks(registry, groups);
  }

  /** Sets `sharding/{item}/misfire` for each item (only where the item node exists). */
  async setMisfire(items: readonly number[]): Promise<void> {
    const { registry, paths, cache } = this.context;
    const ops: RegistryTransactionOperation[] = [];
    for (const item of items) {
      if (!cache.has(paths.shardingItem(item)) || cache.has(paths.shardingNode(item, 'misfire'))) continue;
      ops.push({ type: 'create', key: paths.shardingNode(item, 'misfire'), value: '' });
    }
    if (ops.length === 0) return;
    try {
      await executeInChunks(registry, ops);
    } catch (error) {
      if (!RegistryError.is(error, 'TRANSACTION_FAILED')) throw error;
      for (const item of items) {
        if (await registry.isExisted(paths.shardingItem(item))) {
          await registry.persist(paths.shardingNode(item, 'misfire'), '');
        }
      }
    }
  }

  /** Items of `items` flagged misfired (cache). */
  misfiredItems(items: readonly number[]): number[] {
    const { cache, paths } = this.context;
    return items.filter((item) => cache.has(paths.shardingNode(item, 'misfire')));
  }

  /** Clears the misfire flags of `items` in one transaction. */
  async clearMisfire(items: readonly number[]): Promise<void> {
    const { registry, paths } = this.context;
    if (items.length === 0) return;
    try {
      await executeInChunks(
        registry,
        items.map((item) => ({ type: 'delete', key: paths.shardingNode(item, 'misfire') }) as const),
      );
    } catch (error) {
      if (!RegistryError.is(error, 'TRANSACTION_FAILED')) throw error;
      for (const item of items) await registry.remove(paths.shardingNode(item, 'misfire'));
    }
  }

  /** Items of `items` disabled by an operator (`sharding/{item}/disabled`, cache). */
  disabledItems(items: readonly number[]): number[] {
    const { cache, paths } = this.context;
    return items.filter((item) => cache.has(paths.shardingNode(item, 'disabled')));
  }
}
