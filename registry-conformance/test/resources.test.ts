import { once } from 'node:events';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { ResourceTracker, waitForCondition } from '../src/index.js';

/** A self-signed P-256 certificate for `localhost` (valid until 2126), for the TLS test server only. */
const TEST_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgXYIJz6T9xf8sG7Pt
uSocGjz0ryFAjuHd8dkzdYn2zTyhRANCAASCNnLgn2mPPe0ASxDyC4sJrJtvqLt2
x6unAJI9mERm8hbcPicwoELeXlmOAlosJ97o17BOOgO6W7NU/IJVCoqr
-----END PRIVATE KEY-----
`;
const TEST_CERT = `-----BEGIN CERTIFICATE-----
MIIBfzCCASWgAwIBAgIUDrzGmGbQDMTQ3MwIyEFSQymE9yowCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTEyMTA2MDM0NloYDzIxMjYxMDI4
MDYwMzQ2WjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAASCNnLgn2mPPe0ASxDyC4sJrJtvqLt2x6unAJI9mERm8hbcPicwoELe
XlmOAlosJ97o17BOOgO6W7NU/IJVCoqro1MwUTAdBgNVHQ4EFgQUchAYTkGYrb5j
6+WUHTiLgwU0d4swHwYDVR0jBBgwFoAUchAYTkGYrb5j6+WUHTiLgwU0d4swDwYD
VR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNIADBFAiEA7cWwC0pelZTxmzudYzFQ
ObVU1jF1Axmbe278y452Uv0CIFRl//6KXOm17d4mFQfBjFKywDj16Fx8L4Vxj1XI
nDib
-----END CERTIFICATE-----
`;

const teardown: Array<() => void | Promise<void>> = [];

afterEach(async () => {
  for (const step of teardown.splice(0).reverse()) await step();
});

/** A tracker disposed after the test. */
function track(): ResourceTracker {
  const tracker = new ResourceTracker();
  teardown.push(() => tracker.dispose());
  return tracker;
}

/** Listens on a free loopback port (created before any tracker, so the server itself is not tracked). */
async function listen(server: net.Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  teardown.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as AddressInfo).port;
}

function liveTypes(tracker: ResourceTracker): string[] {
  return tracker.live().map((resource) => resource.type);
}

/** Waits until nothing tracked is live; fails listing what still is. */
async function expectAllReleased(tracker: ResourceTracker): Promise<void> {
  await waitForCondition(() => tracker.live().length === 0, {
    timeoutMs: 5_000,
    description: 'every tracked resource to be released',
    describeState: () => liveTypes(tracker).join(', '),
  });
}

describe('ResourceTracker', () => {
  it('reports a leaked timer (still after stop()) until it is cleared', async () => {
    const tracker = track();
    const leaked = setTimeout(() => undefined, 60_000);
    teardown.push(() => clearTimeout(leaked));
    tracker.stop();
    expect(liveTypes(tracker)).toEqual(['Timeout']);
    expect(tracker.live()[0]!.createdAt).toContain('resources.test.ts');
    clearTimeout(leaked);
    await expectAllReleased(tracker);
  });

  it('reports an open TCP socket (both ends) until it is destroyed', async () => {
    const accepted: net.Socket[] = [];
    const server = net.createServer((socket) => accepted.push(socket));
    const port = await listen(server);
    const tracker = track();
    const socket = net.connect(port, '127.0.0.1');
    teardown.push(() => void socket.destroy());
    await Promise.all([once(socket, 'connect'), once(server, 'connection')]);
    tracker.stop();
    expect(liveTypes(tracker)).toEqual(['TCPWRAP', 'TCPWRAP']);
    socket.destroy();
    for (const peer of accepted) peer.destroy();
    await expectAllReleased(tracker);
  });

  it('reports an open socket that was only half closed (end() without the peer closing)', async () => {
    const server = net.createServer(() => undefined);
    const port = await listen(server);
    const accepted = once(server, 'connection');
    const tracker = track();
    const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    teardown.push(() => void socket.destroy());
    await once(socket, 'connect');
    const [peer] = (await accepted) as [net.Socket];
    teardown.push(() => void peer.destroy());
    socket.end();
    await once(socket, 'finish');
    tracker.stop();
    expect(liveTypes(tracker)).toContain('TCPWRAP');
    expect(socket.destroyed).toBe(false);
  });

  it('reports an open TLS connection until it is destroyed, then forgets its TLSWRAP without GC', async () => {
    const accepted: tls.TLSSocket[] = [];
    const server = tls.createServer({ key: TEST_KEY, cert: TEST_CERT }, (socket) => accepted.push(socket));
    const port = await listen(server);
    const tracker = track();
    const socket = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false });
    teardown.push(() => void socket.destroy());
    await Promise.all([once(socket, 'secureConnect'), once(server, 'secureConnection')]);
    tracker.stop();
    expect(liveTypes(tracker).filter((type) => type === 'TLSWRAP')).toHaveLength(2);
    socket.destroy();
    for (const peer of accepted) peer.destroy();
    // The TLSWRAP objects stay referenced (by the tracker itself): only their owners' state tells.
    await expectAllReleased(tracker);
  });

  it('reports an open HTTP/2 session; a closed one is not counted although not yet garbage-collected', async () => {
    const server = http2.createServer();
    server.on('stream', (stream) => {
      stream.respond({ ':status': 200 });
      stream.end('ok');
    });
    const port = await listen(server);
    const tracker = track();
    const session = http2.connect(`http://127.0.0.1:${port}`);
    teardown.push(() => void session.destroy());
    const request = session.request({ ':path': '/' });
    request.resume();
    request.end();
    await once(request, 'end');
    tracker.stop();
    expect(liveTypes(tracker).filter((type) => type === 'HTTP2SESSION')).toHaveLength(2);
    await new Promise<void>((resolve) => session.close(resolve));
    expect(session.destroyed).toBe(true);
    // Both native sessions are still recorded (their destroy hook waits for GC, and the tracker
    // references them), but their owners are destroyed: not live.
    await expectAllReleased(tracker);
  });

  it('keeps reporting an HTTP/2 session that is closing but not destroyed', async () => {
    const server = http2.createServer();
    server.on('stream', () => undefined); // never answers: the stream keeps the session open
    const port = await listen(server);
    const tracker = track();
    const session = http2.connect(`http://127.0.0.1:${port}`);
    teardown.push(() => void session.destroy());
    const request = session.request({ ':path': '/' });
    request.on('error', () => undefined);
    request.end();
    await once(server, 'stream');
    session.close();
    tracker.stop();
    expect(session.closed).toBe(true);
    expect(session.destroyed).toBe(false);
    expect(liveTypes(tracker)).toContain('HTTP2SESSION');
  });
});
