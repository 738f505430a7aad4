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
import { type FencingStamp, formatFencingStamp } from './fencing-stamp.js';
import type { OwnItemWrites } from './own-item-writes.js';

/** Bookkeeping of which items run where, and of misfired items. */
export class ExecutionService {
  /**
   * Clears of this instance's `running` nodes that failed on a registry error (the connection went
   * away with the session still alive): item → the fencing stamp of the run that wrote the node.
   * A persistent node naming a live instance is never taken over, so an unretried clear would keep
   * the item from every other instance for good.
   */
  readonly #pendingClears = new Map<number, FencingStamp>();

  constructor(
    private readonly context: JobContext,
    /** Where the admission gate learns of the marks this service deleted before the cache does. */
    private readonly ownWrites: OwnItemWrites,
  ) {}

  /**
   * Deletes this run's `running` nodes (failed items included: a failed item is not in flight, so
   * it must not block later runs or resharding, unlike ElasticJob 3.0.6-SNAPSHOT #2513) in one
   * transaction; nodes already gone, taken over or re-admitted since are left alone.
   *
   * @param stamps - the run's items and the fencing stamps they were admitted with.
   */
  registerJobCompleted(stamps: ReadonlyMap<number, FencingStamp>): Promise<void> {
    // Its promise, not an async wrapper's: each suspended layer costs a run about 0.4 KB.
    return this.clearRunningNodesStillOwned(stamps);
  }

  /**
   * Deletes the `running` nodes of the run's items that still name this instance and whose
   * fencing counter still holds the run's token, both compared in the transaction that deletes the
   * node. The counter tells this run's node from one a later run of this instance wrote: the
   * bookkeeping of a run whose session ended may reach the registry after such a run started
   * (another instance's admission or failover claim advances the counter too; the admission gate
   * created these nodes and the cache may not show them yet).
   *
   * @param stamps - the run's items and the fencing stamps they were admitted with.
   */
  async clearRunningNodesStillOwned(stamps: ReadonlyMap<number, FencingStamp>): Promise<void> {
    const { registry, paths, instance } = this.context;
    // Clears that failed before ride along; a later token of the same item supersedes its entry.
    // Token 0: admitted without a `running` mark (monitorExecution off), nothing to clear.
    const all = new Map(this.#pendingClears);
    for (const [item, stamp] of stamps) if (stamp.token > 0) all.set(item, stamp);
    if (all.size === 0) return;
    const entries = [...all];
    let committed: boolean[];
    try {
      committed = await executeGroupsInChunks(
        registry,
        entries.map(([item, stamp]) => [
          {
            type: 'check',
            key: paths.shardingNode(item, 'fencing'),
            value: formatFencingStamp(stamp),
          } as const,
          { type: 'check', key: paths.shardingNode(item, 'running'), value: instance.jobInstanceId } as const,
          { type: 'delete', key: paths.shardingNode(item, 'running') } as const,
        ]),
      );
    } catch (error) {
      for (const [item, stamp] of all) {
        this.#pendingClears.set(item, stamp);
        this.ownWrites.forget(item); // the outcome is unknown
      }
      throw error;
    }
    entries.forEach(([item, stamp], index) => {
      if (committed[index]) this.ownWrites.cleared(item, stamp);
      else this.ownWrites.forget(item); // not ours any more: the cache tells what is there
    });
    // Done or no longer ours (the node is gone, or a later run's token is on the item).
    for (const [item, stamp] of all)
      if (this.#pendingClears.get(item)?.token === stamp.token) this.#pendingClears.delete(item);
  }

  /**
   * Retries the clears that failed on a registry error. Each is compared with the fencing token of
   * the run that wrote the node, so unlike the scan of {@link clearOwnRunningNodes} it is safe
   * while a run of this instance holds the item (such a hold used to skip the leftover for good).
   */
  async retryPendingClears(): Promise<void> {
    if (this.#pendingClears.size > 0) await this.clearRunningNodesStillOwned(new Map());
  }

  /**
   * Deletes the `running` nodes naming this instance that no run of it holds (leftovers of runs
   * of an ended session, or of a previous process with this instance id), after retrying the
   * clears that failed ({@link retryPendingClears}): each deletion of the scan compares
   * the node and the item's fencing counter as read, so a run admitted meanwhile keeps its node.
   *
   * @param isHeldLocally - whether a run of this instance holds the item now (asked live).
   */
  async clearOwnRunningNodes(isHeldLocally: (item: number) => boolean): Promise<void> {
    await this.retryPendingClears();
    const { registry, paths, instance } = this.context;
    const me = instance.jobInstanceId;
    // Items are read concurrently (a round trip per node and item, one after another, made a
    // re-registration of a 64-item job take seconds); per item the counter is read first.
    const items = (await registry.getChildrenKeys(paths.sharding))
      .map(Number)
      .filter((item) => Number.isInteger(item) && !isHeldLocally(item));
    const read = await Promise.all(
      items.map(async (item) => {
        const fencing = await registry.getDirectly(paths.shardingNode(item, 'fencing'));
        return { item, fencing, running: await registry.getDirectly(paths.shardingNode(item, 'running')) };
      }),
    );
    const groups: RegistryTransactionOperation[][] = [];
    for (const { item, fencing, running } of read) {
      if (running !== me || isHeldLocally(item)) continue;
      this.ownWrites.forget(item); // read directly: the scan's deletion decides what is there
      const key = paths.shardingNode(item, 'running');
      groups.push([
        ...(fencing === undefined
          ? []
          : [{ type: 'check', key: paths.shardingNode(item, 'fencing'), value: fencing } as const]),
        { type: 'check', key, value: me },
        { type: 'delete', key },
      ]);
    }
    await executeGroupsInChunks(registry, groups);
  }

  /**
   * {@link clearOwnRunningNodes} when a job starts, in the background: marks naming this instance
   * id are then leftovers of a previous process with it (crashed). A failure is logged; the next
   * re-registration clears them.
   */
  async clearLeftoversAtStart(isHeldLocally: (item: number) => boolean): Promise<void> {
    await this.clearOwnRunningNodes(isHeldLocally).catch((error: unknown) => {
      this.context.logger.warn({ err: error }, 'could not clear running marks left by a previous process');
    });
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
      // A flag the cache did not show yet, or an item removed meanwhile: item by item, all at once
      // (one after the other, 64 items hold the lane for 128 round trips).
      await Promise.all(
        items.map(async (item) => {
          if (await registry.isExisted(paths.shardingItem(item))) {
            await registry.persist(paths.shardingNode(item, 'misfire'), '');
          }
        }),
      );
    }
  }

  /** Items of `items` flagged misfired (cache). */
  misfiredItems(items: readonly number[]): number[] {
    const { cache, paths } = this.context;
    return items.filter((item) => cache.has(paths.shardingNode(item, 'misfire')));
  }

  /**
   * Items of `items` flagged misfired, read from the registry: the cache of a registry whose watch
   * events travel apart from its responses (Redis, etcd) may still show a flag this instance has
   * already cleared.
   *
   * @throws {RegistryError} when a read fails.
   */
  async readMisfiredItems(items: readonly number[]): Promise<number[]> {
    const { registry, paths } = this.context;
    const flagged = await Promise.all(
      items.map((item) => registry.isExisted(paths.shardingNode(item, 'misfire'))),
    );
    return items.filter((_, index) => flagged[index]);
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
      // A flag already gone: item by item, all at once.
      await Promise.all(items.map((item) => registry.remove(paths.shardingNode(item, 'misfire'))));
    }
  }

  /** Items of `items` disabled by an operator (`sharding/{item}/disabled`, cache). */
  disabledItems(items: readonly number[]): number[] {
    const { cache, paths } = this.context;
    return items.filter((item) => cache.has(paths.shardingNode(item, 'disabled')));
  }
}
