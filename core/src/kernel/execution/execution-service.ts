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
import { executeInChunks } from '../transaction-chunks.js';

/** Bookkeeping of which items run where, and of misfired items. */
export class ExecutionService {
  constructor(private readonly context: JobContext) {}

  /**
   * Deletes this run's `running` nodes (failed items included: a failed item is not in flight, so
   * it must not block later runs or resharding, unlike ElasticJob 3.0.6-SNAPSHOT #2513) in one
   * transaction; nodes already gone or taken over are left alone.
   */
  async registerJobCompleted(items: readonly number[]): Promise<void> {
    if (items.length === 0) return;
    const { registry, paths, instance } = this.context;
    // The admission gate created these nodes (the cache may not show them yet): delete each one
    // only while it still names this instance.
    const ops: RegistryTransactionOperation[] = items.flatMap((item) => [
      { type: 'check', key: paths.shardingNode(item, 'running'), value: instance.jobInstanceId } as const,
      { type: 'delete', key: paths.shardingNode(item, 'running') } as const,
    ]);
    try {
      if (ops.length > 0) await executeInChunks(registry, ops);
    } catch (error) {
      if (!RegistryError.is(error, 'TRANSACTION_FAILED')) throw error;
      for (const item of items) {
        const path = paths.shardingNode(item, 'running');
        if ((await registry.getDirectly(path)) === instance.jobInstanceId) await registry.remove(path);
      }
    }
  }

  /**
   * Deletes the `running` nodes of `items` that still name this instance, checking each directly
   * (after a session loss another instance may have taken an item over).
   */
  async clearRunningNodesStillOwned(items: readonly number[]): Promise<void> {
    const { registry, paths, instance } = this.context;
    for (const item of items) {
      const path = paths.shardingNode(item, 'running');
      if ((await registry.getDirectly(path)) === instance.jobInstanceId) await registry.remove(path);
    }
  }

  /** Deletes every `running` node this instance owns (after a reconnect, at startup). */
  async clearOwnRunningNodes(): Promise<void> {
    const { registry, paths, instance } = this.context;
    for (const name of await registry.getChildrenKeys(paths.sharding)) {
      const path = `${paths.sharding}/${name}/running`;
      if ((await registry.getDirectly(path)) === instance.jobInstanceId) await registry.remove(path);
    }
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
