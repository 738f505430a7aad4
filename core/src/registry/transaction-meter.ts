/**
 * The {@link TransactionMeter} of adapters whose limit is a number of operations.
 *
 * @module
 */
import type { RegistryTransactionOperation, TransactionMeter } from './registry-center.js';

/** Sizes a transaction by counting its operations against a fixed bound. */
export class CountingTransactionMeter implements TransactionMeter {
  #size = 0;

  /**
   * @param maxOperations - the most operations of one transaction (an integer ≥ 1).
   * @throws {TypeError} for a `maxOperations` that is not an integer ≥ 1.
   */
  constructor(private readonly maxOperations: number) {
    if (!Number.isInteger(maxOperations) || maxOperations < 1)
      throw new TypeError(
        `CountingTransactionMeter 'maxOperations' must be an integer >= 1, got ${maxOperations}`,
      );
  }

  /** Operations added so far. */
  get size(): number {
    return this.#size;
  }

  /**
   * Adds the group when the count stays within `maxOperations` (an empty meter takes any group).
   *
   * @returns whether the group was added.
   */
  tryAdd(operations: readonly RegistryTransactionOperation[]): boolean {
    if (this.#size > 0 && this.#size + operations.length > this.maxOperations) return false;
    this.#size += operations.length;
    return true;
  }
}
