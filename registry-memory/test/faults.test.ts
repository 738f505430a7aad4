import type { RegistryEvent } from '@elasticjob-ts/core';
import { describe, expect, it } from 'vitest';
import { recordStates, useMemoryRegistry } from './helpers.js';

describe('fault controls (registry.faults)', () => {
  const registry = useMemoryRegistry();

  it('applies request latency each way and keeps requests and responses in FIFO order', async () => {
    const client = await registry.client();
    const observer = await registry.client();
    const latencies = [30, 5, 5, 5];
    client.faults.setRequestLatency(() => latencies.shift() ?? 0);
    const order: string[] = [];
    const write = client.persist('/a', '1').then(() => order.push('write'));
    const read = client.get('/a').then((value) => order.push(`read ${value}`));
    await registry.clock.advance(29);
    expect(await observer.get('/a')).toBeUndefined(); // not yet at the server
    await registry.clock.advance(1);
    expect(await observer.get('/a')).toBe('1');
    expect(order).toEqual([]); // the response is on its way back
    await registry.clock.advance(5);
    await Promise.all([write, read]);
    // The read was sent second with a shorter latency but waited for the write: FIFO both ways.
    expect(order).toEqual(['write', 'read 1']);
  });

  it('delays watch events, in commit order, and batches them by window', async () => {
    const client = await registry.client();
    const writer = await registry.client();
    const events: string[] = [];
    await client.watch('/jobs', (event: RegistryEvent) => events.push(`${event.type} ${event.key}`));
    client.faults.setWatchDelay(40, 100);
    await writer.persist('/jobs/a', '');
    await registry.clock.advance(30);
    await writer.persist('/jobs/b', '');
    await registry.clock.advance(60);
    expect(events).toEqual([]);
    // Both events were due before the next 100 ms boundary of the clock: delivered together.
    const boundary = Math.ceil((registry.clock.now() + 1) / 100) * 100;
    await registry.clock.advanceTo(boundary);
    expect(events).toEqual(['ADDED /jobs', 'ADDED /jobs/a', 'ADDED /jobs/b']);
    expect(client.faults.enabled).toBe(true);
  });

  it.each([
    // ZooKeeper: one ordered channel; the read, served after the change, is answered after its events.
    ['by default', {}, ['write answered', 'ADDED /jobs', 'ADDED /jobs/a', 'read 1']],
    // etcd, Redis: events on their own channel, in commit order (the second event, sampled with no
    // delay, waits for the first); the read's answer overtakes them.
    [
      'with separateChannel',
      { separateChannel: true },
      ['write answered', 'read 1', 'ADDED /jobs', 'ADDED /jobs/a'],
    ],
  ] as const)('%s, orders watch events and responses as its registry does', async (_, options, expected) => {
    const client = await registry.client();
    const order: string[] = [];
    await client.watch('/jobs', (event: RegistryEvent) => order.push(`${event.type} ${event.key}`));
    client.faults.setRequestLatency(5);
    const delays = [50, 0];
    client.faults.setWatchDelay(() => delays.shift() ?? 0, 0, options);
    const write = client.persist('/jobs/a', '1').then(() => order.push('write answered'));
    await registry.clock.advance(10);
    await write;
    const read = client.get('/jobs/a').then((value) => order.push(`read ${value}`));
    await registry.clock.advance(100);
    await read;
    expect(order).toEqual(expected);
  });

  it('loses requests in flight at a partition: they fail CONNECTION_LOSS when the client notices', async () => {
    const client = await registry.client({ sessionTimeoutMs: 10_000 });
    const observer = await registry.client();
    const states = recordStates(client);
    client.faults.setRequestLatency(20);
    const lost = client.persist('/lost', 'x');
    const outcome = lost.then(
      () => 'resolved',
      (error: { code?: string }) => error.code,
    );
    client.faults.partition({ detectAfterMs: 1000 });
    await registry.clock.advance(999);
    expect(states).toEqual([]);
    expect(await observer.isExisted('/lost')).toBe(false);
    await registry.clock.advance(1);
    expect(states).toEqual(['SUSPENDED']);
    expect(await outcome).toBe('CONNECTION_LOSS');
    await expect(client.get('/lost')).rejects.toMatchObject({ code: 'CONNECTION_LOSS' });
    expect(client.faults.inFlightCount).toBe(0);
  });

  it('expires the session on the server during a long partition; the client learns LOST on heal', async () => {
    const client = await registry.client({ sessionTimeoutMs: 5000 });
    const observer = await registry.client();
    const states = recordStates(client);
    await client.persistEphemeral('/instances/a', 'A');
    const oldSession = client.sessionId as string;
    client.faults.partition({ detectAfterMs: 500 });
    await registry.clock.advance(5000);
    expect(registry.server.isSessionAlive(oldSession)).toBe(false);
    expect(await observer.isExisted('/instances/a')).toBe(false);
    expect(states).toEqual(['SUSPENDED']); // no local guess: LOST comes from the server
    client.faults.heal();
    await registry.clock.advance(0);
    expect(states).toEqual(['SUSPENDED', 'LOST', 'RECONNECTED']);
    expect(client.sessionId).not.toBe(oldSession);
    const after = client.persist('/after', 'ok');
    await registry.clock.advance(0);
    await after;
    expect(await observer.get('/after')).toBe('ok');
  });

  it('keeps the session across a short partition: SUSPENDED then RECONNECTED, held events delivered', async () => {
    const client = await registry.client({ sessionTimeoutMs: 5000 });
    const writer = await registry.client();
    const states = recordStates(client);
    const events: string[] = [];
    await client.watch('/jobs', (event: RegistryEvent) => events.push(`${event.type} ${event.key}`));
    const sessionId = client.sessionId;
    client.faults.partition({ detectAfterMs: 2000 });
    await writer.persist('/jobs/during', '');
    await registry.clock.advance(1000);
    expect(events).toEqual([]);
    client.faults.heal();
    await registry.clock.advance(0);
    expect(states).toEqual(['SUSPENDED', 'RECONNECTED']);
    expect(client.sessionId).toBe(sessionId);
    expect(events).toEqual(['ADDED /jobs', 'ADDED /jobs/during']);
  });

  it('fails a request sent on a session that expired before it arrived with SESSION_EXPIRED', async () => {
    const client = await registry.client({ sessionTimeoutMs: 5000 });
    client.faults.setRequestLatency(50);
    const outcome = client.persist('/x', '1').then(
      () => 'resolved',
      (error: { code?: string }) => error.code,
    );
    client.expireSession();
    await registry.clock.advance(100);
    expect(await outcome).toBe('SESSION_EXPIRED');
  });

  it('rejects invalid delays naming the control', () => {
    return registry.client().then((client) => {
      expect(() => client.faults.setRequestLatency(-1)).toThrow(/request latency/);
      expect(() => client.faults.setWatchDelay(1, Number.NaN)).toThrow(/batch window/);
      expect(() => client.faults.partition({ detectAfterMs: -5 })).toThrow(/detectAfterMs/);
    });
  });
});
