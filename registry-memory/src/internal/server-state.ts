/**
 * The node tree and session table behind a `MemoryRegistryServer`. Internal: clients reach it
 * through {@link serverStateOf}; nothing here is exported from the package.
 *
 * Every mutation is synchronous and appends its changes, in commit order, to one FIFO dispatch
 * queue that is drained on a microtask (never inside the mutating call), so every subscriber sees
 * every change in the same order.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { type Clock, isWithinRegistryPath, RegistryError } from '@elasticjob-ts/core/adapter';

/** One node of the tree. Paths are absolute (they include the client's namespace). */
export interface MemoryNode {
  value: string;
  /** Data version, incremented by every write (ZooKeeper's `version`). */
  version: number;
  /** Commit sequence number of the node's creation (ZooKeeper's `czxid`). */
  readonly createdSeq: number;
  readonly ctimeMs: number;
  mtimeMs: number;
  /** Session id owning an ephemeral node, `undefined` for persistent nodes. */
  readonly ephemeralOwner: string | undefined;
  /** Digest identity of the creator for creator-only nodes, `undefined` for world-open nodes. */
  readonly aclIdentity: string | undefined;
  readonly children: Set<string>;
}

/** A committed change, as queued for dispatch. */
export interface TreeChange {
  /** Commit sequence number, strictly increasing per server. */
  readonly seq: number;
  readonly type: 'ADDED' | 'UPDATED' | 'DELETED';
  /** Absolute path. */
  readonly path: string;
  /** New value (`ADDED`/`UPDATED`) or last value (`DELETED`). */
  readonly value: string;
  /** ACL identity of the node, to filter events for clients that may not read it. */
  readonly aclIdentity: string | undefined;
}

/** A session as the server sees it. */
export interface SessionRecord {
  readonly id: string;
  /** Digest identity the session authenticated with, if any. */
  readonly identity: string | undefined;
  alive: boolean;
  /** Absolute paths of the ephemeral nodes this session owns. */
  readonly ephemerals: Set<string>;
  /** Called once when the server expires the session (not when the client closes it). */
  readonly onExpired: () => void;
}

/** Who performs an operation: the session and how to name paths in errors. */
export interface Actor {
  readonly session: SessionRecord;
  /** Absolute path → path relative to the actor's namespace, for error messages and `path`. */
  rel(absolutePath: string): string;
}

/** Receives every committed change (clients). */
export interface ChangeSubscriber {
  /** Called for every change in commit order during a drain. Must not throw. */
  enqueue(change: TreeChange): void;
  /** Called after each drain (and on `releaseEvents`) so buffered events can be delivered. */
  flush(): void;
}

/** The controls the server needs on a connected client (for `simulateRestart`, `expireSession`). */
export interface ClientHandle {
  readonly isConnected: boolean;
  simulateDisconnect(): void;
  simulateReconnect(): void;
  expireSession(): void;
}

/** A transaction operation with an absolute path. */
export interface AbsoluteOperation {
  readonly type: 'check' | 'create' | 'update' | 'delete';
  readonly path: string;
  readonly value: string;
  /** For `check`: the value the node must hold (exact string equality), when given. */
  readonly expected?: string;
}

/** A `{path, value}` pair of {@link ServerState.dump}. */
export interface DumpedNode {
  readonly path: string;
  readonly value: string;
}

const SEQUENCE_DIGITS = 10;
const LATCH_PARTICIPANT = /-latch-(\d+)$/;

/** Digest identity of `user:password`, as ZooKeeper's DigestAuthenticationProvider derives it. */
export function digestIdentity(digest: string): string {
  const user = digest.slice(0, digest.indexOf(':'));
  return `digest:${user}:${createHash('sha1').update(digest).digest('base64')}`;
}

function parentOf(path: string): string {
  const index = path.lastIndexOf('/');
  return index === 0 ? '/' : path.slice(0, index);
}

function nameOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

function childPath(parent: string, name: string): string {
  return parent === '/' ? `/${name}` : `${parent}/${name}`;
}

/** The tree, sessions, counters, latch waiters and dispatch queue of one in-memory server. */
export class ServerState {
  readonly clock: Clock;
  readonly #nodes = new Map<string, MemoryNode>();
  readonly #sessions = new Map<string, SessionRecord>();
  readonly #sequenceCounters = new Map<string, number>();
  readonly #latchWaiters = new Map<string, Set<() => void>>();
  readonly #subscribers = new Set<ChangeSubscriber>();
  readonly clients = new Set<ClientHandle>();
  #commitSeq = 0;
  #nextSessionId = 1;
  #queue: TreeChange[] = [];
  #queueHead = 0;
  #held = false;
  #drainScheduled = false;
  #draining = false;

  constructor(clock: Clock) {
    this.clock = clock;
    this.#nodes.set('/', this.#newNode('', undefined, undefined));
  }

  /** Sequence number of the last committed change. */
  get commitSeq(): number {
    return this.#commitSeq;
  }

  /** Whether event delivery is paused. */
  get held(): boolean {
    return this.#held;
  }

  /** Number of nodes, the root excluded. */
  get nodeCount(): number {
    return this.#nodes.size - 1;
  }

  // ---- sessions -------------------------------------------------------------------------------

  createSession(identity: string | undefined, onExpired: () => void): SessionRecord {
    const id = `0x${(this.#nextSessionId++).toString(16).padStart(16, '0')}`;
    const session: SessionRecord = { id, identity, alive: true, ephemerals: new Set(), onExpired };
    this.#sessions.set(id, session);
    return session;
  }

  /** Expires a session: its ephemeral nodes are deleted, then its owner is told. No-op if ended. */
  expireSession(session: SessionRecord): void {
    if (!this.#endSession(session)) return;
    session.onExpired();
  }

  /** Ends a session on the client's request (close): its ephemeral nodes are deleted. */
  closeSession(session: SessionRecord): void {
    this.#endSession(session);
  }

  isSessionAlive(sessionId: string): boolean {
    return this.#sessions.get(sessionId)?.alive === true;
  }

  #endSession(session: SessionRecord): boolean {
    if (!session.alive) return false;
    session.alive = false;
    this.#sessions.delete(session.id);
    for (const path of [...session.ephemerals]) {
      if (this.#nodes.get(path)?.ephemeralOwner === session.id) this.#deleteSubtree(path);
    }
    session.ephemerals.clear();
    return true;
  }

  // ---- subscriptions and dispatch -------------------------------------------------------------

  subscribe(subscriber: ChangeSubscriber): void {
    this.#subscribers.add(subscriber);
  }

  unsubscribe(subscriber: ChangeSubscriber): void {
    this.#subscribers.delete(subscriber);
  }

  hold(): void {
    this.#held = true;
  }

  release(): void {
    this.#held = false;
    this.#drainScheduled = true;
    queueMicrotask(() => this.#drain());
  }

  #emit(type: TreeChange['type'], path: string, value: string, aclIdentity: string | undefined): void {
    this.#queue.push({ seq: this.#commitSeq, type, path, value, aclIdentity });
    if (!this.#drainScheduled && !this.#held) {
      this.#drainScheduled = true;
      queueMicrotask(() => this.#drain());
    }
  }

  #drain(): void {
    this.#drainScheduled = false;
    if (this.#held || this.#draining) return;
    this.#draining = true;
    try {
      while (!this.#held && this.#queueHead < this.#queue.length) {
        const change = this.#queue[this.#queueHead++]!;
        for (const subscriber of [...this.#subscribers]) subscriber.enqueue(change);
      }
      if (this.#queueHead === this.#queue.length) {
        this.#queue = [];
        this.#queueHead = 0;
      }
      if (!this.#held) for (const subscriber of [...this.#subscribers]) subscriber.flush();
    } finally {
      this.#draining = false;
    }
  }

  // ---- reads ----------------------------------------------------------------------------------

  /** The node at `path` (no ACL check), for internal use. */
  node(path: string): MemoryNode | undefined {
    return this.#nodes.get(path);
  }

  read(actor: Actor, path: string): string | undefined {
    const node = this.#nodes.get(path);
    if (node === undefined) return undefined;
    this.#checkAccess(actor, node, path, 'read');
    return node.value;
  }

  exists(path: string): boolean {
    return this.#nodes.has(path);
  }

  children(actor: Actor, path: string): string[] {
    const node = this.#nodes.get(path);
    if (node === undefined) return [];
    this.#checkAccess(actor, node, path, 'list the children of');
    return [...node.children];
  }

  numChildren(path: string): number {
    return this.#nodes.get(path)?.children.size ?? 0;
  }

  /** Whether `identity` may read/write the node. */
  canAccess(identity: string | undefined, aclIdentity: string | undefined): boolean {
    return aclIdentity === undefined || aclIdentity === identity;
  }

  /** The subtree at `path`, parents before children (children in ascending name order). */
  subtree(path: string): Array<{ path: string; node: MemoryNode }> {
    const result: Array<{ path: string; node: MemoryNode }> = [];
    const visit = (current: string): void => {
      const node = this.#nodes.get(current);
      if (node === undefined) return;
      result.push({ path: current, node });
      for (const name of [...node.children].sort()) visit(childPath(current, name));
    };
    visit(path);
    return result;
  }

  dump(path: string): DumpedNode[] {
    return this.subtree(path)
      .filter((entry) => entry.path !== '/')
      .map((entry) => ({ path: entry.path, value: entry.node.value }));
  }

  // ---- writes ---------------------------------------------------------------------------------

  persist(actor: Actor, path: string, value: string): void {
    const existing = this.#nodes.get(path);
    if (existing !== undefined) {
      this.#checkAccess(actor, existing, path, 'write');
      this.#setData(path, existing, value);
      return;
    }
    this.#checkCanCreateWithParents(actor, path);
    this.#createParents(actor, path);
    this.#createNode(actor, path, value, false);
  }

  update(actor: Actor, path: string, value: string): void {
    const node = this.#nodes.get(path);
    if (node === undefined) {
      throw new RegistryError('NO_NODE', `Cannot update '${actor.rel(path)}': the node does not exist`, {
        path: actor.rel(path),
      });
    }
    this.#checkAccess(actor, node, path, 'write');
    this.#setData(path, node, value);
  }

  /** Creates (or replaces) an ephemeral node owned by the actor's session. */
  persistEphemeral(actor: Actor, path: string, value: string): void {
    if (this.#nodes.has(path)) {
      this.#checkCanDeleteSubtree(actor, path);
    }
    this.#checkCanCreateWithParents(actor, path);
    if (this.#nodes.has(path)) this.#deleteSubtree(path);
    this.#createParents(actor, path);
    this.#createNode(actor, path, value, true);
  }

  /**
   * Creates `prefix` + the parent's next 10-digit sequence number.
   *
   * @returns the created absolute path.
   */
  createSequential(actor: Actor, prefix: string, value: string, ephemeral: boolean): string {
    const parent = parentOf(prefix);
    this.#checkCanCreateWithParents(actor, prefix);
    this.#createParents(actor, prefix);
    let path: string;
    do {
      const next = this.#sequenceCounters.get(parent) ?? 0;
      this.#sequenceCounters.set(parent, next + 1);
      path = prefix + String(next).padStart(SEQUENCE_DIGITS, '0');
    } while (this.#nodes.has(path));
    this.#createNode(actor, path, value, ephemeral);
    return path;
  }

  remove(actor: Actor, path: string): void {
    if (!this.#nodes.has(path)) return;
    this.#checkCanDeleteSubtree(actor, path);
    this.#deleteSubtree(path);
  }

  /** Writes `''` to `path` (creating it) and returns its mtime, the server's clock. */
  touch(actor: Actor, path: string): number {
    this.persist(actor, path, '');
    return this.#nodes.get(path)!.mtimeMs;
  }

  /** Deletes `path` if it is still the ephemeral node of `sessionId` (latch release). */
  deleteIfOwnedBy(path: string, sessionId: string): void {
    if (this.#nodes.get(path)?.ephemeralOwner === sessionId) this.#deleteSubtree(path);
  }

  /**
   * Validates every operation against a working copy of the tree, then applies all of them.
   *
   * @throws {RegistryError} `TRANSACTION_FAILED` naming the first failing operation; nothing applied.
   */
  transaction(actor: Actor, operations: readonly AbsoluteOperation[]): void {
    const overlay = new Map<string, { aclIdentity: string | undefined; value?: string } | null>();
    const lookup = (path: string): { aclIdentity: string | undefined; value?: string } | undefined => {
      const entry = overlay.get(path);
      if (entry === null) return undefined;
      return entry ?? this.#nodes.get(path);
    };
    const fail = (index: number, operation: AbsoluteOperation, cause: RegistryError): never => {
      const rel = actor.rel(operation.path);
      throw new RegistryError(
        'TRANSACTION_FAILED',
        `Transaction failed at operation ${index} (${operation.type} '${rel}'): ${cause.message}; nothing was committed`,
        { path: rel, cause, failedOperationIndex: index },
      );
    };
    operations.forEach((operation, index) => {
      const rel = actor.rel(operation.path);
      const target = lookup(operation.path);
      const denied = (what: string, path: string): RegistryError =>
        new RegistryError('NO_AUTH', `Not authorized to ${what} '${actor.rel(path)}'`, { path: rel });
      switch (operation.type) {
        case 'create': {
          if (target !== undefined) {
            fail(
              index,
              operation,
              new RegistryError('NODE_EXISTS', `'${rel}' already exists`, { path: rel }),
            );
          }
          const parentPath = parentOf(operation.path);
          const parent = lookup(parentPath);
          if (parent === undefined) {
            fail(
              index,
              operation,
              new RegistryError(
                'NO_NODE',
                `the parent '${actor.rel(parentPath)}' of '${rel}' does not exist`,
                {
                  path: rel,
                },
              ),
            );
          } else if (!this.canAccess(actor.session.identity, parent.aclIdentity)) {
            fail(index, operation, denied('create children under', parentPath));
          }
          overlay.set(operation.path, { aclIdentity: actor.session.identity, value: operation.value });
          break;
        }
        case 'check':
        case 'update':
        case 'delete': {
          if (target === undefined) {
            fail(index, operation, new RegistryError('NO_NODE', `'${rel}' does not exist`, { path: rel }));
          } else if (!this.canAccess(actor.session.identity, target.aclIdentity)) {
            fail(index, operation, denied(operation.type, operation.path));
          } else if (operation.type === 'check' && operation.expected !== undefined) {
            const current = target.value;
            if (current !== operation.expected) {
              fail(
                index,
                operation,
                new RegistryError(
                  'VALUE_MISMATCH',
                  `'${rel}' holds ${JSON.stringify(current)}, not ${JSON.stringify(operation.expected)}`,
                  { path: rel },
                ),
              );
            }
          } else if (operation.type === 'update') {
            overlay.set(operation.path, { aclIdentity: target.aclIdentity, value: operation.value });
          }
          if (operation.type === 'delete') {
            const doomed = new Set<string>();
            for (const entry of this.subtree(operation.path)) doomed.add(entry.path);
            for (const [path, entry] of overlay) {
              if (isWithinRegistryPath(path, operation.path)) {
                if (entry === null) doomed.delete(path);
                else doomed.add(path);
              }
            }
            for (const path of doomed) {
              const entry = lookup(path);
              if (entry !== undefined && !this.canAccess(actor.session.identity, entry.aclIdentity)) {
                fail(index, operation, denied('delete', path));
              }
              overlay.set(path, null);
            }
          }
          break;
        }
        default:
          throw new TypeError(`Unknown transaction operation type '${String(operation.type)}'`);
      }
    });
    for (const operation of operations) {
      switch (operation.type) {
        case 'create':
          this.#createNode(actor, operation.path, operation.value, false);
          break;
        case 'update':
          this.#setData(operation.path, this.#nodes.get(operation.path)!, operation.value);
          break;
        case 'delete':
          this.#deleteSubtree(operation.path);
          break;
        default:
          break;
      }
    }
  }

  // ---- latches --------------------------------------------------------------------------------

  /** Registers `wake`, called (on a microtask) whenever a child of `latchPath` is deleted. */
  addLatchWaiter(latchPath: string, wake: () => void): () => void {
    let waiters = this.#latchWaiters.get(latchPath);
    if (waiters === undefined) {
      waiters = new Set();
      this.#latchWaiters.set(latchPath, waiters);
    }
    waiters.add(wake);
    return () => {
      waiters.delete(wake);
      if (waiters.size === 0 && this.#latchWaiters.get(latchPath) === waiters) {
        this.#latchWaiters.delete(latchPath);
      }
    };
  }

  /** Whether `participantPath` is the participant with the lowest sequence under `latchPath`. */
  isLatchHolder(latchPath: string, participantPath: string): boolean {
    const latch = this.#nodes.get(latchPath);
    if (latch === undefined) return false;
    let best: { sequence: string; name: string } | undefined;
    for (const name of latch.children) {
      const match = LATCH_PARTICIPANT.exec(name);
      if (match === null) continue;
      const sequence = match[1]!.padStart(SEQUENCE_DIGITS, '0');
      if (
        best === undefined ||
        sequence < best.sequence ||
        (sequence === best.sequence && name < best.name)
      ) {
        best = { sequence, name };
      }
    }
    return best !== undefined && best.name === nameOf(participantPath);
  }

  // ---- primitives -----------------------------------------------------------------------------

  #newNode(value: string, owner: string | undefined, aclIdentity: string | undefined): MemoryNode {
    const now = this.clock.now();
    return {
      value,
      version: 0,
      createdSeq: this.#commitSeq,
      ctimeMs: now,
      mtimeMs: now,
      ephemeralOwner: owner,
      aclIdentity,
      children: new Set(),
    };
  }

  #checkAccess(actor: Actor, node: MemoryNode, path: string, what: string): void {
    if (!this.canAccess(actor.session.identity, node.aclIdentity)) {
      throw new RegistryError(
        'NO_AUTH',
        `Not authorized to ${what} '${actor.rel(path)}': it was created by another digest identity`,
        { path: actor.rel(path) },
      );
    }
  }

  /** Checks that the nearest existing ancestor of `path` accepts children from the actor. */
  #checkCanCreateWithParents(actor: Actor, path: string): void {
    let ancestor = parentOf(path);
    while (!this.#nodes.has(ancestor)) ancestor = parentOf(ancestor);
    this.#checkAccess(actor, this.#nodes.get(ancestor)!, ancestor, 'create children under');
  }

  /** Deleting needs access to the parent (ZooKeeper) and to every node of the subtree. */
  #checkCanDeleteSubtree(actor: Actor, path: string): void {
    const parent = parentOf(path);
    this.#checkAccess(actor, this.#nodes.get(parent)!, parent, 'delete children of');
    for (const entry of this.subtree(path)) this.#checkAccess(actor, entry.node, entry.path, 'delete');
  }

  #createParents(actor: Actor, path: string): void {
    const missing: string[] = [];
    for (let ancestor = parentOf(path); !this.#nodes.has(ancestor); ancestor = parentOf(ancestor)) {
      missing.push(ancestor);
    }
    for (const ancestor of missing.reverse()) this.#createNode(actor, ancestor, '', false);
  }

  #createNode(actor: Actor, path: string, value: string, ephemeral: boolean): void {
    this.#commitSeq++;
    const owner = ephemeral ? actor.session.id : undefined;
    const node = this.#newNode(value, owner, actor.session.identity);
    this.#nodes.set(path, node);
    this.#nodes.get(parentOf(path))!.children.add(nameOf(path));
    if (ephemeral) actor.session.ephemerals.add(path);
    this.#emit('ADDED', path, value, node.aclIdentity);
  }

  #setData(path: string, node: MemoryNode, value: string): void {
    this.#commitSeq++;
    node.value = value;
    node.version++;
    node.mtimeMs = this.clock.now();
    this.#emit('UPDATED', path, value, node.aclIdentity);
  }

  /** Deletes `path` and its subtree, children before parents, one change per node. */
  #deleteSubtree(path: string): void {
    const node = this.#nodes.get(path);
    if (node === undefined) return;
    for (const name of [...node.children].sort()) this.#deleteSubtree(childPath(path, name));
    this.#commitSeq++;
    this.#nodes.delete(path);
    const parent = parentOf(path);
    this.#nodes.get(parent)?.children.delete(nameOf(path));
    if (node.ephemeralOwner !== undefined) this.#sessions.get(node.ephemeralOwner)?.ephemerals.delete(path);
    this.#emit('DELETED', path, node.value, node.aclIdentity);
    const waiters = this.#latchWaiters.get(parent);
    if (waiters !== undefined) {
      for (const wake of [...waiters]) queueMicrotask(wake);
    }
  }
}

const states = new WeakMap<object, ServerState>();

/** Associates a public server object with its state (called by its constructor). */
export function registerServerState(server: object, state: ServerState): void {
  states.set(server, state);
}

/**
 * The state behind a `MemoryRegistryServer`.
 *
 * @throws {TypeError} when `server` is not a `MemoryRegistryServer`.
 */
export function serverStateOf(server: object): ServerState {
  const state = states.get(server);
  if (state === undefined) throw new TypeError('Expected a MemoryRegistryServer');
  return state;
}

/** Whether `value` is a `MemoryRegistryServer`. */
export function isMemoryRegistryServer(value: unknown): boolean {
  return typeof value === 'object' && value !== null && states.has(value);
}
