/**
 * {@link LeaseSession}'s retry pacing, on a fake lease client and fake timers: a keep-alive whose
 * endpoint was unavailable (a dead cluster member picked at random) is sent again at once, once
 * per endpoint in a row; then the retry delay applies, so that an outage of every endpoint does
 * not spin. A keep-alive answered late suspends nothing while the lease is known held; one never
 * answered suspends once it is no longer.
 */
import { EventEmitter } from 'node:events';
import type { RegistryConnectionState } from '@elasticjob-ts/core';
import type { LeaseClient } from 'etcd3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LeaseSession } from '../src/session.js';

type Answer = 'ack' | 'unavailable';

/** A lease client whose n-th keep-alive stream answers its keep-alives with `answers[n]`. */
function fakeLeaseClient(answers: (streamIndex: number) => Answer): {
  client: LeaseClient;
  streams: () => number;
} {
  let opened = 0;
  const client = {
    leaseGrant: async () => ({ ID: '7', TTL: '3' }),
    leaseRevoke: async () => ({}),
    leaseKeepAlive: async () => {
      const answer = answers(opened);
      opened += 1;
      const stream = Object.assign(new EventEmitter(), {
        write: () =>
          queueMicrotask(() =>
            answer === 'ack'
              ? stream.emit('data', { ID: '7', TTL: '3' })
              : stream.emit(
                  'error',
                  Object.assign(new Error('14 UNAVAILABLE: No connection established'), { code: 14 }),
                ),
          ),
        end: () => undefined,
        cancel: () => undefined,
      });
      return stream;
    },
  };
  return { client: client as unknown as LeaseClient, streams: () => opened };
}

describe('LeaseSession retry pacing', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function open(answers: (streamIndex: number) => Answer) {
    const fake = fakeLeaseClient(answers);
    const states: RegistryConnectionState[] = [];
    const session = new LeaseSession({
      leaseClient: fake.client,
      ttlSeconds: 3,
      requestTimeoutMs: 5_000,
      onStateChange: (state) => states.push(state),
      onBackgroundError: () => undefined,
      endpointCount: 3,
    });
    return { session, states, streams: fake.streams };
  }

  it('sends a keep-alive again at once after its endpoint was unavailable', async () => {
    // Streams 0 and 1 reach a dead member; stream 2 a live one.
    const { session, states, streams } = open((index) => (index < 2 ? 'unavailable' : 'ack'));
    await session.open(performance.now() + 5_000);
    await vi.advanceTimersByTimeAsync(10);
    expect(streams()).toBe(3);
    expect(states).toEqual(['SUSPENDED', 'RECONNECTED']);
    expect(session.acknowledgedKeepAlives).toBe(1);
    await session.close();
  });

  it('waits the retry delay after one endpoint count of unavailable endpoints in a row', async () => {
    const { session, states, streams } = open(() => 'unavailable');
    await session.open(performance.now() + 5_000);
    await vi.advanceTimersByTimeAsync(10);
    expect(streams()).toBe(3);
    await vi.advanceTimersByTimeAsync(230);
    expect(streams(), 'nothing sent within the retry delay').toBe(3);
    await vi.advanceTimersByTimeAsync(20);
    expect(streams()).toBe(6);
    expect(states).toEqual(['SUSPENDED']);
    await session.close();
  });
});

/**
 * A lease client whose n-th keep-alive (over all streams) is answered after `delayMs(n)` ms with
 * TTL 3 s, or never when `delayMs(n)` is `undefined`.
 */
function delayingLeaseClient(delayMs: (keepAliveIndex: number) => number | undefined): LeaseClient {
  let sent = 0;
  const client = {
    leaseGrant: async () => ({ ID: '7', TTL: '3' }),
    leaseRevoke: async () => ({}),
    leaseKeepAlive: async () => {
      const stream = Object.assign(new EventEmitter(), {
        write: () => {
          const delay = delayMs(sent);
          sent += 1;
          if (delay !== undefined) setTimeout(() => stream.emit('data', { ID: '7', TTL: '3' }), delay);
        },
        end: () => undefined,
        cancel: () => undefined,
      });
      return stream;
    },
  };
  return client as unknown as LeaseClient;
}

/** Bound of one keep-alive while suspended, in ms. */
const SUSPENDED_PROBE_MS = 500;

describe('LeaseSession suspends once the lease is no longer known held, not on a late answer', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** A session with TTL 3 s: keep-alives every 1 s, writes unconfirmed 500 ms before the lease may end. */
  async function open(delayMs: (keepAliveIndex: number) => number | undefined) {
    const states: RegistryConnectionState[] = [];
    const session = new LeaseSession({
      leaseClient: delayingLeaseClient(delayMs),
      ttlSeconds: 3,
      requestTimeoutMs: 5_000,
      onStateChange: (state) => states.push(state),
      onBackgroundError: () => undefined,
      endpointCount: 1,
    });
    await session.open(performance.now() + 5_000);
    return { session, states };
  }

  it('keep-alives answered 1.2 s late (more than TTL/3) keep the session alive, every write confirmed at once', async () => {
    const { session, states } = await open(() => 1_200);
    for (let elapsedMs = 0; elapsedMs < 10_000; elapsedMs += 100) {
      await vi.advanceTimersByTimeAsync(100);
      // Never more than 2.4 s since an answered keep-alive was sent: the lease is held 3 s from it.
      await session.confirmLease('/fenced');
    }
    expect(states).toEqual([]);
    expect(session.acknowledgedKeepAlives).toBeGreaterThanOrEqual(7);
    await session.close();
  });

  it('a keep-alive never answered suspends when the lease is no longer known held; writes then fail', async () => {
    // The first keep-alive (sent with the grant's answer, t = 0) is answered: held until t = 3 s.
    const { session, states } = await open((index) => (index === 0 ? 0 : undefined));
    await vi.advanceTimersByTimeAsync(2_490);
    expect(states).toEqual([]);
    await expect(session.confirmLease('/fenced')).resolves.toBeUndefined();
    await vi.advanceTimersByTimeAsync(20);
    expect(states).toEqual(['SUSPENDED']);
    const write = expect(session.confirmLease('/fenced')).rejects.toMatchObject({ code: 'CONNECTION_LOSS' });
    await vi.advanceTimersByTimeAsync(SUSPENDED_PROBE_MS);
    await write;
    await session.close();
  });
});
