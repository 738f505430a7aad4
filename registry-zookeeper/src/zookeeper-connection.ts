/**
 * One `node-zookeeper-client` client (= one ZooKeeper session) with what the adapter needs around
 * it: promise-based calls that are tracked so they can be failed when the session is abandoned,
 * per-call bounds, connection waits, and a close that leaves no socket or timer behind.
 *
 * Everything that touches the library's internals lives in this file (`node-zookeeper-client` is
 * pinned at 1.1.3 and dormant): its reconnect loop keeps an untracked spin-delay timer and a
 * connect-timeout timer that a plain `close()` does not always clear.
 *
 * @module
 */
import { RegistryError } from '@elasticjob-ts/core/adapter';
import * as zookeeper from 'node-zookeeper-client';
import { adaptLibraryExceptions, ZK_NO_WATCHER } from './library-exceptions.js';
import { multiReplyDecoderOf } from './multi-request.js';
import { NamespaceWatch } from './namespace-watch.js';
import { PacketFramer } from './packet-framer.js';
import { PersistentWatchDispatcher, type PersistentWatchHandler } from './persistent-watch-dispatcher.js';
import {
  addPersistentRecursiveWatch,
  hookNotifications,
  removeAllWatches,
} from './persistent-watch-protocol.js';
import { toRegistryError, zookeeperCodeOf } from './to-registry-error.js';

/** Callback shape the adapter hands to {@link ZookeeperConnection.call}'s `invoke`. */
export type CallDone<R> = (error: unknown, result?: R) => void;

/** What a connection reports about its session. */
export interface ZookeeperConnectionEvents {
  /** The session was re-established after a disconnect (not called for the first connect). */
  onReconnected(connection: ZookeeperConnection): void;
  /** The socket to the server was lost; the session may still be alive. */
  onDisconnected(connection: ZookeeperConnection): void;
  /** The server reported the session expired (only once the client reached a server again). */
  onExpired(connection: ZookeeperConnection): void;
}

/** Options of a {@link ZookeeperConnection}. */
export interface ZookeeperConnectionOptions {
  /** `host:port,...`. */
  readonly serverLists: string;
  /** Requested session timeout in ms. */
  readonly sessionTimeoutMs: number;
  /** Upper bound of the random pause between two rounds of connect attempts, in ms. */
  readonly spinDelayMs: number;
  /** `user:password` for `addAuthInfo('digest', ...)`. */
  readonly digestCredentials?: string | undefined;
  /** Re-attach to an existing session (used to force its expiry). */
  readonly session?: { readonly id: Buffer; readonly password: Buffer } | undefined;
  /** State callbacks; none for helper connections. */
  readonly events?: ZookeeperConnectionEvents | undefined;
  /**
   * Absolute path of the namespace root: {@link ZookeeperConnection.watchPersistently} keeps one
   * server-side persistent recursive watch there for every watched subtree below it (see
   * `namespace-watch.ts`). @defaultValue `'/'` (helper connections, which watch nothing)
   */
  readonly persistentWatchRoot?: string | undefined;
}

/** The library's `ConnectionManager` state while a connection attempt is under way. */
const CONNECTING_STATE = 1;

/** Upper bound of the session handshake (connect request → answer), in ms. */
const HANDSHAKE_TIMEOUT_CAP_MS = 3_000;

interface PendingCall {
  readonly fail: (error: RegistryError) => void;
}

/** The parts of the library's `ConnectionManager` this module touches. */
interface ConnectionManagerInternals {
  socket?: { destroy(): void; cork?(): void; uncork?(): void };
  connectTimeoutHandler?: ReturnType<typeof setTimeout> | null;
  servers?: unknown[];
  serverAttempts?: number;
  findNextServer?: (callback: (server: unknown) => void) => void;
  onSocketData?: (chunk: unknown) => unknown;
  onSocketConnected?: (...args: unknown[]) => unknown;
  state?: number;
  packetQueue?: { queue?: unknown[] };
}

/**
 * One ZooKeeper client and session. Created unconnected; {@link connect} starts connecting, and
 * the library keeps reconnecting (to the same session) until the session expires or the
 * connection is closed.
 */
export class ZookeeperConnection {
  /** The underlying client; used by the adapter's operations only through {@link call}. */
  readonly client: zookeeper.Client;
  readonly #options: ZookeeperConnectionOptions;
  readonly #pending = new Set<PendingCall>();
  readonly #connectWaiters = new Set<{ resolve: () => void; reject: (error: RegistryError) => void }>();
  readonly #manager: ConnectionManagerInternals | undefined;
  #closed = false;
  #closing: Promise<void> | undefined;
  #everConnected = false;
  #connected = false;
  #expired = false;
  #spinTimer: ReturnType<typeof setTimeout> | undefined;
  #readTimer: ReturnType<typeof setInterval> | undefined;
  #handshakeTimer: ReturnType<typeof setTimeout> | undefined;
  #lastReceivedAt = 0;
  /** The socket {@link #batchWritesOfThisTurn} corked in the current turn, if any. */
  #corkedSocket: ConnectionManagerInternals['socket'];
  /** See {@link sessionProvenUntilMs}. */
  #sessionProvenUntilMs = Number.NEGATIVE_INFINITY;
  #persistentWatches: PersistentWatchDispatcher | undefined;
  /** The server-side watch over the namespace that every subtree watch relies on. */
  readonly #namespaceWatch: NamespaceWatch;

  /** @param options - servers, session timeout, credentials, state callbacks. */
  constructor(options: ZookeeperConnectionOptions) {
    this.#options = options;
    adaptLibraryExceptions();
    const root = options.persistentWatchRoot ?? '/';
    this.#namespaceWatch = new NamespaceWatch(root, (done) =>
      this.send<void>(
        'addWatch',
        '/',
        undefined,
        (client, sent) => addPersistentRecursiveWatch(client, root, (error) => sent(error)),
        done,
      ),
    );
    const clientOptions: Record<string, unknown> = {
      sessionTimeout: options.sessionTimeoutMs,
      spinDelay: options.spinDelayMs,
      retries: 0,
    };
    if (options.session !== undefined) {
      clientOptions.sessionId = options.session.id;
      clientOptions.sessionPassword = options.session.password;
    }
    this.client = zookeeper.createClient(options.serverLists, clientOptions);
    this.#manager = (
      this.client as unknown as { connectionManager?: ConnectionManagerInternals }
    ).connectionManager;
    this.#trackSpinDelay();
    this.#trackReceivedData();
    this.#trackHandshake();
    if (options.digestCredentials !== undefined) {
      this.client.addAuthInfo('digest', Buffer.from(options.digestCredentials, 'utf8'));
    }
    this.client.on('connected', () => this.#onConnected());
    this.client.on('disconnected', () => this.#onDisconnected());
    this.client.on('expired', () => this.#onExpired());
    this.client.on('authenticationFailed', () => this.#onAuthenticationFailed());
  }

  /** Whether the client is connected right now. */
  get connected(): boolean {
    return this.#connected && !this.#closed;
  }

  /** Whether {@link close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Whether the server reported this session expired. */
  get expired(): boolean {
    return this.#expired;
  }

  /** Whether the session was established at least once. */
  get everConnected(): boolean {
    return this.#everConnected;
  }

  /**
   * Until when the server is known to hold this connection's session, on the `performance.now()`
   * timeline (ms): the send time of the latest request answered successfully, plus the negotiated
   * session timeout. A request answered on the session reached the server after it was sent, and
   * ZooKeeper expires a session only after the session timeout without hearing from its client.
   * Every successful answer of {@link send} renews it, so a client that talks to the server at
   * least once per session timeout never needs a round trip of its own to prove its session.
   *
   * @returns the bound, or `-Infinity` before any answer and once the session has expired or the
   *   connection is closed.
   */
  sessionProvenUntilMs(): number {
    return this.#expired || this.#closed ? Number.NEGATIVE_INFINITY : this.#sessionProvenUntilMs;
  }

  /** The session id (8 bytes; zeros before the first connect). */
  sessionId(): Buffer {
    return this.client.getSessionId();
  }

  /** The session password (16 bytes). */
  sessionPassword(): Buffer {
    return this.client.getSessionPassword();
  }

  /** The session timeout the server granted, in ms (the requested one before the first connect). */
  negotiatedSessionTimeoutMs(): number {
    return this.client.getSessionTimeout();
  }

  /** Starts connecting. */
  connect(): void {
    this.client.connect();
  }

  /**
   * Resolves once the session is established (at once if it is).
   *
   * @param timeoutMs - bound in ms; `undefined` waits until connected or closed.
   * @param describeTimeout - message of the `TIMEOUT` error.
   * @throws {RegistryError} `TIMEOUT` after `timeoutMs`; `NO_AUTH` when the server refused the
   *   credentials; `SESSION_EXPIRED` when the re-attached session was already gone; `NOT_STARTED`
   *   when the connection was closed meanwhile.
   */
  waitConnected(timeoutMs: number | undefined, describeTimeout: () => string): Promise<void> {
    if (this.#closed) return Promise.reject(closedError());
    if (this.#connected) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const waiter = {
        resolve: () => {
          if (timer !== undefined) clearTimeout(timer);
          this.#connectWaiters.delete(waiter);
          resolve();
        },
        reject: (error: RegistryError) => {
          if (timer !== undefined) clearTimeout(timer);
          this.#connectWaiters.delete(waiter);
          reject(error);
        },
      };
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => waiter.reject(new RegistryError('TIMEOUT', describeTimeout())), timeoutMs);
      }
      this.#connectWaiters.add(waiter);
    });
  }

  /**
   * Runs one client call as a promise (see {@link send}).
   *
   * @param operation - name for error messages, e.g. `getData`.
   * @param path - namespace-relative key for errors.
   * @param timeoutMs - bound in ms (see {@link send}); `undefined` for no bound.
   * @param invoke - issues the library call and reports through `done`.
   * @returns the result passed to `done`.
   * @throws {RegistryError} the mapped vendor error.
   */
  call<R>(
    operation: string,
    path: string | undefined,
    timeoutMs: number | undefined,
    invoke: (client: zookeeper.Client, done: CallDone<R>) => void,
  ): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.send<R>(operation, path, timeoutMs, invoke, (error, result) => {
        if (error === undefined) resolve(result as R);
        else reject(error);
      });
    });
  }

  /**
   * Runs one client call and reports its outcome **synchronously** from the library's callback,
   * so that answers and watch notifications are handled in the order the server sent them (a
   * promise would defer answers behind notifications). The call is tracked: {@link abandon} and
   * {@link close} fail it if the library never answers (requests queued while disconnected are
   * otherwise kept until a reconnect that may never come).
   *
   * @param operation - name for error messages, e.g. `getData`.
   * @param path - namespace-relative key for errors.
   * @param timeoutMs - bound in ms after which the call fails with `CONNECTION_LOSS` (its request
   *   may still be sent later); `undefined` for no bound.
   * @param invoke - issues the library call and reports through `done`.
   * @param callback - receives the mapped error, or `undefined` and the result; called once.
   */
  send<R>(
    operation: string,
    path: string | undefined,
    timeoutMs: number | undefined,
    invoke: (client: zookeeper.Client, done: CallDone<R>) => void,
    callback: (error: RegistryError | undefined, result: R | undefined) => void,
  ): void {
    if (this.#closed) {
      callback(closedError(), undefined);
      return;
    }
    let settled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const sentAtMs = performance.now();
    const finish = (error: unknown, result?: R): void => {
      if (settled) return;
      settled = true;
      if (timer !== undefined) clearTimeout(timer);
      this.#pending.delete(pending);
      if (error === null || error === undefined) {
        this.#proveSession(sentAtMs);
        callback(undefined, result);
      } else callback(toRegistryError(error, operation, path), undefined);
    };
    // While disconnected the library keeps requests in its packet queue and sends them after a
    // reconnect, however late. A request we gave up on must not be sent then (a stale write could
    // overwrite newer data), so remember its packet and take it out of the queue.
    let packet: unknown;
    const unqueue = (): boolean => {
      const queue = this.#manager?.packetQueue?.queue;
      const index = packet === undefined || queue === undefined ? -1 : queue.indexOf(packet);
      if (index >= 0) queue?.splice(index, 1);
      return index >= 0;
    };
    const pending: PendingCall = {
      fail: (error) => {
        unqueue();
        finish(error);
      },
    };
    this.#pending.add(pending);
    if (timeoutMs !== undefined) {
      timer = setTimeout(() => {
        const neverSent = unqueue();
        finish(
          new RegistryError(
            'CONNECTION_LOSS',
            `ZooKeeper ${operation}${path === undefined ? '' : ` on '${path}'`} got no answer within ${timeoutMs} ms ` +
              `(${this.#options.serverLists} unreachable?)${neverSent ? '; the request was never sent' : ''}`,
            { path },
          ),
        );
      }, timeoutMs);
    }
    const queue = this.#manager?.packetQueue?.queue;
    const queuedBefore = queue?.length ?? 0;
    this.#batchWritesOfThisTurn();
    try {
      invoke(this.client, finish);
    } catch (error) {
      finish(error);
      return;
    }
    if (queue !== undefined && queue.length > queuedBefore) packet = queue[queue.length - 1];
  }

  /**
   * Holds the socket's writes until the current turn of the event loop has run its ticks and
   * microtasks, so that the requests of one turn leave in one `writev` instead of one system call
   * each: the library writes every request the moment it is queued, and 1,000 jobs starting
   * together queue thousands in a turn. Order is kept; a request waits at most until the end of
   * the turn that queued it. A socket replaced meanwhile is uncorked all the same (a destroyed
   * socket drops what it held, and the library fails those requests with the connection).
   */
  #batchWritesOfThisTurn(): void {
    const socket = this.#manager?.socket;
    if (socket === undefined || socket === this.#corkedSocket || typeof socket.cork !== 'function') return;
    socket.cork();
    this.#corkedSocket = socket;
    process.nextTick(() => {
      if (this.#corkedSocket === socket) this.#corkedSocket = undefined;
      socket.uncork?.();
    });
  }

  /** Renews {@link sessionProvenUntilMs} with an answer to a request sent at `sentAtMs`. */
  #proveSession(sentAtMs: number): void {
    const untilMs = sentAtMs + this.negotiatedSessionTimeoutMs();
    if (untilMs > this.#sessionProvenUntilMs) this.#sessionProvenUntilMs = untilMs;
  }

  /**
   * Routes the notifications for `path` and its descendants to `handler` from now on
   * (synchronously, in arrival order, interleaved with the answers of {@link send}), and makes sure
   * the server holds the connection's persistent recursive watch over the namespace (ZooKeeper ≥
   * 3.6 `addWatch`, sent once per socket whatever the number of subtrees). Call it again after a
   * reconnect (the server drops a connection's watches with its socket); the handler keeps one
   * registration. Requests sent after this call are processed by the server after the watch is in
   * place.
   *
   * @param path - absolute path of the watched node (it need not exist), at or below
   *   {@link ZookeeperConnectionOptions.persistentWatchRoot}.
   * @param handler - receives `(type, absolutePath)`; must not throw.
   * @param callback - the outcome of the `addWatch` relied on: `undefined`, or the mapped error (its
   *   `cause` carries the ZooKeeper code, `-6` UNIMPLEMENTED from a server older than 3.6). The
   *   handler stays registered on error; {@link unwatchPersistently} removes it.
   * @throws {Error} when `path` is outside `persistentWatchRoot` (a programming error).
   */
  watchPersistently(
    path: string,
    handler: PersistentWatchHandler,
    callback: (error: RegistryError | undefined) => void,
  ): void {
    const namespace = this.#namespaceWatch;
    if (!namespace.covers(path)) {
      throw new Error(`The watched path '${path}' is outside the namespace root '${namespace.root}'`);
    }
    if (this.#persistentWatches === undefined && !this.#closed) {
      const dispatcher = new PersistentWatchDispatcher();
      hookNotifications(this.client, (type, notified) => dispatcher.dispatch(type, notified));
      this.#persistentWatches = dispatcher;
    }
    this.#persistentWatches?.add(path, handler);
    namespace.join(callback);
  }

  /**
   * Stops routing notifications to `handler`. When it was the connection's last handler and the
   * client is connected, removes the connection's watches on the namespace root from the server
   * (`removeWatches`, type Any; a disconnected client has none left).
   *
   * @param path - absolute path given to {@link watchPersistently}.
   * @param handler - the handler given to {@link watchPersistently}.
   * @param callback - `undefined` once done (also when the server had no watch there), or the
   *   mapped error of `removeWatches`.
   */
  unwatchPersistently(
    path: string,
    handler: PersistentWatchHandler,
    callback: (error: RegistryError | undefined) => void,
  ): void {
    const dispatcher = this.#persistentWatches;
    dispatcher?.delete(path, handler);
    if (dispatcher === undefined || dispatcher.size > 0) {
      callback(undefined);
      return;
    }
    const namespace = this.#namespaceWatch;
    namespace.forget();
    if (!this.connected) {
      callback(undefined);
      return;
    }
    this.send<void>(
      'removeWatches',
      '/',
      undefined,
      (client, done) => removeAllWatches(client, namespace.root, (error) => done(error)),
      (error) => callback(zookeeperCodeOf(error?.cause) === ZK_NO_WATCHER ? undefined : error),
    );
  }

  /**
   * Fails every call still waiting for an answer (the session is being replaced or closed).
   *
   * @param code - `SESSION_EXPIRED` or `NOT_STARTED`.
   * @param message - error message.
   */
  abandon(code: 'SESSION_EXPIRED' | 'NOT_STARTED' | 'CONNECTION_LOSS', message: string): void {
    for (const pending of [...this.#pending]) pending.fail(new RegistryError(code, message));
  }

  /**
   * Ends the session (its ephemeral nodes disappear) and releases the socket and every timer.
   * When connected, waits up to `graceMs` for the server to confirm the close. Idempotent.
   *
   * @param graceMs - how long to wait for the server's answer to the close request, in ms.
   */
  close(graceMs: number): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#closed = true;
    this.#stopReadTimer();
    for (const waiter of [...this.#connectWaiters]) waiter.reject(closedError());
    const wasConnected = this.#connected;
    this.#connected = false;
    this.#closing = (async () => {
      if (wasConnected) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, graceMs);
          function done(): void {
            clearTimeout(timer);
            resolve();
          }
          this.client.once('disconnected', done);
          this.client.close();
        });
      } else {
        this.client.close();
      }
      this.#forceShutdown();
      this.abandon('NOT_STARTED', 'The ZooKeeper registry client was closed');
    })();
    return this.#closing;
  }

  #onConnected(): void {
    if (this.#closed) return;
    this.#connected = true;
    this.#namespaceWatch.forget(); // a new socket: the server holds none of the old one's watches
    this.#clearHandshakeTimer();
    this.#startReadTimer();
    const first = !this.#everConnected;
    this.#everConnected = true;
    for (const waiter of [...this.#connectWaiters]) waiter.resolve();
    if (!first) this.#options.events?.onReconnected(this);
  }

  #onDisconnected(): void {
    if (this.#closed) return;
    const was = this.#connected;
    this.#connected = false;
    this.#namespaceWatch.forget();
    this.#stopReadTimer();
    if (was && !this.#expired) this.#options.events?.onDisconnected(this);
  }

  #onExpired(): void {
    if (this.#closed) return;
    this.#expired = true;
    this.#connected = false;
    this.#stopReadTimer();
    for (const waiter of [...this.#connectWaiters]) {
      waiter.reject(new RegistryError('SESSION_EXPIRED', 'The ZooKeeper session expired'));
    }
    this.abandon('SESSION_EXPIRED', 'The ZooKeeper session expired');
    this.#options.events?.onExpired(this);
  }

  #onAuthenticationFailed(): void {
    if (this.#closed) return;
    for (const waiter of [...this.#connectWaiters]) {
      waiter.reject(
        new RegistryError('NO_AUTH', `ZooKeeper at ${this.#options.serverLists} refused the credentials`),
      );
    }
  }

  /**
   * Wraps the library's server rotation so that its pause between connect rounds is a timer we
   * own (cleared on close) and no reconnect starts after close.
   */
  #trackSpinDelay(): void {
    const manager = this.#manager;
    const original = manager?.findNextServer;
    if (manager === undefined || typeof original !== 'function' || !Array.isArray(manager.servers)) return;
    const servers = manager.servers;
    manager.findNextServer = (callback) => {
      const guarded = (server: unknown): void => {
        if (!this.#closed) callback(server);
      };
      if ((manager.serverAttempts ?? 0) >= servers.length) {
        // Every server was tried once: pause, then start a new round (the library would pause too,
        // on a timer nobody can cancel).
        this.#spinTimer = setTimeout(() => {
          this.#spinTimer = undefined;
          if (this.#closed) return;
          manager.serverAttempts = 0;
          original.call(manager, guarded);
        }, Math.random() * this.#options.spinDelayMs);
      } else {
        original.call(manager, guarded);
      }
    };
  }

  /**
   * Records when the server last sent anything. The library sends a ping after a third of the
   * session timeout of idleness but never notices missing answers, so a silent partition (no
   * FIN/RST) would leave it "connected" forever while the server expires the session. Also hands
   * the library one whole packet at a time ({@link PacketFramer}), multi answers already decoded
   * ({@link MultiReplyDecoder}).
   */
  #trackReceivedData(): void {
    const manager = this.#manager;
    const original = manager?.onSocketData;
    if (manager === undefined || typeof original !== 'function') return;
    // Whole packets only (see PacketFramer); the framer starts afresh with every new socket.
    const framer = new PacketFramer();
    // Multi answers are decoded before the library sees them (see MultiReplyDecoder).
    const replies = multiReplyDecoderOf(manager);
    let framedSocket: unknown;
    const deliver = (packet: Buffer): unknown => original.call(manager, replies.take(packet));
    manager.onSocketData = (chunk: unknown) => {
      this.#lastReceivedAt = Date.now();
      if (!Buffer.isBuffer(chunk)) return original.call(manager, chunk);
      if (manager.socket !== framedSocket) {
        framedSocket = manager.socket;
        framer.reset();
        // Nothing sent on an earlier socket is answered on this one.
        replies.clear();
      }
      framer.push(chunk, deliver);
      return undefined;
    };
  }

  /**
   * Bounds the session handshake: once the TCP connection is up, the library waits for the
   * server's answer to its connect request without any timeout (its connect timer only covers the
   * TCP connect). A server that accepts but never answers — one still starting up, say — would
   * stall reconnection forever; drop such a socket so the library tries again.
   */
  #trackHandshake(): void {
    const manager = this.#manager;
    const original = manager?.onSocketConnected;
    if (manager === undefined || typeof original !== 'function') return;
    const handshakeTimeoutMs = Math.max(
      500,
      Math.min(Math.floor((this.#options.sessionTimeoutMs * 2) / 3), HANDSHAKE_TIMEOUT_CAP_MS),
    );
    manager.onSocketConnected = (...args: unknown[]) => {
      this.#clearHandshakeTimer();
      const socket = manager.socket;
      this.#handshakeTimer = setTimeout(() => {
        this.#handshakeTimer = undefined;
        if (!this.#closed && manager.socket === socket && manager.state === CONNECTING_STATE)
          socket?.destroy();
      }, handshakeTimeoutMs);
      return original.apply(manager, args);
    };
  }

  #clearHandshakeTimer(): void {
    if (this.#handshakeTimer !== undefined) clearTimeout(this.#handshakeTimer);
    this.#handshakeTimer = undefined;
  }

  /**
   * Like ZooKeeper's Java client: drops the connection when nothing was received for two thirds
   * of the session timeout, so the library reconnects (or the session is declared lost).
   */
  #startReadTimer(): void {
    this.#stopReadTimer();
    if (this.#manager?.onSocketData === undefined) return;
    this.#lastReceivedAt = Date.now();
    const readTimeoutMs = Math.floor((this.negotiatedSessionTimeoutMs() * 2) / 3);
    this.#readTimer = setInterval(
      () => {
        if (this.#connected && Date.now() - this.#lastReceivedAt > readTimeoutMs) {
          this.#stopReadTimer();
          this.#manager?.socket?.destroy();
        }
      },
      Math.max(50, Math.floor(readTimeoutMs / 8)),
    );
  }

  #stopReadTimer(): void {
    if (this.#readTimer !== undefined) clearInterval(this.#readTimer);
    this.#readTimer = undefined;
  }

  /** Destroys the socket and clears the library's timers, whatever state it is in. */
  #forceShutdown(): void {
    this.#stopReadTimer();
    this.#clearHandshakeTimer();
    if (this.#spinTimer !== undefined) clearTimeout(this.#spinTimer);
    this.#spinTimer = undefined;
    const manager = this.#manager;
    if (manager === undefined) return;
    if (manager.connectTimeoutHandler) clearTimeout(manager.connectTimeoutHandler);
    manager.connectTimeoutHandler = null;
    manager.socket?.destroy();
  }
}

function closedError(): RegistryError {
  return new RegistryError('NOT_STARTED', 'The ZooKeeper registry client was closed');
}

/**
 * Forces the server to expire a session: attaches a second client to it with the session id and
 * password, then closes that client, so ZooKeeper ends the session and deletes its ephemeral nodes
 * (the trick Curator's test utilities used). The session's own client may steal the session back
 * between the attach and the close (it reconnects on its own); so this repeats until an attach
 * finds the session expired.
 *
 * @param serverLists - `host:port,...`.
 * @param session - id and password of the session to end.
 * @param timeoutMs - bound in ms.
 * @throws {RegistryError} `TIMEOUT` when the session could not be ended within `timeoutMs`.
 */
export async function closeZookeeperSession(
  serverLists: string,
  session: { readonly id: Buffer; readonly password: Buffer },
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const remainingMs = deadline - Date.now();
    if (remainingMs <= 0) {
      throw new RegistryError(
        'TIMEOUT',
        `Could not end a ZooKeeper session at ${serverLists} within ${timeoutMs} ms`,
      );
    }
    const killer = new ZookeeperConnection({
      serverLists,
      sessionTimeoutMs: 30_000,
      spinDelayMs: 100,
      session,
    });
    killer.connect();
    try {
      await killer.waitConnected(
        remainingMs,
        () => `Could not reach ZooKeeper at ${serverLists} to end a session`,
      );
    } catch (error) {
      await killer.close(0);
      if (RegistryError.is(error, 'SESSION_EXPIRED')) return; // it is gone: done
      if (RegistryError.is(error, 'TIMEOUT')) continue; // the loop reports the timeout
      throw error;
    }
    // Attached: closing now ends the session, unless its own client took it back meanwhile. The
    // next round tells (an attach to an ended session is answered "expired").
    await killer.close(Math.max(0, deadline - Date.now()));
  }
}

/**
 * The zxid of the answer the library decoded last. Read inside an answer's callback (which the
 * library calls synchronously, right after decoding the answer's header), it is that answer's
 * zxid: for a successful `multi`, the transaction's zxid, i.e. the `czxid` of the nodes it created
 * and the `mzxid` of every node it wrote.
 *
 * @param client - the library client.
 * @returns the zxid, or `undefined` when the library's internals are not the expected ones.
 */
export function lastAnswerZxidOf(client: zookeeper.Client): bigint | undefined {
  const zxid = (client as unknown as { connectionManager?: { zxid?: unknown } }).connectionManager?.zxid;
  return Buffer.isBuffer(zxid) && zxid.length === 8 ? zxid.readBigInt64BE(0) : undefined;
}
