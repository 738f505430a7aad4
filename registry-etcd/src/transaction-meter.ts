/**
 * Sizes one etcd Txn as `transaction.ts` will build it, so that the kernel packs as many registry
 * operations into one Txn as the servers take: etcd refuses a Txn whose compare list or request
 * list is longer than its `--max-txn-ops` (128 by default), and the count of operations says
 * little about either (a `create` needs up to two compares and one put, a `delete` one compare and
 * two deletes, and operations on one key share their compare).
 *
 * The meter counts an upper bound of what {@link planTransaction} and `compileTransaction` emit:
 * one compare per distinct key an operation needs from the server (an operation's key, and the
 * parent of a `create` unless a node below that parent was checked or updated since the last
 * `delete`, the planner's own rule), one put per distinct written key, and two requests per
 * `delete`. A write below a subtree deleted in the same Txn makes the planner delete that subtree
 * key by key, a count only the server knows: such a group goes alone.
 *
 * @module
 */
import type { RegistryTransactionOperation, TransactionMeter } from '@elasticjob-ts/core/adapter';
import type { KeyCodec } from './keys.js';

/** What one `tryAdd` changed, to undo it when the group does not fit. */
interface Journal {
  readonly compares: string[];
  readonly puts: string[];
  readonly implied: [string, number | undefined][];
  readonly deleted: string[];
  readonly requests: number;
  readonly generation: number;
  readonly unbounded: boolean;
}

/** The {@link TransactionMeter} of the etcd adapter (see the module). */
export class EtcdTransactionMeter implements TransactionMeter {
  readonly #compares = new Set<string>();
  readonly #puts = new Set<string>();
  /** Nodes implied present by a checked or updated node below them, with their generation. */
  readonly #implied = new Map<string, number>();
  /** Keys deleted (with their subtrees). */
  readonly #deleted = new Set<string>();
  /** Delete requests (two per `delete`). */
  #requests = 0;
  #generation = 0;
  #unbounded = false;
  #size = 0;

  /**
   * @param codec - the namespace's key mapping.
   * @param maxTxnOps - the servers' `--max-txn-ops`: the most compares, and the most requests, of one Txn.
   */
  constructor(
    private readonly codec: KeyCodec,
    private readonly maxTxnOps: number,
  ) {}

  /** Operations added so far. */
  get size(): number {
    return this.#size;
  }

  /**
   * Adds the group when the Txn's compares and requests stay within `maxTxnOps` (an empty meter
   * takes any group).
   *
   * @returns whether the group was added.
   */
  tryAdd(operations: readonly RegistryTransactionOperation[]): boolean {
    const journal: Journal = {
      compares: [],
      puts: [],
      implied: [],
      deleted: [],
      requests: this.#requests,
      generation: this.#generation,
      unbounded: this.#unbounded,
    };
    for (const operation of operations) this.#add(operation, journal);
    const fits =
      !this.#unbounded &&
      this.#compares.size <= this.maxTxnOps &&
      this.#puts.size + this.#requests <= this.maxTxnOps;
    if (fits || this.#size === 0) {
      this.#size += operations.length;
      return true;
    }
    this.#undo(journal);
    return false;
  }

  #add(operation: RegistryTransactionOperation, journal: Journal): void {
    const key = this.codec.toKey(operation.key);
    switch (operation.type) {
      case 'check':
        this.#compare(key, journal);
        this.#imply(key, journal);
        return;
      case 'update':
        this.#compare(key, journal);
        this.#put(key, journal);
        this.#imply(key, journal);
        return;
      case 'create': {
        const parent = key.slice(0, key.lastIndexOf('/'));
        if (parent.length > this.codec.root.length && this.#implied.get(parent) !== this.#generation)
          this.#compare(parent, journal);
        this.#compare(key, journal);
        this.#put(key, journal);
        return;
      }
      case 'delete':
        this.#compare(key, journal);
        this.#requests += 2;
        this.#generation++;
        if (!this.#deleted.has(key)) {
          this.#deleted.add(key);
          journal.deleted.push(key);
        }
        return;
    }
  }

  #compare(key: string, journal: Journal): void {
    if (this.#compares.has(key)) return;
    this.#compares.add(key);
    journal.compares.push(key);
  }

  #put(key: string, journal: Journal): void {
    if (this.#deleted.size > 0 && this.#belowDeleted(key)) this.#unbounded = true;
    if (this.#puts.has(key)) return;
    this.#puts.add(key);
    journal.puts.push(key);
  }

  /** Whether a strict ancestor of `key` was deleted in this Txn. */
  #belowDeleted(key: string): boolean {
    for (let i = key.lastIndexOf('/'); i > 0; i = key.lastIndexOf('/', i - 1)) {
      if (this.#deleted.has(key.slice(0, i))) return true;
    }
    return false;
  }

  #imply(key: string, journal: Journal): void {
    const root = this.codec.root.length;
    for (let i = key.lastIndexOf('/'); i > root; i = key.lastIndexOf('/', i - 1)) {
      const ancestor = key.slice(0, i);
      const earlier = this.#implied.get(ancestor);
      if (earlier === this.#generation) return;
      journal.implied.push([ancestor, earlier]);
      this.#implied.set(ancestor, this.#generation);
    }
  }

  #undo(journal: Journal): void {
    for (const key of journal.compares) this.#compares.delete(key);
    for (const key of journal.puts) this.#puts.delete(key);
    for (const key of journal.deleted) this.#deleted.delete(key);
    for (const [key, earlier] of journal.implied.reverse()) {
      if (earlier === undefined) this.#implied.delete(key);
      else this.#implied.set(key, earlier);
    }
    this.#requests = journal.requests;
    this.#generation = journal.generation;
    this.#unbounded = journal.unbounded;
  }
}
