import type { RegistryEvent } from '@elasticjob-ts/core';
import { describe, expect, it, vi } from 'vitest';
import { capturingLogger, compact, record, useMemoryRegistry } from './helpers.js';

describe('watch event delivery', () => {
  const registry = useMemoryRegistry();

  it('never delivers inside the mutating call', async () => {
    const client = await registry.client();
    let inCall = false;
    const deliveredInCall: boolean[] = [];
    await client.watch('/w', () => deliveredInCall.push(inCall));
    inCall = true;
    const pending = client.persist('/w', 'v');
    inCall = false;
    await pending;
    await vi.waitFor(() => expect(deliveredInCall).toEqual([false]));
  });

  it('delivers every client the same commit order, ephemeral expiry children before parents', async () => {
    const writer = await registry.client();
    const readers = [await registry.client(), await registry.client({ namespace: 'test' })];
    const logs = await Promise.all(readers.map((reader) => record(reader, '/')));
    await writer.persist('/a', '1');
    await writer.persistEphemeral('/a/e/f', 'x');
    await writer.update('/a', '2');
    writer.expireSession();
    await writer.remove('/a');
    const expected = [
      'ADDED /a=1',
      'ADDED /a/e=',
      'ADDED /a/e/f=x',
      'UPDATED /a=2',
      'DELETED /a/e/f=x',
      'DELETED /a/e=',
      'DELETED /a=2',
    ];
    for (const { events } of logs) {
      await vi.waitFor(() => expect(compact(events.filter((event) => event.key !== '/'))).toEqual(expected));
    }
  });

  it('holdEvents() queues events in order until releaseEvents(); reads are not held', async () => {
    const writer = await registry.client();
    const reader = await registry.client();
    const { events } = await record(reader, '/h');
    registry.server.holdEvents();
    expect(registry.server.eventsHeld).toBe(true);
    await writer.persist('/h', '1');
    await writer.update('/h', '2');
    await writer.remove('/h');
    expect(await reader.isExisted('/h')).toBe(false);
    await registry.clock.advance(1);
    expect(events).toEqual([]);
    registry.server.releaseEvents();
    await vi.waitFor(() => expect(compact(events)).toEqual(['ADDED /h=1', 'UPDATED /h=2', 'DELETED /h=2']));
  });

  it('a watch registered while events are held skips changes its snapshot already contains', async () => {
    const writer = await registry.client();
    registry.server.holdEvents();
    await writer.persist('/s/a', '1');
    const { events } = await record(writer, '/s');
    expect(compact(events)).toEqual(['ADDED /s=', 'ADDED /s/a=1']);
    await writer.persist('/s/b', '2');
    registry.server.releaseEvents();
    await vi.waitFor(() => expect(compact(events)).toEqual(['ADDED /s=', 'ADDED /s/a=1', 'ADDED /s/b=2']));
  });

  it('buffers events while disconnected and delivers them after reconnect, without loss or duplicates', async () => {
    const writer = await registry.client();
    const reader = await registry.client({ sessionTimeoutMs: 5_000 });
    const { events } = await record(reader, '/d');
    reader.simulateDisconnect();
    await writer.persist('/d', '1');
    await writer.persist('/d/x', 'x');
    await writer.remove('/d/x');
    await registry.clock.advance(4_000);
    expect(events).toEqual([]);
    reader.simulateReconnect();
    await writer.update('/d', '2');
    await vi.waitFor(() =>
      expect(compact(events)).toEqual(['ADDED /d=1', 'ADDED /d/x=x', 'DELETED /d/x=x', 'UPDATED /d=2']),
    );
  });

  it('after a session expiry re-syncs each watch with the differences from what it last saw', async () => {
    const writer = await registry.client();
    const reader = await registry.client({ sessionTimeoutMs: 5_000 });
    await writer.persist('/r/kept', 'k');
    await writer.persist('/r/changed', 'old');
    await writer.persist('/r/gone/child', 'c');
    await reader.persistEphemeral('/r/mine', 'm');
    const { events } = await record(reader, '/r');
    const snapshot = events.length;
    reader.simulateDisconnect();
    await writer.update('/r/changed', 'new');
    await writer.remove('/r/gone');
    await writer.persist('/r/new', 'n');
    await writer.persist('/r/flip', 'temporary');
    await writer.remove('/r/flip');
    await registry.clock.advance(5_000);
    reader.simulateReconnect();
    await vi.waitFor(() => expect(events.length).toBeGreaterThan(snapshot + 4));
    await registry.clock.advance(1);
    expect(compact(events.slice(snapshot)).sort()).toEqual(
      [
        'DELETED /r/mine=m',
        'DELETED /r/gone/child=c',
        'DELETED /r/gone=',
        'UPDATED /r/changed=new',
        'ADDED /r/new=n',
      ].sort(),
    );
    const deletions = compact(events.slice(snapshot)).filter((line) => line.startsWith('DELETED /r/gone'));
    expect(deletions).toEqual(['DELETED /r/gone/child=c', 'DELETED /r/gone=']);
    await writer.persist('/r/after', 'a');
    await vi.waitFor(() => expect(compact(events).at(-1)).toBe('ADDED /r/after=a'));
  });

  it('a throwing watch listener does not stop delivery to others; unwatch is idempotent', async () => {
    const { logger, errors } = capturingLogger();
    const client = await registry.client({ logger });
    await client.watch('/t', () => {
      throw new Error('listener failure');
    });
    const received: RegistryEvent[] = [];
    const unwatch = await client.watch('/t', (event) => received.push(event));
    await client.persist('/t', '1');
    await client.persist('/t', '2');
    await vi.waitFor(() => expect(compact(received)).toEqual(['ADDED /t=1', 'UPDATED /t=2']));
    expect(errors).toHaveLength(2);
    await unwatch();
    await unwatch();
    await client.persist('/t', '3');
    await registry.clock.advance(1);
    expect(received).toHaveLength(2);
  });
});
