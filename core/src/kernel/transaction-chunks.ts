/**
 * Bounded transactions. Registries cap the operations of one transaction (etcd's default
 * `--max-txn-ops` is 128, counting compares, and the etcd adapter turns one `create` into two
 * compares and a put), so the kernel never sends more than the adapter's
 * `capabilities.maxTransactionOperations` ({@link maxTransactionOperations}) in one; larger
 * batches are split. Where atomicity across the whole batch matters (resharding),
 * the caller puts the gate (deleting `leader/sharding/necessary`) in the last chunk.
 *
 * @module
 */
import type { CoordinatorRegistryCenter, RegistryTransactionOperation } from '../registry/registry-center.js';
import { RegistryError } from '../registry/registry-error.js';

/** The bound when the adapter declares none (fits etcd's default 128 after expansion). */
export const DEFAULT_MAX_TRANSACTION_OPERATIONS = 40;

/** The most operations the kernel puts in one transaction of `registry` (at least 2). */
export function maxTransactionOperations(registry: CoordinatorRegistryCenter): number {
  const declared = registry.capabilities.maxTransactionOperations;
  return declared !== undefined && Number.isInteger(declared) && declared >= 2
    ? declared
    : DEFAULT_MAX_TRANSACTION_OPERATIONS;
}

/**
 * Runs `operations` in transactions of at most {@link maxTransactionOperations}, each prefixed by
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
  const room = Math.max(1, maxTransactionOperations(registry) - prefix.length);
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

/**
 * Runs groups of operations that must each commit whole (one item's conditional writes), as few
 * transactions as possible: groups are packed into chunks of at most
 * {@link maxTransactionOperations}; when a chunk fails on a condition, each of its groups is
 * retried alone, so one item whose state changed does not hold back the others.
 *
 * @param registry - the registry.
 * @param groups - the groups, in order; a group never exceeds the bound.
 * @returns for each group, whether it committed.
 * @throws {RegistryError} other than `TRANSACTION_FAILED` (connection loss, session expiry).
 */
export async function executeGroupsInChunks(
  registry: CoordinatorRegistryCenter,
  groups: readonly (readonly RegistryTransactionOperation[])[],
): Promise<boolean[]> {
  const committed = groups.map(() => false);
  let chunk: number[] = [];
  /** The operations of the groups in `chunk`, in order. */
  let operations: RegistryTransactionOperation[] = [];
  const flush = async () => {
    const indexes = chunk;
    const transaction = operations;
    chunk = [];
    operations = [];
    if (indexes.length === 0) return;
    if (await tryTransaction(registry, transaction)) {
      for (const i of indexes) committed[i] = true;
      return;
    }
    if (indexes.length === 1) return;
    for (const i of indexes) committed[i] = await tryTransaction(registry, groups[i] ?? []);
  };
  const limit = maxTransactionOperations(registry);
  for (let i = 0; i < groups.length; i++) {
    const length = groups[i]?.length ?? 0;
    if (length === 0) {
      committed[i] = true;
      continue;
    }
    if (operations.length + length > limit) await flush();
    chunk.push(i);
    operations.push(...(groups[i] ?? []));
  }
  await flush();
  return committed;
}

async function tryTransaction(
  registry: CoordinatorRegistryCenter,
  operations: readonly RegistryTransactionOperation[],
): Promise<boolean> {
  try {
    await registry.executeInTransaction(operations);
    return true;
  } catch (error) {
    if (RegistryError.is(error, 'TRANSACTION_FAILED')) return false;
    throw error;
  }
}
