import type { CoordinatorRegistryCenter, RegistryConnectionStateListener } from '@elasticjob-ts/core';
import { describe, expect, it } from 'vitest';
import { ConnectionStateRecorder, EventRecorder } from '../src/index.js';

describe('EventRecorder', () => {
  it('resolves a wait on the event that satisfies it, looking only from the given index', async () => {
    const recorder = new EventRecorder();
    recorder.listener({ type: 'ADDED', key: '/a', value: '1' });
    const from = recorder.mark();
    const waiting = recorder.waitForEvent({ key: '/a' }, { from, timeoutMs: 1_000 });
    recorder.listener({ type: 'UPDATED', key: '/b', value: '2' });
    recorder.listener({ type: 'UPDATED', key: '/a', value: '3' });
    await expect(waiting).resolves.toEqual({ type: 'UPDATED', key: '/a', value: '3' });
  });

  it('copies events, so adapters may reuse their event objects', () => {
    const recorder = new EventRecorder();
    const reused = { type: 'ADDED' as 'ADDED' | 'UPDATED', key: '/a', value: '1' };
    recorder.listener(reused);
    reused.type = 'UPDATED';
    reused.value = '2';
    recorder.listener(reused);
    expect(recorder.events).toEqual([
      { type: 'ADDED', key: '/a', value: '1' },
      { type: 'UPDATED', key: '/a', value: '2' },
    ]);
  });

  it('times out with what was recorded', async () => {
    const recorder = new EventRecorder();
    recorder.listener({ type: 'ADDED', key: '/seen', value: 'x' });
    await expect(recorder.waitForEvent({ key: '/never' }, { timeoutMs: 20 })).rejects.toThrow(
      /timed out after 20 ms.*ADDED \/seen="x"/,
    );
  });

  it('mirrors the events into a state and reports contradictory events', () => {
    const recorder = new EventRecorder();
    recorder.listener({ type: 'ADDED', key: '/a', value: '1' });
    recorder.listener({ type: 'ADDED', key: '/b', value: '1' });
    recorder.listener({ type: 'UPDATED', key: '/a', value: '2' });
    recorder.listener({ type: 'DELETED', key: '/b', value: '1' });
    expect(recorder.mirror()).toEqual(new Map([['/a', '2']]));
    expect(recorder.anomalies()).toEqual([]);
    recorder.listener({ type: 'ADDED', key: '/a', value: '3' });
    recorder.listener({ type: 'DELETED', key: '/b', value: '1' });
    recorder.listener({ type: 'UPDATED', key: '/a', value: '3' });
    expect(recorder.anomalies()).toEqual([
      '#4 ADDED /a already present',
      '#5 DELETED /b not present',
      '#6 UPDATED /a to its current value "3"',
    ]);
  });

  it('cancelWaits rejects pending waits', async () => {
    const recorder = new EventRecorder();
    const waiting = recorder.waitFor(() => false, 10_000, 'never');
    recorder.cancelWaits('test ended');
    await expect(waiting).rejects.toThrow('test ended');
  });
});

describe('ConnectionStateRecorder', () => {
  it('attaches to a client, waits for states after an index and detaches idempotently', async () => {
    const listeners = new Set<RegistryConnectionStateListener>();
    const client = {
      addConnectionStateListener(listener: RegistryConnectionStateListener) {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
    } as unknown as CoordinatorRegistryCenter;
    const states = new ConnectionStateRecorder().attach(client);
    const emit = (state: Parameters<RegistryConnectionStateListener>[0]) => {
      for (const listener of listeners) listener(state);
    };
    emit('CONNECTED');
    emit('SUSPENDED');
    const waiting = states.waitForState('SUSPENDED', { from: states.count, timeoutMs: 1_000 });
    emit('RECONNECTED');
    emit('SUSPENDED');
    await expect(waiting).resolves.toBe(3);
    expect(states.last).toBe('SUSPENDED');
    expect(states.describe()).toBe('CONNECTED → SUSPENDED → RECONNECTED → SUSPENDED');
    states.detach();
    states.detach();
    expect(listeners.size).toBe(0);
  });
});
