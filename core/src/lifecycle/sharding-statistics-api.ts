/**
 * {@link ShardingStatisticsAPI}: the sharding items of a job and their state.
 *
 * @module
 */
import type { CoordinatorRegistryCenter } from '../registry/registry-center.js';
import { readItems, readJobSnapshot } from './job-snapshot.js';
import { LifecycleRegistry, serverIpOfInstanceId } from './lifecycle-registry.js';

/**
 * State of one sharding item (ElasticJob `ShardingInfo.ShardingStatus`). Rules, first match wins:
 *
 * - `DISABLED`: `sharding/{item}/disabled` exists (an operator disabled it).
 * - `RUNNING`: `sharding/{item}/running` exists and names a live instance (a legacy empty node
 *   counts for the item's owner). A `running` node left by a dead instance does not count: the
 *   kernel takes such nodes over.
 * - `COMPLETED`: `sharding/{item}/completed` exists. Only ElasticJob 2.x wrote that node; the 3.x
 *   layout and this kernel never do, so this status appears only on registries carrying it.
 * - `SHARDING_FLAG`: the item has no owner (`sharding/{item}/instance` absent or empty) or its owner
 *   is not a live instance — it waits for resharding.
 * - `PENDING`: assigned to a live instance and waiting for its next run.
 */
export type ShardingItemStatus = 'RUNNING' | 'COMPLETED' | 'DISABLED' | 'SHARDING_FLAG' | 'PENDING';

/** One sharding item (ElasticJob `ShardingInfo`). */
export interface ShardingInfo {
  /** The item number. */
  readonly item: number;
  /**
   * IP of the owning instance: from its instance node when live, else the part of its id before
   * `@-@`; `undefined` when the item has no owner or a custom owner id that is not live.
   */
  readonly serverIp: string | undefined;
  /** The owning instance (`sharding/{item}/instance`); `undefined` when unassigned. */
  readonly instanceId: string | undefined;
  /** See {@link ShardingItemStatus}. */
  readonly status: ShardingItemStatus;
  /**
   * The instance that took the item over after its owner crashed (`sharding/{item}/failover`);
   * `undefined` when not failed over. ElasticJob reports only a boolean.
   */
  readonly failover: string | undefined;
}

/**
 * Per-item view of a job's sharding (ElasticJob's `ShardingStatisticsAPI`).
 *
 * @example
 * ```ts
 * const api = new ShardingStatisticsAPI(registry);
 * for (const info of await api.getShardingInfo('orders')) console.log(info.item, info.instanceId, info.status);
 * ```
 */
export class ShardingStatisticsAPI {
  readonly #reader: LifecycleRegistry;

  /** @param registry - a started registry client of the jobs' namespace (not closed by this API). */
  constructor(registry: CoordinatorRegistryCenter) {
    this.#reader = new LifecycleRegistry(registry);
  }

  /**
   * Every item of the job — the items `0..shardingTotalCount-1` plus any other item node still under
   * `sharding/` — ascending, with owner, status (see {@link ShardingItemStatus}) and failover.
   * ElasticJob lists only existing `sharding/` children; here an item not assigned yet appears as
   * `SHARDING_FLAG` without owner. When the stored configuration is invalid, the total is unknown:
   * only the item nodes under `sharding/` are listed.
   *
   * @param jobName - the job.
   * @throws {TypeError} naming `jobName` when it is not a valid job name.
   * @throws {JobNotFoundError} when the job has no `config` node.
   * @throws {RegistryError} when the registry fails.
   */
  async getShardingInfo(jobName: string): Promise<ShardingInfo[]> {
    await this.#reader.requireJob(jobName);
    const snapshot = await readJobSnapshot(this.#reader, jobName);
    if (snapshot === undefined) throw await this.#reader.notFound(jobName);
    const ipById = new Map(snapshot.instances.map((instance) => [instance.instanceId, instance.serverIp]));
    const items = await readItems(
      this.#reader,
      jobName,
      snapshot.stored.configuration?.shardingTotalCount ?? 0,
    );
    return items.map((item): ShardingInfo => {
      const owner = item.owner;
      const ownerLive = owner !== undefined && ipById.has(owner);
      const runner = item.running === '' ? owner : item.running;
      let status: ShardingItemStatus;
      if (item.disabled) status = 'DISABLED';
      else if (runner !== undefined && ipById.has(runner)) status = 'RUNNING';
      else if (item.completed) status = 'COMPLETED';
      else if (!ownerLive) status = 'SHARDING_FLAG';
      else status = 'PENDING';
      return {
        item: item.item,
        serverIp: owner === undefined ? undefined : (ipById.get(owner) ?? serverIpOfInstanceId(owner)),
        instanceId: owner,
        status,
        failover: item.failover,
      };
    });
  }
}
