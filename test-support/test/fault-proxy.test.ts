import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FaultProxy } from '../src/index.js';

/** An echo server that records when it received each chunk. */
interface Echo {
  readonly server: Server;
  readonly port: number;
  readonly received: { atMs: number; text: string }[];
}

async function startEcho(): Promise<Echo> {
  const received: { atMs: number; text: string }[] = [];
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    socket.on('data', (chunk) => {
      received.push({ atMs: Date.now(), text: chunk.toString('utf8') });
      socket.write(chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { server, port: address.port, received };
}

/** A client connection collecting what it reads and how it ended. */
function open(port: number) {
  const socket: Socket = connect({ host: '127.0.0.1', port });
  const state = { text: '', error: undefined as NodeJS.ErrnoException | undefined, closed: false };
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    state.text += chunk;
  });
  socket.on('error', (error: NodeJS.ErrnoException) => {
    state.error = error;
  });
  socket.on('close', () => {
    state.closed = true;
  });
  return { socket, state };
}

const WAIT = { timeout: 5000, interval: 10 };

describe('FaultProxy', () => {
  let echo: Echo;
  let proxy: FaultProxy;
  const sockets: Socket[] = [];
  const client = (port: number) => {
    const opened = open(port);
    sockets.push(opened.socket);
    return opened;
  };

  beforeEach(async () => {
    echo = await startEcho();
    proxy = await FaultProxy.start({ targetPort: echo.port });
  });
  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.destroy();
    await proxy.close();
    await new Promise((resolve) => echo.server.close(resolve));
  });

  it('forwards both ways in pass mode', async () => {
    const { socket, state } = client(proxy.port);
    socket.write('hello');
    await vi.waitFor(() => expect(state.text).toBe('hello'), WAIT);
    expect(proxy.mode).toBe('pass');
  });

  it('partition resets open connections and every new one until healed', async () => {
    const before = client(proxy.port);
    before.socket.write('a');
    await vi.waitFor(() => expect(before.state.text).toBe('a'), WAIT);
    proxy.setMode('partition');
    await vi.waitFor(() => expect(before.state.closed).toBe(true), WAIT);
    expect(before.state.error?.code).toBe('ECONNRESET');

    const during = client(proxy.port);
    await vi.waitFor(() => expect(during.state.closed).toBe(true), WAIT);
    expect(during.state.text).toBe('');

    proxy.heal();
    const after = client(proxy.port);
    after.socket.write('b');
    await vi.waitFor(() => expect(after.state.text).toBe('b'), WAIT);
  });

  it('blackhole accepts connections and answers nothing; healing resets the blackholed ones', async () => {
    const before = client(proxy.port);
    before.socket.write('a');
    await vi.waitFor(() => expect(before.state.text).toBe('a'), WAIT);
    proxy.setMode('blackhole');
    before.socket.write('lost');
    const during = client(proxy.port);
    during.socket.write('also lost');
    await vi.waitFor(() => expect(proxy.droppedBytes).toBe('lost'.length + 'also lost'.length), WAIT);
    expect(echo.received.map((r) => r.text).join('')).toBe('a');
    expect(before.state.closed || during.state.closed).toBe(false);

    proxy.heal();
    await vi.waitFor(() => expect(before.state.closed && during.state.closed).toBe(true), WAIT);
    const after = client(proxy.port);
    after.socket.write('b');
    await vi.waitFor(() => expect(after.state.text).toBe('b'), WAIT);
  });

  it('pause (pulled cable) holds bytes and delivers them in order after the heal', async () => {
    const before = client(proxy.port);
    before.socket.write('a');
    await vi.waitFor(() => expect(before.state.text).toBe('a'), WAIT);
    proxy.setMode('pause');
    before.socket.write('b');
    before.socket.write('c');
    const during = client(proxy.port);
    during.socket.write('x');
    await vi.waitFor(() => expect(proxy.acceptedConnections).toBe(2), WAIT);
    const healedAtMs = Date.now();
    proxy.heal();
    await vi.waitFor(() => {
      expect(before.state.text).toBe('abc');
      expect(during.state.text).toBe('x');
    }, WAIT);
    for (const chunk of echo.received.slice(1)) expect(chunk.atMs).toBeGreaterThanOrEqual(healedAtMs);
    expect(before.state.closed || during.state.closed).toBe(false);
  });
});
