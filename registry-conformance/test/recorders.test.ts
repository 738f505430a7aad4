import type {
  CoordinatorRegistryCenter,
  RegistryConnectionStateListener,
  RegistryEvent,
} from '@elasticjob-ts/core';
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

  describe('commitOrderViolations', () => {
    const history = [undefined, 'v1', 'v2', 'v3', undefined, 'v4'];
    const record = (...events: Array<[RegistryEvent['type'], string]>) => {
      const recorder = new EventRecorder();
      recorder.listener({ type: 'ADDED', key: '/other', value: 'x' });
      for (const [type, value] of events) recorder.listener({ type, key: '/k', value });
      recorder.listener({ type: 'DELETED', key: '/other', value: 'x' });
      return recorder;
    };

    it('accepts every change in commit order, and merged changes (skipped states, short-lived nodes)', () => {
      const every = record(
        ['ADDED', 'v1'],
        ['UPDATED', 'v2'],
        ['UPDATED', 'v3'],
        ['DELETED', 'v3'],
        ['ADDED', 'v4'],
      );
      expect(every.commitOrderViolations('/k', history)).toEqual([]);
      expect(
        record(['ADDED', 'v2'], ['DELETED', 'v2'], ['ADDED', 'v4']).commitOrderViolations('/k', history),
      ).toEqual([]);
      expect(record(['ADDED', 'v1'], ['DELETED', 'v1']).commitOrderViolations('/k', history)).toEqual([]);
      expect(record(['ADDED', 'v1'], ['UPDATED', 'v4']).commitOrderViolations('/k', history)).toEqual([]);
      expect(record(['ADDED', 'v4']).commitOrderViolations('/k', history)).toEqual([]);
      expect(record().commitOrderViolations('/k', history)).toEqual([]);
    });

    it('checks from an index against the state the earlier events show', () => {
      const recorder = record(['ADDED', 'v1'], ['UPDATED', 'v2']);
      expect(recorder.commitOrderViolations('/k', ['v1', 'v2'], 2)).toEqual([]);
      expect(recorder.commitOrderViolations('/k', [undefined, 'v2'], 2)).toEqual([
        'before #2: /k was reported "v1", but its initial state is absent',
      ]);
    });

    it('reports reordered, duplicated and invented events and wrong DELETED values', () => {
      expect(record(['ADDED', 'v2'], ['UPDATED', 'v1']).commitOrderViolations('/k', history)).toEqual([
        '#2 UPDATED /k="v1": matches no state committed after the last reported one ("v2", state #2); ' +
          'later states: "v3", absent, "v4"',
      ]);
      expect(
        record(['ADDED', 'v1'], ['UPDATED', 'v2'], ['UPDATED', 'v2']).commitOrderViolations('/k', history),
      ).toHaveLength(2);
      expect(record(['ADDED', 'v1'], ['ADDED', 'v1']).commitOrderViolations('/k', history)).toHaveLength(2);
      expect(
        record(['ADDED', 'v1'], ['DELETED', 'v1'], ['DELETED', 'v1']).commitOrderViolations('/k', history),
      ).not.toEqual([]);
      expect(record(['ADDED', 'v1'], ['UPDATED', 'v9']).commitOrderViolations('/k', history)).toHaveLength(1);
      expect(record(['ADDED', 'v1'], ['DELETED', 'v9']).commitOrderViolations('/k', history)).toHaveLength(1);
      expect(
        record(['ADDED', 'v1'], ['UPDATED', 'v3'], ['DELETED', 'v1']).commitOrderViolations('/k', history),
      ).toHaveLength(1);
      expect(record(['UPDATED', 'v1']).commitOrderViolations('/k', history)).toEqual([
        '#1 UPDATED /k="v1": the key was reported absent',
      ]);
    });
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
