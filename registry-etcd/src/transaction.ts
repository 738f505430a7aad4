/**
 * `executeInTransaction` as ONE etcd Txn.
 *
 * The operations are simulated in order over an overlay of what earlier operations of the same
 * transaction did (created, updated, deleted subtrees). Whatever an operation needs from the server's
 * state becomes a compare on the key's create revision (`> 0` present, `= 0` absent), and a
 * `check` with a `value` also a compare of the key's value (equal); the net effect becomes the
 * Txn's writes. A value check of a key that an earlier operation wrote is decided from that write. etcd forbids writing a key twice or writing inside a deleted
 * range in one Txn, so the writes are the *final* state of each key; a subtree deleted and then
 * partly re-created is deleted key by key, guarded by a compare that nothing in it changed since it
 * was read. When the Txn's compares fail, the server state is read again (atomically) and the same
 * simulation names the first failing operation.
 *
 * @module
 */
import { RegistryError, type RegistryTransactionOperation } from '@elasticjob-ts/core/adapter';
import type { ICompare, IRequestOp } from 'etcd3';
import { type KeyCodec, prefixEnd } from './keys.js';

/**
 * Why an operation fails: the key (or the parent of a `create`) is absent, a `create` finds it, or
 * a `check` with a value finds another value.
 */
export interface OperationFailure {
  readonly index: number;
  /** The failing operation's key. */
  readonly path: string;
  /** The node found absent or present (the operation's key, or the parent of a `create`). */
  readonly causePath: string;
  readonly code: 'NO_NODE' | 'NODE_EXISTS' | 'VALUE_MISMATCH';
  readonly reason: string;
}

/** A requirement on the server's state before the transaction. */
interface Requirement {
  readonly key: string;
  readonly present: boolean;
  /** The value the key must hold (only with `present`). */
  readonly value?: string;
}

/** The simulated outcome of a list of operations. */
export interface TransactionPlan {
  /** Requirements on the pre-transaction state (deduplicated). */
  readonly requirements: readonly Requirement[];
  /** Set when an operation fails whatever the server holds (given the requirements of earlier ops). */
  readonly staticFailure: OperationFailure | undefined;
  /** Final values of written keys; `keepLease` when the key existed before and was only updated. */
  readonly puts: ReadonlyMap<string, { readonly value: string; readonly keepLease: boolean }>;
  /** Keys deleted exactly (not re-created). */
  readonly deletes: ReadonlySet<string>;
  /** Subtree prefixes (`key + '/'`) deleted. */
  readonly deletedPrefixes: readonly string[];
}

/** A key's value before the transaction, `undefined` when absent. */
type ServerLookup = (key: string) => string | undefined;

/** What the simulation knows of a key: presence, and its value when known. */
interface Known {
  readonly present: boolean;
  readonly value?: string | undefined;
}

/**
 * Key prefixes ending in `/` (deleted subtrees), each with a number, found from a key in time
 * linear in its depth rather than in the number of prefixes: the prefixes a key starts with are its
 * slices up to each `/`, and only the slices of a length some prefix has are built and looked up.
 */
class KeyPrefixes {
  readonly #numbers = new Map<string, number>();
  readonly #lengths = new Set<number>();
  #shortest = Number.POSITIVE_INFINITY;
  #longest = 0;

  /** Records `prefix` with `number`, replacing an earlier one. */
  add(prefix: string, number: number): void {
    this.#numbers.set(prefix, number);
    this.#lengths.add(prefix.length);
    this.#shortest = Math.min(this.#shortest, prefix.length);
    this.#longest = Math.max(this.#longest, prefix.length);
  }

  /** The largest number of the prefixes `key` starts with, `undefined` when it starts with none. */
  latest(key: string): number | undefined {
    let latest: number | undefined;
    this.forEachOf(key, (_prefix, number) => {
      if (latest === undefined || number > latest) latest = number;
    });
    return latest;
  }

  /** Calls `found` for each recorded prefix `key` starts with, longest first. */
  forEachOf(key: string, found: (prefix: string, number: number) => void): void {
    if (this.#numbers.size === 0 || key.length < this.#shortest) return;
    // A prefix of length n ends at index n - 1.
    for (let at = key.lastIndexOf('/', this.#longest - 1); at + 1 >= this.#shortest; ) {
      if (this.#lengths.has(at + 1)) {
        const prefix = key.slice(0, at + 1);
        const number = this.#numbers.get(prefix);
        if (number !== undefined) found(prefix, number);
      }
      if (at === 0) break;
      at = key.lastIndexOf('/', at - 1);
    }
  }
}

/**
 * The keys earlier operations wrote, indexed by the subtrees that operations of the transaction
 * delete (known before planning starts), so that the writes a `delete` discards are found without
 * a scan of every write: the kernel coalesces the writes of up to `maxTransactionOperations` jobs
 * into one Txn, and a scan per `delete` made planning quadratic in its operations. A key is indexed
 * under each deleted subtree holding it (at most its depth); a `delete` consumes its entry.
 */
class WritesBySubtree {
  /** The prefixes (`key + '/'`) of every key a `delete` of the transaction names. */
  readonly #deleted = new KeyPrefixes();
  /** Written keys by deleted prefix; a key may be listed twice, and after it was discarded. */
  readonly #written = new Map<string, string[]>();

  /** @param deletedKeys - the keys of the transaction's `delete` operations. */
  constructor(deletedKeys: Iterable<string>) {
    for (const key of deletedKeys) this.#deleted.add(`${key}/`, 0);
  }

  /** Records a write of `key`. */
  add(key: string): void {
    this.#deleted.forEachOf(key, (prefix) => {
      const written = this.#written.get(prefix);
      if (written === undefined) this.#written.set(prefix, [key]);
      else written.push(key);
    });
  }

  /**
   * Keys written below `prefix` since the last call for it: every key still written below it is
   * among them (others may be too; they are below it as well).
   */
  take(prefix: string): readonly string[] {
    const written = this.#written.get(prefix);
    if (written === undefined) return [];
    this.#written.delete(prefix);
    return written;
  }
}

/**
 * Simulates the operations. Without `server`, requirements on the server state are collected;
 * with it, they are evaluated against it (to find the failing operation after a failed Txn).
 *
 * @param operations - validated operations.
 * @param codec - key mapping of the namespace.
 * @param server - values of keys before the transaction, when known.
 */
export function planTransaction(
  operations: readonly RegistryTransactionOperation[],
  codec: KeyCodec,
  server?: ServerLookup,
): TransactionPlan {
  let seq = 0;
  const exact = new Map<string, Known & { seq: number }>();
  /** Deleted subtree prefixes (`key + '/'`) with the seq of their latest delete. */
  const deletedSubtrees = new KeyPrefixes();
  const requirements = new Map<string, boolean>();
  const valueRequirements = new Map<string, string>();
  const puts = new Map<string, { value: string; keepLease: boolean }>();
  const staged = new WritesBySubtree(
    operations.flatMap((operation) => (operation.type === 'delete' ? [codec.toKey(operation.key)] : [])),
  );
  const deletes = new Set<string>();
  const deletedPrefixes: string[] = [];
  const rootKey = codec.root;
  /**
   * Nodes known present because a node below them was found present (a node with a descendant
   * exists, implicitly if not as a key), with the `generation` they were found in: a `delete`
   * starts a new generation, as it may have removed the descendant.
   */
  const implied = new Map<string, number>();
  let generation = 0;
  const imply = (key: string) => {
    for (let i = key.lastIndexOf('/'); i > rootKey.length; i = key.lastIndexOf('/', i - 1)) {
      const ancestor = key.slice(0, i);
      if (implied.get(ancestor) === generation) return;
      implied.set(ancestor, generation);
    }
  };

  const overlay = (key: string): Known | undefined => {
    if (key === rootKey) return { present: true, value: '' };
    const entry = exact.get(key);
    const subtreeSeq = deletedSubtrees.latest(key) ?? -1;
    if (entry !== undefined && entry.seq > subtreeSeq) return entry;
    return subtreeSeq >= 0 ? { present: false } : undefined;
  };

  /** Whether `key` has the wanted presence; records a requirement when the server decides. */
  const holds = (key: string, present: boolean): { ok: boolean; fromServer: boolean } => {
    const known = overlay(key);
    if (known !== undefined) return { ok: known.present === present, fromServer: false };
    if (server !== undefined) {
      const actual = server(key);
      exact.set(key, { present: actual !== undefined, value: actual, seq: seq++ });
      return { ok: (actual !== undefined) === present, fromServer: true };
    }
    requirements.set(key, present);
    // Assume it holds: if it does not, the Txn fails at this (earlier) operation anyway.
    exact.set(key, { present, seq: seq++ });
    return { ok: true, fromServer: true };
  };

  for (const [index, operation] of operations.entries()) {
    const path = operation.key;
    const key = codec.toKey(path);
    const fail = (code: OperationFailure['code'], reason: string, causePath = path): TransactionPlan => ({
      requirements: requirementList(requirements, valueRequirements),
      staticFailure: { index, path, causePath, code, reason },
      puts,
      deletes,
      deletedPrefixes,
    });
    switch (operation.type) {
      case 'check': {
        if (!holds(key, true).ok) return fail('NO_NODE', `node '${path}' does not exist`);
        const expected = operation.value;
        if (expected === undefined) {
          imply(key);
          break;
        }
        const known = overlay(key)?.value;
        if (known === undefined) {
          // Only the server knows the value: require it, and assume it from here on.
          valueRequirements.set(key, expected);
          exact.set(key, { present: true, value: expected, seq: seq++ });
        } else if (known !== expected) {
          return fail('VALUE_MISMATCH', `node '${path}' holds another value than the expected one`);
        }
        imply(key);
        break;
      }
      case 'create': {
        const parent = path.slice(0, path.lastIndexOf('/')) || '/';
        const parentKey = codec.toKey(parent);
        // A parent with a node found present below it in this transaction needs no compare.
        if (parent !== '/' && implied.get(parentKey) !== generation && !holds(parentKey, true).ok) {
          return fail('NO_NODE', `parent '${parent}' of '${path}' does not exist`, parent);
        }
        if (!holds(key, false).ok) return fail('NODE_EXISTS', `node '${path}' already exists`);
        exact.set(key, { present: true, value: operation.value ?? '', seq: seq++ });
        puts.set(key, { value: operation.value ?? '', keepLease: false });
        staged.add(key);
        deletes.delete(key);
        break;
      }
      case 'update': {
        const result = holds(key, true);
        if (!result.ok) return fail('NO_NODE', `node '${path}' does not exist`);
        const earlier = puts.get(key);
        imply(key);
        exact.set(key, { present: true, value: operation.value, seq: seq++ });
        puts.set(key, { value: operation.value, keepLease: earlier?.keepLease ?? true });
        staged.add(key);
        break;
      }
      case 'delete': {
        if (!holds(key, true).ok) return fail('NO_NODE', `node '${path}' does not exist`);
        const prefix = `${key}/`;
        generation++;
        exact.set(key, { present: false, seq: seq++ });
        deletedSubtrees.add(prefix, seq++);
        puts.delete(key);
        for (const written of staged.take(prefix)) puts.delete(written);
        deletes.add(key);
        deletedPrefixes.push(prefix);
        break;
      }
    }
  }
  return {
    requirements: requirementList(requirements, valueRequirements),
    staticFailure: undefined,
    puts,
    deletes,
    deletedPrefixes,
  };
}

function requirementList(
  presence: ReadonlyMap<string, boolean>,
  values: ReadonlyMap<string, string>,
): Requirement[] {
  return [...presence].map(([key, present]) => {
    const value = values.get(key);
    return value === undefined ? { key, present } : { key, present, value };
  });
}

/**
 * Keys whose pre-transaction state (existence, and the value for a value check) decides the
 * outcome: operation keys and create parents.
 */
export function keysToDiagnose(
  operations: readonly RegistryTransactionOperation[],
  codec: KeyCodec,
): string[] {
  const keys = new Set<string>();
  for (const operation of operations) {
    keys.add(codec.toKey(operation.key));
    if (operation.type === 'create') {
      const parent = operation.key.slice(0, operation.key.lastIndexOf('/')) || '/';
      if (parent !== '/') keys.add(codec.toKey(parent));
    }
  }
  keys.delete(codec.root);
  return [...keys];
}

/** A compiled Txn. */
export interface CompiledTransaction {
  readonly compare: ICompare[];
  readonly success: IRequestOp[];
}

/**
 * Builds the Txn of a plan without a static failure.
 *
 * @param plan - from {@link planTransaction} without a server lookup.
 * @param subtreeSnapshots - for each deleted prefix that also receives writes: the keys it held
 *   at `revision` (read by the caller); other prefixes are deleted as a range.
 */
export function compileTransaction(
  plan: TransactionPlan,
  subtreeSnapshots: ReadonlyMap<string, { readonly keys: readonly string[]; readonly revision: bigint }>,
): CompiledTransaction {
  const compare: ICompare[] = plan.requirements.flatMap(({ key, present, value }): ICompare[] => {
    // etcd fails a Value compare on an absent key, so a value requirement needs no existence compare.
    if (value !== undefined) {
      return [{ key: Buffer.from(key), target: 'Value', result: 'Equal', value: Buffer.from(value) }];
    }
    return [
      { key: Buffer.from(key), target: 'Create', result: present ? 'Greater' : 'Equal', create_revision: 0 },
    ];
  });
  const success: IRequestOp[] = [];
  const deletedExactly = new Set<string>();
  for (const prefix of new Set(plan.deletedPrefixes)) {
    const snapshot = subtreeSnapshots.get(prefix);
    const start = Buffer.from(prefix);
    const end = prefixEnd(start);
    if (snapshot === undefined) {
      success.push({ request_delete_range: { key: start, range_end: end } });
      continue;
    }
    compare.push({
      key: start,
      range_end: end,
      target: 'Mod',
      result: 'Less',
      mod_revision: (snapshot.revision + 1n).toString(),
    } as ICompare);
    for (const key of snapshot.keys) {
      if (!plan.puts.has(key) && !deletedExactly.has(key)) {
        deletedExactly.add(key);
        success.push({ request_delete_range: { key: Buffer.from(key) } });
      }
    }
  }
  for (const key of plan.deletes) {
    if (!plan.puts.has(key) && !deletedExactly.has(key)) {
      deletedExactly.add(key);
      success.push({ request_delete_range: { key: Buffer.from(key) } });
    }
  }
  for (const [key, { value, keepLease }] of plan.puts) {
    success.push({
      request_put: keepLease
        ? { key: Buffer.from(key), value: Buffer.from(value), ignore_lease: true }
        : { key: Buffer.from(key), value: Buffer.from(value) },
    });
  }
  return { compare, success };
}

/**
 * Deleted prefixes that also receive writes (they must be deleted key by key), in the order of
 * `plan.deletedPrefixes`. One pass over the written keys, each looked up through its prefixes.
 */
export function prefixesNeedingSnapshots(plan: TransactionPlan): string[] {
  if (plan.deletedPrefixes.length === 0 || plan.puts.size === 0) return [];
  const deleted = new KeyPrefixes();
  for (const prefix of plan.deletedPrefixes) deleted.add(prefix, 0);
  const written = new Set<string>();
  for (const key of plan.puts.keys()) deleted.forEachOf(key, (prefix) => written.add(prefix));
  return [...new Set(plan.deletedPrefixes)].filter((prefix) => written.has(prefix));
}

/**
 * The `TRANSACTION_FAILED` error for a failing operation.
 *
 * @param failure - the failing operation.
 * @param operations - all operations (for the message).
 */
export function transactionFailedError(
  failure: OperationFailure,
  operations: readonly RegistryTransactionOperation[],
): RegistryError {
  const operation = operations[failure.index];
  const cause = new RegistryError(failure.code, failure.reason, { path: failure.causePath });
  return new RegistryError(
    'TRANSACTION_FAILED',
    `Transaction of ${operations.length} operation(s) committed nothing: operation ${failure.index} (${operation?.type} '${operation?.key}') failed: ${failure.reason}`,
    { path: failure.path, cause, failedOperationIndex: failure.index },
  );
}
