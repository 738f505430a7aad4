/**
 * Bounded transactions. Registries cap what one transaction may hold (etcd's default
 * `--max-txn-ops` is 128 compares and 128 requests), so the kernel packs operations into
 * transactions with the adapter's {@link TransactionMeter} ({@link openTransactionMeter}), or counts
 * them against `capabilities.maxTransactionOperations` when the adapter has no meter; larger
 * batches are split. Where atomicity across the whole batch matters (resharding), the caller puts
 * the gate (deleting `leader/sharding/necessary`) in the last chunk.
 *
 * @module
 */
import type {
  CoordinatorRegistryCenter,
  RegistryTransactionOperation,
  TransactionMeter,
} from '../registry/registry-center.js';
import { RegistryError } from '../registry/registry-error.js';
import { CountingTransactionMeter } from '../registry/transaction-meter.js';

/** The bound when the adapter declares none (fits etcd's default 128 after expansion). */
export const DEFAULT_MAX_TRANSACTION_OPERATIONS = 40;

/** The most operations the kernel counts into one transaction of a registry without a meter (at least 2). */
export function maxTransactionOperations(registry: CoordinatorRegistryCenter): number {
  const declared = registry.capabilities.maxTransactionOperations;
  return declared !== undefined && Number.isInteger(declared) && declared >= 2
    ? declared
    : DEFAULT_MAX_TRANSACTION_OPERATIONS;
}

/**
 * A meter for one transaction of `registry`: the adapter's own
 * ({@link CoordinatorRegistryCenter.openTransactionMeter}), else one counting operations against
 * {@link maxTransactionOperations}.
 */
export function openTransactionMeter(registry: CoordinatorRegistryCenter): TransactionMeter {
  return (
    registry.openTransactionMeter?.() ?? new CountingTransactionMeter(maxTransactionOperations(registry))
  );
}

/**
 * Runs `operations` in as few transactions as the registry's meter allows, each prefixed by
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
  const chunks: RegistryTransactionOperation[][] = [];
  let chunk: RegistryTransactionOperation[] = [];
  const withPrefix = () => {
    const meter = openTransactionMeter(registry);
    meter.tryAdd(prefix);
    return meter;
  };
  let meter = withPrefix();
  const add = (group: readonly RegistryTransactionOperation[]) => {
    if (meter.tryAdd(group)) {
      chunk.push(...group);
      return;
    }
    if (chunk.length > 0) chunks.push(chunk);
    chunk = [];
    meter = withPrefix();
    if (meter.tryAdd(group)) chunk.push(...group);
    else {
      // Too large beside the prefix even alone: it goes alone, and the registry refuses it.
      chunks.push([...group]);
      meter = withPrefix();
    }
  };
  for (const operation of operations) add([operation]);
  if (last.length > 0) add(last);
  chunks.push(chunk);
  for (const operations of chunks) {
    if (operations.length === 0) continue;
    await registry.executeInTransaction([...prefix, ...operations]);
  }
}

/**
 * Runs groups of operations that must each commit whole (one item's conditional writes), as few
 * transactions as possible: groups are packed into chunks the registry's meter takes; when a
 * chunk fails on a condition, each of its groups is retried alone, so one item whose state
 * changed does not hold back the others.
 *
 * @param registry - the registry.
 * @param groups - the groups, in order; a group too large for one transaction goes alone (and
 *   the registry refuses it).
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
  let meter = openTransactionMeter(registry);
  const flush = async () => {
    const indexes = chunk;
    const transaction = operations;
    chunk = [];
    operations = [];
    meter = openTransactionMeter(registry);
    if (indexes.length === 0) return;
    if (await tryTransaction(registry, transaction)) {
      for (const i of indexes) committed[i] = true;
      return;
    }
    if (indexes.length === 1) return;
    for (const i of indexes) committed[i] = await tryTransaction(registry, groups[i] ?? []);
  };
  for (const [i, group] of groups.entries()) {
    if (group.length === 0) {
      committed[i] = true;
      continue;
    }
    if (!meter.tryAdd(group)) {
      await flush();
      meter.tryAdd(group);
    }
    chunk.push(i);
    operations.push(...group);
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
