/**
 * What resharding does to the items a smaller sharding total count removes. ElasticJob deletes
 * their whole subtrees; here every node goes except the fencing counter and the running mark. A
 * run of such an item admitted before the change may still be going (queued for a slot, or on a
 * process frozen beyond its session), and the item may come back with a larger count: its
 * running mark keeps the item's new owner out until that run ends, and the token of the item's
 * next run stays above that run's.
 *
 * @module
 */
import type {
  CoordinatorRegistryCenter,
  RegistryTransactionOperation,
} from '../../registry/registry-center.js';
import type { JobNodePath } from '../job-node-path.js';

/** The nodes of a removed item that resharding keeps. */
const KEPT: ReadonlySet<string> = new Set(['fencing', 'running']);

/**
 * The deletions that remove the items among `existing` (children of `sharding/`) that are not
 * items of a job with `total` items: a non-numeric child whole, a numeric one down to what is kept.
 * Reads the children of each removed item (one request each).
 */
export async function removedItemOps(
  registry: CoordinatorRegistryCenter,
  paths: JobNodePath,
  existing: Iterable<string>,
  total: number,
): Promise<RegistryTransactionOperation[]> {
  const ops: RegistryTransactionOperation[] = [];
  for (const name of existing) {
    const item = Number(name);
    if (Number.isInteger(item) && item < total) continue;
    const children = Number.isInteger(item) ? await registry.getChildrenKeys(paths.shardingItem(item)) : [];
    if (!children.some((child) => KEPT.has(child)))
      ops.push({ type: 'delete', key: `${paths.sharding}/${name}` });
    else
      for (const child of children)
        if (!KEPT.has(child)) ops.push({ type: 'delete', key: `${paths.sharding}/${name}/${child}` });
  }
  return ops;
}
