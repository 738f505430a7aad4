/**
 * Merges the transactions a client is asked for in one event-loop turn into fewer wire
 * transactions, for adapters whose every transaction is a round trip and a consensus write (a
 * ZooKeeper `multi`, an etcd `Txn`, a Redis script call). When a thousand jobs of one process fire
 * in the same second, each one's admission is a transaction of its own: sent one by one they queue
 * on the server, and the last job starts hundreds of ms late.
 *
 * Transactions touching the same node (or an ancestor or descendant of one) are not merged: etcd
 * refuses a Txn writing one key twice, and such transactions would only fail each other's
 * comparisons. Semantics are those of the transactions run one after another: a merged transaction is all or
 * nothing, so when it commits, every transaction in it committed, in the order they were asked
 * for. When the server refuses it at one operation (`TRANSACTION_FAILED`, or `NO_AUTH` with a
 * `failedOperationIndex`), nothing was written: the transaction holding that operation runs again
 * alone (a `TRANSACTION_FAILED` naming no operation sends every transaction of the merge alone), so its caller gets its own outcome and its own `failedOperationIndex`, and the others are
 * merged again. Any other error (the outcome is unknown, e.g. the connection dropped)
 * goes to every caller of the merged transaction, as it would have to each alone.
 *
 * @module
 */
import type { RegistryTransactionOperation, TransactionMeter } from './registry-center.js';
import { RegistryError } from './registry-error.js';

interface Pending {
  readonly operations: readonly RegistryTransactionOperation[];
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/** Coalesces one client's transactions of an event-loop turn (see the module). */
export class TransactionCoalescer {
  #pending: Pending[] = [];
  #scheduled = false;

  /**
   * @param commit - runs one transaction on the wire (the adapter's own transaction, after the
   *   operations were validated: a merged transaction must not fail on another caller's input).
   * @param openMeter - a new meter for each merged transaction: a transaction joins a merge only
   *   when the meter takes it (see {@link TransactionMeter}); one the meter takes on its own only is
   *   sent alone.
   */
  constructor(
    private readonly commit: (operations: readonly RegistryTransactionOperation[]) => Promise<void>,
    private readonly openMeter: () => TransactionMeter,
  ) {}

  /**
   * Runs `operations` as one transaction, merged with the others asked for in this event-loop turn.
   *
   * @param operations - validated operations.
   * @throws whatever `commit` throws for this transaction (see the module for merged failures).
   */
  execute(operations: readonly RegistryTransactionOperation[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#pending.push({ operations, resolve, reject });
      if (this.#scheduled) return;
      this.#scheduled = true;
      setImmediate(() => this.#flush());
    });
  }

  #flush(): void {
    this.#scheduled = false;
    const pending = this.#pending;
    this.#pending = [];
    let batch: Pending[] = [];
    let meter = this.openMeter();
    const keys = new KeySet();
    for (const transaction of pending) {
      const overlaps = batch.length > 0 && transaction.operations.some((op) => keys.overlaps(op.key));
      if (overlaps || !meter.tryAdd(transaction.operations)) {
        void this.#send(batch);
        batch = [];
        keys.clear();
        meter = this.openMeter();
        meter.tryAdd(transaction.operations);
      }
      batch.push(transaction);
      for (const operation of transaction.operations) keys.add(operation.key);
    }
    if (batch.length > 0) void this.#send(batch);
  }

  async #send(batch: readonly Pending[]): Promise<void> {
    if (batch.length === 0) return;
    if (batch.length === 1) {
      const [only] = batch as [Pending];
      this.commit(only.operations).then(only.resolve, only.reject);
      return;
    }
    try {
      await this.commit(batch.flatMap((transaction) => transaction.operations));
    } catch (error) {
      // Refused by the server at one operation (a comparison, or a permission): nothing written.
      // The transaction holding that operation runs alone and gets its own outcome; the others are
      // merged again (one refusal costs one more round trip, not one per transaction).
      const refused = RegistryError.is(error) ? indexOfOperation(batch, error.failedOperationIndex) : -1;
      if (refused < 0 && RegistryError.is(error, 'TRANSACTION_FAILED')) {
        // Refused as a whole, naming no operation (etcd: more operations than its --max-txn-ops):
        // nothing written, and each transaction alone may fit.
        for (const alone of batch) this.commit(alone.operations).then(alone.resolve, alone.reject);
        return;
      }
      if (refused < 0) {
        for (const transaction of batch) transaction.reject(error);
        return;
      }
      const alone = batch[refused] as Pending;
      this.commit(alone.operations).then(alone.resolve, alone.reject);
      await this.#send(batch.filter((_, i) => i !== refused));
      return;
    }
    for (const transaction of batch) transaction.resolve();
  }
}

/**
 * The keys of a merge, to keep out a transaction touching one of them, an ancestor or a
 * descendant: etcd refuses a Txn that writes one key twice, and transactions on the same nodes
 * would only refuse each other's comparisons.
 */
class KeySet {
  readonly #keys = new Set<string>();
  readonly #ancestors = new Set<string>();

  add(key: string): void {
    this.#keys.add(key);
    // Nearest first: an ancestor already recorded had all of its own recorded with it (the keys
    // of one merge mostly share their job's and item's nodes, so this stops after one or two).
    for (let i = key.lastIndexOf('/'); i > 0; i = key.lastIndexOf('/', i - 1)) {
      const ancestor = key.slice(0, i);
      if (this.#ancestors.has(ancestor)) return;
      this.#ancestors.add(ancestor);
    }
  }

  overlaps(key: string): boolean {
    if (this.#keys.has(key) || this.#ancestors.has(key)) return true;
    for (let i = key.lastIndexOf('/'); i > 0; i = key.lastIndexOf('/', i - 1))
      if (this.#keys.has(key.slice(0, i))) return true;
    return false;
  }

  clear(): void {
    this.#keys.clear();
    this.#ancestors.clear();
  }
}

/** The index in `batch` of the transaction holding merged operation `index`; -1 when none. */
function indexOfOperation(batch: readonly Pending[], index: number | undefined): number {
  if (index === undefined) return -1;
  let end = 0;
  for (const [i, transaction] of batch.entries()) {
    end += transaction.operations.length;
    if (index < end) return i;
  }
  return -1;
}
