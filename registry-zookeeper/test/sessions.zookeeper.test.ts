/**
 * Session handling against a real ZooKeeper: forced expiry, a silent partition (no FIN/RST), an
 * event-loop stall, a server down longer than the session, a server restart with writes made while
 * a watcher was cut off. `LOST` is only ever what a server reports. Timings are printed (they are
 * measurements, not assertions beyond generous bounds).
 */
import { FaultProxy, TcpProxy } from '@elasticjob-ts/test-support';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { currentSessionOf } from '../src/zookeeper-registry-center.js';
import { countRequests, EXISTS_OPCODE } from './support/request-counter.js';
import {
  EventLog,
  expireSession,
  rawClient,
  readTree,
  SHORT_SESSION_MS,
  StateRecorder,
  useClients,
  useZookeeperServer,
} from './support/zookeeper-fixture.js';

/** The port of a `host:port` connect string. */
function portOf(connectString: string): number {
  return Number(connectString.slice(connectString.lastIndexOf(':') + 1));
}

describe('ZooKeeper sessions', () => {
  const fixture = useZookeeperServer();
  const clients = useClients(fixture);
  const proxies: TcpProxy[] = [];
  const faultProxies: FaultProxy[] = [];

  afterEach(async () => {
    await Promise.all(proxies.splice(0).map((proxy) => proxy.stop()));
    await Promise.all(faultProxies.splice(0).map((proxy) => proxy.close()));
  });

  async function proxy(): Promise<TcpProxy> {
    const started = await TcpProxy.start(fixture.server.connectString);
    proxies.push(started);
    return started;
  }

  it('a forced expiry is seen by other clients at once: DELETED, then LOST and a new session', async () => {
    const namespace = clients.namespace();
    const path = await proxy();
    const states = new StateRecorder();
    const owner = await clients.start(
      { namespace, serverLists: path.address, sessionTimeoutMs: 2_000 },
      states,
    );
    const watcher = await clients.start({ namespace });
    await owner.persistEphemeral('/instances/i1', 'alive');
    await owner.persist('/instances/durable', 'kept');
    const events = new EventLog();
    await watcher.watch('/instances', events.listener);

    path.cut('reset'); // keep the owner from re-attaching while its session is ended
    const killedAt = Date.now();
    await expireSession(fixture.server.connectString, owner);
    await events.waitForEvent({ type: 'DELETED', key: '/instances/i1', value: 'alive' });
    const deletedAfterMs = Date.now() - killedAt;
    path.restore();
    const lost = await states.waitForState('LOST');
    const reconnected = await states.waitForState('RECONNECTED', states.states.indexOf('LOST'));
    console.log(
      `forced expiry: DELETED seen by another client after ${deletedAfterMs} ms; ` +
        `owner LOST ${lost.at - killedAt} ms, RECONNECTED (new session) ${reconnected.at - killedAt} ms after the kill`,
    );
    expect(states.states).toEqual(['CONNECTED', 'SUSPENDED', 'LOST', 'RECONNECTED']);
    expect(await watcher.getChildrenKeys('/instances')).toEqual(['durable']);
    await owner.persistEphemeral('/instances/i1', 'reborn');
    await events.waitForEvent({ type: 'ADDED', key: '/instances/i1', value: 'reborn' });
    expect(events.anomalies()).toEqual([]);
  });

  it('a silent partition: SUSPENDED by the read timeout, no LOST while cut off; LOST when the server answers that the session expired', async () => {
    const namespace = clients.namespace();
    const path = await proxy();
    const states = new StateRecorder();
    const sessionTimeoutMs = 2_000;
    const client = await clients.start({ namespace, serverLists: path.address, sessionTimeoutMs }, states);
    const watcher = await clients.start({ namespace });
    await client.persistEphemeral('/e', 'doomed');
    const events = new EventLog();
    await watcher.watch('/', events.listener);

    path.cut('blackhole');
    const cutAt = Date.now();
    const suspended = await states.waitForState('SUSPENDED');
    // The server expires the session one session timeout after it last heard from the client.
    await events.waitForEvent({ type: 'DELETED', key: '/e', value: 'doomed' });
    const deletedAt = Date.now();
    expect(states.states).toEqual(['CONNECTED', 'SUSPENDED']);
    // Read timeout = 2/3 of the session timeout.
    expect(suspended.at - cutAt).toBeGreaterThanOrEqual((sessionTimeoutMs * 2) / 3 - 50);
    expect(suspended.at - cutAt).toBeLessThan(sessionTimeoutMs + 500);

    path.restore();
    const restoredAt = Date.now();
    const lost = await states.waitForState('LOST');
    await states.waitForState('RECONNECTED', states.items.indexOf(lost));
    console.log(
      `silent partition (session ${sessionTimeoutMs} ms): SUSPENDED after ${suspended.at - cutAt} ms, ` +
        `server deleted the ephemeral after ${deletedAt - cutAt} ms; LOST ${lost.at - restoredAt} ms after the restore`,
    );
    expect(states.states).toEqual(['CONNECTED', 'SUSPENDED', 'LOST', 'RECONNECTED']);
    expect(await client.isExisted('/e')).toBe(false);
    await client.persistEphemeral('/e', 'reborn');
    await events.waitForEvent({ type: 'ADDED', key: '/e', value: 'reborn' });
  });

  it('an event-loop stall: shorter than the session keeps it; longer, the server reports the expiry as soon as the client talks to it', async () => {
    const namespace = clients.namespace();
    const states = new StateRecorder();
    const sessionTimeoutMs = 2_000;
    const client = await clients.start({ namespace, sessionTimeoutMs }, states);
    const watcher = await clients.start({ namespace });
    await client.persistEphemeral('/e', 'mine');
    const events = new EventLog();
    await watcher.watch('/', events.listener);
    await events.waitForEvent({ type: 'ADDED', key: '/e' });
    const stall = (ms: number): void => {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
    };
    const session = currentSessionOf(client)?.id.toString('hex');

    // Half the session: the server still holds it; at most a reconnect to the same session.
    stall(sessionTimeoutMs / 2);
    await client.persist('/after-short-stall', 'ok');
    expect(states.states).not.toContain('LOST');
    expect(currentSessionOf(client)?.id.toString('hex')).toBe(session);

    // Longer than the session: the server expires it meanwhile (the watcher sees the ephemeral go)
    // and says so as soon as the client talks to it again.
    stall(sessionTimeoutMs + 1_500);
    const resumedAt = Date.now();
    const lost = await states.waitForState('LOST');
    await states.waitForState('RECONNECTED', states.items.indexOf(lost));
    await events.waitForEvent({ type: 'DELETED', key: '/e', value: 'mine' });
    console.log(
      `event-loop stall beyond the session (${sessionTimeoutMs} ms): LOST ${lost.at - resumedAt} ms after resuming`,
    );
    expect(lost.at - resumedAt).toBeLessThan(sessionTimeoutMs);
    expect(currentSessionOf(client)?.id.toString('hex')).not.toBe(session);
  });

  it('a server down for longer than the session timeout costs no session: the restarted server restores it', async () => {
    // No local timer presumes the session lost: the restarted server restores its sessions with a
    // fresh timeout, and the client re-attaches to its own.
    const namespace = clients.namespace();
    const states = new StateRecorder();
    // Long enough for the client to re-attach within the fresh timeout on a loaded machine.
    const sessionTimeoutMs = 4_000;
    const client = await clients.start({ namespace, sessionTimeoutMs }, states);
    await client.persistEphemeral('/owned', 'kept');
    const session = currentSessionOf(client)?.id.toString('hex');
    await fixture.server.kill();
    const killedAt = Date.now();
    await states.waitForState('SUSPENDED');
    // Keep it down for longer than the session timeout (the client can only wait).
    await vi.waitFor(() => expect(Date.now() - killedAt).toBeGreaterThan(sessionTimeoutMs + 500), {
      timeout: sessionTimeoutMs * 3,
      interval: 100,
    });
    expect(states.states).toEqual(['CONNECTED', 'SUSPENDED']);
    await fixture.server.restart();
    await states.waitForState('RECONNECTED', states.states.indexOf('SUSPENDED'), 30_000);
    expect(states.states).toEqual(['CONNECTED', 'SUSPENDED', 'RECONNECTED']);
    expect(currentSessionOf(client)?.id.toString('hex')).toBe(session);
    const raw = await rawClient(fixture.server.connectString);
    try {
      expect(await raw.getData(`/${namespace}/owned`)).toBe('kept');
    } finally {
      await raw.close();
    }
  });

  it('server restart: SUSPENDED then RECONNECTED, and a watcher cut off meanwhile gets every missed change once', async () => {
    const namespace = clients.namespace();
    const watcherPath = await proxy();
    const watcherStates = new StateRecorder();
    const writerStates = new StateRecorder();
    // The watcher's session must outlast its own cut-off plus the restart.
    const watcher = await clients.start(
      { namespace, serverLists: watcherPath.address, sessionTimeoutMs: 10_000 },
      watcherStates,
    );
    const writer = await clients.start({ namespace, sessionTimeoutMs: 10_000 }, writerStates);
    await writer.persist('/r/a', 'a0');
    await writer.persist('/r/gone', 'g0');
    await watcher.persistEphemeral('/r/watcher-instance', 'alive');
    const events = new EventLog();
    await watcher.watch('/r', events.listener);
    const snapshot = events.items.length;

    watcherPath.cut('reset');
    await watcherStates.waitForState('SUSPENDED');
    const restartAt = Date.now();
    await fixture.server.restart();
    const writerBack = await writerStates.waitForState('RECONNECTED');
    // Written by another client after the restart, while the watcher is still cut off.
    await writer.update('/r/a', 'a1');
    await writer.persist('/r/b/c', 'c1');
    await writer.remove('/r/gone');
    await writer.update('/r/a', 'a2');
    watcherPath.restore();
    const watcherBack = await watcherStates.waitForState('RECONNECTED');
    console.log(
      `server restart: writer RECONNECTED ${writerBack.at - restartAt} ms after the restart began; ` +
        `watcher RECONNECTED ${watcherBack.at - restartAt} ms (after its cut-off ended)`,
    );
    await writer.persist('/r/marker', 'after');
    await events.waitForEvent({ type: 'ADDED', key: '/r/marker', value: 'after' });
    const server = await readTree(writer, '/r');
    // No ordering across keys (the watch contract): other keys may still be on their way.
    await vi.waitFor(() => expect(events.mirror()).toEqual(server), { timeout: 10_000, interval: 20 });
    expect(events.anomalies()).toEqual([]);
    const missed = events.items.slice(snapshot);
    expect(missed.filter((event) => event.key === '/r/gone')).toEqual([
      { type: 'DELETED', key: '/r/gone', value: 'g0' },
    ]);
    expect(missed.filter((event) => event.key === '/r/b/c')).toEqual([
      { type: 'ADDED', key: '/r/b/c', value: 'c1' },
    ]);
    expect(missed.filter((event) => event.key === '/r/a').at(-1)).toEqual({
      type: 'UPDATED',
      key: '/r/a',
      value: 'a2',
    });
    expect(watcherStates.states).toEqual(['CONNECTED', 'SUSPENDED', 'RECONNECTED']);
    expect(writerStates.states).toEqual(['CONNECTED', 'SUSPENDED', 'RECONNECTED']);
    // Same session: the ephemeral node survived the restart.
    expect(await writer.getDirectly('/r/watcher-instance')).toBe('alive');
  });

  it('a session expiry during a watch re-reads the subtree and delivers only the differences', async () => {
    const namespace = clients.namespace();
    const path = await proxy();
    const states = new StateRecorder();
    const watcher = await clients.start(
      { namespace, serverLists: path.address, sessionTimeoutMs: 2_000 },
      states,
    );
    const writer = await clients.start({ namespace });
    await writer.persist('/w/kept', 'k');
    await writer.persist('/w/changed', 'c0');
    await writer.persist('/w/removed', 'r0');
    await watcher.persistEphemeral('/w/mine', 'm');
    const events = new EventLog();
    await watcher.watch('/w', events.listener);
    const from = events.items.length;

    path.cut('reset');
    await expireSession(fixture.server.connectString, watcher);
    await writer.update('/w/changed', 'c1');
    await writer.remove('/w/removed');
    await writer.persist('/w/new', 'n');
    await writer.persist('/w/new/leaf', 'l');
    path.restore();
    await states.waitForState('RECONNECTED', 1);
    await writer.persist('/w/marker', 'end');
    // No ordering across keys (the watch contract): the re-read learns a node one round trip per
    // level below the root, while a change made after `addWatch` is read one round trip after its
    // notification, so '/w/marker' may arrive before the differences ('/w/new/leaf' always does).
    await events.waitForMirror(await readTree(writer, '/w'));
    expect(events.anomalies()).toEqual([]);
    expect(events.byKey(from)).toEqual({
      '/w/mine': [{ type: 'DELETED', key: '/w/mine', value: 'm' }],
      '/w/changed': [{ type: 'UPDATED', key: '/w/changed', value: 'c1' }],
      '/w/removed': [{ type: 'DELETED', key: '/w/removed', value: 'r0' }],
      '/w/new': [{ type: 'ADDED', key: '/w/new', value: 'n' }],
      '/w/new/leaf': [{ type: 'ADDED', key: '/w/new/leaf', value: 'l' }],
      '/w/marker': [{ type: 'ADDED', key: '/w/marker', value: 'end' }],
    });
  });

  it('changes that reach the server between the new session re-arming its watch and re-reading are delivered once, merged into the re-read', async () => {
    const namespace = clients.namespace();
    const network = await FaultProxy.start({ targetPort: portOf(fixture.server.connectString) });
    faultProxies.push(network);
    const states = new StateRecorder();
    // The watcher's requests are held while the writer works; a long session keeps the read
    // timeout (two thirds of it) far from that pause.
    const watcher = await clients.start(
      { namespace, serverLists: `127.0.0.1:${network.port}`, sessionTimeoutMs: 10_000 },
      states,
    );
    const writer = await clients.start({ namespace });
    await writer.persist('/w/kept', 'k');
    await writer.persist('/w/changed', 'c0');
    await writer.persist('/w/gone', 'g0');
    const events = new EventLog();
    await watcher.watch('/w', events.listener);
    const from = events.items.length;

    network.setMode('partition');
    await expireSession(fixture.server.connectString, watcher);
    await writer.update('/w/changed', 'c1');
    await writer.persist('/w/brief', 'b');
    // The new session reports RECONNECTED synchronously after its watches sent `addWatch` and the
    // re-read's first requests; holding the network there makes the writes below reach the server
    // before them.
    let held = false;
    watcher.addConnectionStateListener((state) => {
      if (state !== 'RECONNECTED' || held) return;
      held = true;
      network.setMode('pause');
    });
    network.heal();
    await states.waitForState('RECONNECTED', states.states.indexOf('LOST'));
    expect(network.mode).toBe('pause');
    await writer.update('/w/changed', 'c2');
    await writer.remove('/w/brief');
    await writer.remove('/w/gone');
    await writer.persist('/w/late/child', 'x');
    network.heal();
    await writer.persist('/w/marker', 'end');

    await events.waitForMirror(await readTree(writer, '/w'));
    expect(events.anomalies()).toEqual([]);
    // 'c1' never reaches the watcher: the re-read found 'c2' already; '/w/brief' was created and
    // removed while the watcher could not look.
    expect(events.byKey(from)).toEqual({
      '/w/changed': [{ type: 'UPDATED', key: '/w/changed', value: 'c2' }],
      '/w/gone': [{ type: 'DELETED', key: '/w/gone', value: 'g0' }],
      '/w/late': [{ type: 'ADDED', key: '/w/late', value: '' }],
      '/w/late/child': [{ type: 'ADDED', key: '/w/late/child', value: 'x' }],
      '/w/marker': [{ type: 'ADDED', key: '/w/marker', value: 'end' }],
    });
    expect(states.states).toEqual(['CONNECTED', 'SUSPENDED', 'LOST', 'RECONNECTED']);
  });

  it('confirmSession rides on any answered request, and callers without a proof share one exists', async () => {
    // The proof is kept on the monotonic clock (`performance.now()`): a faked one lets it lapse
    // at once, while the server, on real time, still holds the session.
    vi.useFakeTimers({ toFake: ['performance'] });
    const counter = countRequests();
    try {
      const client = await clients.start({
        namespace: clients.namespace(),
        sessionTimeoutMs: SHORT_SESSION_MS,
      });
      // A write answered on the session proves it for a session timeout from when it was sent.
      await client.persist('/proof', 'answered');
      const afterWrite = counter.all();
      await Promise.all(Array.from({ length: 10 }, () => client.confirmSession()));
      expect(counter.all() - afterWrite, 'requests sent to confirm a proven session').toBe(0);

      // A session timeout later with nothing answered meanwhile: the proof has lapsed.
      vi.advanceTimersByTime(SHORT_SESSION_MS);
      const existsBefore = counter.ofType(EXISTS_OPCODE);
      const allBefore = counter.all();
      await Promise.all(Array.from({ length: 50 }, () => client.confirmSession()));
      expect(counter.ofType(EXISTS_OPCODE) - existsBefore, 'exists sent for 50 callers at once').toBe(1);
      expect(counter.all() - allBefore).toBe(1);

      // That answer is itself the next proof.
      await client.confirmSession();
      expect(counter.all() - allBefore).toBe(1);
    } finally {
      counter.stop();
      vi.useRealTimers();
    }
  });
});
