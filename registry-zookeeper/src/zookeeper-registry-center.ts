/**
 * {@link ZookeeperRegistryCenter}: the registry contract on a real ZooKeeper ensemble, through
 * `node-zookeeper-client`.
 *
 * @module
 */
import {
  assertRegistryPath,
  type CoordinatorRegistryCenter,
  CountingTransactionMeter,
  createDefaultLogger,
  type LeaderLatchOptions,
  type Logger,
  type RegistryCapabilities,
  type RegistryConnectionState,
  type RegistryConnectionStateListener,
  RegistryError,
  RegistryPathIndex,
  type RegistryTransactionOperation,
  type RegistryUnwatch,
  type RegistryWatchListener,
  sortChildrenDescending,
  TransactionCoalescer,
} from '@elasticjob-ts/core/adapter';
import { ACL, CreateMode, Id, Permission, type Stat } from 'node-zookeeper-client';
import { acquireLatch, type LatchHost } from './leader-latch.js';
import { type MultiOperation, type MultiResult, sendMulti, type WireAcl } from './multi-request.js';
import {
  type ResolvedZookeeperOptions,
  resolveZookeeperOptions,
  type ZookeeperRegistryCenterOptions,
} from './options.js';
import { OwnWriteBatch } from './own-writes.js';
import { SubtreeWatch, type SubtreeWatchHost, type SubtreeWatchMode, zxidOf } from './subtree-watch.js';
import { registryErrorOfCode, ZK_CODE, zookeeperCodeOf } from './to-registry-error.js';
import {
  ANY_VERSION,
  diagnoseVersionFailure,
  type ExpandedOperation,
  type NodeVersion,
  type PreparedOperation,
  planTransaction,
  type TransactionReads,
  valueMismatch,
} from './transaction-plan.js';
import { fallbackWatchMode, initialWatchMode } from './watch-mode.js';
import { type CallDone, lastAnswerZxidOf, ZookeeperConnection } from './zookeeper-connection.js';

/** What the ZooKeeper adapter declares: digest authentication, millisecond server time. */
export const ZOOKEEPER_CAPABILITIES: RegistryCapabilities = Object.freeze({
  authentication: true,
  registryCenterTimeResolutionMs: 1,
  maxTransactionOperations: 1000,
});

/** ZooKeeper's default `jute.maxbuffer`, the largest value a node can hold, in bytes. */
const MAX_VALUE_BYTES = 1_048_576;

/** Bounded attempts of read-modify loops that lose races to other clients. */
const MAX_RACE_ATTEMPTS = 10;

/**
 * The most operations of one `multi` merged from several transactions (a subtree delete expands
 * further), as many as one transaction may hold; far below `jute.maxbuffer` for registry-sized
 * values.
 */
const COALESCED_TRANSACTION_MAX_OPERATIONS = 1000;

type Client = ZookeeperConnection['client'];

/** The value of a node created or set without one. */
const EMPTY = Buffer.alloc(0);

/** `type` of an operation's result in a failed multi. */
const ERROR_RESULT_TYPE = -1;

const OPEN_ACL = [new ACL(Permission.ALL, new Id('world', 'anyone'))];
const CREATOR_ALL_ACL = [new ACL(Permission.ALL, new Id('auth', ''))];
/** {@link OPEN_ACL} and {@link CREATOR_ALL_ACL} as a multi writes them (`multi-request.ts`). */
const OPEN_WIRE_ACL: readonly WireAcl[] = [{ perms: Permission.ALL, scheme: 'world', id: 'anyone' }];
const CREATOR_ALL_WIRE_ACL: readonly WireAcl[] = [{ perms: Permission.ALL, scheme: 'auth', id: '' }];

const SESSION_CREDENTIALS = new WeakMap<
  ZookeeperRegistryCenter,
  () => { id: Buffer; password: Buffer } | undefined
>();

/**
 * The id and password of a client's current session, for tests that force its expiry with
 * {@link closeZookeeperSession}. Internal: not exported from the package.
 *
 * @internal
 */
export function currentSessionOf(
  registry: ZookeeperRegistryCenter,
): { id: Buffer; password: Buffer } | undefined {
  return SESSION_CREDENTIALS.get(registry)?.();
}

type Phase = 'new' | 'starting' | 'started' | 'closed';

/**
 * The ZooKeeper registry center (ElasticJob's `ZookeeperRegistryCenter`, on `node-zookeeper-client`
 * instead of Curator).
 *
 * - **Namespace**: every key is stored below `/{namespace}` (Curator's namespace), which `start()`
 *   creates.
 * - **Digest**: with `digest: 'user:password'` the client authenticates with ZooKeeper's digest
 *   scheme and creates every node with creator-only ACLs (`CREATOR_ALL`), as ElasticJob does; a
 *   client without those credentials gets `NO_AUTH`.
 * - **Retries**: idempotent operations (reads, `persist`, `update`, `persistEphemeral`, `remove`,
 *   `getRegistryCenterTime`) are retried after a connection loss or session expiry with
 *   exponential backoff (`baseSleepTimeMs` doubling up to `maxSleepTimeMs`, `maxRetries` times);
 *   sequential creates and transactions are not (a retry could apply them twice) and reject with
 *   `CONNECTION_LOSS`. Every request is bounded by `connectionTimeoutMs`.
 * - **Connection states**: `CONNECTED` after `start()`; `SUSPENDED` when the connection drops;
 *   `RECONNECTED` when it is back within the session; `LOST` only when a server reports the
 *   session expired (ZooKeeper tells a client once it reaches a server again; no local timer
 *   presumes it). After `LOST` the adapter opens a new session and reports `RECONNECTED`.
 * - **Watches**: subtree watches with a cache (see `watch`); `get()` serves watched, up-to-date
 *   nodes from it.
 * - **Latch**: `executeInLeader` is Curator's `LeaderLatch` recipe with its node names, so Java
 *   ElasticJob clients and this one exclude each other.
 *
 * @example
 * ```ts
 * const registry = new ZookeeperRegistryCenter({ serverLists: 'zk1:2181,zk2:2181', namespace: 'elasticjob-demo' });
 * await registry.start();
 * await registry.persist('/orders/config', yaml);
 * await registry.close();
 * ```
 */
export class ZookeeperRegistryCenter implements CoordinatorRegistryCenter {
  /** `{ authentication: true, registryCenterTimeResolutionMs: 1, maxTransactionOperations: 1000 }`. */
  readonly capabilities: RegistryCapabilities = ZOOKEEPER_CAPABILITIES;
  /** The namespace: every key lives below `/{namespace}` on the server. */
  readonly namespace: string;

  readonly #options: ResolvedZookeeperOptions;
  readonly #rootPath: string;
  readonly #stateListeners = new Set<RegistryConnectionStateListener>();
  readonly #watches = new RegistryPathIndex<SubtreeWatch>();
  readonly #sessionChangeCallbacks = new Set<() => void>();
  readonly #closeController = new AbortController();
  #logger: Logger | undefined;
  #phase: Phase = 'new';
  #connection: ZookeeperConnection | undefined;
  #suspended = false;
  /** The subtree watch mode in use: the configured one, until `'auto'` falls back to one-shot. */
  #watchMode: SubtreeWatchMode;
  /** The round trip of {@link confirmSession} in flight, shared by every caller on its connection. */
  #confirmation: { readonly connection: ZookeeperConnection; readonly done: Promise<void> } | undefined;
  #closing: Promise<void> | undefined;
  readonly #background = new Set<Promise<unknown>>();
  /** Transactions of one event-loop turn go as one `multi` (see `TransactionCoalescer`). */
  readonly #transactions = new TransactionCoalescer(
    (operations) => this.#commitTransaction(operations),
    () => new CountingTransactionMeter(COALESCED_TRANSACTION_MAX_OPERATIONS),
  );

  /**
   * Builds an unstarted client; nothing connects before {@link start}.
   *
   * @param options - `serverLists` and `namespace` (required), session/connection timeouts,
   *   retry settings, `digest`, `logger`; see {@link ZookeeperRegistryCenterOptions}.
   * @throws {RegistryConfigurationError} naming the field, for invalid options.
   */
  constructor(options: ZookeeperRegistryCenterOptions) {
    this.#options = resolveZookeeperOptions(options);
    this.#watchMode = initialWatchMode(this.#options.watchMode);
    this.namespace = this.#options.namespace;
    this.#rootPath = `/${this.namespace}`;
    this.#logger = this.#options.logger;
    SESSION_CREDENTIALS.set(this, () => {
      const connection = this.#connection;
      if (connection === undefined || !connection.everConnected) return undefined;
      return { id: connection.sessionId(), password: connection.sessionPassword() };
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Lifecycle and connection states

  /**
   * Connects and establishes a session within `connectionTimeoutMs`, creates the namespace node,
   * then reports `CONNECTED`.
   *
   * @throws {RegistryError} `TIMEOUT` naming the servers when none answered in time; `NO_AUTH`
   *   when the server refused the credentials; `INVALID_STATE` when already started (or closed).
   */
  async start(): Promise<void> {
    if (this.#phase !== 'new') {
      throw new RegistryError(
        'INVALID_STATE',
        this.#phase === 'closed'
          ? 'This ZooKeeper registry client was closed; create a new one'
          : 'This ZooKeeper registry client is already started',
      );
    }
    this.#phase = 'starting';
    const connection = this.#newConnection();
    this.#connection = connection;
    const { serverLists, connectionTimeoutMs } = this.#options;
    try {
      connection.connect();
      await connection.waitConnected(
        connectionTimeoutMs,
        () => `Could not connect to ZooKeeper at ${serverLists} within ${connectionTimeoutMs} ms`,
      );
      await this.#ensurePath(this.#rootPath, true);
    } catch (error) {
      if (this.#connection === connection) this.#connection = undefined;
      await connection.close(0);
      if ((this.#phase as Phase) === 'closed') {
        throw new RegistryError('NOT_STARTED', 'The ZooKeeper registry client was closed while starting', {
          cause: error,
        });
      }
      this.#phase = 'new';
      throw error;
    }
    if ((this.#phase as Phase) !== 'starting') {
      throw new RegistryError('NOT_STARTED', 'The ZooKeeper registry client was closed while starting');
    }
    this.#phase = 'started';
    this.#emitState('CONNECTED');
    if (!connection.connected) this.#onDisconnected(connection);
  }

  /**
   * Ends the session (its ephemeral nodes disappear for every client at once), stops every watch,
   * latch wait and timer, and closes the socket. Idempotent; reports no state change.
   */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#phase = 'closed';
    this.#closeController.abort();
    for (const watch of this.#watches) watch.dispose();
    this.#watches.clear();
    this.#notifySessionChange();
    const connection = this.#connection;
    this.#connection = undefined;
    this.#closing = (async () => {
      await connection?.close(Math.min(this.#options.connectionTimeoutMs, 5_000));
      await Promise.allSettled([...this.#background]);
    })();
    return this.#closing;
  }

  /**
   * Registers a connection state listener (see the class description for when each state comes).
   *
   * @param listener - called synchronously on every change; errors it throws are logged.
   * @returns a remover (idempotent).
   */
  addConnectionStateListener(listener: RegistryConnectionStateListener): () => void {
    this.#stateListeners.add(listener);
    return () => {
      this.#stateListeners.delete(listener);
    };
  }

  #newConnection(): ZookeeperConnection {
    const { serverLists, sessionTimeoutMs, digest, baseSleepTimeMs } = this.#options;
    return new ZookeeperConnection({
      serverLists,
      sessionTimeoutMs,
      spinDelayMs: Math.max(50, Math.min(1_000, baseSleepTimeMs)),
      digestCredentials: digest?.credentials,
      persistentWatchRoot: this.#rootPath,
      events: {
        onReconnected: (connection) => this.#onReconnected(connection),
        onDisconnected: (connection) => this.#onDisconnected(connection),
        onExpired: (connection) => this.#onSessionLost(connection),
      },
    });
  }

  #onReconnected(connection: ZookeeperConnection): void {
    if (connection !== this.#connection || this.#phase !== 'started') return;
    if (this.#suspended) {
      this.#suspended = false;
      this.#emitState('RECONNECTED');
    }
    for (const watch of this.#watches) watch.onReconnected();
  }

  #onDisconnected(connection: ZookeeperConnection): void {
    if (connection !== this.#connection || this.#phase !== 'started') return;
    if (!this.#suspended) {
      this.#suspended = true;
      this.#emitState('SUSPENDED');
    }
    // No local timer declares the session lost: ZooKeeper says so when the client reaches a
    // server again (the library keeps re-attaching to the same session until then). A new quorum
    // leader gives every session a fresh timeout, so a slow election or a server restart longer
    // than the session timeout need not cost it.
  }

  #onSessionLost(connection: ZookeeperConnection): void {
    if (connection !== this.#connection || this.#phase !== 'started') return;
    this.#suspended = true;
    const replacement = this.#newConnection();
    this.#connection = replacement;
    replacement.connect();
    this.#emitState('LOST');
    connection.abandon('SESSION_EXPIRED', 'The ZooKeeper session expired');
    this.#track(connection.close(0));
    this.#notifySessionChange();
    this.#track(this.#establishReplacement(replacement));
  }

  async #establishReplacement(replacement: ZookeeperConnection): Promise<void> {
    try {
      await replacement.waitConnected(undefined, () => 'unbounded');
    } catch {
      return; // closed, or replaced again
    }
    if (replacement !== this.#connection || this.#phase !== 'started') return;
    for (const watch of this.#watches) watch.resync(replacement);
    if (replacement.connected && this.#suspended) {
      this.#suspended = false;
      this.#emitState('RECONNECTED');
    }
  }

  #emitState(state: RegistryConnectionState): void {
    for (const listener of [...this.#stateListeners]) {
      try {
        listener(state);
      } catch (error) {
        this.#log().error({ err: error, state }, 'A registry connection state listener threw');
      }
    }
  }

  #notifySessionChange(): void {
    for (const callback of [...this.#sessionChangeCallbacks]) {
      try {
        callback();
      } catch (error) {
        this.#reportBackgroundError(error, 'A session-change callback threw');
      }
    }
  }

  #track(promise: Promise<unknown>): void {
    const tracked = promise.catch((error: unknown) =>
      this.#reportBackgroundError(error, 'Background task failed'),
    );
    this.#background.add(tracked);
    void tracked.finally(() => this.#background.delete(tracked));
  }

  #reportBackgroundError(error: unknown, message: string): void {
    this.#log().warn({ err: error, namespace: this.namespace }, message);
  }

  #log(): Logger {
    this.#logger ??= createDefaultLogger().child({ component: 'registry-zookeeper' });
    return this.#logger;
  }

  // ---------------------------------------------------------------------------------------------
  // Request plumbing

  #absolute(key: string): string {
    return key === '/' ? this.#rootPath : `${this.#rootPath}${key}`;
  }

  #relative(path: string): string {
    if (path === this.#rootPath) return '/';
    return path.startsWith(`${this.#rootPath}/`) ? path.slice(this.#rootPath.length) : path;
  }

  #acls(): typeof OPEN_ACL {
    return this.#options.digest === undefined ? OPEN_ACL : CREATOR_ALL_ACL;
  }

  #assertStarted(): void {
    if (this.#phase !== 'started') {
      throw new RegistryError(
        'NOT_STARTED',
        this.#phase === 'closed'
          ? 'The ZooKeeper registry client was closed'
          : 'The ZooKeeper registry client is not started; call start() first',
      );
    }
  }

  /**
   * One request on the current session. `retry` requests are repeated after a connection loss or
   * a session expiry (with backoff); `once` requests surface them.
   */
  async #request<R>(
    operation: string,
    path: string,
    policy: 'retry' | 'once',
    invoke: (client: Client, done: CallDone<R>) => void,
  ): Promise<R> {
    const key = this.#relative(path);
    for (let attempt = 0; ; attempt += 1) {
      if (this.#phase !== 'started' && this.#phase !== 'starting') this.#assertStarted();
      const connection = this.#connection;
      if (connection === undefined) this.#assertStarted();
      try {
        return await (connection as ZookeeperConnection).call<R>(
          operation,
          key,
          this.#options.connectionTimeoutMs,
          invoke,
        );
      } catch (error) {
        if (this.#phase === 'closed') {
          throw new RegistryError(
            'NOT_STARTED',
            `The ZooKeeper registry client was closed during ${operation}`,
            {
              path: key,
              cause: error,
            },
          );
        }
        const transient = RegistryError.is(error, 'CONNECTION_LOSS', 'SESSION_EXPIRED');
        if (policy === 'retry' && transient && attempt < this.#options.maxRetries) {
          await this.#backoff(attempt);
          continue;
        }
        throw error;
      }
    }
  }

  async #backoff(attempt: number): Promise<void> {
    const { baseSleepTimeMs, maxSleepTimeMs } = this.#options;
    const ceiling = Math.min(maxSleepTimeMs, baseSleepTimeMs * 2 ** attempt);
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    const signal = this.#closeController.signal;
    await new Promise<void>((resolve, reject) => {
      if (signal.aborted) {
        reject(new RegistryError('NOT_STARTED', 'The ZooKeeper registry client was closed'));
        return;
      }
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(new RegistryError('NOT_STARTED', 'The ZooKeeper registry client was closed'));
      };
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      }, delay);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  #getData(path: string): Promise<{ data: Buffer | null; stat: Stat }> {
    return this.#request('getData', path, 'retry', (client, done) =>
      client.getData(path, (error, data, stat) => done(error, { data, stat })),
    );
  }

  #exists(path: string): Promise<Stat | null> {
    return this.#request('exists', path, 'retry', (client, done) =>
      client.exists(path, (error, stat) => done(error, stat ?? null)),
    );
  }

  #getChildren(path: string): Promise<string[]> {
    return this.#request('getChildren', path, 'retry', (client, done) =>
      client.getChildren(path, (error, children) => done(error, children)),
    );
  }

  #setData(path: string, data: Buffer): Promise<Stat> {
    return this.#request('setData', path, 'retry', (client, done) =>
      client.setData(path, data, -1, (error, stat) => done(error, stat)),
    );
  }

  #create(path: string, data: Buffer, mode: number, policy: 'retry' | 'once'): Promise<string> {
    return this.#request('create', path, policy, (client, done) =>
      client.create(path, data, this.#acls(), mode, (error, created) => done(error, created)),
    );
  }

  #delete(path: string): Promise<void> {
    return this.#request('delete', path, 'retry', (client, done) =>
      client.remove(path, -1, (error) => done(error)),
    );
  }

  /**
   * Creates `path` and its missing ancestors as persistent nodes with value `''`, tolerating
   * concurrent creators. Existence is checked before each create, so that a client without write
   * access to existing ancestors is not refused for nodes it does not need to create.
   */
  async #ensurePath(path: string, includeSelf: boolean): Promise<void> {
    const segments = path.split('/').filter((segment) => segment !== '');
    const chain: string[] = [];
    for (let i = 1; i <= segments.length - (includeSelf ? 0 : 1); i += 1) {
      chain.push(`/${segments.slice(0, i).join('/')}`);
    }
    // Find the deepest existing ancestor (usually the direct parent), then create downwards.
    let firstMissing = chain.length;
    while (firstMissing > 0 && (await this.#exists(chain[firstMissing - 1] as string)) === null)
      firstMissing -= 1;
    for (const node of chain.slice(firstMissing)) {
      try {
        await this.#create(node, Buffer.alloc(0), CreateMode.PERSISTENT, 'retry');
      } catch (error) {
        if (!RegistryError.is(error, 'NODE_EXISTS')) throw error;
      }
    }
  }

  /** Create with missing parents; on a parent deleted concurrently, tries again. */
  async #createWithParents(
    path: string,
    data: Buffer,
    mode: number,
    policy: 'retry' | 'once',
  ): Promise<string> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await this.#create(path, data, mode, policy);
      } catch (error) {
        if (!RegistryError.is(error, 'NO_NODE') || attempt >= MAX_RACE_ATTEMPTS) throw error;
      }
      await this.#ensurePath(path, false);
    }
  }

  /** Insert-or-update; returns the Stat when the node was updated, `undefined` when created. */
  async #persist(path: string, data: Buffer): Promise<Stat | undefined> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await this.#setData(path, data);
      } catch (error) {
        if (!RegistryError.is(error, 'NO_NODE')) throw error;
      }
      try {
        await this.#createWithParents(path, data, CreateMode.PERSISTENT, 'retry');
        return undefined;
      } catch (error) {
        if (!RegistryError.is(error, 'NODE_EXISTS') || attempt >= MAX_RACE_ATTEMPTS) throw error;
      }
    }
  }

  async #removeTree(path: string): Promise<void> {
    for (let attempt = 0; ; attempt += 1) {
      let children: string[];
      try {
        children = await this.#getChildren(path);
      } catch (error) {
        if (RegistryError.is(error, 'NO_NODE')) return;
        throw error;
      }
      await Promise.all(children.map((child) => this.#removeTree(`${path}/${child}`)));
      try {
        await this.#delete(path);
        return;
      } catch (error) {
        if (RegistryError.is(error, 'NO_NODE')) return;
        const notEmpty = zookeeperCodeOf((error as Error).cause) === ZK_CODE.NOT_EMPTY;
        if (!notEmpty || attempt >= MAX_RACE_ATTEMPTS) throw error; // a child appeared: again
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Reads

  /**
   * A node's value: from a watch's cache when the node lies in a watched subtree and the cache is
   * current for it (no change notified but not yet re-read), else from the server. Because
   * ZooKeeper notifies a watch before it answers the request that caused the change, this client's
   * own writes are always visible to its `get`.
   *
   * @param key - node path.
   * @returns the value (`''` for a node without data), or `undefined` when absent.
   * @throws {RegistryError} `NOT_STARTED`, `NO_AUTH`, `CONNECTION_LOSS` after retries.
   */
  async get(key: string): Promise<string | undefined> {
    assertRegistryPath(key);
    this.#assertStarted();
    const path = this.#absolute(key);
    for (const watch of this.#watches.covering(path)) {
      const value = watch.cachedValue(path);
      if (value !== undefined) return value;
    }
    return this.#getDirectly(path);
  }

  /**
   * A node's value, read from the server.
   *
   * @param key - node path.
   * @returns the value, or `undefined` when absent.
   * @throws {RegistryError} `NOT_STARTED`, `NO_AUTH`, `CONNECTION_LOSS` after retries.
   */
  async getDirectly(key: string): Promise<string | undefined> {
    assertRegistryPath(key);
    this.#assertStarted();
    return this.#getDirectly(this.#absolute(key));
  }

  async #getDirectly(path: string): Promise<string | undefined> {
    try {
      const { data } = await this.#getData(path);
      return data === null || data === undefined ? '' : data.toString('utf8');
    } catch (error) {
      if (RegistryError.is(error, 'NO_NODE')) return undefined;
      throw error;
    }
  }

  /**
   * Whether a node exists (asked of the server; needs no read permission).
   *
   * @param key - node path.
   * @throws {RegistryError} `NOT_STARTED`, `CONNECTION_LOSS` after retries.
   */
  async isExisted(key: string): Promise<boolean> {
    assertRegistryPath(key);
    this.#assertStarted();
    return (await this.#exists(this.#absolute(key))) !== null;
  }

  /**
   * Resolves once the server is known to hold the current session: at once while an earlier answer
   * proves it (any request answered successfully on this session and sent less than the negotiated
   * session timeout ago, see `ZookeeperConnection.sessionProvenUntilMs`: ZooKeeper expires a session
   * only after that long without hearing from its client), else after one `exists` round trip, not
   * retried. Callers that find no proof at the same time share that one round trip: a thousand
   * jobs starting in the same second send one request, not a thousand.
   *
   * @throws {RegistryError} `CONNECTION_LOSS` while suspended or when the round trip fails;
   *   `SESSION_EXPIRED` when the server says so or the session changed meanwhile; `NOT_STARTED`.
   */
  async confirmSession(): Promise<void> {
    this.#assertStarted();
    const connection = this.#connection as ZookeeperConnection;
    if (this.#suspended) {
      throw new RegistryError(
        'CONNECTION_LOSS',
        'The ZooKeeper connection is suspended: the session cannot be confirmed',
      );
    }
    if (this.isSessionProven()) return;
    if (this.#confirmation?.connection !== connection) {
      const done = this.#confirmRoundTrip(connection);
      const confirmation = { connection, done };
      this.#confirmation = confirmation;
      const clear = () => {
        if (this.#confirmation === confirmation) this.#confirmation = undefined;
      };
      done.then(clear, clear);
    }
    await this.#confirmation.done;
  }

  /**
   * Whether {@link confirmSession} would resolve at once now: started, not suspended, and a request
   * answered on the current session was sent less than the negotiated session timeout ago
   * (`ZookeeperConnection.sessionProvenUntilMs`). Never throws.
   */
  isSessionProven(): boolean {
    const connection = this.#connection;
    return (
      this.#phase === 'started' &&
      connection !== undefined &&
      !this.#suspended &&
      performance.now() < connection.sessionProvenUntilMs()
    );
  }

  /** One `exists` of the namespace node on `connection`; its answer renews the session's proof. */
  async #confirmRoundTrip(connection: ZookeeperConnection): Promise<void> {
    const sessionId = connection.sessionId();
    await this.#request('exists', this.#rootPath, 'once', (client, done) =>
      client.exists(this.#rootPath, (error, stat) => done(error, stat ?? null)),
    );
    if (this.#connection !== connection || !connection.sessionId().equals(sessionId)) {
      throw new RegistryError(
        'SESSION_EXPIRED',
        'The ZooKeeper session changed while it was being confirmed',
      );
    }
  }

  /**
   * Names of the direct children, sorted descending by UTF-16 code units (ElasticJob's order).
   *
   * @param key - parent path.
   * @returns child names; `[]` when absent.
   * @throws {RegistryError} `NOT_STARTED`, `NO_AUTH`, `CONNECTION_LOSS` after retries.
   */
  async getChildrenKeys(key: string): Promise<string[]> {
    assertRegistryPath(key);
    this.#assertStarted();
    try {
      return sortChildrenDescending(await this.#getChildren(this.#absolute(key)));
    } catch (error) {
      if (RegistryError.is(error, 'NO_NODE')) return [];
      throw error;
    }
  }

  /**
   * Number of direct children (the node's `Stat.numChildren`); 0 when absent.
   *
   * @param key - parent path.
   * @throws {RegistryError} `NOT_STARTED`, `CONNECTION_LOSS` after retries.
   */
  async getNumChildren(key: string): Promise<number> {
    assertRegistryPath(key);
    this.#assertStarted();
    const stat = await this.#exists(this.#absolute(key));
    return stat === null ? 0 : stat.numChildren;
  }

  // ---------------------------------------------------------------------------------------------
  // Writes

  /**
   * Insert-or-update a persistent node, creating missing parents (value `''`): `setData`, or on
   * `NONODE` a create with parents; a concurrent create or delete makes it try again, so it never
   * fails because of a race (ElasticJob's check-then-act version could).
   *
   * @param key - node path (not `/`).
   * @param value - new value (at most 1 MiB as UTF-8).
   * @throws {TypeError} for an invalid key or value.
   * @throws {RegistryError} `NOT_STARTED`, `NO_AUTH`, `CONNECTION_LOSS` after retries.
   */
  async persist(key: string, value: string): Promise<void> {
    assertRegistryPath(key, false);
    const data = encodeValue(key, value);
    this.#assertStarted();
    await this.#persist(this.#absolute(key), data);
  }

  /**
   * Sets the value of an existing node (`setData` with any version).
   *
   * @param key - node path.
   * @param value - new value.
   * @throws {RegistryError} `NO_NODE` naming the key when it does not exist; `NOT_STARTED`,
   *   `NO_AUTH`, `CONNECTION_LOSS` after retries.
   */
  async update(key: string, value: string): Promise<void> {
    assertRegistryPath(key);
    const data = encodeValue(key, value);
    this.#assertStarted();
    try {
      await this.#setData(this.#absolute(key), data);
    } catch (error) {
      if (RegistryError.is(error, 'NO_NODE')) {
        throw new RegistryError('NO_NODE', `Cannot update '${key}': the node does not exist`, {
          path: key,
          cause: error,
        });
      }
      throw error;
    }
  }

  /**
   * Creates an ephemeral node owned by this session, with persistent parents. An existing node is
   * replaced: when this session already owns it, its value is set (`UPDATED` for watchers);
   * otherwise (a persistent node, another session's ephemeral, or one left by this client's
   * previous session) it is deleted and created again (`DELETED` then `ADDED`). The owner is told
   * apart by the node's `ephemeralOwner`.
   *
   * @param key - node path (not `/`).
   * @param value - value.
   * @throws {RegistryError} `NOT_STARTED`, `NO_AUTH`, `CONNECTION_LOSS` after retries.
   */
  async persistEphemeral(key: string, value: string): Promise<void> {
    assertRegistryPath(key, false);
    const data = encodeValue(key, value);
    this.#assertStarted();
    const path = this.#absolute(key);
    for (let attempt = 0; ; attempt += 1) {
      try {
        await this.#createWithParents(path, data, CreateMode.EPHEMERAL, 'retry');
        return;
      } catch (error) {
        if (!RegistryError.is(error, 'NODE_EXISTS') || attempt >= MAX_RACE_ATTEMPTS) throw error;
      }
      const stat = await this.#exists(path);
      if (stat === null) continue;
      const session = this.#connection?.sessionId();
      if (session !== undefined && stat.ephemeralOwner.equals(session)) {
        try {
          await this.#setData(path, data);
          return;
        } catch (error) {
          if (!RegistryError.is(error, 'NO_NODE')) throw error;
          continue;
        }
      }
      await this.#removeTree(path);
    }
  }

  /**
   * Creates a persistent sequential node (`key` + ZooKeeper's 10-digit sequence), with missing
   * parents. Not retried after a connection loss (a retry could create a second node).
   *
   * @param key - path prefix, e.g. `/jobs/seq-`.
   * @param value - value.
   * @returns the created path (namespace-relative).
   * @throws {RegistryError} `CONNECTION_LOSS` when the outcome is unknown; `NOT_STARTED`, `NO_AUTH`.
   */
  async persistSequential(key: string, value: string): Promise<string> {
    assertRegistryPath(key, false);
    const data = encodeValue(key, value);
    this.#assertStarted();
    const created = await this.#createWithParents(
      this.#absolute(key),
      data,
      CreateMode.PERSISTENT_SEQUENTIAL,
      'once',
    );
    return this.#relative(created);
  }

  /**
   * Creates an empty ephemeral sequential node owned by this session, with persistent parents.
   * Not retried after a connection loss.
   *
   * @param key - path prefix.
   * @returns the created path (namespace-relative).
   * @throws {RegistryError} `CONNECTION_LOSS` when the outcome is unknown; `NOT_STARTED`, `NO_AUTH`.
   */
  async persistEphemeralSequential(key: string): Promise<string> {
    assertRegistryPath(key, false);
    this.#assertStarted();
    const created = await this.#createWithParents(
      this.#absolute(key),
      Buffer.alloc(0),
      CreateMode.EPHEMERAL_SEQUENTIAL,
      'once',
    );
    return this.#relative(created);
  }

  /**
   * Deletes a node and its subtree (children first; a child created meanwhile makes it go round
   * again). Prefix-safe by construction (ZooKeeper paths are deleted by exact name). Absent nodes
   * are fine.
   *
   * @param key - node path (not `/`).
   * @throws {RegistryError} `NOT_STARTED`, `NO_AUTH`, `CONNECTION_LOSS` after retries.
   */
  async remove(key: string): Promise<void> {
    assertRegistryPath(key, false);
    this.#assertStarted();
    await this.#removeTree(this.#absolute(key));
  }

  /**
   * The server's clock: writes `key` (value `''`, as ElasticJob does) and returns the node's
   * `mtime`, in epoch ms (ElasticJob's `ZookeeperRegistryCenter#getRegistryCenterTime`).
   *
   * @param key - scratch node, e.g. `/orders/systemTime/current`.
   * @throws {RegistryError} `NOT_STARTED`, `NO_AUTH`, `CONNECTION_LOSS` after retries.
   */
  async getRegistryCenterTime(key: string): Promise<number> {
    assertRegistryPath(key, false);
    this.#assertStarted();
    const path = this.#absolute(key);
    for (let attempt = 0; ; attempt += 1) {
      const stat = (await this.#persist(path, Buffer.alloc(0))) ?? (await this.#exists(path));
      if (stat !== null) {
        const mtime = Number(zxidOf(stat.mtime));
        if (mtime > 0) return mtime;
      }
      if (attempt >= MAX_RACE_ATTEMPTS) {
        throw new RegistryError('INVALID_STATE', `Cannot read the registry center time from '${key}'`, {
          path: key,
        });
      }
    }
  }

  /**
   * Runs the operations as one ZooKeeper `multi`: all commit or none does. A `delete` removes the
   * subtree: its descendants are deleted, deepest first, inside the same multi; they are taken from
   * a watch's cache when one covers the node, else listed from the server (if the subtree differs
   * at the commit, ZooKeeper refuses the multi and it is planned again from a server listing). A `check` with a `value`
   * reads the node first and checks its data version in the multi, so a change after the read
   * fails the multi (see `transaction-plan.ts`). Not retried after a connection loss.
   * Transactions asked for in the same event-loop turn are sent as one `multi`, with the semantics
   * of running them one after another (see `TransactionCoalescer` in core).
   *
   * @param operations - `check` / `create` / `update` / `delete` operations.
   * @throws {TypeError} for an invalid key or value anywhere (nothing is sent).
   * @throws {RegistryError} `TRANSACTION_FAILED` with `failedOperationIndex` (index in
   *   `operations`), `path` (that operation's key) and a `cause` (`NO_NODE` / `NODE_EXISTS` /
   *   `VALUE_MISMATCH`);
   *   `NO_AUTH` (with `failedOperationIndex`) when the failing operation was refused for lack of
   *   permissions; `CONNECTION_LOSS` when the outcome is unknown; `NOT_STARTED`.
   */
  async executeInTransaction(operations: readonly RegistryTransactionOperation[]): Promise<void> {
    if (!Array.isArray(operations))
      throw new TypeError('executeInTransaction expects an array of operations');
    for (const [index, operation] of operations.entries())
      prepareOperation(operation, index, (key) => this.#absolute(key));
    this.#assertStarted();
    if (operations.length === 0) return;
    await this.#transactions.execute(operations);
  }

  /** One `multi` (planned again after a subtree race) for validated operations, of one or more transactions. */
  async #commitTransaction(operations: readonly RegistryTransactionOperation[]): Promise<void> {
    const prepared = operations.map((operation, index) =>
      prepareOperation(operation, index, (key) => this.#absolute(key)),
    );
    this.#assertStarted();
    // The first plan takes from a watch's cache, when one covers the node: a deleted node's
    // descendants (no `getChildren` per deleted node) and the data version of a value check whose
    // expected value the cache holds (no `getData` per check). If the cache lagged, ZooKeeper
    // refuses the multi (`NOTEMPTY`, `NONODE` for a descendant, `BADVERSION`), and every later
    // plan reads the server.
    let listFromCache = true;
    const reads: TransactionReads = {
      cachedDescendants: (path) => (listFromCache ? this.#cachedDescendants(path) : undefined),
      cachedNode: (path, expected) => (listFromCache ? this.#cachedVersion(path, expected) : undefined),
      listDescendants: (path) => this.#listDescendants(path),
      readNode: (path) => this.#readNodeVersion(path),
    };
    const relative = (path: string): string => this.#relative(path);
    for (let attempt = 0; ; attempt += 1) {
      listFromCache = attempt === 0;
      const plan = await planTransaction(prepared, reads, relative);
      if (plan.kind === 'failed') throw transactionFailed(prepared, plan.index, plan.cause);
      const expanded = plan.operations;
      let ownWrites: OwnWriteBatch | undefined;
      const results = await this.#request<MultiOutcome>('multi', this.#rootPath, 'once', (client, done) => {
        const batch = new OwnWriteBatch(this.#watches, expanded);
        ownWrites = batch;
        const acls = this.#options.digest === undefined ? OPEN_WIRE_ACL : CREATOR_ALL_WIRE_ACL;
        const requests = expanded.map((op): MultiOperation => {
          switch (op.type) {
            case 'create':
              return {
                type: 'create',
                path: op.path,
                data: op.data ?? EMPTY,
                acls,
                mode: CreateMode.PERSISTENT,
              };
            case 'update':
              return { type: 'update', path: op.path, data: op.data ?? EMPTY, version: ANY_VERSION };
            case 'check':
              return { type: 'check', path: op.path, version: op.version };
            default:
              return { type: 'delete', path: op.path, version: ANY_VERSION };
          }
        });
        sendMulti(client, requests, (error, outcome) => {
          // Synchronously, before any later answer or notification is handled.
          const succeeded = outcome !== undefined && !outcome.some(failedResult);
          batch.settle(succeeded ? outcome : undefined, lastAnswerZxidOf(client));
          if (outcome !== undefined) done(null, { results: outcome });
          else done(error);
        });
      }).finally(() => ownWrites?.settle(undefined, undefined)); // never answered: unknown
      const failedIndex = results.results.findIndex(
        (result) => typeof result.err === 'number' && result.err !== 0,
      );
      if (failedIndex < 0) return;
      const failed = expanded[failedIndex] as ExpandedOperation;
      const code = (results.results[failedIndex] as MultiResult).err as number;
      const original = prepared[failed.originIndex] as PreparedOperation;
      const descendant = failed.path !== original.path;
      const subtreeRace =
        original.type === 'delete' &&
        (code === ZK_CODE.NOT_EMPTY || (descendant && code === ZK_CODE.NO_NODE));
      if (subtreeRace && attempt < MAX_RACE_ATTEMPTS) continue; // the subtree changed: list again
      let cause: RegistryError;
      if (code === ZK_CODE.BAD_VERSION) {
        const diagnosed = await diagnoseVersionFailure(failed, reads, relative);
        if (diagnosed === undefined && attempt < MAX_RACE_ATTEMPTS) continue; // rewritten, same value
        cause = diagnosed ?? valueMismatch(original.key, ' (it changed on every attempt)');
      } else {
        cause = registryErrorOfCode(code, `${failed.type} in a transaction`, this.#relative(failed.path));
      }
      if (cause.code === 'NO_AUTH') {
        throw new RegistryError(
          'NO_AUTH',
          `Transaction refused at operation #${failed.originIndex}: ${cause.message}`,
          {
            path: original.key,
            cause,
            failedOperationIndex: failed.originIndex,
          },
        );
      }
      throw transactionFailed(prepared, failed.originIndex, cause);
    }
  }

  /** Value and data version of a node, `undefined` when absent. */
  async #readNodeVersion(path: string): Promise<NodeVersion | undefined> {
    try {
      const { data, stat } = await this.#getData(path);
      return {
        value: data === null || data === undefined ? '' : data.toString('utf8'),
        version: stat.version,
      };
    } catch (error) {
      if (RegistryError.is(error, 'NO_NODE')) return undefined;
      throw error;
    }
  }

  /** A node's cached value and version, if a watch cache holds it with the `expected` value. */
  #cachedVersion(path: string, expected: string): NodeVersion | undefined {
    for (const watch of this.#watches.covering(path)) {
      const cached = watch.cachedVersion(path);
      if (cached !== undefined) return cached.value === expected ? cached : undefined;
    }
    return undefined;
  }

  /** A deleted node's descendants from the first watch cache that knows the node, if any. */
  #cachedDescendants(path: string): string[] | undefined {
    for (const watch of this.#watches.covering(path)) {
      const descendants = watch.cachedDescendants(path);
      if (descendants !== undefined) return descendants;
    }
    return undefined;
  }

  async #listDescendants(path: string): Promise<string[]> {
    let children: string[];
    try {
      children = await this.#getChildren(path);
    } catch (error) {
      if (RegistryError.is(error, 'NO_NODE')) return [];
      throw error;
    }
    const nested = await Promise.all(
      children.map(async (child) => {
        const childPath = `${path}/${child}`;
        return [childPath, ...(await this.#listDescendants(childPath))];
      }),
    );
    return nested.flat();
  }

  // ---------------------------------------------------------------------------------------------
  // Latch

  /**
   * Runs `callback` while holding the distributed latch at `latchKey` (ElasticJob's
   * `executeInLeader`, Curator's `LeaderLatch`): joins with an ephemeral-sequential node
   * `_c_{uuid}-latch-{seq}` below `latchKey`, waits (watching its predecessor) until it has the
   * lowest sequence, runs the callback, then deletes its node. Java ElasticJob clients on the same
   * ZooKeeper and namespace take part in the same queue.
   *
   * @param latchKey - latch path, e.g. `/orders/leader/election/latch`.
   * @param callback - work done while holding the latch.
   * @param options - `waitTimeoutMs` (default 30000) and an abort `signal`.
   * @returns the callback's result.
   * @throws {RegistryError} `TIMEOUT` when not acquired in time (the node is deleted first);
   *   `NOT_STARTED` when the client is closed meanwhile; the signal's reason when aborted; the
   *   callback's error unchanged, after the latch was released.
   */
  async executeInLeader<T>(
    latchKey: string,
    callback: () => Promise<T> | T,
    options: LeaderLatchOptions = {},
  ): Promise<T> {
    assertRegistryPath(latchKey);
    if (typeof callback !== 'function') throw new TypeError('executeInLeader expects a callback function');
    const waitTimeoutMs = options.waitTimeoutMs ?? 30_000;
    if (typeof waitTimeoutMs !== 'number' || Number.isNaN(waitTimeoutMs) || waitTimeoutMs < 0) {
      throw new TypeError(
        `executeInLeader: waitTimeoutMs must be a number ≥ 0, got ${String(waitTimeoutMs)}`,
      );
    }
    this.#assertStarted();
    if (options.signal?.aborted) throw options.signal.reason;
    const held = await acquireLatch(this.#latchHost(), {
      latchPath: this.#absolute(latchKey),
      deadline: Date.now() + waitTimeoutMs,
      waitTimeoutMs,
      signal: options.signal,
    });
    try {
      return await callback();
    } finally {
      await held.release();
    }
  }

  #latchHost(): LatchHost {
    return {
      connection: () => {
        this.#assertStarted();
        return this.#connection as ZookeeperConnection;
      },
      requestTimeoutMs: this.#options.connectionTimeoutMs,
      ensurePath: (path) => this.#ensurePath(path, true),
      acls: () => this.#acls(),
      relative: (path) => this.#relative(path),
      assertOpen: () => this.#assertStarted(),
      isOpen: () => this.#phase === 'started',
      onSessionChange: (callback) => {
        this.#sessionChangeCallbacks.add(callback);
        return () => {
          this.#sessionChangeCallbacks.delete(callback);
        };
      },
      reportBackgroundError: (error, message) => this.#reportBackgroundError(error, message),
    };
  }

  // ---------------------------------------------------------------------------------------------
  // Watches

  /**
   * Watches `key` and its subtree: delivers `ADDED` for every existing node (parents first)
   * before resolving, then `ADDED` / `UPDATED` / `DELETED` (with the last value) in commit order
   * per key. Built from a persistent recursive watch (ZooKeeper ≥ 3.6) or from one-shot
   * `getData`/`getChildren` watches re-armed after every trigger (option `watchMode`), with a
   * cache that also serves {@link get}. Survives reconnects within the session (the watches are
   * re-registered; a persistent watch is added again and the subtree re-read); after a new session
   * the subtree is re-read. Only the differences are delivered.
   *
   * @param key - subtree root (may be `/`, then the namespace node itself is reported as `/`).
   * @param listener - receives events synchronously; errors it throws are logged.
   * @returns a disposer; after it resolved no event is delivered.
   * @throws {RegistryError} `NOT_STARTED`; `NO_AUTH` when the subtree is not readable;
   *   `CONNECTION_LOSS` when the snapshot could not be read within `connectionTimeoutMs`;
   *   `NOT_SUPPORTED` when `watchMode` is `'persistent'` and the server is older than 3.6.
   */
  async watch(key: string, listener: RegistryWatchListener): Promise<RegistryUnwatch> {
    assertRegistryPath(key);
    if (typeof listener !== 'function') throw new TypeError('watch expects a listener function');
    this.#assertStarted();
    const mode = this.#watchMode;
    let watch: SubtreeWatch;
    try {
      watch = await this.#startWatch(key, listener, mode);
    } catch (error) {
      if (mode !== 'persistent' || this.#phase !== 'started') throw error;
      this.#watchMode = fallbackWatchMode(this.#options.watchMode, error);
      this.#log().warn(
        { key },
        'ZooKeeper refused persistent watches (server older than 3.6): this client uses one-shot watches',
      );
      watch = await this.#startWatch(key, listener, this.#watchMode);
    }
    return async () => {
      watch.dispose();
      this.#watches.delete(watch);
    };
  }

  /** Creates, registers and starts one subtree watch; unregisters it if it does not start. */
  async #startWatch(
    key: string,
    listener: RegistryWatchListener,
    mode: SubtreeWatchMode,
  ): Promise<SubtreeWatch> {
    const host: SubtreeWatchHost = {
      absolute: (k) => this.#absolute(k),
      relative: (path) => this.#relative(path),
      logger: () => this.#log(),
    };
    const watch = new SubtreeWatch(host, this.#connection as ZookeeperConnection, key, listener, mode);
    this.#watches.add(watch.rootPath, watch);
    try {
      await watch.start(this.#options.connectionTimeoutMs);
    } catch (error) {
      this.#watches.delete(watch);
      watch.dispose();
      if (this.#phase === 'closed') {
        throw new RegistryError('NOT_STARTED', 'The ZooKeeper registry client was closed', {
          path: key,
          cause: error,
        });
      }
      throw error;
    }
    return watch;
  }
}

interface MultiOutcome {
  readonly results: MultiResult[];
}

function encodeValue(key: string, value: unknown): Buffer {
  if (typeof value !== 'string') {
    throw new TypeError(`The value for '${key}' must be a string, got ${typeof value}`);
  }
  const data = Buffer.from(value, 'utf8');
  if (data.length > MAX_VALUE_BYTES) {
    throw new TypeError(
      `The value for '${key}' is ${data.length} bytes as UTF-8; ZooKeeper nodes hold at most ${MAX_VALUE_BYTES}`,
    );
  }
  return data;
}

function prepareOperation(
  operation: RegistryTransactionOperation,
  index: number,
  absolute: (key: string) => string,
): PreparedOperation {
  if (operation === null || typeof operation !== 'object') {
    throw new TypeError(`Transaction operation #${index} must be an object`);
  }
  const { type, key } = operation;
  if (type !== 'check' && type !== 'create' && type !== 'update' && type !== 'delete') {
    throw new TypeError(
      `Transaction operation #${index} has type ${JSON.stringify(type)}; accepted: check, create, update, delete`,
    );
  }
  assertRegistryPath(key);
  const path = absolute(key);
  let data: Buffer | undefined;
  let expected: string | undefined;
  if (type === 'create') data = encodeValue(key, operation.value ?? '');
  if (type === 'update') data = encodeValue(key, operation.value);
  if (type === 'check' && operation.value !== undefined) {
    encodeValue(key, operation.value);
    expected = operation.value;
  }
  return { index, type, key, path, data, expected };
}

function transactionFailed(
  prepared: readonly PreparedOperation[],
  index: number,
  cause: RegistryError,
): RegistryError {
  const original = prepared[index] as PreparedOperation;
  return new RegistryError(
    'TRANSACTION_FAILED',
    `Transaction failed at operation #${index} (${original.type} '${original.key}'): ${cause.message}; nothing was committed`,
    { path: original.key, cause, failedOperationIndex: index },
  );
}

/** ZooKeeper's error result of one operation of a multi (type -1, a code other than OK). */
function failedResult(result: MultiResult): boolean {
  return result.type === ERROR_RESULT_TYPE && typeof result.err === 'number' && result.err !== 0;
}
