/**
 * `ReadBatcher`: a read with a free gate slot goes alone at once; the reads that wait for a slot
 * go together, each getting its own slice of the answer or the Txn's error.
 */
import type { IRequestOp, IResponseOp } from 'etcd3';
import { describe, expect, it } from 'vitest';
import { TERM_CHANGED_DETAILS } from '../src/raft-term.js';
import { ReadBatcher, type ReadResult } from '../src/read-batcher.js';
import { RequestGate } from '../src/request-gate.js';

/** A range operation on `key`. */
function range(key: string): IRequestOp {
  return { request_range: { key: Buffer.from(key) } };
}

/** The answer the fake server gives to a range: the key read, as the only key-value. */
function answer(operation: IRequestOp): IResponseOp {
  const key = operation.request_range?.key as Buffer;
  return { response_range: { kvs: [{ key }], count: '1' } } as unknown as IResponseOp;
}

function keyOf(response: IResponseOp | undefined): string {
  return String(response?.response_range.kvs[0]?.key);
}

/** A fake server whose Txns the test answers one by one. */
function fakeServer() {
  const txns: { keys: string[]; reply: () => void; fail: (error: Error) => void }[] = [];
  const send = (operations: readonly IRequestOp[]) =>
    new Promise<ReadResult>((resolve, reject) => {
      const index = txns.length;
      txns.push({
        keys: operations.map((operation) => String(operation.request_range?.key)),
        reply: () => resolve({ responses: operations.map(answer), revision: BigInt(index) }),
        fail: reject,
      });
    });
  return { txns, send };
}

/** A promise the test resolves. */
function pending(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((settle) => {
    resolve = settle;
  });
  return { promise, resolve };
}

/** Lets the batcher's and the gate's promise chains run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

describe('ReadBatcher', () => {
  it('sends a read at once, alone, while the gate has a free slot', async () => {
    const server = fakeServer();
    const batcher = new ReadBatcher({
      gate: new RequestGate(2),
      send: server.send,
      maxOperations: 8,
      requestTimeoutMs: 1000,
    });
    const read = batcher.read([range('a'), range('a/')]);
    expect(server.txns.map((txn) => txn.keys)).toEqual([['a', 'a/']]);
    server.txns[0]?.reply();
    expect((await read).responses.map(keyOf)).toEqual(['a', 'a/']);
  });

  it('sends the reads waiting for a slot together, up to maxOperations per Txn, each with its own answers', async () => {
    const server = fakeServer();
    const gate = new RequestGate(1);
    const batcher = new ReadBatcher({ gate, send: server.send, maxOperations: 4, requestTimeoutMs: 1000 });
    const first = batcher.read([range('r0')]);
    // The slot is taken: these wait, in order.
    const waiting = Array.from({ length: 6 }, (_, i) =>
      batcher.read([range(`r${i + 1}a`), range(`r${i + 1}b`)]),
    );
    expect(server.txns).toHaveLength(1);
    expect(batcher.queued).toBe(6);
    // One carrier per 4 operations queued waits for the slot.
    expect(gate.waiting).toBe(3);

    server.txns[0]?.reply();
    await first;
    await settle();
    expect(server.txns.map((txn) => txn.keys)).toEqual([['r0'], ['r1a', 'r1b', 'r2a', 'r2b']]);
    server.txns[1]?.reply();
    await settle();
    server.txns[2]?.reply();
    await settle();
    server.txns[3]?.reply();
    const results = await Promise.all(waiting);
    expect(server.txns.slice(2).map((txn) => txn.keys)).toEqual([
      ['r3a', 'r3b', 'r4a', 'r4b'],
      ['r5a', 'r5b', 'r6a', 'r6b'],
    ]);
    results.forEach((result, i) => {
      expect(result.responses.map(keyOf)).toEqual([`r${i + 1}a`, `r${i + 1}b`]);
      expect(result.revision).toBe(BigInt(1 + Math.floor(i / 2))); // the revision of its Txn
    });
    await settle();
    expect([gate.inFlight, gate.waiting, batcher.queued]).toEqual([0, 0, 0]);
  });

  it("fails every read of a Txn with the Txn's error, and only those", async () => {
    const server = fakeServer();
    const batcher = new ReadBatcher({
      gate: new RequestGate(1),
      send: server.send,
      maxOperations: 2,
      requestTimeoutMs: 1000,
    });
    const first = batcher.read([range('x')]);
    const second = batcher.read([range('y')]);
    const third = batcher.read([range('z')]);
    const fourth = batcher.read([range('w')]);
    server.txns[0]?.reply();
    await first;
    await settle();
    expect(server.txns[1]?.keys).toEqual(['y', 'z']);
    server.txns[1]?.fail(new Error('deadline exceeded'));
    await expect(second).rejects.toThrow('deadline exceeded');
    await expect(third).rejects.toThrow('deadline exceeded');
    await settle();
    server.txns[2]?.reply();
    expect((await fourth).responses.map(keyOf)).toEqual(['w']);
  });

  it('sends a Txn a raft term change cancelled again, within its deadline', async () => {
    const server = fakeServer();
    const batcher = new ReadBatcher({
      gate: new RequestGate(1),
      send: server.send,
      maxOperations: 4,
      requestTimeoutMs: 60_000,
    });
    const read = batcher.read([range('k')]);
    server.txns[0]?.fail(new Error(TERM_CHANGED_DETAILS));
    await settle();
    expect(server.txns).toHaveLength(2);
    server.txns[1]?.reply();
    expect((await read).responses.map(keyOf)).toEqual(['k']);
  });

  it('sends a batch refused for its size again in halves, so that only a read too large alone fails', async () => {
    const sent: string[][] = [];
    // The "server" refuses any Txn holding key 'big' with other reads.
    const send = async (operations: readonly IRequestOp[]): Promise<ReadResult> => {
      const keys = operations.map((operation) => String(operation.request_range?.key));
      sent.push(keys);
      if (keys.includes('big') && keys.length > 1)
        throw new Error('Received message larger than max (5000000 vs 4194304)');
      return { responses: operations.map(answer), revision: 1n };
    };
    const gate = new RequestGate(1);
    const batcher = new ReadBatcher({ gate, send, maxOperations: 8, requestTimeoutMs: 1000 });
    const blocker = pending();
    const held = gate.run(() => blocker.promise);
    const reads = ['a', 'b', 'big', 'c'].map((key) => batcher.read([range(key)]));
    blocker.resolve();
    await held;
    const results = await Promise.all(reads);
    expect(results.map((result) => result.responses.map(keyOf))).toEqual([['a'], ['b'], ['big'], ['c']]);
    expect(sent).toEqual([['a', 'b', 'big', 'c'], ['a', 'b'], ['big', 'c'], ['big'], ['c']]);
  });

  it('refuses a maxOperations that is not a positive integer', () => {
    const server = fakeServer();
    expect(
      () =>
        new ReadBatcher({
          gate: new RequestGate(),
          send: server.send,
          maxOperations: 0,
          requestTimeoutMs: 1,
        }),
    ).toThrow(/'maxOperations' must be an integer >= 1, got 0/);
  });
});
