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
import { formatFencingStamp, nextFencingStamp, parseFencingStamp } from '../execution/fencing-stamp.js';
import type { JobContext } from '../job-context.js';
import { executeGroupsInChunks } from '../transaction-chunks.js';

/** Result of one claim attempt. */
export interface FailoverClaim {
  /** Items this instance claimed and must run now (ascending). */
  readonly claimed: number[];
  /** Items left queued for other instances. */
  readonly queued: number[];
  /** Items whose claim, queue entry or clean-up failed its comparison (changed meanwhile). */
  readonly failed: number;
  /**
   * Items a run here holds that carry a claim node (`failover`/`failovering`) of this instance:
   * the run may end without running them (a normal run refuses an item reassigned meanwhile), and
   * the claim must then be looked at again.
   */
  readonly deferred: number;
}

/** The nodes of one item a claim reads and compares. */
interface ItemNodes {
  fencing?: string;
  running?: string;
  failover?: string;
  failovering?: string;
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
    const total = this.context.configuration().shardingTotalCount;
    for (const name of cache.children(paths.sharding)) {
      const item = Number(name);
      if (item >= total) continue; // removed by a smaller count: nothing to fail over
      if (this.#orphaned(item, live, (node) => cache.get(paths.shardingNode(item, node)))) items.add(item);
    }
    return items.size;
  }

  /**
   * Whether a `running` or `failovering` node with value `owner` names another instance that the
   * watch cache does not show live: an item it orphans, for a claim to look at. `''` (a Java
   * peer's live ephemeral node) and this instance's own id never do.
   */
  namesGoneInstance(owner: string): boolean {
    const { cache, paths, instance } = this.context;
    return owner !== '' && owner !== instance.jobInstanceId && !cache.has(paths.instance(owner));
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
   * up to `limit`; the rest are queued. Takes no latch and reads nothing when the watch cache shows
   * nothing to claim or tidy (running marks and claims of live instances are not). A queued item
   * that a live instance is running by now is covered by that run: its queue entry is dropped, it
   * is never claimed.
   *
   * Every claim is conditional on what was read: the item's fencing counter is compared and
   * advanced (so a run admitted anywhere since the read makes the claim of that item fail, and a
   * run planned before the claim can no longer be admitted), and the `running`, `failover` and
   * `failovering` nodes are compared before they are replaced. Membership is read after the item
   * nodes, so an owner seen gone was gone after its node was read. One transaction per chunk of
   * items; an item whose state changed meanwhile is skipped, not the whole claim.
   *
   * @param limit - the most items to claim now (free failover capacity; 0 only queues).
   * @param isRunningLocally - whether this instance is executing an item right now (asked live).
   * @param includeOwnStale - also treat nodes naming this instance that it is not executing as
   *   orphans: true only for the first claim after a start or a session loss, when they can only be
   *   leftovers of a previous process or session with this instance id. Otherwise a live instance's
   *   own nodes are never orphans (a run may start while a claim is in progress).
   */
  async claim(
    limit: number,
    isRunningLocally: (item: number) => boolean,
    includeOwnStale: boolean,
  ): Promise<FailoverClaim> {
    const { registry, paths, instance } = this.context;
    const none: FailoverClaim = { claimed: [], queued: [], failed: 0, deferred: 0 };
    const deferredInCache = this.deferredIfNothingToClaimInCache(isRunningLocally, includeOwnStale);
    if (deferredInCache !== undefined) return { ...none, deferred: deferredInCache };
    return registry.executeInLeader(paths.failoverLatch, async () => {
      if (this.context.isShutdown()) return none;
      const queued = new Set((await registry.getChildrenKeys(paths.failoverItems)).map(Number));
      // Items are read concurrently (one claim must not cost a round trip per node and item).
      // Items beyond the count were removed by a smaller count: nothing to fail over (a run of
      // one still going keeps its running mark, which a claim of it would delete).
      const total = this.context.configuration().shardingTotalCount;
      const items = (await registry.getChildrenKeys(paths.sharding))
        .map(Number)
        .filter((item) => Number.isInteger(item) && item < total);
      const read = await Promise.all(items.map((item) => this.#readItem(item)));
      const state = new Map<number, ItemNodes>(items.map((item, i) => [item, read[i] as ItemNodes]));
      const live = new Set(await registry.getChildrenKeys(paths.instances));
      if (!live.has(instance.jobInstanceId)) return none;
      const backlog = new Set<number>();
      let deferred = 0;
      for (const [item, nodes] of state) {
        if (isRunningLocally(item)) {
          // A run here holds it: claimed, if need be, when it ends.
          if (nodes.failover === instance.jobInstanceId || nodes.failovering === instance.jobInstanceId)
            deferred++;
          continue;
        }
        if (this.#orphaned(item, live, (node) => nodes[node], isRunningLocally, includeOwnStale))
          backlog.add(item);
      }
      const stale = (item: number, owner: string | undefined): owner is string =>
        this.#stale(item, owner, live, isRunningLocally, includeOwnStale);
      const covered: RegistryTransactionOperation[][] = [];
      for (const [item, nodes] of state) {
        if (!this.#runningLive(item, nodes.running, live, isRunningLocally)) continue;
        // A live run covers the item: drop its queue entry and the stale claim nodes (a claim of
        // this instance's previous session kept alive would keep the item's owner out for good).
        const where = {
          queued: queued.has(item),
          stale: (owner?: string): owner is string => stale(item, owner),
        };
        const ops = this.#queueOps(item, nodes, where, false, ['failover', 'failovering']);
        if (ops.length > 0) covered.push(ops);
      }
      for (const item of queued) {
        if (item >= total) {
          covered.push([{ type: 'delete', key: paths.failoverItem(item) }]); // removed meanwhile
          continue;
        }
        const nodes = state.get(item) ?? {};
        // A queued item already claimed by a live instance is not backlog any more, unless the
        // claim is this instance's and no run here holds the item: a claim its failover run could
        // not use (the connection dropped) that was queued again when capacity ran out.
        const claimedBy = nodes.failover;
        const ownUnheld = claimedBy === instance.jobInstanceId && !isRunningLocally(item);
        if (claimedBy !== undefined && live.has(claimedBy) && !ownUnheld) continue;
        if (!this.#runningLive(item, nodes.running, live, isRunningLocally) && !isRunningLocally(item))
          backlog.add(item);
      }
      if (backlog.size === 0 && covered.length === 0) return { ...none, deferred };
      const ordered = [...backlog].sort((a, b) => a - b);
      const claimable = ordered.slice(0, Math.max(0, limit));
      const rest = ordered.slice(claimable.length);
      if (rest.some((item) => !queued.has(item)) && !(await registry.isExisted(paths.failoverItems)))
        await registry.persist(paths.failoverItems, '');
      const groups = [
        ...claimable.map((item) => this.#claimOps(item, state.get(item) ?? {}, queued.has(item))),
        ...rest.map((item) => {
          const where = {
            queued: queued.has(item),
            stale: (owner?: string): owner is string => stale(item, owner),
          };
          return this.#queueOps(item, state.get(item) ?? {}, where, true, ['running']);
        }),
        ...covered,
      ];
      const committed = await executeGroupsInChunks(registry, groups);
      return {
        claimed: claimable.filter((_, i) => committed[i]),
        queued: rest.filter((_, i) => committed[claimable.length + i]),
        failed: committed.filter((ok) => !ok).length,
        deferred,
      };
    });
  }

  /**
   * What a claim would find, judged from the watch cache with the cache's membership: `undefined`
   * when the cache shows something to take or tidy (a queued item; an orphaned item; a stale
   * `failover`/`failovering` node on an item a live run covers), else the number of items a run
   * here holds that carry a claim node of this instance (see {@link FailoverClaim.deferred}).
   * Running marks and claims of live instances are nothing to claim (ElasticJob claims only items
   * of a crashed instance): a job start beside live peers takes no latch and reads nothing.
   *
   * Every change that orphans an item asks for a claim once the cache shows it: an instance's
   * deletion (its marks were written before it), a queue entry, and a `running`/`failovering` mark
   * naming an instance the cache does not show live (see `RegistryEventRouter`). A cache lagging
   * behind a deletion shows the owner live; the deletion's event then asks for the claim.
   *
   * Synchronous, so that the claim asked for when a lane goes idle (every run's end) costs no
   * promise when there is nothing to claim (`FailoverCoordinator.tryFailover`).
   */
  deferredIfNothingToClaimInCache(
    isRunningLocally: (item: number) => boolean,
    includeOwnStale: boolean,
  ): number | undefined {
    const { cache, paths, instance } = this.context;
    if (cache.children(paths.failoverItems).length > 0) return undefined;
    const live = new Set(cache.children(paths.instances));
    const total = this.context.configuration().shardingTotalCount;
    let deferred = 0;
    for (const child of cache.children(paths.sharding)) {
      const item = Number(child);
      if (!Number.isInteger(item) || item >= total) continue;
      const read = (node: keyof ItemNodes) => cache.get(paths.shardingNode(item, node));
      const claimedHere =
        read('failover') === instance.jobInstanceId || read('failovering') === instance.jobInstanceId;
      if (isRunningLocally(item)) {
        if (claimedHere) deferred++;
      } else if (this.#orphaned(item, live, read, isRunningLocally, includeOwnStale)) return undefined;
      const staleClaim =
        this.#stale(item, read('failover'), live, isRunningLocally, includeOwnStale) ||
        this.#stale(item, read('failovering'), live, isRunningLocally, includeOwnStale);
      if (staleClaim && this.#runningLive(item, read('running'), live, isRunningLocally)) return undefined;
    }
    return deferred;
  }

  /**
   * Whether a node naming `owner` is stale: it names an instance not in `live`, or, in the first
   * claim after a start or a session loss, this instance while no run here holds the item (a claim
   * the previous session could not use). `''` (a Java peer's live ephemeral node) never is.
   */
  #stale(
    item: number,
    owner: string | undefined,
    live: ReadonlySet<string>,
    isRunningLocally: (item: number) => boolean,
    includeOwnStale: boolean,
  ): owner is string {
    return (
      owner !== undefined &&
      owner !== '' &&
      (!live.has(owner) ||
        (includeOwnStale && owner === this.context.instance.jobInstanceId && !isRunningLocally(item)))
    );
  }

  async #readItem(item: number): Promise<ItemNodes> {
    const { registry, paths } = this.context;
    // The fencing counter first (its answer awaited): a run admitted after this read advances it,
    // failing the claim. The other three nodes only need to be read after it.
    const fencing = await registry.getDirectly(paths.shardingNode(item, 'fencing'));
    const [running, failover, failovering] = await Promise.all(
      (['running', 'failover', 'failovering'] as const).map((node) =>
        registry.getDirectly(paths.shardingNode(item, node)),
      ),
    );
    return { fencing, running, failover, failovering };
  }

  /** Whether `running` names a live run ('' = a Java peer's; this instance's only if it runs it). */
  #runningLive(
    item: number,
    running: string | undefined,
    live: ReadonlySet<string>,
    isRunningLocally: (item: number) => boolean,
  ): boolean {
    if (running === undefined) return false;
    if (running === this.context.instance.jobInstanceId) return isRunningLocally(item);
    return running === '' || live.has(running);
  }

  /** The operations that claim `item` for this instance, conditional on `nodes` as read. */
  #claimOps(item: number, nodes: ItemNodes, queued: boolean): RegistryTransactionOperation[] {
    const { paths, instance } = this.context;
    const ops: RegistryTransactionOperation[] = [];
    if (queued) ops.push({ type: 'delete', key: paths.failoverItem(item) });
    const fencing = paths.shardingNode(item, 'fencing');
    // The claim advances the counter and keeps the fire recorded by the item's last cron run.
    const next = formatFencingStamp(nextFencingStamp(parseFencingStamp(nodes.fencing)));
    if (nodes.fencing === undefined) ops.push({ type: 'create', key: fencing, value: next });
    else
      ops.push(
        { type: 'check', key: fencing, value: nodes.fencing },
        { type: 'update', key: fencing, value: next },
      );
    const running = paths.shardingNode(item, 'running');
    if (nodes.running !== undefined)
      ops.push({ type: 'check', key: running, value: nodes.running }, { type: 'delete', key: running });
    for (const node of ['failover', 'failovering'] as const) {
      const key = paths.shardingNode(item, node);
      const current = nodes[node];
      if (current === undefined) ops.push({ type: 'create', key, value: instance.jobInstanceId });
      else
        ops.push(
          { type: 'check', key, value: current },
          { type: 'update', key, value: instance.jobInstanceId },
        );
    }
    return ops;
  }

  /**
   * The operations that put `item` in the failover queue (`enqueue`) or take it out, and delete
   * its nodes in `gone` whose owner is `stale`, each compared as read.
   */
  #queueOps(
    item: number,
    nodes: ItemNodes,
    where: { readonly queued: boolean; readonly stale: (owner?: string) => owner is string },
    enqueue: boolean,
    gone: readonly (keyof Omit<ItemNodes, 'fencing'>)[],
  ): RegistryTransactionOperation[] {
    const { paths } = this.context;
    const ops: RegistryTransactionOperation[] = [];
    if (enqueue && !where.queued) ops.push({ type: 'create', key: paths.failoverItem(item), value: '' });
    if (!enqueue && where.queued) ops.push({ type: 'delete', key: paths.failoverItem(item) });
    let deletes = false;
    for (const node of gone) {
      const owner = nodes[node];
      const key = paths.shardingNode(item, node);
      if (where.stale(owner)) {
        ops.push({ type: 'check', key, value: owner }, { type: 'delete', key });
        deletes = true;
      }
    }
    // A node's value alone cannot tell a stale mark or claim of this instance from a new one it
    // wrote since the read (same value); every admission and claim advances the fencing counter.
    if (deletes && nodes.fencing !== undefined)
      ops.push({ type: 'check', key: paths.shardingNode(item, 'fencing'), value: nodes.fencing });
    return ops;
  }

  /**
   * Clears `failover`/`failovering` of items this instance finished running as failover, or could
   * not run after claiming them, in one transaction (only nodes it still owns).
   */
  async completeFailover(items: readonly number[]): Promise<void> {
    const { registry, paths, instance } = this.context;
    const groups: RegistryTransactionOperation[][] = [];
    for (const item of items) {
      for (const node of ['failover', 'failovering'] as const) {
        const key = paths.shardingNode(item, node);
        if ((await registry.getDirectly(key)) === instance.jobInstanceId)
          groups.push([
            { type: 'check', key, value: instance.jobInstanceId },
            { type: 'delete', key },
          ]);
      }
    }
    await executeGroupsInChunks(registry, groups);
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
    // A live run of the item covers it: nodes a dead claimer left wait until that run has ended.
    if (this.#runningLive(item, read('running'), live, isRunningLocally)) return false;
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
