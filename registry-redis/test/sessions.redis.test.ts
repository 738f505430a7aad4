/**
 * Redis-specific session and change-feed behaviour the conformance suite cannot provoke: start
 * bounds, expiry applied by every script, late heartbeats refused, a trimmed change feed and a
 * server that lost its data.
 */
import { ConnectionStateRecorder, EventRecorder, readSubtree } from '@elasticjob-ts/registry-conformance';
import { findFreePort, startRedisServer } from '@elasticjob-ts/test-support';
import { Redis } from 'ioredis';
import { describe, expect, it, vi } from 'vitest';
import { RedisRegistryCenter } from '../src/index.js';
import { HEARTBEAT } from '../src/lua.js';
import {
  expireSession,
  type ProxiedRedisRegistryCenter,
  proxiedClient,
  useRedisServer,
} from './support/redis-fixture.js';

const SESSION_TIMEOUT_MS = 3_000;

const redis = useRedisServer('sessions');

async function client(
  ns: string,
  sessionTimeoutMs = SESSION_TIMEOUT_MS,
): Promise<ProxiedRedisRegistryCenter> {
  const created = redis.track(await proxiedClient(redis.server, { namespace: ns, sessionTimeoutMs }));
  await created.start();
  return created;
}

describe('redis sessions', () => {
  it('start() rejects with TIMEOUT naming the URL when nothing listens, within connectionTimeoutMs', async () => {
    const port = await findFreePort();
    const registry = new RedisRegistryCenter({
      type: 'redis',
      url: `redis://127.0.0.1:${port}`,
      namespace: redis.namespace(),
      connectionTimeoutMs: 500,
    });
    const started = Date.now();
    const error = await registry.start().catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'TIMEOUT' });
    expect((error as Error).message).toContain(`redis://127.0.0.1:${port}`);
    expect(Date.now() - started).toBeLessThan(500 + 5_000);
    await registry.close();
  });

  it('an expired session is gone for every reader at once, before any heartbeat removed it', async () => {
    const ns = redis.namespace();
    const owner = await client(ns, 60_000);
    const reader = await client(ns, 60_000);
    await owner.persistEphemeral('/instances/i1', 'alive');
    await expireSession(redis.admin, owner);
    // No heartbeat runs for 20 s (timeout 60 s): the read itself applies the expiry.
    expect(await reader.isExisted('/instances/i1')).toBe(false);
    expect(await reader.getChildrenKeys('/instances')).toEqual([]);
  });

  it('a heartbeat that reaches the server after its validity bound does not extend the session', async () => {
    const ns = redis.namespace();
    const owner = await client(ns);
    const prefix = owner.keyPrefix;
    const sessionId = owner.sessionId as string;
    const before = Number(await redis.admin.zscore(`${prefix}s`, sessionId));
    const script = new Redis(redis.server.url);
    script.defineCommand('heartbeat', { numberOfKeys: 1, lua: HEARTBEAT.lua });
    try {
      const call = (script as unknown as Record<string, (...args: unknown[]) => Promise<[number, string]>>)
        .heartbeat as (...args: unknown[]) => Promise<[number, string]>;
      const [status, serverMs] = await call.call(script, prefix, 1000, sessionId, 60_000, 1);
      expect(status).toBe(-1);
      expect(Number(serverMs)).toBeGreaterThan(1);
      expect(Number(await redis.admin.zscore(`${prefix}s`, sessionId))).toBe(before);
      const [accepted] = await call.call(script, prefix, 1000, sessionId, 60_000, Number(serverMs) + 60_000);
      expect(accepted).toBe(1);
      expect(Number(await redis.admin.zscore(`${prefix}s`, sessionId))).toBeGreaterThan(before);
    } finally {
      script.disconnect();
    }
  });

  it('a cut longer than the session reports LOST while still cut off, after the server-side deadline', async () => {
    const ns = redis.namespace();
    const owner = await client(ns);
    const watcher = await client(ns);
    const states = new ConnectionStateRecorder().attach(owner);
    await owner.persistEphemeral('/e', 'doomed');
    const sessionId = owner.sessionId as string;
    const recorder = new EventRecorder();
    await watcher.watch('/', recorder.listener);
    owner.proxy.cut();
    const suspendedAt = await states.waitForState('SUSPENDED');
    const lostAt = await states.waitForState('LOST', {
      from: suspendedAt,
      timeoutMs: SESSION_TIMEOUT_MS * 4,
    });
    // The server agrees: the session's entry is already past its deadline (or removed).
    const [seconds, micros] = await redis.admin.time();
    const serverNowMs = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    const deadline = await redis.admin.zscore(`${owner.keyPrefix}s`, sessionId);
    expect(deadline === null || Number(deadline) < serverNowMs).toBe(true);
    await recorder.waitForEvent(
      { type: 'DELETED', key: '/e', value: 'doomed' },
      { timeoutMs: SESSION_TIMEOUT_MS * 4 },
    );
    owner.proxy.restore();
    await states.waitForState('RECONNECTED', { from: lostAt, timeoutMs: 20_000 });
    expect(states.states).toEqual(['SUSPENDED', 'LOST', 'RECONNECTED']);
  });
});

describe('redis change feed', () => {
  it('a watcher whose unread entries were trimmed re-reads its subtree and delivers the differences', async () => {
    const ns = redis.namespace();
    const writer = await client(ns);
    const watcher = await client(ns);
    await writer.persist('/w/kept', 'k');
    await writer.persist('/w/changed', 'old');
    await writer.persist('/w/removed', 'r');
    const recorder = new EventRecorder();
    await watcher.watch('/w', recorder.listener);
    const from = recorder.mark();
    watcher.proxy.cut();
    await writer.update('/w/changed', 'new');
    await writer.remove('/w/removed');
    await writer.persist('/w/added', 'a');
    await redis.admin.xtrim(`${writer.keyPrefix}x`, 'MAXLEN', 0);
    watcher.proxy.restore();
    await recorder.waitFor(
      (events) => events.slice(from).length >= 3,
      15_000,
      'the differences after the trimmed entries',
    );
    expect(recorder.since(from)).toEqual(
      expect.arrayContaining([
        { type: 'UPDATED', key: '/w/changed', value: 'new' },
        { type: 'DELETED', key: '/w/removed', value: 'r' },
        { type: 'ADDED', key: '/w/added', value: 'a' },
      ]),
    );
    expect(recorder.since(from)).toHaveLength(3);
    expect(recorder.anomalies()).toEqual([]);
    await writer.persist('/w/after', 'live');
    await recorder.waitForEvent({ type: 'ADDED', key: '/w/after', value: 'live' });
    const mirror = recorder.mirror();
    mirror.delete('/w'); // readSubtree lists the nodes below the root
    expect(mirror).toEqual(await readSubtree(writer, '/w'));
  });
});

describe('redis latch', () => {
  it("a waiter that missed its predecessor's deletion (feed trimmed while cut off) still acquires", async () => {
    const ns = redis.namespace();
    const holder = await client(ns);
    const waiter = await client(ns);
    let release = (): void => undefined;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let entered = (): void => undefined;
    const holderEntered = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const holding = holder.executeInLeader('/latch', async () => {
      entered();
      await released;
    });
    await holderEntered;
    const waiting = waiter.executeInLeader('/latch', () => 'acquired', { waitTimeoutMs: 30_000 });
    await vi.waitFor(async () => expect(await holder.getNumChildren('/latch')).toBe(2), { timeout: 10_000 });
    waiter.proxy.cut();
    release();
    await holding;
    await redis.admin.xtrim(`${holder.keyPrefix}x`, 'MAXLEN', 0);
    waiter.proxy.restore();
    expect(await waiting).toBe('acquired');
  });
});

describe('redis server without persistence', () => {
  it('after a restart that lost every key, watches deliver the loss and clients work in a new session', {
    timeout: 60_000,
  }, async () => {
    const volatile = await startRedisServer({ extraArgs: ['--appendonly', 'no'] });
    try {
      const ns = redis.namespace();
      const make = async () => {
        const created = new RedisRegistryCenter({
          type: 'redis',
          url: volatile.url,
          namespace: ns,
          sessionTimeoutMs: SESSION_TIMEOUT_MS,
        });
        redis.track(created);
        await created.start();
        return created;
      };
      const writer = await make();
      const watcher = await make();
      const states = new ConnectionStateRecorder().attach(writer);
      await writer.persist('/v/durable', 'd');
      await writer.persistEphemeral('/v/ephemeral', 'e');
      const recorder = new EventRecorder();
      await watcher.watch('/v', recorder.listener);
      await volatile.restart();
      await recorder.waitForEvent({ type: 'DELETED', key: '/v/durable', value: 'd' }, { timeoutMs: 20_000 });
      await recorder.waitForEvent(
        { type: 'DELETED', key: '/v/ephemeral', value: 'e' },
        { timeoutMs: 20_000 },
      );
      const lostAt = await states.waitForState('LOST', { timeoutMs: 20_000 });
      await states.waitForState('RECONNECTED', { from: lostAt, timeoutMs: 20_000 });
      await writer.persist('/v/again', 'a');
      await recorder.waitForEvent({ type: 'ADDED', key: '/v/again', value: 'a' }, { timeoutMs: 20_000 });
      expect(recorder.anomalies()).toEqual([]);
    } finally {
      await redis.closeClients();
      await volatile.stop();
    }
  });
});
