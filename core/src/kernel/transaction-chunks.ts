/**
 * Bounded transactions. Registries cap the operations of one transaction (etcd's default
 * `--max-txn-ops` is 128, counting compares, and the etcd adapter turns one `create` into two
 * compares and a put), so the kernel never sends more than {@link MAX_TRANSACTION_OPERATIONS} in
 * one; larger batches are split. Where atomicity across the whole batch matters (resharding),
 * the caller puts the gate (deleting `leader/sharding/necessary`) in the last chunk.
 *
 * @module
 */
import type { CoordinatorRegistryCenter, RegistryTransactionOperation } from '../registry/registry-center.js';

/** The most operations the kernel puts in one registry transaction (fits etcd's default 128 after expansion). */
export const MAX_TRANSACTION_OPERATIONS = 40;

/**
 * Runs `operations` in transactions of at most {@link MAX_TRANSACTION_OPERATIONS}, each prefixed by
 * `prefix` (e.g. a `check` of the job root), with `last` appended to the final one.
 *
 * @param registry - the registry.
 * @param operations - the operations, in order.
 * @param options - `prefix` repeated in every chunk, `last` added to the final chunk.
 * @throws {RegistryError} from the first chunk that fails; earlier chunks stay committed.
 */
export async function executeInChunks(
  registry: CoordinatorRegistryCenter,
  operations: readonly RegistryTransactionOperation[],
  options: {
    prefix?: readonly RegistryTransactionOperation[];
    last?: readonly RegistryTransactionOperation[];
  } = {},
): Promise<void> {
  const prefix = options.prefix ?? [];
  const last = options.last ?? [];
  const room = MAX_TRANSACTION_OPERATIONS - prefix.length;
  const chunks: RegistryTransactionOperation[][] = [];
  for (let i = 0; i < operations.length; i += room) chunks.push(operations.slice(i, i + room));
  if (chunks.length === 0) chunks.push([]);
  const tail = chunks[chunks.length - 1] as RegistryTransactionOperation[];
  if (tail.length + last.length > room) chunks.push([...last]);
  else tail.push(...last);
  for (const chunk of chunks) {
    if (chunk.length === 0) continue;
    await registry.executeInTransaction([...prefix, ...chunk]);
  }
}
