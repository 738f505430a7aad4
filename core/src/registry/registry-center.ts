/**
 * The registry contract: {@link CoordinatorRegistryCenter} and its data types. All job logic talks
 * to this interface and to nothing else; adapters (memory, ZooKeeper, etcd, third-party) implement
 * it structurally and prove it with `@elasticjob-ts/registry-conformance`.
 *
 * Method names follow ElasticJob's `CoordinatorRegistryCenter`
 * (`registry-center/api/.../reg/base/CoordinatorRegistryCenter.java`) so that its users recognise
 * them; the semantics are stricter: no error is swallowed, waits are bounded, watches are
 * subtree-wide with an initial snapshot.
 *
 * @module
 */

/**
 * Connection state of a registry client, as reported to
 * {@link CoordinatorRegistryCenter.addConnectionStateListener}.
 *
 * - `CONNECTED`: the first session was established (`start()` resolved).
 * - `SUSPENDED`: the connection was lost; the session (and its ephemeral nodes) may still be alive.
 *   Job logic starts no new run while suspended.
 * - `RECONNECTED`: the connection is back. If a `LOST` preceded it, this is a **new session** and
 *   every ephemeral node of the old one is gone and must be re-created.
 * - `LOST`: the session expired (or is presumed expired because the client was disconnected for
 *   longer than the session timeout). Ephemeral nodes are gone; running work must be aborted.
 */
export type RegistryConnectionState = 'CONNECTED' | 'SUSPENDED' | 'RECONNECTED' | 'LOST';

/** Receives connection state changes, in the order they happen. Must not throw. */
export type RegistryConnectionStateListener = (state: RegistryConnectionState) => void;

/** Kind of a {@link RegistryEvent}. */
export type RegistryEventType = 'ADDED' | 'UPDATED' | 'DELETED';

/**
 * A change to one node inside a watched subtree.
 *
 * `value` is the node's new value for `ADDED`/`UPDATED` and its last known value for `DELETED`
 * (`''` when unknown). Keys are relative to the namespace, like every key of the contract.
 */
export interface RegistryEvent {
  readonly type: RegistryEventType;
  readonly key: string;
  readonly value: string;
}

/**
 * Receives the events of a watched subtree. Called synchronously by the adapter's dispatcher, in
 * commit order per key; a listener that needs to do async work must queue it itself. A listener
 * that throws does not stop delivery to other listeners (the adapter reports the error to its log).
 */
export type RegistryWatchListener = (event: RegistryEvent) => void;

/** Stops a watch or listener registration. Idempotent; resolves once no more events will be delivered. */
export type RegistryUnwatch = () => Promise<void>;

/**
 * One operation of an atomic transaction (ElasticJob's `TransactionOperation`, as data).
 *
 * - `check`: the node must exist; when `value` is given, its current value must equal it exactly
 *   (UTF-8 string equality) at commit time, atomically with the other operations. A failed check
 *   rejects the transaction with `TRANSACTION_FAILED` whose `cause` has the code `NO_NODE` (absent)
 *   or `VALUE_MISMATCH` (present with another value). The kernel uses it to make writes
 *   conditional on ownership (compare-and-set).
 * - `create`: create a persistent node; its parent must exist (or be created by an earlier
 *   operation of the same transaction); the node must not exist. `value` defaults to `''`.
 * - `update`: the node must exist; set its value.
 * - `delete`: the node must exist; delete it together with its whole subtree.
 */
export type RegistryTransactionOperation =
  | { readonly type: 'check'; readonly key: string; readonly value?: string }
  | { readonly type: 'create'; readonly key: string; readonly value?: string }
  | { readonly type: 'update'; readonly key: string; readonly value: string }
  | { readonly type: 'delete'; readonly key: string };

/**
 * Optional features an adapter declares. The conformance suite runs the tests of a feature only
 * when it is declared, and shows the others as skipped with the feature's name — never hidden.
 *
 * The never-optional semantics (transaction atomicity, ephemeral removal seen by others as
 * `DELETED`, implicit parents, prefix-safe `remove`, cluster-unique sequential suffixes, children
 * order, latch exclusion, watch delivery after reconnect, namespace isolation) are not listed:
 * every adapter must have them.
 */
export interface RegistryCapabilities {
  /** The adapter enforces credentials: a client without them gets `NO_AUTH`, never silent success. */
  readonly authentication: boolean;
  /**
   * Resolution of {@link CoordinatorRegistryCenter.getRegistryCenterTime}, in ms: 1 for ZooKeeper
   * (node mtime), 1000 for etcd (HTTP `Date` header), 1 for memory.
   */
  readonly registryCenterTimeResolutionMs: number;
  /**
   * The most operations one {@link CoordinatorRegistryCenter.executeInTransaction} takes within the
   * server's limits (after any expansion the adapter makes). The kernel splits larger batches into
   * transactions of at most this many, unless the adapter has a
   * {@link CoordinatorRegistryCenter.openTransactionMeter} (then the meter decides). Absent: 40,
   * which fits etcd's default `--max-txn-ops` (128 compares or requests). ZooKeeper, Redis and
   * memory declare 1,000, so a 64-item run is admitted in one transaction and cleared in one more;
   * etcd declares half of its `maxTxnOps` option, and its meter packs closer to the limit.
   */
  readonly maxTransactionOperations?: number;
}

/**
 * Sizes one transaction against a registry's limits, group by group, so that callers pack as many
 * operations into one {@link CoordinatorRegistryCenter.executeInTransaction} as the server takes
 * (see {@link CoordinatorRegistryCenter.openTransactionMeter}). A meter is used for one transaction
 * and then dropped.
 */
export interface TransactionMeter {
  /**
   * Adds `operations` (a group that must commit whole) to the transaction being sized when the
   * transaction, with them after the ones added before, stays within the registry's limits.
   * An empty meter takes any group: a group too large on its own goes alone, and the server's
   * refusal reaches its caller.
   *
   * @param operations - the group, in order.
   * @returns whether the group was added; when not, the meter is unchanged.
   */
  tryAdd(operations: readonly RegistryTransactionOperation[]): boolean;
  /** Operations added so far. */
  readonly size: number;
}

/** Options of {@link CoordinatorRegistryCenter.executeInLeader}. */
export interface LeaderLatchOptions {
  /**
   * How long to wait for the latch before rejecting with a `TIMEOUT` {@link RegistryError}, in ms.
   * @defaultValue 30000
   */
  readonly waitTimeoutMs?: number;
  /** Aborts the wait (rejects with the signal's reason); has no effect once the callback runs. */
  readonly signal?: AbortSignal;
}

/**
 * The longest a {@link CoordinatorRegistryCenter.close} waits for the server to end the session,
 * in ms: ZooKeeper's `closeSession`, etcd's lease revoke, the Redis session's removal. An
 * application's shutdown must not hang on a registry that is down; the session then expires on
 * the server after its timeout, which removes the ephemeral nodes all the same, later.
 */
export const REGISTRY_CLOSE_GRACE_MS = 5_000;

/**
 * The coordination registry every job instance talks to (ElasticJob's `CoordinatorRegistryCenter`).
 *
 * Keys are `/`-separated paths relative to the client's namespace (see `assertRegistryPath`); an
 * invalid key throws a `TypeError` naming it. Values are UTF-8 strings. Every method is async and
 * rejects with a {@link RegistryError}; none swallows an error. Methods other than `start`,
 * `close`, `addConnectionStateListener` and the `readonly` properties reject with `NOT_STARTED`
 * before `start()` resolved or after `close()`.
 */
export interface CoordinatorRegistryCenter {
  /** Features this adapter supports beyond the mandatory contract. */
  readonly capabilities: RegistryCapabilities;

  /**
   * The namespace this client is confined to (ElasticJob's Curator namespace): every key is stored
   * below it, and clients of different namespaces never see each other's nodes.
   */
  readonly namespace: string;

  /**
   * Connects and establishes a session. Resolves once connected, then reports `CONNECTED`.
   *
   * @throws {RegistryError} `TIMEOUT` (naming the servers) when no server answers within the
   *   adapter's bounded connect wait; `NO_AUTH` when credentials are refused; `INVALID_STATE` if
   *   already started.
   */
  start(): Promise<void>;

  /**
   * Ends the session (its ephemeral nodes disappear for everyone) and releases every watch, timer
   * and socket, so that nothing keeps the process alive. Idempotent. Reports no state change.
   *
   * Bounded: it waits for the server to end the session at most {@link REGISTRY_CLOSE_GRACE_MS}
   * (or the adapter's connection timeout, if shorter); a server that does not answer in time
   * (down, partitioned, stopped) is left to expire the session after its timeout. Every call still
   * waiting for an answer when `close()` resolves has rejected with `NOT_STARTED`.
   */
  close(): Promise<void>;

  /**
   * A node's value. May be served from the adapter's watched cache, so it can lag the server by
   * one event delivery; use {@link getDirectly} where read-your-writes matters.
   *
   * @param key - node path.
   * @returns the value (`''` for a node without data), or `undefined` if the node does not exist.
   */
  get(key: string): Promise<string | undefined>;

  /**
   * A node's value, always read from the server.
   *
   * @param key - node path.
   * @returns the value, or `undefined` if the node does not exist.
   */
  getDirectly(key: string): Promise<string | undefined>;

  /**
   * Whether a node exists, asked of the server.
   *
   * @param key - node path.
   */
  isExisted(key: string): Promise<boolean>;

  /**
   * Names (not paths) of the direct children of `key`, **sorted descending by UTF-16 code units**
   * (ElasticJob's order, e.g. `9, 8, 2, 10, 1, 0`; see `sortChildrenDescending`). Nodes that exist
   * only as parents of deeper nodes are children too. Asked of the server.
   *
   * @param key - parent path.
   * @returns child names; `[]` when `key` does not exist or has no children.
   */
  getChildrenKeys(key: string): Promise<string[]>;

  /**
   * Number of direct children of `key`; 0 when absent.
   *
   * @param key - parent path.
   */
  getNumChildren(key: string): Promise<number>;

  /**
   * Insert-or-update a persistent node, creating missing parents (with value `''`). Safe under
   * concurrent callers: never fails with `NODE_EXISTS`/`NO_NODE` because of a race.
   *
   * @param key - node path (not `/`).
   * @param value - new value.
   */
  persist(key: string, value: string): Promise<void>;

  /**
   * Sets the value of an existing node atomically.
   *
   * @param key - node path.
   * @param value - new value.
   * @throws {RegistryError} `NO_NODE` when the node does not exist.
   */
  update(key: string, value: string): Promise<void>;

  /**
   * Creates (or replaces) a node owned by this client's session: it disappears, for every client,
   * when the session ends (close, expiry, crash). Missing parents are created persistent. If the
   * node exists it is replaced, and other watchers may see `DELETED` then `ADDED`, or `UPDATED`.
   *
   * @param key - node path (not `/`).
   * @param value - value.
   */
  persistEphemeral(key: string, value: string): Promise<void>;

  /**
   * Creates a persistent node named `key` + a server-assigned 10-digit, zero-padded suffix that is
   * unique and increasing across all clients for the same parent. Missing parents are created.
   *
   * @param key - path prefix, e.g. `/jobs/seq-`.
   * @param value - value.
   * @returns the created path, e.g. `/jobs/seq-0000000007`.
   */
  persistSequential(key: string, value: string): Promise<string>;

  /**
   * Like {@link persistSequential} but the node is ephemeral (owned by this session) and empty.
   *
   * @param key - path prefix.
   * @returns the created path.
   */
  persistEphemeralSequential(key: string): Promise<string>;

  /**
   * Deletes a node and its whole subtree. Prefix-safe: removing `/a/b` never touches `/a/bc`.
   * Removing an absent node is not an error.
   *
   * @param key - node path (not `/`).
   */
  remove(key: string): Promise<void>;

  /**
   * The registry server's clock, in epoch ms (ElasticJob writes `key` and reads its mtime), for the
   * `maxTimeDiffSeconds` check. Resolution: {@link RegistryCapabilities.registryCenterTimeResolutionMs}.
   * The adapter writes `key` (like `persist(key, '')`, creating parents) even when it reads the time
   * another way, so the node exists afterwards as in ElasticJob's layout.
   *
   * @param key - the scratch node, e.g. `/orders/systemTime/current`.
   */
  getRegistryCenterTime(key: string): Promise<number>;

  /**
   * Runs all operations atomically: either every one commits or none does.
   *
   * @param operations - the operations, applied in order (a `create` may rely on an earlier
   *   `create` of its parent).
   * @throws {RegistryError} `TRANSACTION_FAILED` with `failedOperationIndex`, the failing op's
   *   `path`, and a `cause` (a `RegistryError` with `NO_NODE` or `NODE_EXISTS`); connection codes
   *   when the outcome is unknown.
   */
  executeInTransaction(operations: readonly RegistryTransactionOperation[]): Promise<void>;

  /**
   * A new meter that sizes one transaction of this client exactly enough to stay within the
   * server's limits while counting what the adapter sends, not operations (etcd bounds compares and
   * requests per Txn, and merges the compares of one key). Optional: without it, callers count
   * operations against {@link RegistryCapabilities.maxTransactionOperations}.
   */
  openTransactionMeter?(): TransactionMeter;

  /**
   * Distributed mutual exclusion (ElasticJob's `executeInLeader`, Curator's `LeaderLatch`):
   * callbacks for the same `latchKey` never overlap across clients; waiters are served in arrival
   * order; a holder whose session ends releases the latch. Every caller eventually runs its
   * callback (it is a mutex, not "leader only"), so callbacks re-check their precondition.
   *
   * @param latchKey - latch path, e.g. `/orders/leader/election/latch`.
   * @param callback - work done while holding the latch.
   * @param options - bounded wait ({@link LeaderLatchOptions.waitTimeoutMs}, default 30 000 ms).
   * @returns the callback's result.
   * @throws {RegistryError} `TIMEOUT` when the latch is not acquired in time; whatever the
   *   callback throws is rethrown unchanged after the latch is released.
   */
  executeInLeader<T>(
    latchKey: string,
    callback: () => Promise<T> | T,
    options?: LeaderLatchOptions,
  ): Promise<T>;

  /**
   * Watches the node `key` and its whole subtree. First delivers an `ADDED` event for every node
   * that exists at the time (parents before children); the returned promise resolves after that
   * initial snapshot was delivered. Then it delivers the changes, with these guarantees **per key**
   * (events of different keys are not ordered with each other):
   *
   * - **Commit order, no duplicates**: a key's events follow the order in which its changes were
   *   committed; no event is delivered twice, and none reports a state older than one already
   *   reported.
   * - **Convergence**: the last change of every key is always delivered (a final `DELETED`
   *   included), so once the subtree stops changing, replaying the events (`ADDED`/`UPDATED` set
   *   the value, `DELETED` removes the node) gives exactly the server's subtree.
   * - **Merging**: changes to one key made faster than the adapter's round trip to the server may
   *   be merged. Intermediate values may be skipped (`ADDED v1, UPDATED v2, DELETED` may arrive as
   *   `ADDED v2, DELETED v2`), a removal and re-creation may arrive as one `UPDATED` (or as
   *   `DELETED` then `ADDED`), and a node that existed only briefly may not be reported at all.
   *   ZooKeeper's notifications carry no data, so its adapter (like Curator's caches) re-reads the
   *   node and behaves this way. Nothing is merged across a delivered event: when every change to
   *   a key waits until the watcher received the event of the previous one, every change is
   *   delivered, one event each.
   * - **Real values**: an event's value is a value the node really had. `ADDED`/`UPDATED` carry a
   *   value committed after the state the key's previous event reported; `DELETED` carries the
   *   node's last value or, when its last changes were merged, another value it had since the
   *   key's previous event (e.g. that event's value).
   *
   * After a reconnect within the session no change is lost or duplicated (changes missed meanwhile
   * are delivered, merged as above); after a new session the adapter re-reads the subtree and
   * delivers the differences as events.
   *
   * @param key - subtree root (may be `/`).
   * @param listener - receives the events.
   * @returns a function that stops the watch.
   */
  watch(key: string, listener: RegistryWatchListener): Promise<RegistryUnwatch>;

  /**
   * Resolves once this client knows that the server still holds its current session, so that work
   * fenced by the session (user code of a sharding item) may start: at once when an answer from
   * the server proves it (a request answered after being sent less than the session timeout ago:
   * the server cannot have expired the session since), else after one round trip that proves it.
   * A process that was frozen (GC pause, `SIGSTOP`, VM migration) longer than its session may run
   * timers before its client notices the broken connection; this is the check that stops it.
   *
   * ElasticJob has no such call (Curator's connection state is its only signal).
   *
   * @throws {RegistryError} `SESSION_EXPIRED` when the server has ended the session (or the client
   *   knows it has); `CONNECTION_LOSS` when no proof could be had (the connection is down, or the
   *   round trip failed); `NOT_STARTED` before `start()` or after `close()`. Never resolves on the
   *   strength of a session other than the one current when called.
   */
  confirmSession(): Promise<void>;

  /**
   * Whether {@link confirmSession} would resolve at once now, an answer from the server proving
   * that it still holds the current session (the same proof, on the same clock). Synchronous and
   * free of I/O; never throws (`false` before `start()`, after `close()`, once the session is
   * known to be gone, and whenever only a round trip could tell).
   *
   * The kernel asks it before user code of a monitored item starts: when it answers `true` the item
   * starts in the same turn as its fire, without the promise of {@link confirmSession} (at 1,000
   * jobs firing in one second, those promises' turns let every finished run's bookkeeping in
   * before the later starts). Optional: without it the kernel awaits {@link confirmSession}.
   *
   * ElasticJob has no such call.
   */
  isSessionProven?(): boolean;

  /**
   * Registers a connection state listener (see {@link RegistryConnectionState}).
   *
   * @param listener - called on every state change, in order.
   * @returns a function that removes the listener (synchronous; idempotent).
   */
  addConnectionStateListener(listener: RegistryConnectionStateListener): () => void;
}
