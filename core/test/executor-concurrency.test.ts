import { availableParallelism } from 'node:os';
import { describe, expect, it, vi } from 'vitest';
import { JobConfigurationError } from '../src/config/job-configuration-error.js';
import {
  executorPoolSizeProviderTypes,
  getExecutorPoolSize,
  registerExecutorPoolSizeProvider,
  runItemsConcurrently,
} from '../src/executor/index.js';

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (error: unknown) => void } {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('runItemsConcurrently', () => {
  it('keeps at most `limit` items in flight, starting them in order', async () => {
    const gates = new Map([0, 1, 2, 3, 4].map((item) => [item, deferred()]));
    const started: number[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const done = runItemsConcurrently([0, 1, 2, 3, 4], 2, async (item) => {
      started.push(item);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        await gates.get(item)?.promise;
      } finally {
        inFlight--;
      }
    });
    await vi.waitFor(() => expect(started).toEqual([0, 1]));
    gates.get(1)?.resolve();
    await vi.waitFor(() => expect(started).toEqual([0, 1, 2]));
    gates.get(0)?.reject(new Error('item 0 failed'));
    await vi.waitFor(() => expect(started).toEqual([0, 1, 2, 3]));
    for (const gate of gates.values()) gate.resolve();
    const failures = await done;
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect(maxInFlight).toBe(2);
    expect([...failures]).toEqual([[0, new Error('item 0 failed')]]);
  });

  it('never rejects: records rejections, synchronous throws and thrown non-errors per item', async () => {
    const failures = await runItemsConcurrently(['a', 'b', 'c', 'd'], 3, (item) => {
      if (item === 'a') throw new TypeError('sync');
      if (item === 'b') return Promise.reject(undefined);
      if (item === 'c') return Promise.reject('text');
      return Promise.resolve();
    });
    expect(failures.size).toBe(3);
    expect(failures.get('a')).toEqual(new TypeError('sync'));
    expect(failures.has('b')).toBe(true);
    expect(failures.get('b')).toBeUndefined();
    expect(failures.get('c')).toBe('text');
    expect(failures.has('d')).toBe(false);
  });

  it('runs everything at once with Infinity, one at a time with 1, nothing for no items', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const run = async () => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      inFlight--;
    };
    await runItemsConcurrently([1, 2, 3, 4, 5, 6], Number.POSITIVE_INFINITY, run);
    expect(maxInFlight).toBe(6);
    maxInFlight = 0;
    await runItemsConcurrently([1, 2, 3], 1, run);
    expect(maxInFlight).toBe(1);
    expect((await runItemsConcurrently([], 4, run)).size).toBe(0);
  });

  it.each([0, -1, 1.5, Number.NaN])('rejects limit %s with a TypeError', async (limit) => {
    await expect(runItemsConcurrently([1], limit, async () => {})).rejects.toThrow(TypeError);
  });
});

describe('executor pool size', () => {
  it('CPU is availableParallelism × 2 and SINGLE_THREAD is 1', () => {
    expect(getExecutorPoolSize('CPU')).toBe(availableParallelism() * 2);
    expect(getExecutorPoolSize('SINGLE_THREAD')).toBe(1);
  });

  it('rejects an unknown type naming the field and the accepted types', () => {
    expect(() => getExecutorPoolSize('GPU')).toThrow(JobConfigurationError);
    expect(() => getExecutorPoolSize('GPU')).toThrow(
      "jobExecutorThreadPoolSizeProviderType 'GPU' is not registered; accepted: CPU, SINGLE_THREAD",
    );
    expect(() => getExecutorPoolSize('GPU')).toThrow(
      expect.objectContaining({
        field: 'jobExecutorThreadPoolSizeProviderType',
      }),
    );
  });

  it('registers custom providers and checks what they return', () => {
    const unregisterFour = registerExecutorPoolSizeProvider('FOUR', () => 4);
    const unregisterBad = registerExecutorPoolSizeProvider('BAD', () => 0);
    try {
      expect(executorPoolSizeProviderTypes()).toEqual(['CPU', 'SINGLE_THREAD', 'FOUR', 'BAD']);
      expect(getExecutorPoolSize('FOUR')).toBe(4);
      expect(() => getExecutorPoolSize('BAD')).toThrow(/'BAD' returned 0; a positive integer is required/);
      expect(() => registerExecutorPoolSizeProvider('CPU', () => 1)).toThrow(/'CPU' is already registered/);
    } finally {
      unregisterFour();
      unregisterBad();
    }
    expect(() => getExecutorPoolSize('FOUR')).toThrow(/accepted: CPU, SINGLE_THREAD$/);
  });
});
