/**
 * The plan a resharding commits, and whether the registry already holds it. A plan is a pure
 * function of the job's configuration and the available instances (in registry order), so a
 * forced resharding whose plan the registry already holds would commit nothing new.
 *
 * @module
 */
import type { ResolvedJobConfiguration } from '../../config/job-configuration.js';
import type { JobInstance } from '../../instance/index.js';
import type { CoordinatorRegistryCenter } from '../../registry/registry-center.js';
import { sortChildrenDescending } from '../../registry/registry-path.js';
import { getJobShardingStrategy } from '../../sharding/index.js';
import { parseInstanceNode } from '../instance/server-service.js';
import type { JobContext } from '../job-context.js';
import type { JobNodePath } from '../job-node-path.js';
import { removedItemOps } from './removed-items.js';

/** A resharding plan: the strategy's result, and the same as item → owner instance id. */
export interface AssignmentPlan {
  /** `jobInstanceId` → its items, as the job's sharding strategy returned them. */
  readonly byInstance: ReadonlyMap<string, readonly number[]>;
  /** Item → owner `jobInstanceId`; items the strategy left unassigned are absent. */
  readonly owner: ReadonlyMap<number, string>;
}

/**
 * The plan of the job's sharding strategy for `instances`.
 *
 * @param instances - the available instances, in registry (descending id) order.
 * @throws {TypeError} from the strategy (an unknown type, duplicate instance ids).
 */
export function planAssignment(
  config: ResolvedJobConfiguration,
  instances: readonly JobInstance[],
): AssignmentPlan {
  const strategy = getJobShardingStrategy(config.jobShardingStrategyType);
  const byInstance = strategy.sharding(instances, config.jobName, config.shardingTotalCount);
  const owner = new Map<number, string>();
  for (const [instanceId, items] of byInstance) for (const item of items) owner.set(item, instanceId);
  return { byInstance, owner };
}

/**
 * Whether the registry holds `owner` for items `0 … total - 1`, read directly, and has no
 * leftover of a removed item that a commit would delete (see `removedItemOps`).
 */
export async function registryHoldsAssignment(
  registry: CoordinatorRegistryCenter,
  paths: JobNodePath,
  owner: ReadonlyMap<number, string>,
  total: number,
): Promise<boolean> {
  for (let item = 0; item < total; item++) {
    if ((await registry.getDirectly(paths.shardingNode(item, 'instance'))) !== owner.get(item)) return false;
  }
  const existing = await registry.getChildrenKeys(paths.sharding);
  return (await removedItemOps(registry, paths, existing, total)).length === 0;
}

/**
 * The available instances, read directly from the registry (not the watch cache), in registry
 * (descending id) order: instance nodes whose server is `ENABLED`. An unparsable instance node is
 * logged and left out.
 */
export async function readAvailableInstances(
  context: Pick<JobContext, 'registry' | 'paths' | 'logger'>,
): Promise<JobInstance[]> {
  const { registry, paths, logger } = context;
  const statuses = new Map<string, string | undefined>();
  const result: JobInstance[] = [];
  for (const id of sortChildrenDescending(await registry.getChildrenKeys(paths.instances))) {
    const parsed = parseInstanceNode(id, await registry.getDirectly(paths.instance(id)), logger);
    if (parsed === undefined) continue;
    if (!statuses.has(parsed.serverIp))
      statuses.set(parsed.serverIp, await registry.getDirectly(paths.server(parsed.serverIp)));
    if (statuses.get(parsed.serverIp) === 'ENABLED') result.push(parsed);
  }
  return result;
}
