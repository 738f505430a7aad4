import { randomUUID } from 'node:crypto';
import {
  assertRegistryPath,
  type Clock,
  type ClockTimer,
  type CoordinatorRegistryCenter,
  createDefaultLogger,
  type LeaderLatchOptions,
  type Logger,
  type RegistryCapabilities,
  type RegistryConnectionState,
  type RegistryConnectionStateListener,
  RegistryError,
  type RegistryEventType,
  RegistryPathIndex,
  type RegistryTransactionOperation,
  type RegistryUnwatch,
  type RegistryWatchListener,
  sortChildrenDescending,
} from '@elasticjob-ts/core/adapter';
import { MemoryRegistryFaults } from './internal/fault-controls.js';
import {
  type AbsoluteOperation,
  type Actor,
  type ChangeSubscriber,
  digestIdentity,
  type ServerState,
  type SessionRecord,
  serverStateOf,
  type TreeChange,
} from './internal/server-state.js';
import { type MemoryRegistryCenterOptions, resolveMemoryRegistryOptions } from './memory-registry-options.js';
import { getDefaultMemoryRegistryServer, type MemoryRegistryServer } from './memory-registry-server.js';

type ClientStatus = 'idle' | 'connected' | 'disconnected' | 'closed';

interface WatchRegistration {
  /** Absolute subtree root. */
  readonly root: string;
  readonly listener: RegistryWatchListener;
  active: boolean;
  /** Changes with a sequence number up to this one are already reflected in what was delivered. */
  fromSeq: number;
  /** Set when the session expired: the next session re-reads the subtree and delivers the diff. */
  needsResync: boolean;
  /** What the listener was last told: absolute path → value. */
  readonly seen: Map<string, string>;
}

interface InboxItem {
  readonly watch: WatchRegistration;
  readonly type: RegistryEventType;
  readonly path: string;
  readonly value: string;
}

interface LatchAttempt {
  /** Re-checks whether the attempt holds the latch (after a reconnect). */
  wake(): void;
  /** Ends the wait with `error` (close). */
  fail(error: unknown): void;
}

const DEFAULT_LATCH_WAIT_MS = 30_000;
const TRANSACTION_TYPES = new Set(['check', 'create', 'update', 'delete']);

let fallbackLogger: Logger | undefined;

function assertValue(value: unknown, what = 'value'): asserts value is string {
  if (typeof value !== 'string')
    throw new TypeError(`Registry ${what} must be a string, got ${typeof value}`);
}

/**
 * A real in-process {@link CoordinatorRegistryCenter} with ZooKeeper's semantics: sessions,
 * ephemeral nodes that vanish (for everyone, as `DELETED`) when the session ends, sequential nodes,
 * atomic transactions, fair latches, subtree watches with an initial snapshot, creator-only digest
 * ACLs, and a namespace. Clients connect to a {@link MemoryRegistryServer} (the process-wide
 * default unless `server` is given); clients of one server see each other's nodes.
 *
 * Besides the contract it offers **test controls**: {@link simulateDisconnect},
 * {@link simulateReconnect}, {@link expireSession}, and on the server `holdEvents`/`releaseEvents`,
 * `expireSession(client)`, `simulateRestart()`, and per-session fault injection through
 * {@link faults} (request latency, delayed and batched watch delivery, partitions with requests in
 * flight). Session expiry while disconnected is measured on the injected clock, so tests drive it
 * with a `ManualClock` instead of sleeping.
 *
 * @example
 * ```ts
 * const registry = new MemoryRegistryCenter({ namespace: 'demo' });
 * await registry.start();
 * await registry.persist('/orders/config', 'cron: 0/5 * * * * ?');
 * await registry.getChildrenKeys('/orders'); // ['config']
 * await registry.close();
 * ```
 */
export class MemoryRegistryCenter implements CoordinatorRegistryCenter {
  /** Memory supports digest authentication; registry time has 1 ms resolution. */
  readonly capabilities: RegistryCapabilities = Object.freeze({
    authentication: true,
    registryCenterTimeResolutionMs: 1,
    maxTransactionOperations: 1000,
  });
  /** The namespace every key is stored under (`/{namespace}` on the server). */
  readonly namespace: string;
  /** The session timeout in ms (see {@link MemoryRegistryCenterOptions.sessionTimeoutMs}). */
  readonly sessionTimeoutMs: number;
  /** The server this client connects to. */
  readonly server: MemoryRegistryServer;
  /**
   * Test controls injecting faults into this client's session: request latency, delayed and
   * batched watch delivery, network partitions (see {@link MemoryRegistryFaults}). Unused, they
   * change nothing.
   */
  readonly faults: MemoryRegistryFaults;

  readonly #state: ServerState;
  readonly #clock: Clock;
  /** The latest proof that the server held the session (see {@link confirmSession}). */
  #sessionProof: { readonly session: SessionRecord; readonly untilMs: number } | undefined;
  readonly #identity: string | undefined;
  readonly #logger: Logger | undefined;
  /** Absolute path of the namespace node. */
  readonly #root: string;
  #status: ClientStatus = 'idle';
  #session: SessionRecord | undefined;
  #expiryTimer: ClockTimer | undefined;
  readonly #stateListeners: Array<{ readonly listener: RegistryConnectionStateListener }> = [];
  /** The live watches, found by the paths they cover. */
  readonly #watches = new RegistryPathIndex<WatchRegistration>();
  #inbox: InboxItem[] = [];
  #inboxHead = 0;
  #flushing = false;
  #flushScheduled = false;
  readonly #latchAttempts = new Set<LatchAttempt>();
  readonly #actor: Actor;
  readonly #subscriber: ChangeSubscriber;

  /**
   * Builds an unstarted client; call {@link start} to open a session.
   *
   * @param options - see {@link MemoryRegistryCenterOptions}; all optional.
   * @throws {RegistryConfigurationError} for an invalid option, naming the field and the accepted values.
   */
  constructor(options: MemoryRegistryCenterOptions = {}) {
    const resolved = resolveMemoryRegistryOptions(options);
    this.server = resolved.server ?? getDefaultMemoryRegistryServer();
    this.#state = serverStateOf(this.server);
    this.namespace = resolved.namespace;
    this.sessionTimeoutMs = resolved.sessionTimeoutMs;
    this.#clock = resolved.clock ?? this.#state.clock;
    this.#identity = resolved.digest === undefined ? undefined : digestIdentity(resolved.digest);
    this.#logger = resolved.logger;
    this.#root = `/${this.namespace}`;
    const self = this;
    this.#actor = {
      get session(): SessionRecord {
        return self.#session!;
      },
      rel: (path) => this.#rel(path),
    };
    this.#subscriber = {
      enqueue: (change) => this.#enqueue(change),
      flush: () => this.#flush(),
    };
    this.faults = new MemoryRegistryFaults({
      clientClock: this.#clock,
      serverClock: this.#state.clock,
      sessionTimeoutMs: this.sessionTimeoutMs,
      currentSession: () => this.#session,
      isConnected: () => this.#status === 'connected',
      noticeDisconnect: () => {
        this.#status = 'disconnected';
        this.#emitState('SUSPENDED');
      },
      reconnect: () => this.#reconnectAfterPartition(),
      endSessionOnServer: (session) => this.#state.closeSession(session),
      flush: () => this.#flush(),
    });
  }

  /**
   * The current session's id (a new one after an expiry), or `undefined` before {@link start} and
   * after {@link close}.
   */
  get sessionId(): string | undefined {
    return this.#status === 'idle' || this.#status === 'closed' ? undefined : this.#session?.id;
  }

  /** Number of active watches of this client (0 after every `watch` was stopped): leak checks. */
  get watchCount(): number {
    return this.#watches.size;
  }

  /** Whether the client is started and not disconnected (operations can reach the server). */
  get isConnected(): boolean {
    return this.#status === 'connected';
  }

  // ---- lifecycle ------------------------------------------------------------------------------

  /**
   * Opens a session on the server and reports `CONNECTED` (before the promise resolves).
   *
   * @throws {RegistryError} `INVALID_STATE` when already started or closed.
   */
  async start(): Promise<void> {
    if (this.#status !== 'idle') {
      throw new RegistryError(
        'INVALID_STATE',
        `MemoryRegistryCenter '${this.namespace}' was already ${this.#status === 'closed' ? 'closed' : 'started'}`,
      );
    }
    this.#session = this.#newSession();
    this.#status = 'connected';
    this.#state.subscribe(this.#subscriber);
    this.#state.clients.add(this);
    this.#emitState('CONNECTED');
  }

  /**
   * Ends the session: its ephemeral nodes are deleted (others see `DELETED`), latch participations
   * released (pending `executeInLeader` waits reject with `NOT_STARTED`), watches and timers
   * removed. Idempotent; reports no state change.
   */
  async close(): Promise<void> {
    if (this.#status === 'closed') return;
    const wasStarted = this.#status !== 'idle';
    this.#status = 'closed';
    if (!wasStarted) return;
    this.#cancelExpiryTimer();
    this.faults.close();
    for (const attempt of [...this.#latchAttempts]) {
      attempt.fail(
        new RegistryError('NOT_STARTED', 'The registry client was closed while waiting for a latch'),
      );
    }
    for (const watch of this.#watches) watch.active = false;
    this.#watches.clear();
    this.#inbox = [];
    this.#inboxHead = 0;
    this.#state.unsubscribe(this.#subscriber);
    this.#state.clients.delete(this);
    if (this.#session !== undefined) this.#state.closeSession(this.#session);
  }

  // ---- reads ----------------------------------------------------------------------------------

  /**
   * A node's value (always current: memory has no cache).
   *
   * @param key - node path.
   * @returns the value, or `undefined` when absent.
   * @throws {RegistryError} `NO_AUTH` for another identity's creator-only node; `NOT_STARTED`, `CONNECTION_LOSS`.
   * @throws {TypeError} for an invalid key.
   */
  async get(key: string): Promise<string | undefined> {
    return this.getDirectly(key);
  }

  /**
   * A node's value, read from the server.
   *
   * @param key - node path.
   * @returns the value, or `undefined` when absent.
   * @throws {RegistryError} `NO_AUTH`, `NOT_STARTED`, `CONNECTION_LOSS`.
   * @throws {TypeError} for an invalid key.
   */
  async getDirectly(key: string): Promise<string | undefined> {
    assertRegistryPath(key);
    return this.#request((actor) => this.#state.read(actor, this.#abs(key)));
  }

  /**
   * Whether a node exists (needs no permission, like ZooKeeper's `exists`).
   *
   * @param key - node path.
   * @throws {RegistryError} `NOT_STARTED`, `CONNECTION_LOSS`.
   * @throws {TypeError} for an invalid key.
   */
  async isExisted(key: string): Promise<boolean> {
    assertRegistryPath(key);
    return this.#request(() => this.#state.exists(this.#abs(key)));
  }

  /**
   * Resolves once the server is known to hold this client's current session: at once while an
   * earlier proof lasts (a confirmation sent less than `sessionTimeoutMs` ago, on the client's
   * clock), else after one round trip to the server (through the fault channel when faults are
   * on, so a partitioned client gets no proof).
   *
   * @throws {RegistryError} `SESSION_EXPIRED` (the server ended the session), `CONNECTION_LOSS`
   *   (disconnected, or the request was lost), `NOT_STARTED`.
   */
  async confirmSession(): Promise<void> {
    this.#ensureUsable();
    if (this.isSessionProven()) return;
    const session = this.#session;
    const sentAtMs = this.#clock.now();
    await this.#request((actor) => {
      if (!actor.session.alive) {
        throw new RegistryError('SESSION_EXPIRED', 'The memory registry session expired');
      }
    });
    if (this.#session !== session) {
      throw new RegistryError(
        'SESSION_EXPIRED',
        'The memory registry session changed while it was being confirmed',
      );
    }
    this.#sessionProof = { session: session as SessionRecord, untilMs: sentAtMs + this.sessionTimeoutMs };
  }

  /**
   * Whether {@link confirmSession} would resolve at once now: connected, and the latest proof of
   * the current session was had less than `sessionTimeoutMs` ago on the client's clock. Never
   * throws.
   */
  isSessionProven(): boolean {
    if (this.#status !== 'connected') return false;
    const session = this.#session;
    if (session === undefined || (!session.alive && !this.faults.partitioned)) return false;
    const proof = this.#sessionProof;
    return proof !== undefined && proof.session === session && this.#clock.now() < proof.untilMs;
  }

  /**
   * Names of the direct children, sorted descending by UTF-16 code units.
   *
   * @param key - parent path.
   * @returns child names; `[]` when absent.
   * @throws {RegistryError} `NO_AUTH`, `NOT_STARTED`, `CONNECTION_LOSS`.
   * @throws {TypeError} for an invalid key.
   */
  async getChildrenKeys(key: string): Promise<string[]> {
    assertRegistryPath(key);
    return this.#request((actor) => sortChildrenDescending(this.#state.children(actor, this.#abs(key))));
  }

  /**
   * Number of direct children; 0 when absent (needs no permission, like ZooKeeper's `exists` stat).
   *
   * @param key - parent path.
   * @throws {RegistryError} `NOT_STARTED`, `CONNECTION_LOSS`.
   * @throws {TypeError} for an invalid key.
   */
  async getNumChildren(key: string): Promise<number> {
    assertRegistryPath(key);
    return this.#request(() => this.#state.numChildren(this.#abs(key)));
  }

  // ---- writes ---------------------------------------------------------------------------------

  /**
   * Insert-or-update a persistent node, creating missing parents with value `''`.
   *
   * @param key - node path (not `/`).
   * @param value - new value.
   * @throws {RegistryError} `NO_AUTH`, `NOT_STARTED`, `CONNECTION_LOSS`.
   * @throws {TypeError} for an invalid key or a non-string value.
   */
  async persist(key: string, value: string): Promise<void> {
    assertRegistryPath(key, false);
    assertValue(value);
    return this.#request((actor) => this.#state.persist(actor, this.#abs(key), value));
  }

  /**
   * Sets the value of an existing node.
   *
   * @param key - node path.
   * @param value - new value.
   * @throws {RegistryError} `NO_NODE` when absent; `NO_AUTH`, `NOT_STARTED`, `CONNECTION_LOSS`.
   * @throws {TypeError} for an invalid key or a non-string value.
   */
  async update(key: string, value: string): Promise<void> {
    assertRegistryPath(key);
    assertValue(value);
    return this.#request((actor) => this.#state.update(actor, this.#abs(key), value));
  }

  /**
   * Creates an ephemeral node owned by this session, replacing an existing node (and its subtree)
   * as ElasticJob does: watchers see `DELETED` then `ADDED`. Missing parents are created persistent.
   *
   * @param key - node path (not `/`).
   * @param value - value.
   * @throws {RegistryError} `NO_AUTH`, `NOT_STARTED`, `CONNECTION_LOSS`.
   * @throws {TypeError} for an invalid key or a non-string value.
   */
  async persistEphemeral(key: string, value: string): Promise<void> {
    assertRegistryPath(key, false);
    assertValue(value);
    return this.#request((actor) => this.#state.persistEphemeral(actor, this.#abs(key), value));
  }

  /**
   * Creates a persistent node `key` + a 10-digit zero-padded suffix, unique and increasing per
   * parent across all clients of the server.
   *
   * @param key - path prefix, e.g. `/jobs/seq-`.
   * @param value - value.
   * @returns the created path, e.g. `/jobs/seq-0000000000`.
   * @throws {RegistryError} `NO_AUTH`, `NOT_STARTED`, `CONNECTION_LOSS`.
   * @throws {TypeError} for an invalid key or a non-string value.
   */
  async persistSequential(key: string, value: string): Promise<string> {
    assertRegistryPath(key, false);
    assertValue(value);
    return this.#request((actor) =>
      this.#rel(this.#state.createSequential(actor, this.#abs(key), value, false)),
    );
  }

  /**
   * Like {@link persistSequential}, but the node is ephemeral and empty.
   *
   * @param key - path prefix.
   * @returns the created path.
   * @throws {RegistryError} `NO_AUTH`, `NOT_STARTED`, `CONNECTION_LOSS`.
   * @throws {TypeError} for an invalid key.
   */
  async persistEphemeralSequential(key: string): Promise<string> {
    assertRegistryPath(key, false);
    return this.#request((actor) => this.#rel(this.#state.createSequential(actor, this.#abs(key), '', true)));
  }

  /**
   * Deletes a node and its subtree (watchers see `DELETED` per node, children before parents).
   * Prefix-safe; an absent node is not an error.
   *
   * @param key - node path (not `/`).
   * @throws {RegistryError} `NO_AUTH` (nothing deleted), `NOT_STARTED`, `CONNECTION_LOSS`.
   * @throws {TypeError} for an invalid key.
   */
  async remove(key: string): Promise<void> {
    assertRegistryPath(key, false);
    return this.#request((actor) => this.#state.remove(actor, this.#abs(key)));
  }

  /**
   * Writes `''` to `key` and returns the node's mtime: the server clock's `now()`, in epoch ms.
   *
   * @param key - scratch node path (not `/`).
   * @throws {RegistryError} `NO_AUTH`, `NOT_STARTED`, `CONNECTION_LOSS`.
   * @throws {TypeError} for an invalid key.
   */
  async getRegistryCenterTime(key: string): Promise<number> {
    assertRegistryPath(key, false);
    return this.#request((actor) => this.#state.touch(actor, this.#abs(key)));
  }

  /**
   * Runs the operations atomically: each is validated against a working copy of the tree (so a
   * `create` may rely on an earlier one), then all are applied; on any failure nothing is.
   *
   * @param operations - `check`/`create`/`update`/`delete` operations, in order.
   * @throws {RegistryError} `TRANSACTION_FAILED` with `failedOperationIndex`, `path` and `cause`
   *   (a `RegistryError` `NO_NODE`, `NODE_EXISTS`, `VALUE_MISMATCH` for a `check` with a value, or
   *   `NO_AUTH`); `NOT_STARTED`, `CONNECTION_LOSS`.
   * @throws {TypeError} for a malformed operation or an invalid key.
   */
  async executeInTransaction(operations: readonly RegistryTransactionOperation[]): Promise<void> {
    if (!Array.isArray(operations)) throw new TypeError('Transaction operations must be an array');
    const absolute: AbsoluteOperation[] = operations.map((operation: RegistryTransactionOperation, index) => {
      if (operation === null || typeof operation !== 'object' || !TRANSACTION_TYPES.has(operation.type)) {
        throw new TypeError(
          `Transaction operation ${index} must have a type of check, create, update or delete`,
        );
      }
      assertRegistryPath(operation.key, operation.type === 'check' || operation.type === 'update');
      let value = '';
      if (operation.type === 'update') {
        assertValue(operation.value, `value of transaction operation ${index}`);
        value = operation.value;
      } else if (operation.type === 'create' && operation.value !== undefined) {
        assertValue(operation.value, `value of transaction operation ${index}`);
        value = operation.value;
      } else if (operation.type === 'check' && operation.value !== undefined) {
        assertValue(operation.value, `value of transaction operation ${index}`);
        return { type: 'check', path: this.#abs(operation.key), value: '', expected: operation.value };
      }
      return { type: operation.type, path: this.#abs(operation.key), value };
    });
    return this.#request((actor) => this.#state.transaction(actor, absolute));
  }

  /**
   * Distributed mutual exclusion, Curator `LeaderLatch` style: the client creates an ephemeral
   * sequential participant `{latchKey}/_c_{uuid}-latch-{seq}`; the lowest sequence holds the latch,
   * so waiters are served in arrival order across clients. The participant is deleted when the
   * callback settles, when the wait times out or is aborted, and when the session ends (a holder
   * whose session expires releases the latch; a waiter whose session ends rejects).
   *
   * @param latchKey - latch path, e.g. `/orders/leader/election/latch`.
   * @param callback - work done while holding the latch.
   * @param options - `waitTimeoutMs` (default 30 000, measured on the client's clock), `signal`.
   * @returns the callback's result.
   * @throws {RegistryError} `TIMEOUT` when not acquired in time; `SESSION_EXPIRED` when the session
   *   ended while waiting; `NOT_STARTED` (also when closed while waiting), `CONNECTION_LOSS`,
   *   `NO_AUTH`. The signal's reason when aborted. Whatever the callback throws, unchanged, after
   *   the latch is released.
   * @throws {TypeError} for an invalid key, callback or `waitTimeoutMs`.
   */
  async executeInLeader<T>(
    latchKey: string,
    callback: () => Promise<T> | T,
    options: LeaderLatchOptions = {},
  ): Promise<T> {
    assertRegistryPath(latchKey);
    if (typeof callback !== 'function') throw new TypeError('executeInLeader callback must be a function');
    const waitTimeoutMs = options.waitTimeoutMs ?? DEFAULT_LATCH_WAIT_MS;
    if (typeof waitTimeoutMs !== 'number' || !Number.isFinite(waitTimeoutMs) || waitTimeoutMs < 0) {
      throw new TypeError(`executeInLeader waitTimeoutMs must be a finite number >= 0, got ${waitTimeoutMs}`);
    }
    this.#ensureUsable();
    if (this.faults.enabled) await this.#request(() => undefined); // the round trip to the server
    options.signal?.throwIfAborted();
    const held = await this.#acquireLatch(latchKey, waitTimeoutMs, options.signal);
    try {
      return await callback();
    } finally {
      this.#state.deleteIfOwnedBy(held.participant, held.sessionId);
    }
  }

  /**
   * Watches `key` and its subtree. The initial snapshot (`ADDED` per existing node, parents before
   * children) is delivered before the promise resolves; later changes are delivered asynchronously
   * in commit order, with values (`DELETED` carries the last value; a recursive remove yields one
   * `DELETED` per node, children first). Events missed while disconnected are delivered after the
   * reconnect; after a session expiry the subtree is re-read and the differences delivered.
   * Nodes this client may not read (creator-only nodes of another identity) are left out.
   *
   * @param key - subtree root (may be `/`, the namespace node).
   * @param listener - receives the events; errors it throws are logged, delivery goes on.
   * @returns an idempotent function that stops the watch; once it resolves no event is delivered.
   * @throws {RegistryError} `NO_AUTH` when `key` is another identity's creator-only node;
   *   `NOT_STARTED`, `CONNECTION_LOSS`.
   * @throws {TypeError} for an invalid key or listener.
   */
  async watch(key: string, listener: RegistryWatchListener): Promise<RegistryUnwatch> {
    assertRegistryPath(key);
    if (typeof listener !== 'function') throw new TypeError('watch listener must be a function');
    const actor = this.#ensureUsable();
    const root = this.#abs(key);
    this.#state.read(actor, root);
    const watch: WatchRegistration = {
      root,
      listener,
      active: true,
      fromSeq: this.#state.commitSeq,
      needsResync: false,
      seen: new Map(),
    };
    this.#watches.add(root, watch);
    for (const entry of this.#state.subtree(root)) {
      if (this.#state.canAccess(this.#identity, entry.node.aclIdentity)) {
        this.#deliver({ watch, type: 'ADDED', path: entry.path, value: entry.node.value });
      }
    }
    return async () => {
      watch.active = false;
      this.#watches.delete(watch);
    };
  }

  /**
   * Registers a connection state listener. States are reported synchronously from the call that
   * causes them (`start`, the test controls, the expiry timer), in order.
   *
   * @param listener - called with `CONNECTED`, `SUSPENDED`, `RECONNECTED` or `LOST`.
   * @returns a synchronous, idempotent disposer.
   */
  addConnectionStateListener(listener: RegistryConnectionStateListener): () => void {
    if (typeof listener !== 'function') throw new TypeError('connection state listener must be a function');
    const entry = { listener };
    this.#stateListeners.push(entry);
    return () => {
      const index = this.#stateListeners.indexOf(entry);
      if (index >= 0) this.#stateListeners.splice(index, 1);
    };
  }

  // ---- test controls --------------------------------------------------------------------------

  /**
   * Test control: loses the connection (the session stays alive on the server) and reports
   * `SUSPENDED`. Until {@link simulateReconnect}, every operation rejects with `CONNECTION_LOSS`
   * and watch events are buffered. If the client stays disconnected for `sessionTimeoutMs` on its
   * clock, the server expires the session (ephemerals deleted, latches released) and the client
   * reports `LOST`. No-op when already disconnected.
   *
   * @throws {RegistryError} `NOT_STARTED` before `start()` or after `close()`.
   */
  simulateDisconnect(): void {
    this.#assertStartedForControl('simulateDisconnect');
    if (this.#status !== 'connected') return;
    this.#status = 'disconnected';
    this.faults.onDisconnect();
    this.#emitState('SUSPENDED');
    const session = this.#session!;
    this.#expiryTimer = this.#clock.setTimeout(
      () => {
        this.#expiryTimer = undefined;
        this.#state.expireSession(session);
      },
      this.sessionTimeoutMs,
      { unref: true },
    );
  }

  /**
   * Test control: restores the connection and reports `RECONNECTED`. If the session is still
   * alive, watch events committed meanwhile are delivered (none lost, none duplicated); if it
   * expired, a new session is opened and each watch receives the differences between what it last
   * saw and the current tree. No-op when connected.
   *
   * @throws {RegistryError} `NOT_STARTED` before `start()` or after `close()`.
   */
  simulateReconnect(): void {
    this.#assertStartedForControl('simulateReconnect');
    if (this.#status !== 'disconnected') return;
    this.#cancelExpiryTimer();
    if (this.#session?.alive) {
      this.#status = 'connected';
      this.#emitState('RECONNECTED');
      this.#scheduleFlush();
      this.#wakeLatchAttempts();
    } else {
      this.#renewSession();
    }
  }

  /**
   * Test control: expires the session at once, as the server would after the session timeout:
   * ephemeral nodes are deleted (others see `DELETED`), latch participations released, the client
   * reports `LOST`; then, if connected, it opens a new session and reports `RECONNECTED` (as the
   * ZooKeeper adapter does), and watches re-sync. Ephemeral nodes are not re-created (the kernel
   * does that). No-op when the session already expired while disconnected.
   *
   * @throws {RegistryError} `NOT_STARTED` before `start()` or after `close()`.
   */
  expireSession(): void {
    this.#assertStartedForControl('expireSession');
    this.#cancelExpiryTimer();
    if (this.#session?.alive) this.#state.expireSession(this.#session);
  }

  // ---- internals ------------------------------------------------------------------------------

  #assertStartedForControl(control: string): void {
    if (this.#status === 'idle' || this.#status === 'closed') {
      throw new RegistryError(
        'NOT_STARTED',
        `${control}: the registry client is ${this.#status === 'idle' ? 'not started' : 'closed'}`,
      );
    }
  }

  #ensureUsable(): Actor {
    switch (this.#status) {
      case 'connected':
        // A partitioned client that has not noticed yet cannot know its session ended: it sends.
        if (!this.#session?.alive && !this.faults.partitioned) {
          throw new RegistryError('SESSION_EXPIRED', 'The memory registry session expired');
        }
        return this.#actor;
      case 'disconnected':
        throw new RegistryError('CONNECTION_LOSS', 'The memory registry client is disconnected');
      case 'idle':
        throw new RegistryError('NOT_STARTED', 'The memory registry client is not started; call start()');
      default:
        throw new RegistryError('NOT_STARTED', 'The memory registry client is closed');
    }
  }

  /**
   * Performs one request: at once (synchronously) without faults, else through the fault channel
   * on the session current at send time.
   */
  #request<T>(operation: (actor: Actor) => T): T | Promise<T> {
    const actor = this.#ensureUsable();
    if (!this.faults.enabled) return operation(actor);
    const session = this.#session!;
    const pinned: Actor = { session, rel: actor.rel };
    return this.faults.send(session, () => operation(pinned));
  }

  /** The client reconnects after a partition: same session, or LOST then a new session. */
  #reconnectAfterPartition(): void {
    if (this.#status !== 'disconnected') return;
    const session = this.#session;
    if (session?.alive) {
      this.#status = 'connected';
      this.#emitState('RECONNECTED');
      this.#scheduleFlush();
      this.#wakeLatchAttempts();
      return;
    }
    if (session !== undefined) this.#onSessionExpired(session);
    if (this.#status === 'disconnected') this.#renewSession();
  }

  #abs(key: string): string {
    return key === '/' ? this.#root : this.#root + key;
  }

  #rel(path: string): string {
    if (path === this.#root) return '/';
    return path.startsWith(`${this.#root}/`) ? path.slice(this.#root.length) : path;
  }

  #newSession(): SessionRecord {
    let session: SessionRecord | undefined;
    session = this.#state.createSession(this.#identity, () => this.#onSessionExpired(session!));
    return session;
  }

  #onSessionExpired(session: SessionRecord): void {
    if (session !== this.#session || this.#status === 'closed') return;
    this.#cancelExpiryTimer();
    for (const watch of this.#watches) watch.needsResync = true;
    this.#inbox = [];
    this.#inboxHead = 0;
    // Until the new session exists, operations (e.g. from a LOST listener) fail like on a real
    // client instead of writing with the dead session.
    const reconnect = this.#status === 'connected';
    if (reconnect) this.#status = 'disconnected';
    this.#emitState('LOST');
    if (reconnect && this.#status === 'disconnected' && !this.#session?.alive) this.#renewSession();
  }

  #renewSession(): void {
    this.#session = this.#newSession();
    this.#status = 'connected';
    this.#emitState('RECONNECTED');
    this.#resyncWatches();
    this.#wakeLatchAttempts();
  }

  #cancelExpiryTimer(): void {
    this.#expiryTimer?.cancel();
    this.#expiryTimer = undefined;
  }

  #emitState(state: RegistryConnectionState): void {
    for (const { listener } of [...this.#stateListeners]) {
      try {
        listener(state);
      } catch (error) {
        this.#reportListenerError(error, { state });
      }
    }
  }

  #reportListenerError(error: unknown, context: Record<string, unknown>): void {
    let logger = this.#logger;
    if (logger === undefined) {
      fallbackLogger ??= createDefaultLogger();
      logger = fallbackLogger;
    }
    logger.error({ err: error, namespace: this.namespace, ...context }, 'memory registry listener threw');
  }

  #enqueue(change: TreeChange): void {
    if (this.#status === 'closed' || this.#status === 'idle') return;
    if (this.faults.enabled) {
      this.faults.deliverEvent(() => this.#enqueueNow(change));
      return;
    }
    this.#enqueueNow(change);
  }

  #enqueueNow(change: TreeChange): void {
    if (this.#status === 'closed' || this.#status === 'idle') return;
    for (const watch of this.#watches.covering(change.path)) {
      if (!watch.active || watch.needsResync || change.seq <= watch.fromSeq) continue;
      if (!this.#state.canAccess(this.#identity, change.aclIdentity)) continue;
      this.#inbox.push({ watch, type: change.type, path: change.path, value: change.value });
    }
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    queueMicrotask(() => {
      this.#flushScheduled = false;
      this.#flush();
    });
  }

  #flush(): void {
    if (this.#flushing) return;
    this.#flushing = true;
    try {
      while (
        this.#status === 'connected' &&
        !this.#state.held &&
        !this.faults.blocksDelivery &&
        this.#inboxHead < this.#inbox.length
      ) {
        const item = this.#inbox[this.#inboxHead++]!;
        if (item.watch.active) this.#deliver(item);
      }
      if (this.#inboxHead === this.#inbox.length) {
        this.#inbox = [];
        this.#inboxHead = 0;
      }
    } finally {
      this.#flushing = false;
    }
  }

  #deliver(item: InboxItem): void {
    if (item.type === 'DELETED') item.watch.seen.delete(item.path);
    else item.watch.seen.set(item.path, item.value);
    try {
      item.watch.listener({ type: item.type, key: this.#rel(item.path), value: item.value });
    } catch (error) {
      this.#reportListenerError(error, { event: item.type, key: this.#rel(item.path) });
    }
  }

  /** Queues, per watch needing it, the differences between what it last saw and the tree now. */
  #resyncWatches(): void {
    for (const watch of this.#watches) {
      if (!watch.needsResync || !watch.active) continue;
      const current = new Map<string, string>();
      for (const entry of this.#state.subtree(watch.root)) {
        if (this.#state.canAccess(this.#identity, entry.node.aclIdentity))
          current.set(entry.path, entry.node.value);
      }
      const gone = [...watch.seen.keys()].filter((path) => !current.has(path));
      gone.sort((a, b) => b.split('/').length - a.split('/').length || (a < b ? 1 : a > b ? -1 : 0));
      for (const path of gone) {
        this.#inbox.push({ watch, type: 'DELETED', path, value: watch.seen.get(path)! });
      }
      for (const [path, value] of current) {
        const seen = watch.seen.get(path);
        if (seen === undefined) this.#inbox.push({ watch, type: 'ADDED', path, value });
        else if (seen !== value) this.#inbox.push({ watch, type: 'UPDATED', path, value });
      }
      watch.fromSeq = this.#state.commitSeq;
      watch.needsResync = false;
    }
    this.#scheduleFlush();
  }

  #wakeLatchAttempts(): void {
    for (const attempt of this.#latchAttempts) queueMicrotask(() => attempt.wake());
  }

  #acquireLatch(
    latchKey: string,
    waitTimeoutMs: number,
    signal: AbortSignal | undefined,
  ): Promise<{ participant: string; sessionId: string }> {
    const latchPath = this.#abs(latchKey);
    const prefix = `${latchPath}/_c_${randomUUID()}-latch-`;
    return new Promise((resolve, reject) => {
      const sessionId = this.#session!.id;
      let participant = this.#state.createSequential(this.#actor, prefix, '', true);
      let done = false;
      let timer: ClockTimer | undefined;
      const finish = (error: unknown, acquired: boolean): void => {
        if (done) return;
        done = true;
        unregister();
        timer?.cancel();
        signal?.removeEventListener('abort', onAbort);
        this.#latchAttempts.delete(attempt);
        if (acquired) {
          resolve({ participant, sessionId });
        } else {
          this.#state.deleteIfOwnedBy(participant, sessionId);
          reject(error);
        }
      };
      const check = (): void => {
        if (done) return;
        if (this.#state.node(participant)?.ephemeralOwner !== sessionId) {
          const session = this.#session;
          if (this.#status === 'connected' && session?.alive && session.id === sessionId) {
            // Someone removed our participant (e.g. a recursive remove of the latch): re-enter.
            participant = this.#state.createSequential(this.#actor, prefix, '', true);
          } else {
            finish(
              new RegistryError(
                'SESSION_EXPIRED',
                `The session ended while waiting for the latch '${latchKey}'`,
                { path: latchKey },
              ),
              false,
            );
            return;
          }
        }
        if (this.#status !== 'connected') return;
        if (this.#state.isLatchHolder(latchPath, participant)) finish(undefined, true);
      };
      const onAbort = (): void => finish(signal!.reason, false);
      const attempt: LatchAttempt = { wake: check, fail: (error) => finish(error, false) };
      const unregister = this.#state.addLatchWaiter(latchPath, check);
      this.#latchAttempts.add(attempt);
      signal?.addEventListener('abort', onAbort, { once: true });
      timer = this.#clock.setTimeout(
        () =>
          finish(
            new RegistryError(
              'TIMEOUT',
              `Timed out after ${waitTimeoutMs} ms waiting for the latch '${latchKey}'`,
              { path: latchKey },
            ),
            false,
          ),
        waitTimeoutMs,
        { unref: true },
      );
      check();
    });
  }
}
