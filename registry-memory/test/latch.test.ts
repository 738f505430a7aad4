import { describe, expect, it, vi } from 'vitest';
import { useMemoryRegistry } from './helpers.js';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

describe('executeInLeader', () => {
  const registry = useMemoryRegistry();
  const latch = '/job/leader/election/latch';

  it('serves clients one at a time, in arrival order, with Curator-style participant nodes', async () => {
    const clients = [await registry.client(), await registry.client(), await registry.client()];
    const gate = deferred();
    const order: string[] = [];
    let inside = 0;
    const run = (name: string, index: number) =>
      clients[index]!.executeInLeader(latch, async () => {
        inside++;
        expect(inside).toBe(1);
        order.push(name);
        if (name === 'first') await gate.promise;
        inside--;
        return name;
      });
    const first = run('first', 2);
    await vi.waitFor(() => expect(order).toEqual(['first']));
    const second = run('second', 0);
    const third = run('third', 1);
    await vi.waitFor(async () => expect(await clients[0]!.getNumChildren(latch)).toBe(3));
    const participants = await clients[0]!.getChildrenKeys(latch);
    for (const name of participants) expect(name).toMatch(/^_c_[0-9a-f-]{36}-latch-\d{10}$/);
    expect(participants.map((name) => name.slice(-10)).sort()).toEqual([
      '0000000000',
      '0000000001',
      '0000000002',
    ]);
    gate.resolve();
    expect(await Promise.all([first, second, third])).toEqual(['first', 'second', 'third']);
    expect(order).toEqual(['first', 'second', 'third']);
    expect(await clients[0]!.getNumChildren(latch)).toBe(0);
  });

  it('releases the latch when the holder session expires', async () => {
    const holder = await registry.client({ sessionTimeoutMs: 1_000 });
    const waiter = await registry.client();
    const gate = deferred();
    const held = holder.executeInLeader(latch, () => gate.promise);
    await vi.waitFor(async () => expect(await waiter.getNumChildren(latch)).toBe(1));
    let acquired = false;
    const waiting = waiter.executeInLeader(latch, () => {
      acquired = true;
    });
    await registry.clock.advance(1);
    expect(acquired).toBe(false);
    holder.simulateDisconnect();
    await registry.clock.advance(1_000);
    await waiting;
    expect(acquired).toBe(true);
    gate.resolve();
    await held;
  });

  it('times out on the clock with TIMEOUT and removes its participant', async () => {
    const holder = await registry.client();
    const waiter = await registry.client();
    const gate = deferred();
    const held = holder.executeInLeader(latch, () => gate.promise);
    const waiting = waiter.executeInLeader(latch, () => 'never', { waitTimeoutMs: 5_000 });
    const outcome = waiting.catch((error: unknown) => error);
    await registry.clock.advance(4_999);
    expect(await waiter.getNumChildren(latch)).toBe(2);
    await registry.clock.advance(1);
    expect(await outcome).toMatchObject({ code: 'TIMEOUT', path: latch });
    expect(await waiter.getNumChildren(latch)).toBe(1);
    gate.resolve();
    await held;
    expect(await waiter.getNumChildren(latch)).toBe(0);
    expect(registry.clock.pendingTimerCount).toBe(0);
  });

  it('aborts the wait through the signal and rethrows callback errors unchanged after release', async () => {
    const holder = await registry.client();
    const waiter = await registry.client();
    const gate = deferred();
    const failure = new Error('callback failed');
    const held = holder.executeInLeader(latch, async () => {
      await gate.promise;
      throw failure;
    });
    const controller = new AbortController();
    const aborted = waiter.executeInLeader(latch, () => 'never', { signal: controller.signal });
    const outcome = aborted.catch((error: unknown) => error);
    await vi.waitFor(async () => expect(await waiter.getNumChildren(latch)).toBe(2));
    controller.abort(new Error('stop waiting'));
    expect(await outcome).toMatchObject({ message: 'stop waiting' });
    expect(await waiter.getNumChildren(latch)).toBe(1);
    gate.resolve();
    await expect(held).rejects.toBe(failure);
    expect(await waiter.executeInLeader(latch, () => 'next')).toBe('next');
    await expect(
      waiter.executeInLeader(latch, () => 'x', { signal: AbortSignal.abort(new Error('already')) }),
    ).rejects.toThrow('already');
  });

  it('rejects waiters when their client closes or their session expires', async () => {
    const holder = await registry.client();
    const closing = await registry.client();
    const expiring = await registry.client();
    const gate = deferred();
    const held = holder.executeInLeader(latch, () => gate.promise);
    const closed = closing.executeInLeader(latch, () => 'never').catch((error: unknown) => error);
    const expired = expiring.executeInLeader(latch, () => 'never').catch((error: unknown) => error);
    await vi.waitFor(async () => expect(await holder.getNumChildren(latch)).toBe(3));
    await closing.close();
    expect(await closed).toMatchObject({ code: 'NOT_STARTED' });
    expiring.expireSession();
    expect(await expired).toMatchObject({ code: 'SESSION_EXPIRED' });
    expect(await holder.getNumChildren(latch)).toBe(1);
    gate.resolve();
    await held;
  });

  it('a waiter that becomes first while disconnected acquires only after reconnecting', async () => {
    const holder = await registry.client();
    const waiter = await registry.client({ sessionTimeoutMs: 10_000 });
    const gate = deferred();
    const held = holder.executeInLeader(latch, () => gate.promise);
    let acquired = false;
    const waiting = waiter.executeInLeader(latch, () => {
      acquired = true;
    });
    await vi.waitFor(async () => expect(await holder.getNumChildren(latch)).toBe(2));
    waiter.simulateDisconnect();
    gate.resolve();
    await held;
    await registry.clock.advance(1);
    expect(acquired).toBe(false);
    waiter.simulateReconnect();
    await waiting;
    expect(acquired).toBe(true);
  });
});
