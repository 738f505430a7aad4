/**
 * How `executeInTransaction` becomes one ZooKeeper `multi`.
 *
 * - A `delete` removes a subtree: its descendants are listed and deleted, deepest first, inside
 *   the same multi.
 * - A `check` with a `value` reads the node's value and data version (`getData`) before the commit
 *   and puts a *version* check in the multi, so a change between the read and the commit fails the
 *   multi (ZooKeeper has no value compare). A value that differs already at the read fails the
 *   transaction at once when no earlier operation could fail instead; otherwise the multi carries a
 *   check that cannot pass (version `-2`), so the server names the first failing operation.
 * - Operations apply in order, as in the multi: a value check of a node that an earlier operation
 *   of the same transaction created, updated or deleted is decided from that operation's value.
 *
 * @module
 */
import { RegistryError, type RegistryTransactionOperation } from '@elasticjob-ts/core/adapter';

/** ZooKeeper's "any version" in a `check`/`setData`/`remove`. */
export const ANY_VERSION = -1;

/**
 * A version no node ever has (versions start at 0): a `check` with it fails with `BADVERSION`
 * when the node exists and `NONODE` when it does not.
 */
export const IMPOSSIBLE_VERSION = -2;

const EMPTY = Buffer.alloc(0);

/** A validated operation with its absolute path. */
export interface PreparedOperation {
  readonly index: number;
  readonly type: RegistryTransactionOperation['type'];
  readonly key: string;
  /** Absolute path. */
  readonly path: string;
  /** Encoded value of a `create` / `update`. */
  readonly data: Buffer | undefined;
  /** For a `check` with a `value`: the value the node must hold. */
  readonly expected: string | undefined;
}

/** One request of the multi. */
export interface ExpandedOperation {
  readonly type: RegistryTransactionOperation['type'];
  readonly path: string;
  readonly data?: Buffer | undefined;
  readonly originIndex: number;
  /** Version for `check` (ZooKeeper's `-1` = any). */
  readonly version: number;
  /**
   * For a `check` with a value: the value, and whether an earlier operation of the transaction
   * decided it (then a `BADVERSION` is a mismatch without a re-read).
   */
  readonly valueCheck?: { readonly expected: string; readonly staged: boolean };
}

/** A node's value and data version, as read before the commit. */
export interface NodeVersion {
  readonly value: string;
  readonly version: number;
}

/**
 * The reads a plan needs: answers a watch cache holds, asked first and synchronously (a plan whose
 * nodes are all cached completes without waiting), then the server.
 */
export interface TransactionReads {
  /** Every descendant path of `path` as a watch cache holds them, or `undefined` when none can tell. */
  cachedDescendants(path: string): string[] | undefined;
  /**
   * Value and version of `path` from a watch cache that holds it with the value `expected` (the
   * multi's version check then decides), or `undefined`.
   */
  cachedNode(path: string, expected: string): NodeVersion | undefined;
  /** Every descendant path of `path`, from the server (none when absent). */
  listDescendants(path: string): Promise<string[]>;
  /** Value and version of `path` from the server, `undefined` when absent. */
  readNode(path: string): Promise<NodeVersion | undefined>;
}

/** A plan: the multi to send, or a failure found before sending it. */
export type TransactionPlan =
  | { readonly kind: 'multi'; readonly operations: readonly ExpandedOperation[] }
  | { readonly kind: 'failed'; readonly index: number; readonly cause: RegistryError };

/** The cause of a value check that found another value. */
export function valueMismatch(key: string, detail = ''): RegistryError {
  return new RegistryError('VALUE_MISMATCH', `'${key}' holds another value than the expected one${detail}`, {
    path: key,
  });
}

function depth(path: string): number {
  let count = 0;
  for (const char of path) if (char === '/') count += 1;
  return count;
}

function parentPath(path: string): string {
  const index = path.lastIndexOf('/');
  return index <= 0 ? '/' : path.slice(0, index);
}

/** Adds `path` to `childrenOf`, linked up to the root through its ancestors (written or not). */
function link(childrenOf: Map<string, Set<string>>, path: string): void {
  for (let child = path; child !== '/'; ) {
    const parent = parentPath(child);
    const children = childrenOf.get(parent);
    if (children !== undefined) {
      children.add(child);
      return;
    }
    childrenOf.set(parent, new Set([child]));
    child = parent;
  }
}

/**
 * What the operations planned so far leave at each path they touched, answered in time linear in
 * the path's depth or in the number of nodes asked for, never in the size of the transaction: the
 * kernel coalesces the running-node writes of up to `maxTransactionOperations` jobs into one multi,
 * and a scan of every staged path per `delete` made a 1,000-operation multi cost a million steps
 * and most of the garbage of a fire.
 */
class StagedNodes {
  /** Value a create/update left (decoded only when a later check asks), or `null`: deleted. */
  readonly #values = new Map<string, Buffer | null>();
  /** Paths a delete removed with their subtrees. */
  readonly #deletedRoots = new Set<string>();
  /**
   * Child paths by parent path, of every created/updated path and its ancestors: the staged
   * descendants of a deleted node are found by walking down from it. Built at the first delete
   * that follows a write (most transactions write or delete, not both), then kept up to date.
   */
  #childrenOf: Map<string, Set<string>> | undefined;

  /** Whether any create/update was staged. */
  #written = false;

  write(path: string, data: Buffer): void {
    this.#values.set(path, data);
    this.#written = true;
    if (this.#childrenOf !== undefined) link(this.#childrenOf, path);
  }

  /** The node's value as the plan leaves it: `null` deleted, `undefined` not touched. */
  value(path: string): string | null | undefined {
    const value = this.#values.get(path);
    if (value !== undefined) return value === null ? null : value.toString('utf8');
    return this.#underDeletedRoot(path) ? null : undefined;
  }

  /** Whether the plan leaves the node deleted. */
  deleted(path: string): boolean {
    const value = this.#values.get(path);
    return value === undefined ? this.#underDeletedRoot(path) : value === null;
  }

  /** Descendants of `path` that earlier operations created or updated and that still exist. */
  liveDescendants(path: string): string[] {
    const found: string[] = [];
    if (this.#childrenOf === undefined) {
      if (!this.#written) return found;
      this.#childrenOf = new Map();
      for (const [node, value] of this.#values) if (value !== null) link(this.#childrenOf, node);
    }
    const childrenOf = this.#childrenOf;
    const pending = [path];
    for (let parent = pending.pop(); parent !== undefined; parent = pending.pop()) {
      const children = childrenOf.get(parent);
      if (children === undefined) continue;
      for (const child of children) {
        pending.push(child);
        const value = this.#values.get(child);
        if (value !== undefined && value !== null) found.push(child);
      }
    }
    return found;
  }

  /** Records the delete of `path` and of every node below it. */
  remove(path: string, removed: readonly string[]): void {
    for (const node of removed) this.#values.set(node, null);
    this.#values.set(path, null);
    this.#deletedRoots.add(path);
  }

  #underDeletedRoot(path: string): boolean {
    if (this.#deletedRoots.size === 0) return false;
    for (let at = parentPath(path); ; at = parentPath(at)) {
      if (this.#deletedRoots.has(at)) return true;
      if (at === '/') return false;
    }
  }
}

/**
 * Builds the multi of a transaction.
 *
 * @param prepared - validated operations, in order.
 * @param reads - server reads (subtree listings, value checks).
 * @param relative - namespace-relative key of an absolute path, for error paths.
 */
export async function planTransaction(
  prepared: readonly PreparedOperation[],
  reads: TransactionReads,
  relative: (path: string) => string,
): Promise<TransactionPlan> {
  const operations: ExpandedOperation[] = [];
  const staged = new StagedNodes();
  /** Whether every operation before the current one is a value check. */
  let onlyValueChecksBefore = true;
  for (const op of prepared) {
    switch (op.type) {
      case 'create':
      case 'update':
        operations.push({
          type: op.type,
          path: op.path,
          data: op.data,
          originIndex: op.index,
          version: ANY_VERSION,
        });
        staged.write(op.path, op.data ?? EMPTY);
        break;
      case 'check': {
        if (op.expected === undefined) {
          operations.push({ type: 'check', path: op.path, originIndex: op.index, version: ANY_VERSION });
          break;
        }
        const known = staged.value(op.path);
        if (known !== undefined) {
          // Decided inside the multi: absent fails NONODE; a mismatch fails on the impossible version.
          const version = known === null || known === op.expected ? ANY_VERSION : IMPOSSIBLE_VERSION;
          operations.push({
            type: 'check',
            path: op.path,
            originIndex: op.index,
            version,
            valueCheck: { expected: op.expected, staged: true },
          });
          break;
        }
        const node = reads.cachedNode(op.path, op.expected) ?? (await reads.readNode(op.path));
        const matches = node !== undefined && node.value === op.expected;
        if (!matches && onlyValueChecksBefore) {
          const key = relative(op.path);
          const cause =
            node === undefined
              ? new RegistryError('NO_NODE', `'${key}' does not exist`, { path: key })
              : valueMismatch(key);
          return { kind: 'failed', index: op.index, cause };
        }
        operations.push({
          type: 'check',
          path: op.path,
          originIndex: op.index,
          version: matches ? node.version : IMPOSSIBLE_VERSION,
          valueCheck: { expected: op.expected, staged: false },
        });
        break;
      }
      case 'delete': {
        const listed = reads.cachedDescendants(op.path) ?? (await reads.listDescendants(op.path));
        const fromPlan = staged.liveDescendants(op.path);
        let removed: string[];
        if (listed.length === 0 && fromPlan.length === 0) {
          removed = [];
        } else {
          const descendants = new Set(listed);
          for (const path of fromPlan) descendants.add(path);
          removed = [...descendants]
            .filter((path) => !staged.deleted(path))
            .sort((a, b) => depth(b) - depth(a) || (a < b ? -1 : 1));
        }
        for (const path of removed) {
          operations.push({ type: 'delete', path, originIndex: op.index, version: ANY_VERSION });
        }
        operations.push({ type: 'delete', path: op.path, originIndex: op.index, version: ANY_VERSION });
        staged.remove(op.path, removed);
        break;
      }
    }
    onlyValueChecksBefore &&= op.type === 'check' && op.expected !== undefined;
  }
  return { kind: 'multi', operations };
}

/**
 * Why a value check failed with `BADVERSION` in the multi: `VALUE_MISMATCH` or `NO_NODE` after a
 * re-read, or `undefined` when the node holds the expected value again (it was rewritten between
 * the read and the commit): the transaction is then planned and sent again.
 *
 * @param failed - the failing check.
 * @param reads - server reads.
 * @param relative - namespace-relative key of an absolute path.
 */
export async function diagnoseVersionFailure(
  failed: ExpandedOperation,
  reads: TransactionReads,
  relative: (path: string) => string,
): Promise<RegistryError | undefined> {
  const key = relative(failed.path);
  const check = failed.valueCheck;
  if (check === undefined) {
    return new RegistryError('INVALID_STATE', `unexpected BADVERSION for '${key}'`, { path: key });
  }
  if (check.staged) return valueMismatch(key);
  const node = await reads.readNode(failed.path);
  if (node === undefined) return new RegistryError('NO_NODE', `'${key}' does not exist`, { path: key });
  if (node.value !== check.expected) return valueMismatch(key);
  return undefined;
}
