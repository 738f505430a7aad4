/**
 * Failover (ElasticJob `FailoverService` + `FailoverListenerManager`), redesigned: an item is
 * *orphaned* when its `running` or `failovering` node names an instance that is no longer live
 * (crash, `kill -9`, session expiry, a whole-cluster restart). An instance with free failover
 * capacity claims orphaned and queued items under the `leader/failover/latch` mutex, up to that
 * capacity, in ONE transaction, and runs them in one run at once (beside its own run, on slots
 * reserved for failover). Items beyond its capacity are queued under `leader/failover/items/{item}`
 * for other instances. ElasticJob instead grabs one item per lock acquisition and fires one extra
 * trigger per item, and its crash cleanup only runs when a single instance is online.
 *
 * Nodes: `sharding/{item}/failover` = claiming instance (persistent here, owner-checked, because
 * the registry contract's transactions create persistent nodes; a node whose owner is gone is
 * stale), `sharding/{item}/failovering` = executing instance, `leader/failover/items/{item}` =
 * queued item. A `running` node with an empty value belongs to a Java ElasticJob peer (an
 * ephemeral node that disappears with its session): it is never an orphan.
 *
 * @module
 */
import type { RegistryTransactionOperation } from '../../registry/registry-center.js';
import type { JobContext } from '../job-context.js';
import { executeInChunks } from '../transaction-chunks.js';

/** Result of one claim attempt. */
export interface FailoverClaim {
  /** Items this instance claimed and must run now (ascending). */
  readonly claimed: number[];
  /** Items left queued for other instances. */
  readonly queued: number[];
}

/** Detection, queueing and claiming of orphaned items. */
export class FailoverService {
  constructor(private readonly context: JobContext) {}

  /**
   * Number of items waiting for a failover executor, from the cache: queued items plus items whose
   * `running`/`failovering` owner is gone. The "failover backlog" metric.
   */
  backlog(): number {
    const { cache, paths } = this.context;
    const live = new Set(cache.children(paths.instances));
    const items = new Set(cache.children(paths.failoverItems).map(Number));
    for (const name of cache.children(paths.sharding)) {
      const item = Number(name);
      if (this.#orphaned(item, live, (node) => cache.get(paths.shardingNode(item, node)))) items.add(item);
    }
    return items.size;
  }

  /**
   * Items this instance runs as failover right now, or that another live instance claimed:
   * `sharding/{item}/failover` names a live instance other than this one (ElasticJob's "take-off"
   * items, skipped by the regular owner).
   */
  itemsFailedOverElsewhere(items: readonly number[]): number[] {
    const { cache, paths, instance } = this.context;
    const live = new Set(cache.children(paths.instances));
    return items.filter((item) => {
      const owner = cache.get(paths.shardingNode(item, 'failover'));
      return owner !== undefined && owner !== instance.jobInstanceId && live.has(owner);
    });
  }

  /**
   * Under the failover latch, re-reads the registry directly and claims orphaned and queued items,
   * up to `limit`; the rest are queued. One transaction.
   *
   * @param limit - the most items to claim now (free failover capacity; 0 only queues).
   * @param isRunningLocally - whether this instance is executing an item right now (asked live).
   * @param includeOwnStale - also treat nodes naming this instance that it is not executing as
   *   orphans: true only for the first claim after start, when they can only be leftovers of a
   *   previous process with the same instance id. Later, a live instance's own nodes are never
   *   orphans (a run may start while a claim is in progress).
   */
  async claim(
    limit: number,
    isRunningLocally: (item: number) => boolean,
    includeOwnStale: boolean,
  ): Promise<FailoverClaim> {
    const { registry, paths, instance } = this.context;
    return registry.executeInLeader(paths.failoverLatch, async () => {
      if (this.context.isShutdown()) return { claimed: [], queued: [] };
      const live = new Set(await registry.getChildrenKeys(paths.instances));
      if (!live.has(instance.jobInstanceId)) return { claimed: [], queued: [] };
      const queued = new Set((await registry.getChildrenKeys(paths.failoverItems)).map(Number));
      const state = new Map<number, { running?: string; failover?: string; failovering?: string }>();
      const backlog = new Set<number>();
      for (const name of await registry.getChildrenKeys(paths.sharding)) {
        const item = Number(name);
        if (!Number.isInteger(item)) continue;
        const running = await registry.getDirectly(paths.shardingNode(item, 'running'));
        const failover = await registry.getDirectly(paths.shardingNode(item, 'failover'));
        const failovering = await registry.getDirectly(paths.shardingNode(item, 'failovering'));
        state.set(item, { running, failover, failovering });
        const read = (node: 'running' | 'failover' | 'failovering') => state.get(item)?.[node];
        if (this.#orphaned(item, live, read, isRunningLocally, includeOwnStale)) backlog.add(item);
      }
      for (const item of queued) {
        // A queued item already claimed by a live instance is not backlog any more.
        const claimedBy = state.get(item)?.failover;
        if (claimedBy === undefined || !live.has(claimedBy)) backlog.add(item);
      }
      if (backlog.size === 0) return { claimed: [], queued: [] };
      const ordered = [...backlog].sort((a, b) => a - b);
      const claimed = ordered.slice(0, Math.max(0, limit));
      const rest = ordered.slice(claimed.length);
      const ops: RegistryTransactionOperation[] = [];
      const put = (key: string, value: string, exists: boolean) =>
        ops.push(exists ? { type: 'update', key, value } : { type: 'create', key, value });
      const id = instance.jobInstanceId;
      for (const item of claimed) {
        const current = state.get(item) ?? {};
        if (queued.has(item)) ops.push({ type: 'delete', key: paths.failoverItem(item) });
        if (current.running !== undefined)
          ops.push({ type: 'delete', key: paths.shardingNode(item, 'running') });
        put(paths.shardingNode(item, 'failover'), id, current.failover !== undefined);
        put(paths.shardingNode(item, 'failovering'), id, current.failovering !== undefined);
      }
      const failoverRootExists = await registry.isExisted(paths.failoverItems);
      let createdRoot = false;
      for (const item of rest) {
        const current = state.get(item) ?? {};
        if (!queued.has(item)) {
          if (!failoverRootExists && !createdRoot) {
            if (!(await registry.isExisted(parentOf(paths.failoverItems)))) {
              ops.push({ type: 'create', key: parentOf(paths.failoverItems), value: '' });
            }
            ops.push({ type: 'create', key: paths.failoverItems, value: '' });
            createdRoot = true;
          }
          ops.push({ type: 'create', key: paths.failoverItem(item), value: '' });
        }
        if (current.running !== undefined && current.running !== '' && !live.has(current.running)) {
          ops.push({ type: 'delete', key: paths.shardingNode(item, 'running') });
        }
      }
      if (ops.length > 0) await executeInChunks(registry, ops);
      return { claimed, queued: rest };
    });
  }

  /**
   * Clears `failover`/`failovering` of items this instance finished running as failover, in one
   * transaction (only nodes it still owns).
   */
  async completeFailover(items: readonly number[]): Promise<void> {
    const { registry, paths, instance } = this.context;
    const ops: RegistryTransactionOperation[] = [];
    for (const item of items) {
      for (const node of ['failover', 'failovering'] as const) {
        const path = paths.shardingNode(item, node);
        if ((await registry.getDirectly(path)) === instance.jobInstanceId)
          ops.push({ type: 'delete', key: path });
      }
    }
    if (ops.length > 0) await executeInChunks(registry, ops);
  }

  /** Deletes every failover node of the job (failover switched off: ElasticJob deletes `failover`; we clean all). */
  async removeAllFailoverState(): Promise<void> {
    const { registry, paths } = this.context;
    for (const name of await registry.getChildrenKeys(paths.sharding)) {
      await registry.remove(`${paths.sharding}/${name}/failover`);
      await registry.remove(`${paths.sharding}/${name}/failovering`);
    }
    await registry.remove(paths.failoverItems);
  }

  #orphaned(
    item: number,
    live: ReadonlySet<string>,
    read: (node: 'running' | 'failover' | 'failovering') => string | undefined,
    isRunningLocally: (item: number) => boolean = () => true,
    includeOwnStale = false,
  ): boolean {
    const me = this.context.instance.jobInstanceId;
    const failover = read('failover');
    if (failover !== undefined && live.has(failover) && failover !== me) return false;
    for (const node of ['running', 'failovering'] as const) {
      const owner = read(node);
      if (owner === undefined || owner === '') continue; // '' = a Java peer's live ephemeral node
      if (owner === me) {
        if (includeOwnStale && !isRunningLocally(item)) return true;
        continue;
      }
      if (!live.has(owner)) return true;
    }
    return false;
  }
}

function parentOf(path: string): string {
  return path.slice(0, path.lastIndexOf('/'));
}
