import { describe, expect, it, vi } from 'vitest';
import { MemoryRegistryCenter } from '../src/index.js';
import { capturingLogger, compact, record, recordStates, useMemoryRegistry } from './helpers.js';

describe('sessions and connection controls', () => {
  const registry = useMemoryRegistry();

  it('reports CONNECTED on start and nothing on close', async () => {
    const client = new MemoryRegistryCenter({ server: registry.server });
    const states = recordStates(client);
    expect(client.sessionId).toBeUndefined();
    await client.start();
    expect(states).toEqual(['CONNECTED']);
    expect(client.sessionId).toMatch(/^0x[0-9a-f]{16}$/);
    await client.close();
    expect(states).toEqual(['CONNECTED']);
    expect(client.sessionId).toBeUndefined();
  });

  it('keeps the session across a disconnect shorter than the session timeout', async () => {
    const owner = await registry.client({ sessionTimeoutMs: 10_000 });
    const observer = await registry.client();
    const states = recordStates(owner);
    const sessionId = owner.sessionId;
    await owner.persistEphemeral('/instances/a', 'A');

    owner.simulateDisconnect();
    expect(states).toEqual(['SUSPENDED']);
    await expect(owner.get('/instances/a')).rejects.toMatchObject({ code: 'CONNECTION_LOSS' });
    await expect(owner.persist('/x', '')).rejects.toMatchObject({ code: 'CONNECTION_LOSS' });
    await registry.clock.advance(9_999);
    expect(await observer.get('/instances/a')).toBe('A');

    owner.simulateReconnect();
    expect(states).toEqual(['SUSPENDED', 'RECONNECTED']);
    expect(owner.sessionId).toBe(sessionId);
    expect(await owner.get('/instances/a')).toBe('A');
    await registry.clock.advance(60_000);
    expect(await observer.get('/instances/a')).toBe('A');
    expect(registry.clock.pendingTimerCount).toBe(0);
  });

  it('expires a session disconnected for the session timeout: ephemerals vanish for everyone, then LOST', async () => {
    const owner = await registry.client({ sessionTimeoutMs: 10_000 });
    const observer = await registry.client();
    await owner.persistEphemeral('/instances/a', 'A');
    await owner.persist('/instances/persistent', 'P');
    const { events } = await record(observer, '/instances');
    const states = recordStates(owner);
    const oldSession = owner.sessionId;

    owner.simulateDisconnect();
    await registry.clock.advance(10_000);
    expect(states).toEqual(['SUSPENDED', 'LOST']);
    await vi.waitFor(() => expect(compact(events)).toContain('DELETED /instances/a=A'));
    expect(await observer.isExisted('/instances/a')).toBe(false);
    expect(await observer.get('/instances/persistent')).toBe('P');
    await expect(owner.get('/instances/persistent')).rejects.toMatchObject({ code: 'CONNECTION_LOSS' });

    owner.simulateReconnect();
    expect(states).toEqual(['SUSPENDED', 'LOST', 'RECONNECTED']);
    expect(owner.sessionId).not.toBe(oldSession);
    await owner.persistEphemeral('/instances/a', 'A2');
    await owner.close();
    await vi.waitFor(() => expect(compact(events).at(-1)).toBe('DELETED /instances/a=A2'));
  });

  it('expireSession() deletes ephemerals, reports LOST then RECONNECTED with a new, usable session', async () => {
    const owner = await registry.client();
    const observer = await registry.client();
    await owner.persistEphemeral('/instances/a', 'A');
    await owner.persistEphemeralSequential('/instances/seq-');
    const { events } = await record(observer, '/instances');
    const states = recordStates(owner);
    const oldSession = owner.sessionId;

    owner.expireSession();
    expect(states).toEqual(['LOST', 'RECONNECTED']);
    expect(owner.sessionId).not.toBe(oldSession);
    expect(await owner.getChildrenKeys('/instances')).toEqual([]);
    await vi.waitFor(() => expect(events).toHaveLength(5));
    expect(compact(events.slice(3)).sort()).toEqual([
      'DELETED /instances/a=A',
      'DELETED /instances/seq-0000000000=',
    ]);

    registry.server.expireSession(owner);
    expect(states).toEqual(['LOST', 'RECONNECTED', 'LOST', 'RECONNECTED']);
    expect(() =>
      registry.server.expireSession(new MemoryRegistryCenter({ server: registry.server })),
    ).toThrow(TypeError);
  });

  it('close() deletes the session ephemerals for others and stops its watches', async () => {
    const owner = await registry.client();
    const observer = await registry.client();
    await owner.persistEphemeral('/instances/a', 'A');
    const own = await record(owner, '/instances');
    const seen = await record(observer, '/instances');
    await owner.close();
    await observer.persist('/instances/b', 'B');
    await vi.waitFor(() =>
      expect(compact(seen.events)).toEqual([
        'ADDED /instances=',
        'ADDED /instances/a=A',
        'DELETED /instances/a=A',
        'ADDED /instances/b=B',
      ]),
    );
    expect(compact(own.events)).toEqual(['ADDED /instances=', 'ADDED /instances/a=A']);
    expect(() => owner.simulateDisconnect()).toThrow(/closed/);
  });

  it('persistEphemeral replaces a node and takes ownership of it', async () => {
    const first = await registry.client();
    const second = await registry.client();
    await first.persistEphemeral('/leader', 'first');
    await second.persistEphemeral('/leader', 'second');
    await first.close();
    expect(await second.get('/leader')).toBe('second');
    await second.close();
    const third = await registry.client();
    expect(await third.isExisted('/leader')).toBe(false);
  });

  it('simulateRestart() suspends and reconnects every client; sessions and ephemerals survive', async () => {
    const a = await registry.client();
    const b = await registry.client();
    await a.persistEphemeral('/a', '');
    const statesA = recordStates(a);
    const statesB = recordStates(b);
    const sessions = [a.sessionId, b.sessionId];
    registry.server.simulateRestart();
    expect(statesA).toEqual(['SUSPENDED', 'RECONNECTED']);
    expect(statesB).toEqual(['SUSPENDED', 'RECONNECTED']);
    expect([a.sessionId, b.sessionId]).toEqual(sessions);
    expect(await b.isExisted('/a')).toBe(true);
  });

  it('operations from a LOST listener fail; from a RECONNECTED listener they use the new session', async () => {
    const owner = await registry.client();
    const observer = await registry.client();
    const outcomes: Array<Promise<unknown>> = [];
    owner.addConnectionStateListener((state) => {
      if (state === 'LOST')
        outcomes.push(owner.persistEphemeral('/lost', '').catch((error: unknown) => error));
      if (state === 'RECONNECTED') outcomes.push(owner.persistEphemeral('/reconnected', ''));
    });
    owner.expireSession();
    const [lost, reconnected] = await Promise.all(outcomes);
    expect(lost).toMatchObject({ code: 'CONNECTION_LOSS' });
    expect(reconnected).toBeUndefined();
    expect(await observer.isExisted('/lost')).toBe(false);
    await owner.close();
    expect(await observer.isExisted('/reconnected')).toBe(false);
  });

  it('a throwing state listener does not stop the others', async () => {
    const { logger, errors } = capturingLogger();
    const client = await registry.client({ logger });
    const states: string[] = [];
    client.addConnectionStateListener(() => {
      throw new Error('boom');
    });
    const dispose = client.addConnectionStateListener((state) => states.push(state));
    client.simulateDisconnect();
    dispose();
    dispose();
    client.simulateReconnect();
    expect(states).toEqual(['SUSPENDED']);
    expect(errors).toHaveLength(2);
  });
});
