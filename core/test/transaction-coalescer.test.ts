import { describe, expect, it } from 'vitest';
import {
  CountingTransactionMeter,
  RegistryError,
  type RegistryTransactionOperation,
  TransactionCoalescer,
} from '../src/index.js';

const op = (key: string): RegistryTransactionOperation => ({ type: 'create', key, value: '' });

/** A wire that records each transaction it is sent and fails those holding a key in `failing`. */
function wire(failing: ReadonlySet<string> = new Set(), error?: Error) {
  const sent: string[][] = [];
  const commit = async (operations: readonly RegistryTransactionOperation[]) => {
    sent.push(operations.map((o) => o.key));
    if (error) throw error;
    const index = operations.findIndex((o) => failing.has(o.key));
    if (index >= 0)
      throw new RegistryError('TRANSACTION_FAILED', `failed at ${index}`, { failedOperationIndex: index });
  };
  return { sent, commit };
}

describe('TransactionCoalescer', () => {
  it('sends the transactions of one event-loop turn as one, in the order asked, and resolves each', async () => {
    const { sent, commit } = wire();
    const coalescer = new TransactionCoalescer(commit, () => new CountingTransactionMeter(10));
    await Promise.all([
      coalescer.execute([op('/a/1'), op('/a/2')]),
      coalescer.execute([op('/b/1')]),
      coalescer.execute([op('/c/1')]),
    ]);
    expect(sent).toEqual([['/a/1', '/a/2', '/b/1', '/c/1']]);
    await coalescer.execute([op('/d/1')]); // a later turn: alone
    expect(sent.at(-1)).toEqual(['/d/1']);
  });

  it('never merges transactions on the same node, its ancestors or its descendants', async () => {
    const { sent, commit } = wire();
    const coalescer = new TransactionCoalescer(commit, () => new CountingTransactionMeter(10));
    await Promise.all([
      coalescer.execute([op('/j/sharding/0/running')]),
      coalescer.execute([op('/j/sharding/0/running')]), // the same node
      coalescer.execute([op('/k/sharding/0')]),
      coalescer.execute([op('/k/sharding/0/running')]), // a descendant of the one before
      coalescer.execute([op('/k')]), // an ancestor of both
    ]);
    expect(sent).toEqual([
      ['/j/sharding/0/running'],
      ['/j/sharding/0/running', '/k/sharding/0'],
      ['/k/sharding/0/running'],
      ['/k'],
    ]);
  });

  it('finds an ancestor shared by keys added one after another (the walk stops at a known ancestor)', async () => {
    const { sent, commit } = wire();
    const coalescer = new TransactionCoalescer(commit, () => new CountingTransactionMeter(10));
    await Promise.all([
      coalescer.execute([op('/j/sharding/0/running'), op('/j/sharding/0/fencing')]),
      coalescer.execute([op('/j/sharding/1/running')]),
      coalescer.execute([op('/j/sharding')]), // an ancestor of all three, recorded by the first key
      coalescer.execute([op('/i/sharding/0/running')]),
    ]);
    expect(sent).toEqual([
      ['/j/sharding/0/running', '/j/sharding/0/fencing', '/j/sharding/1/running'],
      ['/j/sharding', '/i/sharding/0/running'],
    ]);
  });

  it('keeps a merged transaction within what the meter takes and sends a large one alone', async () => {
    const { sent, commit } = wire();
    const coalescer = new TransactionCoalescer(commit, () => new CountingTransactionMeter(3));
    await Promise.all([
      coalescer.execute([op('/a/1'), op('/a/2')]),
      coalescer.execute([op('/l/1'), op('/l/2'), op('/l/3'), op('/l/4')]),
      coalescer.execute([op('/b/1')]),
      coalescer.execute([op('/c/1')]),
      coalescer.execute([op('/d/1')]),
    ]);
    expect(sent).toEqual([
      ['/a/1', '/a/2'],
      ['/l/1', '/l/2', '/l/3', '/l/4'],
      ['/b/1', '/c/1', '/d/1'],
    ]);
  });

  it('runs the refused transaction of a merge alone and merges the others again: each caller gets its own outcome and index', async () => {
    const { sent, commit } = wire(new Set(['/b/2']));
    const coalescer = new TransactionCoalescer(commit, () => new CountingTransactionMeter(10));
    const outcomes = await Promise.allSettled([
      coalescer.execute([op('/a/1')]),
      coalescer.execute([op('/b/1'), op('/b/2')]),
      coalescer.execute([op('/c/1')]),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const failure = (outcomes[1] as PromiseRejectedResult).reason as RegistryError;
    expect(failure.code).toBe('TRANSACTION_FAILED');
    expect(failure.failedOperationIndex).toBe(1);
    expect(sent).toEqual([
      ['/a/1', '/b/1', '/b/2', '/c/1'],
      ['/b/1', '/b/2'],
      ['/a/1', '/c/1'],
    ]);
  });

  it('sends each transaction of a merge alone when the server refuses the merge naming no operation (too many operations)', async () => {
    const sent: string[][] = [];
    const commit = async (operations: readonly RegistryTransactionOperation[]) => {
      sent.push(operations.map((o) => o.key));
      if (operations.length > 2)
        throw new RegistryError('TRANSACTION_FAILED', 'too many operations in txn request');
    };
    const coalescer = new TransactionCoalescer(commit, () => new CountingTransactionMeter(10));
    const outcomes = await Promise.allSettled([
      coalescer.execute([op('/a/1'), op('/a/2')]),
      coalescer.execute([op('/b/1')]),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled']);
    expect(sent).toEqual([['/a/1', '/a/2', '/b/1'], ['/a/1', '/a/2'], ['/b/1']]);
  });

  it('hands an error of unknown outcome to every caller of the merged transaction, without retrying', async () => {
    const lost = new RegistryError('CONNECTION_LOSS', 'connection lost');
    const { sent, commit } = wire(new Set(), lost);
    const coalescer = new TransactionCoalescer(commit, () => new CountingTransactionMeter(10));
    const outcomes = await Promise.allSettled([
      coalescer.execute([op('/a/1')]),
      coalescer.execute([op('/b/1')]),
    ]);
    expect(outcomes.map((o) => (o as PromiseRejectedResult).reason)).toEqual([lost, lost]);
    expect(sent).toHaveLength(1);
  });

  it('names the field and the accepted values for a bad maxOperations of the counting meter', () => {
    expect(() => new CountingTransactionMeter(0)).toThrow(
      "CountingTransactionMeter 'maxOperations' must be an integer >= 1, got 0",
    );
  });
});
