/**
 * {@link ShardingOperateAPI}: disable and enable single sharding items.
 *
 * @module
 */
import { parseJobConfigurationYaml } from '../config/index.js';
import type { JobNodePath } from '../kernel/job-node-path.js';
import type { CoordinatorRegistryCenter } from '../registry/registry-center.js';
import { assertItemArgument, LifecycleRegistry } from './lifecycle-registry.js';

/**
 * Disables and enables sharding items (ElasticJob's `ShardingOperateAPI`): a
 * disabled item stays assigned to its instance but is left out of every run until it is enabled.
 * No resharding happens.
 *
 * @example
 * ```ts
 * const api = new ShardingOperateAPI(registry);
 * await api.disable('orders', 2); // item 2 is skipped from the next run on
 * await api.enable('orders', 2);
 * ```
 */
export class ShardingOperateAPI {
  readonly #reader: LifecycleRegistry;

  /** @param registry - a started registry client of the jobs' namespace (not closed by this API). */
  constructor(registry: CoordinatorRegistryCenter) {
    this.#reader = new LifecycleRegistry(registry);
  }

  /**
   * Disables one item: persists the empty node `sharding/{item}/disabled`. Idempotent.
   *
   * @param jobName - the job.
   * @param item - the item, `0..shardingTotalCount-1` of the stored configuration.
   * @throws {TypeError} naming `jobName` or `item` when invalid (an item outside the range names the range).
   * @throws {JobNotFoundError} when the job has no `config` node.
   * @throws {RegistryError} when the registry fails.
   */
  async disable(jobName: string, item: number): Promise<void> {
    const paths = await this.#checkedItem(jobName, item, true);
    await this.#reader.registry.persist(paths.shardingNode(item, 'disabled'), '');
  }

  /**
   * Enables one item: deletes `sharding/{item}/disabled` if present. Idempotent. Items beyond the
   * current `shardingTotalCount` are accepted, so that a flag left over from a larger count can be
   * cleared.
   *
   * @param jobName - the job.
   * @param item - the item, an integer >= 0.
   * @throws {TypeError} naming `jobName` or `item` when invalid.
   * @throws {JobNotFoundError} when the job has no `config` node.
   * @throws {RegistryError} when the registry fails.
   */
  async enable(jobName: string, item: number): Promise<void> {
    const paths = await this.#checkedItem(jobName, item, false);
    await this.#reader.registry.remove(paths.shardingNode(item, 'disabled'));
  }

  async #checkedItem(jobName: string, item: number, inRange: boolean): Promise<JobNodePath> {
    assertItemArgument(item);
    const paths = await this.#reader.requireJob(jobName);
    if (!inRange) return paths;
    const yaml = await this.#reader.registry.getDirectly(paths.config);
    if (yaml === undefined) throw await this.#reader.notFound(jobName);
    const total = parseJobConfigurationYaml(yaml).shardingTotalCount;
    if (item >= total) {
      throw new TypeError(
        `item must be a sharding item of job '${jobName}': an integer from 0 to ${total - 1} (shardingTotalCount ${total}), got ${item}`,
      );
    }
    return paths;
  }
}
