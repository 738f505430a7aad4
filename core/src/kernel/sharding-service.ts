/**
 * Resharding and assignments (ElasticJob `ShardingService`, reference §5.4), improved per DESIGN
 * §4: the leader reshards as soon as membership or the total count changes (not at its next
 * fire), commits the whole assignment in one transaction and verifies it, followers wait on
 * events with a timeout, and assignments are read directly after every resharding
 * (read-your-writes, #2194).
 *
 * @module
 */

import type { RegistryTransactionOperation } from '../registry/registry-center.js';
import { RegistryError } from '../registry/registry-error.js';
import { getJobShardingStrategy } from '../sharding/index.js';
import type { JobContext } from './job-context.js';
import type { LeaderService } from './leader-service.js';
import type { ServerService } from './server-service.js';
import { executeInChunks } from './transaction-chunks.js';

/** Options of {@link ShardingService}. */
export interface ShardingServiceOptions {
  /** Bound of the leader's wait for running items before resharding, in ms. */
  readonly runningWaitTimeoutMs: number;
}

/** Resharding (leader) and the local view of assignments (everyone). */
export class ShardingService {
  #requested = false;
  #forced = false;
  #retryDelayMs = 0;
  #retryTimer: { cancel(): void } | undefined;
  #loop: Promise<void> | undefined;
  /** Authoritative assignment read directly after the last resharding; `undefined` = re-read needed. */
  #assignment: Map<number, string> | undefined;

  constructor(
    private readonly context: JobContext,
    private readonly servers: ServerService,
    private readonly leader: LeaderService,
    private readonly options: ShardingServiceOptions,
  ) {}

  /** Whether the resharding flag `leader/sharding/necessary` is set (cache). */
  isNeedSharding(): boolean {
    return this.context.cache.has(this.context.paths.shardingNecessary);
  }

  /** Whether this instance is inside a resharding pass (its own flag writes are not new requests). */
  get isResharding(): boolean {
    return this.#loop !== undefined;
  }

  /** Marks the local assignment stale after a sharding-related event. */
  invalidateAssignment(): void {
    this.#assignment = undefined;
  }

  /**
   * Asks for resharding. Only the leader acts; requests arriving while a resharding runs are
   * coalesced into one more pass.
   *
   * @param force - reshard even if the current assignment looks valid (membership, server or
   *   total-count changes: ElasticJob's `setReshardingFlag`); otherwise only when
   *   {@link needsResharding}.
   * @returns resolves when the resharding loop that covers this request has finished.
   */
  requestResharding(force = false): Promise<void> {
    this.#requested = true;
    if (force) this.#forced = true;
    if (this.#loop === undefined) {
      this.#loop = (async () => {
        try {
          while (this.#requested && !this.context.isShutdown()) {
            this.#requested = false;
            const forced = this.#forced;
            this.#forced = false;
            if (!this.leader.isLeader()) break;
            if (!forced && !this.needsResharding()) continue;
            try {
              await this.#reshard();
              this.#retryDelayMs = 0;
            } catch (error) {
              this.#scheduleRetry();
              throw error;
            }
            // Read-your-writes in the cache: wait until it shows the commit before deciding again.
            await this.context.waiters.waitFor(
              () => !this.isNeedSharding() || this.context.isShutdown(),
              this.options.runningWaitTimeoutMs,
            );
          }
        } finally {
          this.#loop = undefined;
        }
      })();
    }
    return this.#loop;
  }

  /** After a failed resharding: try again after 1 s, doubling up to 30 s, until one succeeds. */
  #scheduleRetry(): void {
    this.#retryDelayMs = Math.min(30_000, Math.max(1000, this.#retryDelayMs * 2));
    this.#retryTimer?.cancel();
    this.#retryTimer = this.context.clock.setTimeout(
      () => {
        this.#retryTimer = undefined;
        if (!this.context.isShutdown() && this.leader.isLeader()) {
          this.requestResharding(true).catch((error: unknown) => {
            this.context.logger.error({ err: error }, 'resharding retry failed');
          });
        }
      },
      this.#retryDelayMs,
      { unref: true },
    );
  }

  /** Cancels a pending resharding retry (shutdown). */
  close(): void {
    this.#retryTimer?.cancel();
    this.#retryTimer = undefined;
  }

  /**
   * Whether resharding is needed now: the flag is set, no assignment exists yet, the total count
   * changed, or an item is assigned to an instance that is gone or unavailable.
   */
  needsResharding(): boolean {
    const { cache, paths } = this.context;
    if (this.isNeedSharding()) return true;
    const config = this.context.configuration();
    const items = cache.children(paths.sharding);
    const available = new Set(this.servers.availableInstances().map((i) => i.jobInstanceId));
    if (items.length === 0) return available.size > 0;
    if (config.staticSharding) return items.length !== config.shardingTotalCount;
    if (items.length !== config.shardingTotalCount) return true;
    for (let item = 0; item < config.shardingTotalCount; item++) {
      const owner = cache.get(paths.shardingNode(item, 'instance'));
      if (owner === undefined ? available.size > 0 : !available.has(owner)) return true;
    }
    return false;
  }

  async #reshard(): Promise<void> {
    const { registry, paths, logger } = this.context;
    const available = this.servers.availableInstances();
    if (available.length === 0) return;
    if (!(await registry.isExisted(paths.shardingNecessary))) {
      await registry.persist(paths.shardingNecessary, '');
    }
    await this.#waitForRunningItems();
    const config = this.context.configuration();
    const total = config.shardingTotalCount;
    const strategy = getJobShardingStrategy(config.jobShardingStrategyType);
    const instances = this.servers.availableInstances();
    if (instances.length === 0) return;
    const result = strategy.sharding(instances, config.jobName, total);
    const owner = new Map<number, string>();
    for (const [instanceId, items] of result) for (const item of items) owner.set(item, instanceId);

    await registry.persistEphemeral(paths.shardingProcessing, '');
    // Item parents first (idempotent), so the assignment itself stays small.
    const existingItems = new Set(await registry.getChildrenKeys(paths.sharding));
    for (let item = 0; item < total; item++) {
      if (!existingItems.has(String(item))) await registry.persist(paths.shardingItem(item), '');
    }
    const ops: RegistryTransactionOperation[] = [];
    for (let item = 0; item < total; item++) {
      const instancePath = paths.shardingNode(item, 'instance');
      const instanceExists = existingItems.has(String(item)) && (await registry.isExisted(instancePath));
      const newOwner = owner.get(item);
      if (newOwner === undefined) {
        if (instanceExists) ops.push({ type: 'delete', key: instancePath });
      } else if (instanceExists) {
        ops.push({ type: 'update', key: instancePath, value: newOwner });
      } else {
        ops.push({ type: 'create', key: instancePath, value: newOwner });
      }
    }
    for (const name of existingItems) {
      const item = Number(name);
      if (!Number.isInteger(item) || item >= total)
        ops.push({ type: 'delete', key: `${paths.sharding}/${name}` });
    }
    try {
      // One transaction up to ~37 items; beyond, chunks whose last one clears the flag, so
      // followers (who read assignments only once the flag is gone) never see a partial one.
      await executeInChunks(registry, ops, {
        prefix: [{ type: 'check', key: paths.root }],
        last: [
          { type: 'delete', key: paths.shardingNecessary },
          { type: 'delete', key: paths.shardingProcessing },
        ],
      });
    } catch (error) {
      // Verify: an unknown outcome (connection loss) may have committed; never leave zombies (#2488).
      if (!(await this.#committed(owner, total))) {
        await registry.remove(paths.shardingProcessing);
        logger.error({ err: error }, 'resharding failed; retrying with backoff');
        throw error;
      }
    }
    this.#assignment = owner;
    logger.info(
      { assignment: Object.fromEntries([...result].map(([id, items]) => [id, items])) },
      'resharding committed',
    );
  }

  async #committed(owner: Map<number, string>, total: number): Promise<boolean> {
    const { registry, paths } = this.context;
    if (await registry.isExisted(paths.shardingNecessary)) return false;
    for (let item = 0; item < total; item++) {
      if ((await registry.getDirectly(paths.shardingNode(item, 'instance'))) !== owner.get(item))
        return false;
    }
    return true;
  }

  /** Waits (event-driven, bounded) until no live instance has a `running` item. */
  async #waitForRunningItems(): Promise<void> {
    const config = this.context.configuration();
    if (!config.monitorExecution) return;
    const settled = await this.context.waiters.waitFor(
      () => this.runningItemsOfLiveInstances().length === 0 || this.context.isShutdown(),
      this.options.runningWaitTimeoutMs,
    );
    if (!settled) {
      this.context.logger.warn(
        { items: this.runningItemsOfLiveInstances() },
        `items still running after ${this.options.runningWaitTimeoutMs} ms; resharding anyway`,
      );
    }
  }

  /** Items whose `running` node names an instance that is still alive (cache). */
  runningItemsOfLiveInstances(): number[] {
    const { cache, paths } = this.context;
    const live = new Set(this.servers.liveInstanceIds());
    const result: number[] = [];
    for (const name of cache.children(paths.sharding)) {
      const item = Number(name);
      const owner = cache.get(paths.shardingNode(item, 'running'));
      if (owner !== undefined && live.has(owner)) result.push(item);
    }
    return result;
  }

  /**
   * Waits until no resharding is pending (the flag is gone), asking the leader to reshard when
   * this instance is the leader. Bounded by `timeoutMs`.
   *
   * @returns `false` when resharding is still pending after the timeout.
   */
  async waitUntilSharded(timeoutMs: number): Promise<boolean> {
    if (this.leader.isLeader() && this.needsResharding()) {
      await this.requestResharding().catch((error: unknown) => {
        this.context.logger.error({ err: error }, 'resharding failed');
      });
    }
    return this.context.waiters.waitFor(() => !this.isNeedSharding() || this.context.isShutdown(), timeoutMs);
  }

  /**
   * Items assigned to this instance (ElasticJob `getLocalShardingItems`): empty unless this
   * instance is available. Reads the assignment directly once after each resharding.
   */
  async localItems(): Promise<number[]> {
    const { registry, paths, instance } = this.context;
    if (!this.servers.isLocalInstanceAvailable()) return [];
    const total = this.context.configuration().shardingTotalCount;
    if (this.#assignment === undefined) {
      const assignment = new Map<number, string>();
      for (let item = 0; item < total; item++) {
        const owner = await registry.getDirectly(paths.shardingNode(item, 'instance'));
        if (owner !== undefined) assignment.set(item, owner);
      }
      this.#assignment = assignment;
    }
    const items: number[] = [];
    for (const [item, owner] of this.#assignment) {
      if (owner === instance.jobInstanceId && item < total) items.push(item);
    }
    return items.sort((a, b) => a - b);
  }

  /** Sharding item parameters from the configuration. */
  assignmentSnapshot(): ReadonlyMap<number, string> | undefined {
    return this.#assignment;
  }

  /** Whether `error` is a registry error worth logging rather than crashing on. */
  static isRegistryError(error: unknown): error is RegistryError {
    return error instanceof RegistryError;
  }
}
