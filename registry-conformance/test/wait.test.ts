import { describe, expect, it } from 'vitest';
import {
  ConditionTimeoutError,
  Deferred,
  ResourceTracker,
  waitForCondition,
  withTimeout,
} from '../src/index.js';

describe('waitForCondition', () => {
  it('resolves as soon as an async predicate holds, treating its errors as "not yet"', async () => {
    let calls = 0;
    await waitForCondition(
      async () => {
        calls += 1;
        if (calls === 1) throw new Error('not ready');
        return calls >= 3;
      },
      { timeoutMs: 1_000, pollIntervalMs: 1 },
    );
    expect(calls).toBe(3);
  });

  it('fails with the description, the observed state and the last error', async () => {
    const error = await waitForCondition(
      () => {
        throw new Error('boom');
      },
      { timeoutMs: 20, description: 'the thing', describeState: () => 'state X' },
    ).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConditionTimeoutError);
    expect((error as Error).message).toMatch(
      /20 ms waiting for the thing; observed: state X; last error: Error: boom/,
    );
  });
});

describe('withTimeout and Deferred', () => {
  it('passes the outcome through or rejects after the bound', async () => {
    const deferred = new Deferred<number>();
    const passed = withTimeout(deferred.promise, 1_000, 'value');
    deferred.resolve(7);
    deferred.resolve(8);
    await expect(passed).resolves.toBe(7);
    expect(deferred.settled).toBe(true);
    await expect(withTimeout(new Deferred().promise, 10, 'nothing')).rejects.toThrow(
      /10 ms waiting for nothing/,
    );
  });
});

describe('ResourceTracker', () => {
  it('lists referenced timers created while recording until they are cleared; ignores unreferenced ones', async () => {
    const tracker = new ResourceTracker();
    try {
      const referenced = setTimeout(() => undefined, 60_000);
      const unreferenced = setTimeout(() => undefined, 60_000).unref();
      tracker.stop();
      const later = setTimeout(() => undefined, 60_000);
      expect(tracker.live().map((resource) => resource.type)).toEqual(['Timeout']);
      expect(tracker.live()[0]!.createdAt).toContain('wait.test.ts');
      clearTimeout(referenced);
      clearTimeout(unreferenced);
      clearTimeout(later);
      await waitForCondition(() => tracker.live().length === 0, { timeoutMs: 2_000 });
    } finally {
      tracker.dispose();
    }
  });
});
