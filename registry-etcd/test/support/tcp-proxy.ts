/**
 * A small TCP proxy on 127.0.0.1 for fault injection: `cut()` destroys every open connection and
 * refuses new ones (the client sees its connection drop, as on a network partition), `restore()`
 * lets connections through again.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

/** A running {@link startTcpProxy} proxy. */
export interface TcpProxy {
  /** The proxy's port. */
  readonly port: number;
  /** `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  /** Whether traffic is currently cut. */
  readonly isCut: boolean;
  /** Destroys every proxied connection and refuses new ones until {@link restore}. */
  cut(): void;
  /** Accepts and forwards connections again. */
  restore(): void;
  /** Destroys every connection and stops listening. Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts a proxy forwarding to `127.0.0.1:targetPort`.
 *
 * @param targetPort - the upstream port.
 */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let cut = false;
  let closed = false;
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const server: Server = createServer((downstream) => {
    track(downstream);
    if (cut) {
      downstream.destroy();
      return;
    }
    const upstream = connect({ host: '127.0.0.1', port: targetPort });
    track(upstream);
    downstream.pipe(upstream);
    upstream.pipe(downstream);
    downstream.on('close', () => upstream.destroy());
    upstream.on('close', () => downstream.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy: no port');
  const destroyAll = () => {
    for (const socket of sockets) socket.destroy();
    sockets.clear();
  };
  return {
    port: address.port,
    endpoint: `http://127.0.0.1:${address.port}`,
    get isCut() {
      return cut;
    },
    cut() {
      cut = true;
      destroyAll();
    },
    restore() {
      cut = false;
    },
    async close() {
      if (closed) return;
      closed = true;
      destroyAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
