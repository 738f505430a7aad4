/**
 * A TCP proxy on loopback between one client process and one registry server member, whose
 * network the test controls. Written on `node:net` (a few dozen lines of forwarding; no library
 * needed): each accepted connection opens its own upstream connection and bytes are forwarded in
 * both directions unless a fault says otherwise.
 *
 * Faults (one at a time; {@link FaultProxy.heal} returns to `pass`):
 *
 * - `partition`: the network is unreachable. Open connections are reset (RST) and new ones are
 *   reset as soon as they are accepted, so the client sees its connections fail and reconnects in
 *   vain until the heal.
 * - `blackhole` (half-open): connections are accepted but nothing is answered. Open connections
 *   stay open and every byte in either direction is dropped; new connections get no upstream. The
 *   client only notices through its own timeouts. On heal the blackholed connections are reset
 *   (bytes were lost, the streams cannot continue) and new connections work again.
 * - `pause` (a pulled cable): bytes are held, not lost. Both directions stop being read (TCP flow
 *   control pushes back on the senders); new connections are accepted and their upstream connection
 *   is deferred. On heal everything held is delivered in order, as TCP retransmission does when a
 *   cable is plugged back in before the connection times out.
 *
 * @module
 */
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';

/** The proxy's current behaviour. */
export type FaultProxyMode = 'pass' | 'partition' | 'blackhole' | 'pause';

/** Options of {@link FaultProxy.start}. */
export interface FaultProxyOptions {
  /** Upstream host. @defaultValue `127.0.0.1` */
  readonly targetHost?: string;
  /** Upstream port (the registry member's client port). */
  readonly targetPort: number;
  /** Local port to listen on (loopback only). @defaultValue 0, a free port */
  readonly listenPort?: number;
}

interface Pair {
  readonly client: Socket;
  upstream: Socket | undefined;
  /** Whether this connection lived through a blackhole (its bytes are dropped; reset on heal). */
  blackholed: boolean;
}

/** A controllable TCP proxy; create with {@link FaultProxy.start}, end with {@link FaultProxy.close}. */
export class FaultProxy {
  readonly #server: Server;
  readonly #targetHost: string;
  readonly #targetPort: number;
  readonly #pairs = new Set<Pair>();
  #mode: FaultProxyMode = 'pass';
  #closed = false;
  /** Connections accepted since start. */
  acceptedConnections = 0;
  /** Bytes a blackhole dropped since start (both directions). */
  droppedBytes = 0;

  private constructor(server: Server, targetHost: string, targetPort: number) {
    this.#server = server;
    this.#targetHost = targetHost;
    this.#targetPort = targetPort;
    server.on('connection', (client) => this.#accept(client));
  }

  /**
   * Starts a proxy listening on `127.0.0.1`.
   *
   * @param options - upstream address and optional local port.
   * @returns the listening proxy, in `pass` mode.
   * @throws {Error} when the local port cannot be bound.
   */
  static async start(options: FaultProxyOptions): Promise<FaultProxy> {
    const server = createServer({ noDelay: true });
    const proxy = new FaultProxy(server, options.targetHost ?? '127.0.0.1', options.targetPort);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.listenPort ?? 0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    return proxy;
  }

  /** The local port clients connect to. */
  get port(): number {
    const address = this.#server.address();
    if (address === null || typeof address === 'string') throw new Error('the fault proxy is not listening');
    return address.port;
  }

  /** The upstream port this proxy forwards to. */
  get targetPort(): number {
    return this.#targetPort;
  }

  /** The current mode. */
  get mode(): FaultProxyMode {
    return this.#mode;
  }

  /** Connections currently open through the proxy. */
  get openConnections(): number {
    return this.#pairs.size;
  }

  /**
   * Switches to a fault mode (see the module documentation), or back to `pass`.
   *
   * @param mode - the new mode.
   * @throws {Error} after {@link close}.
   */
  setMode(mode: FaultProxyMode): void {
    if (this.#closed) throw new Error('the fault proxy is closed');
    const previous = this.#mode;
    this.#mode = mode;
    if (previous === mode) return;
    for (const pair of [...this.#pairs]) {
      if (mode === 'partition') this.#reset(pair);
      else if (mode === 'blackhole') pair.blackholed = true;
      else if (mode === 'pause') this.#pausePair(pair);
      else if (previous === 'blackhole' && pair.blackholed) this.#reset(pair);
      else if (previous === 'pause') this.#resumePair(pair);
    }
  }

  /** Back to `pass` (same as `setMode('pass')`). */
  heal(): void {
    this.setMode('pass');
  }

  /** Stops listening and resets every open connection. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const pair of [...this.#pairs]) this.#reset(pair);
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: Socket): void {
    this.acceptedConnections++;
    client.setNoDelay(true);
    const pair: Pair = { client, upstream: undefined, blackholed: false };
    this.#pairs.add(pair);
    client.on('error', () => this.#reset(pair));
    client.on('close', () => this.#reset(pair));
    if (this.#mode === 'partition') {
      this.#reset(pair);
      return;
    }
    client.on('data', (chunk: Buffer) => {
      if (pair.blackholed) {
        this.droppedBytes += chunk.length;
        return;
      }
      pair.upstream?.write(chunk);
    });
    if (this.#mode === 'blackhole') {
      pair.blackholed = true;
      return;
    }
    if (this.#mode === 'pause') {
      client.pause();
      return; // the upstream connection is opened on heal
    }
    this.#openUpstream(pair);
  }

  #openUpstream(pair: Pair): void {
    const upstream = tcpConnect({ host: this.#targetHost, port: this.#targetPort, noDelay: true });
    pair.upstream = upstream;
    upstream.on('data', (chunk: Buffer) => {
      if (pair.blackholed) {
        this.droppedBytes += chunk.length;
        return;
      }
      pair.client.write(chunk);
    });
    upstream.on('error', () => this.#reset(pair));
    upstream.on('close', () => this.#reset(pair));
    if (this.#mode === 'pause') upstream.pause();
  }

  #pausePair(pair: Pair): void {
    pair.client.pause();
    pair.upstream?.pause();
  }

  #resumePair(pair: Pair): void {
    if (pair.upstream === undefined) this.#openUpstream(pair);
    pair.upstream?.resume();
    pair.client.resume();
  }

  #reset(pair: Pair): void {
    if (!this.#pairs.delete(pair)) return;
    for (const socket of [pair.client, pair.upstream]) {
      if (socket === undefined || socket.destroyed) continue;
      if (socket.connecting) socket.destroy();
      else socket.resetAndDestroy();
    }
  }
}
