/** `RequestGate`: at most `maxInFlight` requests in flight, the rest sent in order as slots free. */
import { describe, expect, it } from 'vitest';
import { MAX_REQUESTS_IN_FLIGHT, RequestGate } from '../src/request-gate.js';

/** A request whose answer the test gives. */
function pending<T>(): { promise: Promise<T>; answer: (value: T) => void; fail: (error: Error) => void } {
  let answer!: (value: T) => void;
  let fail!: (error: Error) => void;
  const promise = new Promise<T>((resolve, reject) => {
    answer = resolve;
    fail = reject;
  });
  return { promise, answer, fail };
}

describe('RequestGate', () => {
  it('sends at most maxInFlight requests, then each waiting one in order as a slot frees', async () => {
    const gate = new RequestGate(2);
    const requests = Array.from({ length: 5 }, () => pending<number>());
    const sent: number[] = [];
    const results = requests.map((request, i) =>
      gate.run(() => {
        sent.push(i);
        return request.promise;
      }),
    );
    await Promise.resolve();
    expect(sent).toEqual([0, 1]);
    expect([gate.inFlight, gate.waiting]).toEqual([2, 3]);

    requests[1]?.answer(1);
    await expect(results[1]).resolves.toBe(1);
    expect(sent).toEqual([0, 1, 2]);

    requests[0]?.fail(new Error('refused'));
    await expect(results[0]).rejects.toThrow('refused');
    expect(sent).toEqual([0, 1, 2, 3]);

    for (const i of [2, 3]) requests[i]?.answer(i);
    await Promise.all([results[2], results[3]]);
    expect(sent).toEqual([0, 1, 2, 3, 4]);
    requests[4]?.answer(4);
    await expect(results[4]).resolves.toBe(4);
    expect([gate.inFlight, gate.waiting]).toEqual([0, 0]);
  });

  it('frees the slot of a request that throws before returning a promise', async () => {
    const gate = new RequestGate(1);
    await expect(
      gate.run(() => {
        throw new Error('bad request');
      }),
    ).rejects.toThrow('bad request');
    await expect(gate.run(async () => 'next')).resolves.toBe('next');
    expect(gate.inFlight).toBe(0);
  });

  it('close() fails the requests in flight and waiting at once, sends no waiting one, and refuses later ones', async () => {
    const gate = new RequestGate(1);
    const requests = Array.from({ length: 2 }, () => pending<number>());
    const sent: number[] = [];
    const results = requests.map((request, i) =>
      gate.run(() => {
        sent.push(i);
        return request.promise;
      }),
    );
    await Promise.resolve();
    const closed = new Error('closed');

    gate.close(closed);

    await expect(results[0]).rejects.toBe(closed);
    await expect(results[1]).rejects.toBe(closed);
    requests[0]?.answer(0); // the answer of a request already sent is dropped
    await Promise.resolve();
    expect(sent).toEqual([0]);
    await expect(gate.run(async () => 2)).rejects.toBe(closed);
    expect(sent).toEqual([0]);
  });

  it('defaults to MAX_REQUESTS_IN_FLIGHT and refuses a bound that is not a positive integer', () => {
    expect(new RequestGate().maxInFlight).toBe(MAX_REQUESTS_IN_FLIGHT);
    expect(() => new RequestGate(0)).toThrow(/'maxInFlight' must be an integer >= 1, got 0/);
    expect(() => new RequestGate(1.5)).toThrow(RangeError);
  });
});
