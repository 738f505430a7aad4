/**
 * {@link RedisRegistryCenter}: the registry contract on Redis through ioredis.
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
  REGISTRY_CLOSE_GRACE_MS,
  type RedisRegistryConfiguration,
  type RegistryCapabilities,
  type RegistryConnectionState,
  type RegistryConnectionStateListener,
  RegistryError,
  type RegistryTransactionOperation,
  type RegistryUnwatch,
  type RegistryWatchListener,
  settledWithinMs,
  sortChildrenDescending,
  TransactionCoalescer,
} from '@elasticjob-ts/core/adapter';
import type { ChangeFeed } from './change-feed.js';
import { callScript, connectWithin, createConnection, type RedisConnection } from './connection.js';
import { createChangeFeed } from './feed-setup.js';
import { executeInLatch } from './leader-latch.js';
import {
  CLOSE_SESSION,
  PERSIST,
  PERSIST_EPHEMERAL,
  PERSIST_SEQUENTIAL,
  READ,
  REMOVE,
  type RegistryScript,
  SNAPSHOT,
  TOUCH_TIME,
  UPDATE,
} from './lua.js';
import { CHANGE_FEED_MAX_LENGTH, type ResolvedRedisOptions, resolveRedisOptions } from './options.js';
import { assertSupportedServer } from './server-version.js';
import { RedisSession } from './session.js';
import { type SubtreeSnapshot, SubtreeWatch } from './subtree-watch.js';
import { toRegistryError } from './to-registry-error.js';
import { encodeTransaction, runTransaction } from './transaction.js';

/**
 * The most operations of one transaction, and of one script call merged from several: one script
 * of 1,000 operations keeps the server busy for about a millisecond.
 */
const COALESCED_TRANSACTION_MAX_OPERATIONS = 1000;

/** Extra, non-configuration options of {@link RedisRegistryCenter}. */
export interface RedisRegistryCenterOptions {
  /**
   * Where background failures (a throwing listener, a failed heartbeat other than a connection
   * loss, a session that could not be ended on close) are logged.
   * @defaultValue core's default pino logger, created on first use
   */
  readonly logger?: Logger;
}

type Lifecycle = 'new' | 'starting' | 'started' | 'closed';

function assertValue(value: unknown, method: string): asserts value is string {
  if (typeof value !== 'string')
    throw new TypeError(`${method}: value must be a string, got ${typeof value}`);
}

/**
 * The Redis registry center.
 *
 * Every node is a field of one hash per namespace (implicit parents included); each node's child
 * names are a set; every write is one Lua script that also appends the change to the namespace's
 * stream (the change feed watches read). All keys of a namespace share the `{namespace}` hash tag,
 * so the scripts work on Redis Cluster too. See the package README for sessions, the durability
 * caveat and the key layout.
 *
 * @example
 * ```ts
 * const registry = new RedisRegistryCenter({ type: 'redis', url: 'redis://127.0.0.1:6379', namespace: 'demo' });
 * await registry.start();
 * await registry.persistEphemeral('/orders/instances/host@-@1', 'jobInstanceId: host@-@1');
 * await registry.close();
 * ```
 */
export class RedisRegistryCenter implements CoordinatorRegistryCenter {
  /** Authentication is enforced (Redis ACL users); server time has a 1 ms resolution (`TIME`). */
  readonly capabilities: RegistryCapabilities = {
    authentication: true,
    registryCenterTimeResolutionMs: 1,
    maxTransactionOperations: COALESCED_TRANSACTION_MAX_OPERATIONS,
  };
  /** The namespace (the hash tag of every key). */
  readonly namespace: string;

  private readonly options: ResolvedRedisOptions;
  private readonly loggerOption: Logger | undefined;
  private loggerValue: Logger | undefined;
  private lifecycle: Lifecycle = 'new';
  private connection: RedisConnection | undefined;
  private feed: ChangeFeed | undefined;
  private session: RedisSession | undefined;
  private readonly stateListeners = new Set<RegistryConnectionStateListener>();
  private readonly watches = new Set<SubtreeWatch>();
  private readonly cleanups = new Set<() => void>();
  /** The rejections of the script calls waiting for an answer (see {@link script}). */
  private readonly pendingCalls = new Set<(error: unknown) => void>();
  /** Transactions of one event-loop turn go as one script call (see `TransactionCoalescer`). */
  readonly #transactions = new TransactionCoalescer(
    (operations) => this.#commitTransaction(operations),
    () => new CountingTransactionMeter(COALESCED_TRANSACTION_MAX_OPERATIONS),
  );

  /**
   * Builds an unstarted client.
   *
   * @param configuration - URL, namespace, session, connection and command timeouts (defaults
   *   60 000, 15 000 and 5 000 ms), credentials, TLS.
   * @param options - logger.
   * @throws {RegistryConfigurationError} naming the invalid field and the accepted values.
   */
  constructor(configuration: RedisRegistryConfiguration, options: RedisRegistryCenterOptions = {}) {
    this.options = resolveRedisOptions(configuration);
    this.namespace = this.options.namespace;
    this.loggerOption = options.logger;
  }

  /**
   * The id of the current session, `undefined` before `start()`, after `LOST` until a new session
   * is open, and after `close()`. For operators and tests: setting its deadline in the namespace's
   * `s` sorted set to 0 expires it.
   */
  get sessionId(): string | undefined {
    return this.lifecycle === 'started' ? this.session?.sessionId : undefined;
  }

  /** The key prefix of this namespace, `elasticjob:{namespace}:` (see the package README). */
  get keyPrefix(): string {
    return this.options.keyPrefix;
  }

  private get logger(): Logger {
    this.loggerValue ??= (this.loggerOption ?? createDefaultLogger()).child({
      registry: 'redis',
      namespace: this.namespace,
    });
    return this.loggerValue;
  }

  private readonly reportError = (message: string, error: unknown): void => {
    this.logger.warn({ err: error }, message);
  };

  /**
   * Connects (a command connection and a change-feed connection), opens the session, then reports
   * `CONNECTED`.
   *
   * @throws {RegistryError} `TIMEOUT` naming the URL when no server answers within
   *   `connectionTimeoutMs`; `NO_AUTH` when credentials are missing or refused; `CONNECTION_LOSS`
   *   at once, naming the TLS error, when the server's certificate does not verify (wrong or
   *   missing `tls.ca`, a host the certificate does not name); `NOT_SUPPORTED` naming the version
   *   when the server is older than Redis 7.0; `INVALID_STATE` when already started or closed.
   */
  async start(): Promise<void> {
    if (this.lifecycle !== 'new') {
      throw new RegistryError('INVALID_STATE', `Redis registry cannot start: it is ${this.lifecycle}`);
    }
    this.lifecycle = 'starting';
    const { options } = this;
    const connection = createConnection(options);
    const { feed, feedConnection } = createChangeFeed({
      options,
      connection,
      position: async () => {
        const snapshot = await this.snapshot('', connection);
        return { id: snapshot.id, revision: snapshot.revision, epoch: snapshot.epoch };
      },
      onError: this.reportError,
    });
    const session = new RedisSession({
      connection,
      keyPrefix: options.keyPrefix,
      maxFeedLength: CHANGE_FEED_MAX_LENGTH,
      sessionTimeoutMs: options.sessionTimeoutMs,
      report: (state) => this.emitState(state),
      onError: this.reportError,
      onRevision: (revision) => feed.observeRevision(revision),
    });
    const abandon = (): void => {
      session.stop();
      connection.disconnect();
      feedConnection.disconnect();
    };
    try {
      const failures = await Promise.all([
        connectWithin(connection, options.connectionTimeoutMs),
        connectWithin(feedConnection, options.connectionTimeoutMs),
      ]);
      const failure = failures.find((candidate) => candidate !== undefined);
      if (failure !== undefined) {
        if (failure.kind === 'tls') {
          const code = (failure.error as NodeJS.ErrnoException).code;
          throw new RegistryError(
            'CONNECTION_LOSS',
            `Could not connect to Redis at ${options.displayUrl}: its TLS certificate was refused (${code}: ${failure.error.message}); give the CA that signed it as 'tls.ca', and a host the certificate names in the URL`,
            { cause: failure.error },
          );
        }
        if (
          failure.kind === 'timeout' ||
          toRegistryError(failure.error, 'start').code === 'CONNECTION_LOSS'
        ) {
          throw new RegistryError(
            'TIMEOUT',
            `Could not connect to Redis at ${options.displayUrl} within ${options.connectionTimeoutMs} ms${failure.kind === 'error' ? `: ${failure.error.message}` : ''}`,
            failure.kind === 'error' ? { cause: failure.error } : {},
          );
        }
        throw toRegistryError(failure.error, 'start');
      }
      await assertSupportedServer(connection, options.displayUrl);
      await session.open();
      await feed.start();
    } catch (error) {
      abandon();
      await feed.close();
      const closed = (this.lifecycle as Lifecycle) === 'closed';
      if (!closed) this.lifecycle = 'new';
      if (closed) throw new RegistryError('NOT_STARTED', 'The Redis registry was closed while starting');
      throw toRegistryError(error, 'start');
    }
    if (this.lifecycle !== 'starting') {
      abandon();
      await feed.close();
      throw new RegistryError('NOT_STARTED', 'The Redis registry was closed while starting');
    }
    this.connection = connection;
    this.session = session;
    this.feed = feed;
    this.lifecycle = 'started';
    this.emitState('CONNECTED');
  }

  /**
   * Ends the session on the server (its ephemeral nodes disappear for everyone at once), stops
   * watches and latch waits, and disconnects. Waits at most `min(connectionTimeoutMs,
   * REGISTRY_CLOSE_GRACE_MS)` for the server; a session that cannot be ended in time (server
   * unreachable) expires after its timeout. Calls still waiting then reject with `NOT_STARTED`.
   * Idempotent; reports no state change.
   */
  async close(): Promise<void> {
    if (this.lifecycle === 'closed') return;
    this.lifecycle = 'closed';
    for (const cleanup of [...this.cleanups]) cleanup();
    this.cleanups.clear();
    for (const watch of this.watches) watch.stop();
    this.watches.clear();
    const sessionId = this.session?.stop();
    const connection = this.connection;
    const endSession = async (): Promise<void> => {
      if (sessionId === undefined || connection === undefined || connection.status !== 'ready') return;
      try {
        await this.script(connection, CLOSE_SESSION, [sessionId]);
      } catch (error) {
        this.reportError('Could not end the Redis session on close; it expires after its timeout', error);
      }
    };
    await settledWithinMs(
      [endSession(), this.feed?.close()],
      Math.min(this.options.connectionTimeoutMs, REGISTRY_CLOSE_GRACE_MS),
    );
    for (const fail of [...this.pendingCalls]) {
      fail(
        new RegistryError(
          'NOT_STARTED',
          'the Redis registry client was closed before the request was answered',
        ),
      );
    }
    this.pendingCalls.clear();
    connection?.disconnect();
  }

  /**
   * A node's value, read from the server (this adapter keeps no read cache, so `get` is as fresh
   * as {@link getDirectly}).
   *
   * @param key - node path.
   * @returns the value, `''` for an implicit parent, `undefined` when absent.
   * @throws {RegistryError} `NOT_STARTED`, connection codes, `NO_AUTH`.
   */
  get(key: string): Promise<string | undefined> {
    return this.getDirectly(key);
  }

  /**
   * A node's value, read from the server.
   *
   * @param key - node path.
   * @returns the value, `''` for an implicit parent, `undefined` when absent.
   * @throws {RegistryError} `NOT_STARTED`, connection codes, `NO_AUTH`.
   */
  async getDirectly(key: string): Promise<string | undefined> {
    assertRegistryPath(key);
    const value = await this.run(READ, 'getDirectly', key, ['get', key]);
    return value === null ? undefined : String(value);
  }

  /**
   * Whether a node exists.
   *
   * @param key - node path.
   * @throws {RegistryError} `NOT_STARTED`, connection codes, `NO_AUTH`.
   */
  async isExisted(key: string): Promise<boolean> {
    assertRegistryPath(key);
    return Number(await this.run(READ, 'isExisted', key, ['exists', key])) === 1;
  }

  /**
   * Resolves once the server is known to hold this client's session: at once while the latest
   * accepted heartbeat (sent less than `sessionTimeoutMs` ago) proves it, else after one more
   * heartbeat.
   *
   * @throws {RegistryError} `SESSION_EXPIRED`, `CONNECTION_LOSS`, `NOT_STARTED`.
   */
  async confirmSession(): Promise<void> {
    this.requireStarted(undefined);
    await (this.session as RedisSession).confirm('/');
  }

  /**
   * Whether {@link confirmSession} would resolve at once now: started, and the latest accepted
   * heartbeat was sent less than `sessionTimeoutMs` ago. Never throws.
   */
  isSessionProven(): boolean {
    return this.lifecycle === 'started' && this.connection !== undefined && this.session?.proven() === true;
  }

  /**
   * Names of the direct children of `key`, sorted descending by UTF-16 code units (ElasticJob's
   * order).
   *
   * @param key - parent path.
   * @returns child names; `[]` when absent.
   * @throws {RegistryError} `NOT_STARTED`, connection codes, `NO_AUTH`.
   */
  async getChildrenKeys(key: string): Promise<string[]> {
    assertRegistryPath(key);
    return sortChildrenDescending(
      (await this.run(READ, 'getChildrenKeys', key, ['children', key])) as string[],
    );
  }

  /**
   * Number of direct children of `key`; 0 when absent.
   *
   * @param key - parent path.
   * @throws {RegistryError} `NOT_STARTED`, connection codes, `NO_AUTH`.
   */
  async getNumChildren(key: string): Promise<number> {
    assertRegistryPath(key);
    return Number(await this.run(READ, 'getNumChildren', key, ['count', key]));
  }

  /**
   * Insert-or-update a persistent node, creating missing parents, in one script. An existing
   * ephemeral node keeps its owner (as ZooKeeper's `setData`).
   *
   * @param key - node path (not `/`).
   * @param value - new value.
   * @throws {RegistryError} `NOT_STARTED`, connection codes, `NO_AUTH`.
   */
  async persist(key: string, value: string): Promise<void> {
    assertRegistryPath(key, false);
    assertValue(value, 'persist');
    await this.run(PERSIST, 'persist', key, [key, value]);
  }

  /**
   * Sets the value of an existing node.
   *
   * @param key - node path.
   * @param value - new value.
   * @throws {RegistryError} `NO_NODE` when absent; `NOT_STARTED`, connection codes, `NO_AUTH`.
   */
  async update(key: string, value: string): Promise<void> {
    assertRegistryPath(key);
    assertValue(value, 'update');
    await this.run(UPDATE, 'update', key, [key, value]);
  }

  /**
   * Creates (or replaces, with its subtree) a node owned by this client's session.
   *
   * @param key - node path (not `/`).
   * @param value - value.
   * @throws {RegistryError} `SESSION_EXPIRED` while the session is lost; `NOT_STARTED`, connection
   *   codes, `NO_AUTH`.
   */
  async persistEphemeral(key: string, value: string): Promise<void> {
    assertRegistryPath(key, false);
    assertValue(value, 'persistEphemeral');
    this.requireStarted(key);
    const sessionId = this.requireSession(key);
    await this.run(PERSIST_EPHEMERAL, 'persistEphemeral', key, [sessionId, key, value]);
  }

  /**
   * Creates a persistent node named `key` + a 10-digit suffix from the parent's counter.
   *
   * @param key - path prefix.
   * @param value - value.
   * @returns the created path.
   * @throws {RegistryError} `NOT_STARTED`, connection codes, `NO_AUTH`.
   */
  async persistSequential(key: string, value: string): Promise<string> {
    assertRegistryPath(key, false);
    assertValue(value, 'persistSequential');
    return String(await this.run(PERSIST_SEQUENTIAL, 'persistSequential', key, ['', key, value]));
  }

  /**
   * Like {@link persistSequential}, owned by this client's session, with value `''`.
   *
   * @param key - path prefix.
   * @returns the created path.
   * @throws {RegistryError} `SESSION_EXPIRED` while the session is lost; `NOT_STARTED`, connection
   *   codes, `NO_AUTH`.
   */
  async persistEphemeralSequential(key: string): Promise<string> {
    assertRegistryPath(key, false);
    this.requireStarted(key);
    const sessionId = this.requireSession(key);
    return String(
      await this.run(PERSIST_SEQUENTIAL, 'persistEphemeralSequential', key, [sessionId, key, '']),
    );
  }

  /**
   * Deletes a node and its subtree (prefix-safe: children are tracked by name); absent is fine.
   *
   * @param key - node path (not `/`).
   * @throws {RegistryError} `NOT_STARTED`, connection codes, `NO_AUTH`.
   */
  async remove(key: string): Promise<void> {
    assertRegistryPath(key, false);
    await this.run(REMOVE, 'remove', key, [key]);
  }

  /**
   * The server's clock (`TIME`, microseconds truncated to ms), read by the script that writes the
   * scratch node `key` (value `''`, parents created), in one round trip.
   *
   * @param key - the scratch node, e.g. `/orders/systemTime/current` (not `/`).
   * @returns epoch ms.
   * @throws {RegistryError} `NOT_STARTED`, connection codes, `NO_AUTH`.
   */
  async getRegistryCenterTime(key: string): Promise<number> {
    assertRegistryPath(key, false);
    return Number(await this.run(TOUCH_TIME, 'getRegistryCenterTime', key, [key]));
  }

  /**
   * Runs every operation in one Lua script: all are validated against the state the earlier ones
   * leave, then all are applied, or none. Transactions asked for in the same event-loop turn are
   * sent as one script call, with the semantics of running them one after another (see
   * `TransactionCoalescer` in core).
   *
   * @param operations - check (optionally with `value`), create, update, delete.
   * @throws {RegistryError} `TRANSACTION_FAILED` with `failedOperationIndex`, the op's `path` and a
   *   `cause` (`NO_NODE`, `NODE_EXISTS`, `VALUE_MISMATCH`); `NOT_STARTED`, connection codes.
   * @throws {TypeError} naming an invalid operation or key (nothing is committed).
   */
  async executeInTransaction(operations: readonly RegistryTransactionOperation[]): Promise<void> {
    const encoded = encodeTransaction(operations);
    this.requireStarted(encoded.paths[0]);
    if (encoded.paths.length === 0) return;
    await this.#transactions.execute(operations);
  }

  /** One script call for validated operations (of one transaction, or of several merged). */
  async #commitTransaction(operations: readonly RegistryTransactionOperation[]): Promise<void> {
    const encoded = encodeTransaction(operations);
    const connection = this.requireStarted(encoded.paths[0]);
    await runTransaction((args) => this.script(connection, encoded.script, args), encoded);
  }

  /**
   * Distributed mutual exclusion: a fair queue of ephemeral sequential nodes below `latchKey`.
   *
   * @param latchKey - latch path.
   * @param callback - work done while holding the latch.
   * @param options - bounded wait (default 30 000 ms) and abort signal.
   * @returns the callback's result.
   * @throws {RegistryError} `TIMEOUT`, `SESSION_EXPIRED`, `NOT_STARTED`, connection codes; the
   *   signal's reason when aborted; whatever the callback throws (after release).
   */
  async executeInLeader<T>(
    latchKey: string,
    callback: () => Promise<T> | T,
    options?: LeaderLatchOptions,
  ): Promise<T> {
    assertRegistryPath(latchKey);
    this.requireStarted(latchKey);
    const feed = this.feed as ChangeFeed;
    const session = this.session as RedisSession;
    return executeInLatch(
      {
        feed,
        session,
        createNode: (prefix) => this.persistEphemeralSequential(prefix),
        children: (path) => this.getChildrenKeys(path),
        deleteNode: async (path) => {
          try {
            await this.remove(path);
          } catch (error) {
            // A closed client's node went with its session; otherwise it goes when the session ends.
            if (!RegistryError.is(error, 'NOT_STARTED')) {
              this.reportError(`could not delete latch node '${path}'; it goes with the session`, error);
            }
          }
        },
        track: (cleanup) => this.track(cleanup),
      },
      latchKey,
      callback,
      options,
    );
  }

  /**
   * Watches `key` and its subtree: an initial snapshot as `ADDED` events, then every change from
   * the change feed, in commit order, none lost across reconnects.
   *
   * @param key - subtree root (may be `/`).
   * @param listener - receives the events.
   * @returns a function that stops the watch.
   * @throws {RegistryError} `NOT_STARTED`, connection codes, `NO_AUTH`.
   */
  async watch(key: string, listener: RegistryWatchListener): Promise<RegistryUnwatch> {
    assertRegistryPath(key);
    if (typeof listener !== 'function') throw new TypeError('watch: listener must be a function');
    this.requireStarted(key);
    const feed = this.feed as ChangeFeed;
    const watch = new SubtreeWatch(key, listener, (root) => this.snapshot(root), this.reportError);
    const unsubscribe = feed.subscribe(watch);
    this.watches.add(watch);
    try {
      await watch.initialize();
    } catch (error) {
      watch.stop();
      unsubscribe();
      this.watches.delete(watch);
      throw toRegistryError(error, 'watch', key);
    }
    return async () => {
      watch.stop();
      unsubscribe();
      this.watches.delete(watch);
    };
  }

  /**
   * Registers a connection state listener.
   *
   * @param listener - called on every state change, in order.
   * @returns a function that removes it.
   */
  addConnectionStateListener(listener: RegistryConnectionStateListener): () => void {
    this.stateListeners.add(listener);
    return () => {
      this.stateListeners.delete(listener);
    };
  }

  /** A subtree snapshot (`''`: none, the feed position only) with the feed position and epoch. */
  private async snapshot(
    root: string,
    connection = this.requireStarted(root === '' ? undefined : root),
  ): Promise<SubtreeSnapshot & { readonly epoch: string | undefined }> {
    let reply: string[];
    try {
      reply = (await this.script(connection, SNAPSHOT, [root])) as string[];
    } catch (error) {
      throw toRegistryError(error, 'watch', root === '' ? undefined : root);
    }
    const nodes: Array<[string, string]> = [];
    for (let i = 3; i + 1 < reply.length; i += 2) nodes.push([reply[i] as string, reply[i + 1] as string]);
    return {
      id: reply[0] as string,
      revision: Number(reply[1]),
      epoch: reply[2] === '' ? undefined : reply[2],
      nodes,
    };
  }

  private emitState(state: RegistryConnectionState): void {
    if (this.lifecycle === 'closed') return;
    for (const listener of [...this.stateListeners]) {
      try {
        listener(state);
      } catch (error) {
        this.reportError('connection state listener threw', error);
      }
    }
  }

  private track(cleanup: () => void): () => void {
    this.cleanups.add(cleanup);
    return () => this.cleanups.delete(cleanup);
  }

  private requireStarted(path: string | undefined): RedisConnection {
    if (this.lifecycle !== 'started' || this.connection === undefined) {
      throw new RegistryError(
        'NOT_STARTED',
        `Redis registry is ${this.lifecycle === 'closed' ? 'closed' : 'not started'}`,
        path === undefined ? {} : { path },
      );
    }
    return this.connection;
  }

  private requireSession(path: string): string {
    return (this.session as RedisSession).require(path);
  }

  /**
   * Calls a registry script; the call is failed by {@link close} if it is still waiting then (a
   * disconnected client would otherwise hold it until its command timeout).
   */
  private script(
    connection: RedisConnection,
    script: RegistryScript,
    args: ReadonlyArray<string | number>,
  ): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.pendingCalls.add(reject);
      callScript(connection, script, this.options.keyPrefix, CHANGE_FEED_MAX_LENGTH, args).then(
        (reply) => {
          this.pendingCalls.delete(reject);
          resolve(reply);
        },
        (error: unknown) => {
          this.pendingCalls.delete(reject);
          reject(error);
        },
      );
    });
  }

  private async run(
    script: RegistryScript,
    operation: string,
    path: string,
    args: ReadonlyArray<string | number>,
  ): Promise<unknown> {
    const connection = this.requireStarted(path);
    try {
      return await this.script(connection, script, args);
    } catch (error) {
      throw toRegistryError(error, operation, path);
    }
  }
}
