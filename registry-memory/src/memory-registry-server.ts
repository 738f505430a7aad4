import { type Clock, systemClock } from '@elasticjob-ts/core/adapter';
import { type ClientHandle, registerServerState, ServerState } from './internal/server-state.js';

/** Options of the {@link MemoryRegistryServer} constructor. */
export interface MemoryRegistryServerOptions {
  /**
   * The server's clock: node ctime/mtime, `getRegistryCenterTime`, and the default clock of the
   * clients that connect to it (session expiry, latch wait). Tests pass a `ManualClock`.
   * @defaultValue `systemClock`
   */
  readonly clock?: Clock;
}

/** One node of {@link MemoryRegistryServer.dump}. */
export interface MemoryRegistryDumpEntry {
  /** Absolute path on the server, namespace included, e.g. `/elasticjob/orders/config`. */
  readonly path: string;
  /** The node's value. */
  readonly value: string;
}

/**
 * The shared in-process "server" that {@link MemoryRegistryCenter} clients connect to, like the
 * clients of one ZooKeeper ensemble: one node tree (values, versions, ctime/mtime, ephemeral
 * owners, creator-only ACLs), sessions, cluster-unique sequence counters per parent, latches and
 * watches. Several clients (job instances) of one process share it and see each other's nodes.
 *
 * Paths on the server are absolute: a client of namespace `demo` stores `/orders/config` at
 * `/demo/orders/config`.
 *
 * Watch events are dispatched from one FIFO queue in commit order, asynchronously (on a microtask
 * after the mutating call). The test controls ({@link holdEvents}, {@link expireSession},
 * {@link simulateRestart}) act on every connected client.
 *
 * @example
 * ```ts
 * const clock = new ManualClock();
 * const server = new MemoryRegistryServer({ clock });
 * const a = new MemoryRegistryCenter({ server, namespace: 'demo', sessionTimeoutMs: 10_000 });
 * const b = new MemoryRegistryCenter({ server, namespace: 'demo' });
 * await a.start();
 * await b.start();
 * ```
 */
export class MemoryRegistryServer {
  readonly #state: ServerState;

  /** @param options - see {@link MemoryRegistryServerOptions}. */
  constructor(options: MemoryRegistryServerOptions = {}) {
    const clock = options.clock ?? systemClock;
    if (typeof clock?.now !== 'function' || typeof clock.setTimeout !== 'function') {
      throw new TypeError('MemoryRegistryServer option `clock` must implement Clock (now, setTimeout)');
    }
    this.#state = new ServerState(clock);
    registerServerState(this, this.#state);
  }

  /** The server's clock (see {@link MemoryRegistryServerOptions.clock}). */
  get clock(): Clock {
    return this.#state.clock;
  }

  /** Number of nodes in the tree (all namespaces; the root `/` not counted). */
  get nodeCount(): number {
    return this.#state.nodeCount;
  }

  /** Whether watch-event delivery is paused by {@link holdEvents}. */
  get eventsHeld(): boolean {
    return this.#state.held;
  }

  /**
   * Whether the server still holds the session `sessionId` (a client's `sessionId`): `false` once
   * it expired or was closed. For tests and the simulator, which compare what a client believes
   * with what the server knows.
   *
   * @param sessionId - a session id as reported by `MemoryRegistryCenter.sessionId`.
   */
  isSessionAlive(sessionId: string): boolean {
    return this.#state.isSessionAlive(sessionId);
  }

  /**
   * Pauses watch-event delivery to every client. Changes still commit (reads see them at once);
   * their events queue up in commit order until {@link releaseEvents}. Idempotent.
   */
  holdEvents(): void {
    this.#state.hold();
  }

  /**
   * Resumes watch-event delivery: queued events are delivered in commit order, asynchronously
   * (on a microtask). Idempotent.
   */
  releaseEvents(): void {
    this.#state.release();
  }

  /**
   * Expires `client`'s session as if the server's session timer ran out: its ephemeral nodes are
   * deleted (other clients see `DELETED`), its latch participations released, then the client
   * reports `LOST` and, if connected, gets a new session and reports `RECONNECTED`. Same as
   * `client.expireSession()`.
   *
   * @param client - a started `MemoryRegistryCenter` of this server.
   * @throws {TypeError} when `client` is not connected to this server.
   */
  expireSession(client: ClientHandle): void {
    if (!this.#state.clients.has(client)) {
      throw new TypeError('expireSession: the client is not a started client of this server');
    }
    client.expireSession();
  }

  /**
   * Simulates a server restart: every connected client is disconnected (reports `SUSPENDED`),
   * then reconnected (reports `RECONNECTED`). No time passes, so every session survives, with its
   * ephemeral nodes and watches; events committed meanwhile are delivered after the reconnect.
   */
  simulateRestart(): void {
    const connected = [...this.#state.clients].filter((client) => client.isConnected);
    for (const client of connected) client.simulateDisconnect();
    for (const client of connected) client.simulateReconnect();
  }

  /**
   * The nodes of a subtree, for debugging: parents before children, siblings in ascending order.
   *
   * @param path - absolute server path (namespace included), default `/` (everything).
   * @returns `{ path, value }` per node (the root `/` itself excluded); `[]` if `path` is absent.
   */
  dump(path = '/'): MemoryRegistryDumpEntry[] {
    return this.#state.dump(path);
  }
}

let defaultServer: MemoryRegistryServer | undefined;

/**
 * The process-wide default server, created on first use with the system clock. Clients built
 * without a `server` option connect to it, so every job instance of the process shares one tree.
 *
 * @returns the same {@link MemoryRegistryServer} on every call.
 */
export function getDefaultMemoryRegistryServer(): MemoryRegistryServer {
  defaultServer ??= new MemoryRegistryServer();
  return defaultServer;
}
