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
 * Packs groups of operations (each must commit whole) into as few transactions as the registry's
 * meter takes, each transaction behind `prefix`, in order. A group the meter refuses even beside
 * the prefix alone gets a transaction of its own (and the registry's refusal decides).
 *
 * @param registry - the registry whose meter sizes the transactions.
 * @param groups - the groups, in order.
 * @param prefix - operations every transaction starts with (e.g. a fencing `check`).
 * @returns the indexes of the groups of each transaction, in order.
 */
export function packGroups(
  registry: CoordinatorRegistryCenter,
  groups: readonly (readonly RegistryTransactionOperation[])[],
  prefix: readonly RegistryTransactionOperation[] = [],
): number[][] {
  // One group goes alone whatever the meter says: no meter to open (a run's one-item transaction).
  if (groups.length === 1) return [[0]];
  const withPrefix = () => {
    const meter = openTransactionMeter(registry);
    meter.tryAdd(prefix);
    return meter;
  };
  const chunks: number[][] = [];
  let chunk: number[] = [];
  let meter = withPrefix();
  /** The chunk holds a group the meter refused beside the prefix alone. */
  let full = false;
  for (const [i, group] of groups.entries()) {
    if (full || !meter.tryAdd(group)) {
      if (chunk.length > 0) chunks.push(chunk);
      chunk = [];
      meter = withPrefix();
      full = !meter.tryAdd(group);
    }
    chunk.push(i);
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
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
  const groups = operations.map((operation) => [operation]);
  if (last.length > 0) groups.push([...last]);
  for (const chunk of packGroups(registry, groups, prefix)) {
    await registry.executeInTransaction([...prefix, ...chunk.flatMap((i) => groups[i] ?? [])]);
  }
}

/**
 * Runs groups of operations that must each commit whole (one item's conditional writes), as few
 * transactions as possible ({@link packGroups}); when a transaction fails on a condition, each of
 * its groups is retried alone, so one item whose state changed does not hold back the others.
 *
 * @param registry - the registry.
 * @param groups - the groups, in order; a group too large for one transaction goes alone (and
 *   the registry refuses it).
 * @returns for each group, whether it committed (an empty group: yes).
 * @throws {RegistryError} other than `TRANSACTION_FAILED` (connection loss, session expiry).
 */
export async function executeGroupsInChunks(
  registry: CoordinatorRegistryCenter,
  groups: readonly (readonly RegistryTransactionOperation[])[],
): Promise<boolean[]> {
  const committed = groups.map((group) => group.length === 0);
  const nonEmpty = groups.flatMap((group, i) => (group.length > 0 ? [i] : []));
  const packed = packGroups(
    registry,
    nonEmpty.map((i) => groups[i] ?? []),
  );
  for (const chunk of packed) {
    const indexes = chunk.map((j) => nonEmpty[j] as number);
    if (
      await tryTransaction(
        registry,
        indexes.flatMap((i) => groups[i] ?? []),
      )
    ) {
      for (const i of indexes) committed[i] = true;
    } else if (indexes.length > 1) {
      for (const i of indexes) committed[i] = await tryTransaction(registry, groups[i] ?? []);
    }
  }
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
