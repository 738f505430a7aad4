/**
 * A small TCP proxy for fault injection: clients connect to the proxy, which forwards to the
 * server. `cut()` stops traffic — either by resetting every connection and refusing new ones, or
 * as a silent black hole that keeps sockets open and forwards nothing (a partition without
 * FIN/RST); `restore()` drops whatever is held and forwards again.
 */
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';

/** How {@link TcpProxy.cut} stops traffic. */
export type CutMode = 'reset' | 'blackhole';

interface Pair {
  readonly client: Socket;
  readonly upstream: Socket | undefined;
}

/** A running proxy. */
export class TcpProxy {
  readonly #server: Server;
  readonly #targetHost: string;
  readonly #targetPort: number;
  readonly #pairs = new Set<Pair>();
  #mode: CutMode | undefined;
  #port = 0;

  private constructor(server: Server, targetHost: string, targetPort: number) {
    this.#server = server;
    this.#targetHost = targetHost;
    this.#targetPort = targetPort;
  }

  /**
   * Starts a proxy on a free loopback port forwarding to `target` (`host:port`).
   *
   * @param target - the server address.
   */
  static async start(target: string): Promise<TcpProxy> {
    const index = target.lastIndexOf(':');
    const host = target.slice(0, index);
    const port = Number(target.slice(index + 1));
    const server = createServer();
    server.unref(); // a test utility: it must not keep the process alive by itself
    const proxy = new TcpProxy(server, host, port);
    server.on('connection', (socket) => proxy.#accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('proxy has no port');
    proxy.#port = address.port;
    return proxy;
  }

  /** `127.0.0.1:port` of the proxy. */
  get address(): string {
    return `127.0.0.1:${this.#port}`;
  }

  /** Whether traffic is cut. */
  get isCut(): boolean {
    return this.#mode !== undefined;
  }

  /**
   * Stops traffic.
   *
   * @param mode - `reset` (default): close every connection and refuse new ones; `blackhole`:
   *   keep connections open but forward nothing, and accept new ones without forwarding.
   */
  cut(mode: CutMode = 'reset'): void {
    this.#mode = mode;
    for (const pair of [...this.#pairs]) {
      if (mode === 'reset') this.#drop(pair);
      else {
        pair.client.pause();
        pair.upstream?.pause();
        pair.client.unpipe();
        pair.upstream?.unpipe();
      }
    }
  }

  /** Drops the connections held during a cut and forwards new ones again. */
  restore(): void {
    this.#mode = undefined;
    for (const pair of [...this.#pairs]) this.#drop(pair);
  }

  /** Closes the proxy and every connection. */
  async stop(): Promise<void> {
    for (const pair of [...this.#pairs]) this.#drop(pair);
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: Socket): void {
    client.on('error', () => undefined);
    if (this.#mode === 'reset') {
      client.destroy();
      return;
    }
    if (this.#mode === 'blackhole') {
      client.pause();
      const pair: Pair = { client, upstream: undefined };
      this.#pairs.add(pair);
      client.on('close', () => this.#pairs.delete(pair));
      return;
    }
    const upstream = tcpConnect({ host: this.#targetHost, port: this.#targetPort });
    upstream.on('error', () => undefined);
    const pair: Pair = { client, upstream };
    this.#pairs.add(pair);
    client.pipe(upstream);
    upstream.pipe(client);
    const drop = (): void => this.#drop(pair);
    client.on('close', drop);
    upstream.on('close', drop);
  }

  #drop(pair: Pair): void {
    this.#pairs.delete(pair);
    pair.client.destroy();
    pair.upstream?.destroy();
  }
}
