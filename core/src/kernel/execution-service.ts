/**
 * Running and misfire nodes (ElasticJob `ExecutionService`, reference §5.6–§5.8), batched: with
 * `monitorExecution` a run registers all its `running` nodes in ONE transaction and clears them in
 * another, so the per-fire registry cost does not grow with the item count (ElasticJob: ~6 round
 * trips per item). `running` nodes are persistent and name their owner; a node whose owner is no
 * longer a live instance is treated as stale and taken over (fixing the "blocked forever" cases,
 * #2429), so no crash leaves an item unrunnable.
 *
 * @module
 */
import type { RegistryTransactionOperation } from '../registry/registry-center.js';
import { RegistryError } from '../registry/registry-error.js';
import type { JobContext } from './job-context.js';
import type { ServerService } from './server-service.js';
import { executeInChunks } from './transaction-chunks.js';

/** Bookkeeping of which items run where, and of misfired items. */
export class ExecutionService {
  constructor(
    private readonly context: JobContext,
    private readonly servers: ServerService,
  ) {}

  /**
   * Items of `items` that are running on another live instance (cache), and so must be skipped.
   */
  itemsRunningElsewhere(items: readonly number[]): number[] {
    const { cache, paths, instance } = this.context;
    const live = new Set(this.servers.liveInstanceIds());
    return items.filter((item) => {
      const owner = cache.get(paths.shardingNode(item, 'running'));
      return owner !== undefined && owner !== instance.jobInstanceId && live.has(owner);
    });
  }

  /**
   * Writes `running` = this instance for every item in one transaction. Stale nodes (own, or of a
   * dead instance) are overwritten. If the transaction loses a race, the items now running on a
   * live instance are dropped and the rest retried once.
   *
   * @returns the items registered (those to run).
   */
  async registerJobBegin(items: readonly number[]): Promise<number[]> {
    if (items.length === 0) return [];
    try {
      await executeInChunks(this.context.registry, await this.#beginOps(items, false));
      return [...items];
    } catch (error) {
      if (!RegistryError.is(error, 'TRANSACTION_FAILED')) throw error;
      const { ops, kept } = await this.#directBeginOps(items);
      if (kept.length === 0) return [];
      await executeInChunks(this.context.registry, ops);
      return kept;
    }
  }

  async #beginOps(items: readonly number[], _direct: boolean): Promise<RegistryTransactionOperation[]> {
    const { cache, paths, instance } = this.context;
    const ops: RegistryTransactionOperation[] = [];
    for (const item of items) {
      const path = paths.shardingNode(item, 'running');
      if (cache.has(path)) ops.push({ type: 'update', key: path, value: instance.jobInstanceId });
      else ops.push({ type: 'create', key: path, value: instance.jobInstanceId });
    }
    return ops;
  }

  async #directBeginOps(
    items: readonly number[],
  ): Promise<{ ops: RegistryTransactionOperation[]; kept: number[] }> {
    const { registry, paths, instance } = this.context;
    const live = new Set(await registry.getChildrenKeys(paths.instances));
    const ops: RegistryTransactionOperation[] = [];
    const kept: number[] = [];
    for (const item of items) {
      const path = paths.shardingNode(item, 'running');
      const owner = await registry.getDirectly(path);
      if (owner !== undefined && owner !== instance.jobInstanceId && live.has(owner)) continue;
      if (!(await registry.isExisted(paths.shardingItem(item)))) continue;
      kept.push(item);
      ops.push(
        owner === undefined
          ? { type: 'create', key: path, value: instance.jobInstanceId }
          : { type: 'update', key: path, value: instance.jobInstanceId },
      );
    }
    return { ops, kept };
  }

  /**
   * Deletes this run's `running` nodes (failed items included: a failed item is not in flight, so
   * it must not block later runs or resharding, unlike ElasticJob 3.0.6-SNAPSHOT #2513) in one
   * transaction; nodes already gone or taken over are left alone.
   */
  async registerJobCompleted(items: readonly number[]): Promise<void> {
    if (items.length === 0) return;
    const { registry, paths, instance } = this.context;
    // registerJobBegin created these nodes, so delete them all: the cache may not show them yet.
    const ops: RegistryTransactionOperation[] = items.map((item) => ({
      type: 'delete',
      key: paths.shardingNode(item, 'running'),
    }));
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
