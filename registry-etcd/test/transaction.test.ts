/**
 * The transaction planner (`transaction.ts`) without a server: the writes, deletes and
 * requirements of mixed create / delete / re-create transactions, the deleted prefixes that need a
 * snapshot, and, for many random transactions over a small tree, agreement with a direct model of
 * the registry's transaction semantics (applying the plan to the state the requirements describe
 * gives the model's result; a failing transaction names the model's failing operation).
 */
import type { RegistryTransactionOperation } from '@elasticjob-ts/core';
import { describe, expect, it } from 'vitest';
import { KeyCodec } from '../src/keys.js';
import {
  compileTransaction,
  planTransaction,
  prefixesNeedingSnapshots,
  type TransactionPlan,
} from '../src/transaction.js';
import { EtcdTransactionMeter } from '../src/transaction-meter.js';

const codec = new KeyCodec('ns');

function plan(operations: readonly RegistryTransactionOperation[]): TransactionPlan {
  return planTransaction(operations, codec);
}

describe('planTransaction', () => {
  it('discards the writes below a deleted node, and a re-creation writes again', () => {
    const planned = plan([
      { type: 'create', key: '/a/new', value: 'n' },
      { type: 'create', key: '/a/new/deeper', value: 'd' },
      { type: 'update', key: '/b', value: 'b2' },
      { type: 'delete', key: '/a' },
      { type: 'create', key: '/a', value: 'again' },
      { type: 'create', key: '/a/fresh', value: 'f' },
    ]);
    expect(planned.staticFailure).toBeUndefined();
    expect([...planned.puts]).toEqual([
      ['/ns/b', { value: 'b2', keepLease: true }],
      ['/ns/a', { value: 'again', keepLease: false }],
      ['/ns/a/fresh', { value: 'f', keepLease: false }],
    ]);
    expect([...planned.deletes]).toEqual([]);
    expect(planned.deletedPrefixes).toEqual(['/ns/a/']);
    expect(planned.requirements).toEqual([
      { key: '/ns/a', present: true },
      { key: '/ns/a/new', present: false },
      { key: '/ns/a/new/deeper', present: false },
      { key: '/ns/b', present: true },
    ]);
    expect(prefixesNeedingSnapshots(planned)).toEqual(['/ns/a/']);
  });

  it('a delete of a subtree holding only earlier writes leaves nothing to write and no snapshot', () => {
    const planned = plan([
      { type: 'create', key: '/a/x', value: 'x' },
      { type: 'create', key: '/a/x/y', value: 'y' },
      { type: 'create', key: '/ab', value: 'prefix sibling' },
      { type: 'delete', key: '/a' },
    ]);
    expect([...planned.puts.keys()]).toEqual(['/ns/ab']);
    expect([...planned.deletes]).toEqual(['/ns/a']);
    expect(prefixesNeedingSnapshots(planned)).toEqual([]);
  });

  it('fails an operation on a node that a later delete of an ancestor removed', () => {
    const failure = plan([
      { type: 'delete', key: '/a' },
      { type: 'create', key: '/a', value: 'r' },
      { type: 'create', key: '/a/n', value: 'n' },
      { type: 'delete', key: '/a' },
      { type: 'create', key: '/a', value: 'r2' },
      { type: 'check', key: '/a', value: 'r2' },
      { type: 'check', key: '/a/n' },
    ]).staticFailure;
    expect(failure).toMatchObject({ index: 6, path: '/a/n', code: 'NO_NODE' });
    expect(
      plan([
        { type: 'delete', key: '/a' },
        { type: 'create', key: '/a', value: 'r' },
        { type: 'update', key: '/a/old', value: 'x' },
      ]).staticFailure,
    ).toMatchObject({ index: 2, code: 'NO_NODE' });
    expect(
      plan([
        { type: 'update', key: '/a', value: 'u' },
        { type: 'delete', key: '/a/old' },
        { type: 'check', key: '/a', value: 'u' },
        { type: 'check', key: '/a', value: 'other' },
      ]).staticFailure,
    ).toMatchObject({ index: 3, code: 'VALUE_MISMATCH' });
  });

  it('snapshots each deleted prefix that receives a write once, in the order of the deletes', () => {
    const planned = plan([
      { type: 'delete', key: '/b/c' },
      { type: 'delete', key: '/a' },
      { type: 'delete', key: '/b' },
      { type: 'create', key: '/b', value: '' },
      { type: 'create', key: '/b/c', value: '' },
      { type: 'create', key: '/a', value: '' },
      { type: 'delete', key: '/a' },
      { type: 'create', key: '/a', value: '' },
      { type: 'create', key: '/a/d', value: '' },
    ]);
    expect(planned.deletedPrefixes).toEqual(['/ns/b/c/', '/ns/a/', '/ns/b/', '/ns/a/']);
    expect(prefixesNeedingSnapshots(planned)).toEqual(['/ns/a/', '/ns/b/']);
  });

  it('plans a coalesced transaction of 1,000 creates and deletes of different jobs', () => {
    const operations: RegistryTransactionOperation[] = Array.from({ length: 1_000 }, (_, job) =>
      job % 2 === 0
        ? { type: 'create', key: `/job-${job}/sharding/0/running`, value: '' }
        : { type: 'delete', key: `/job-${job}/sharding/0/running` },
    );
    const planned = plan(operations);
    expect(planned.staticFailure).toBeUndefined();
    expect(planned.puts.size).toBe(500);
    expect(planned.deletes.size).toBe(500);
    expect(planned.requirements).toHaveLength(1_500);
    expect(prefixesNeedingSnapshots(planned)).toEqual([]);
  });
});

/** Registry path → value, every parent present (the root `/` is implicit). */
type Tree = Map<string, string>;

const PATHS = ['/a', '/a/b', '/a/b/c', '/a/c', '/ab', '/ab/a', '/b', '/b/a'];
const VALUES = ['', 'x', 'y'];

function parentOf(path: string): string {
  return path.slice(0, path.lastIndexOf('/')) || '/';
}

function exists(tree: Tree, path: string): boolean {
  return path === '/' || tree.has(path);
}

interface ModelFailure {
  readonly index: number;
  readonly code: 'NO_NODE' | 'NODE_EXISTS' | 'VALUE_MISMATCH';
  readonly causePath: string;
}

/** Applies one operation to `tree` (in place), or says why it fails. */
function applyOne(
  tree: Tree,
  operation: RegistryTransactionOperation,
  index: number,
): ModelFailure | undefined {
  const path = operation.key;
  switch (operation.type) {
    case 'check':
      if (!exists(tree, path)) return { index, code: 'NO_NODE', causePath: path };
      if (operation.value !== undefined && (tree.get(path) ?? '') !== operation.value) {
        return { index, code: 'VALUE_MISMATCH', causePath: path };
      }
      return undefined;
    case 'create':
      if (!exists(tree, parentOf(path))) return { index, code: 'NO_NODE', causePath: parentOf(path) };
      if (exists(tree, path)) return { index, code: 'NODE_EXISTS', causePath: path };
      tree.set(path, operation.value ?? '');
      return undefined;
    case 'update':
      if (!exists(tree, path)) return { index, code: 'NO_NODE', causePath: path };
      tree.set(path, operation.value);
      return undefined;
    case 'delete':
      if (!exists(tree, path)) return { index, code: 'NO_NODE', causePath: path };
      for (const node of [...tree.keys()]) {
        if (node === path || node.startsWith(`${path}/`)) tree.delete(node);
      }
      return undefined;
  }
}

/** The model's outcome of a transaction: its failure, or the tree it leaves. */
function model(initial: Tree, operations: readonly RegistryTransactionOperation[]): ModelFailure | Tree {
  const tree = new Map(initial);
  for (const [index, operation] of operations.entries()) {
    const failure = applyOne(tree, operation, index);
    if (failure !== undefined) return failure;
  }
  return tree;
}

/** The etcd keys and values after a Txn of `planned` commits on `initial` (as compiled). */
function applyPlan(initial: Tree, planned: TransactionPlan): Map<string, string> {
  const keys = new Map([...initial].map(([path, value]) => [codec.toKey(path), value]));
  for (const key of [...keys.keys()]) {
    if (planned.deletes.has(key) || planned.deletedPrefixes.some((prefix) => key.startsWith(prefix))) {
      keys.delete(key);
    }
  }
  for (const [key, { value }] of planned.puts) keys.set(key, value);
  return keys;
}

/** A deterministic pseudo-random generator (mulberry32). */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function pick<T>(next: () => number, items: readonly T[]): T {
  return items[Math.floor(next() * items.length)] as T;
}

function randomOperation(next: () => number): RegistryTransactionOperation {
  const key = pick(next, PATHS);
  const value = pick(next, VALUES);
  switch (pick(next, ['check', 'checkValue', 'create', 'update', 'delete'] as const)) {
    case 'check':
      return { type: 'check', key };
    case 'checkValue':
      return { type: 'check', key, value };
    case 'create':
      return { type: 'create', key, value };
    case 'update':
      return { type: 'update', key, value };
    case 'delete':
      return { type: 'delete', key };
  }
}

/** A tree over {@link PATHS}, and a transaction whose operations mostly succeed in order. */
function randomCase(next: () => number): { initial: Tree; operations: RegistryTransactionOperation[] } {
  const initial: Tree = new Map();
  for (const path of PATHS) {
    if (exists(initial, parentOf(path)) && next() < 0.6) initial.set(path, pick(next, VALUES));
  }
  const state = new Map(initial);
  const operations: RegistryTransactionOperation[] = [];
  const length = 1 + Math.floor(next() * 12);
  while (operations.length < length) {
    let operation = randomOperation(next);
    for (let attempt = 0; attempt < 10 && next() < 0.9; attempt++) {
      if (applyOne(new Map(state), operation, 0) === undefined) break;
      operation = randomOperation(next);
    }
    applyOne(state, operation, 0);
    operations.push(operation);
  }
  return { initial, operations };
}

describe('planTransaction agrees with a model of the transaction semantics', () => {
  it('on 3,000 random transactions over a small tree', () => {
    const next = random(20_261_207);
    let committed = 0;
    let failed = 0;
    for (let round = 0; round < 3_000; round++) {
      const { initial, operations } = randomCase(next);
      const context = JSON.stringify({ initial: [...initial], operations });
      const expected = model(initial, operations);
      const serverKeys = new Map([...initial].map(([path, value]) => [codec.toKey(path), value]));
      const diagnosed = planTransaction(operations, codec, (key) => serverKeys.get(key));
      const planned = plan(operations);
      const requirementsHold = planned.requirements.every(
        ({ key, present, value }) =>
          serverKeys.has(key) === present && (value === undefined || serverKeys.get(key) === value),
      );
      if (expected instanceof Map) {
        committed += 1;
        expect(diagnosed.staticFailure, context).toBeUndefined();
        expect(planned.staticFailure, context).toBeUndefined();
        expect(requirementsHold, context).toBe(true);
        const wanted = new Map([...expected].map(([path, value]) => [codec.toKey(path), value]));
        expect(applyPlan(initial, planned), context).toEqual(wanted);
        const written = [...planned.puts.keys()];
        expect(prefixesNeedingSnapshots(planned), context).toEqual(
          [...new Set(planned.deletedPrefixes)].filter((prefix) =>
            written.some((key) => key.startsWith(prefix)),
          ),
        );
      } else {
        failed += 1;
        expect(diagnosed.staticFailure, context).toMatchObject({
          index: expected.index,
          code: expected.code,
          causePath: expected.causePath,
        });
        expect(planned.staticFailure !== undefined || !requirementsHold, context).toBe(true);
      }
    }
    // Both outcomes are exercised often enough to mean something.
    expect(committed).toBeGreaterThan(600);
    expect(failed).toBeGreaterThan(600);
  });
});

describe('EtcdTransactionMeter bounds the Txn that transaction.ts builds', () => {
  it('on 3,000 random transactions cut into random groups: every Txn of two or more groups stays within maxTxnOps', () => {
    const next = random(20_261_208);
    let packed = 0;
    for (let round = 0; round < 3_000; round++) {
      const { initial, operations } = randomCase(next);
      if (!(model(initial, operations) instanceof Map)) continue;
      const maxTxnOps = 2 + Math.floor(next() * 8);
      const groups: RegistryTransactionOperation[][] = [];
      for (let i = 0; i < operations.length; ) {
        const length = 1 + Math.floor(next() * 3);
        groups.push(operations.slice(i, i + length));
        i += length;
      }
      const transactions: RegistryTransactionOperation[][][] = [];
      let meter = new EtcdTransactionMeter(codec, maxTxnOps);
      let current: RegistryTransactionOperation[][] = [];
      for (const group of groups) {
        if (!meter.tryAdd(group)) {
          transactions.push(current);
          current = [];
          meter = new EtcdTransactionMeter(codec, maxTxnOps);
          expect(meter.tryAdd(group)).toBe(true);
        }
        current.push(group);
      }
      transactions.push(current);
      for (const transaction of transactions) {
        if (transaction.length < 2) continue;
        packed += 1;
        const context = JSON.stringify({ maxTxnOps, transaction });
        const planned = plan(transaction.flat());
        expect(planned.staticFailure, context).toBeUndefined();
        expect(prefixesNeedingSnapshots(planned), context).toEqual([]);
        const compiled = compileTransaction(planned, new Map());
        expect(compiled.compare.length, context).toBeLessThanOrEqual(maxTxnOps);
        expect(compiled.success.length, context).toBeLessThanOrEqual(maxTxnOps);
      }
    }
    expect(packed).toBeGreaterThan(500);
  });

  it('counts a 64-item admission as 2 Txns and its clear as 1 at the default 128', () => {
    const admission = (item: number): RegistryTransactionOperation[] => [
      { type: 'check', key: `/job/sharding/${item}/instance`, value: 'me' },
      { type: 'create', key: `/job/sharding/${item}/running`, value: 'me' },
      { type: 'check', key: `/job/sharding/${item}/fencing`, value: '7' },
      { type: 'update', key: `/job/sharding/${item}/fencing`, value: '8' },
    ];
    const clear = (item: number): RegistryTransactionOperation[] => [
      { type: 'check', key: `/job/sharding/${item}/running`, value: 'me' },
      { type: 'delete', key: `/job/sharding/${item}/running` },
    ];
    const items = Array.from({ length: 64 }, (_, item) => item);
    const count = (groups: RegistryTransactionOperation[][]) => {
      let transactions = 1;
      let meter = new EtcdTransactionMeter(codec, 128);
      meter.tryAdd([{ type: 'check', key: '/job/instances/me' }]);
      for (const group of groups) {
        if (meter.tryAdd(group)) continue;
        transactions += 1;
        meter = new EtcdTransactionMeter(codec, 128);
        meter.tryAdd([{ type: 'check', key: '/job/instances/me' }, ...group]);
      }
      return transactions;
    };
    expect(count(items.map(admission))).toBe(2);
    expect(count(items.map(clear))).toBe(1);
    // The parent of each running mark needs no compare: its `instance` child was checked.
    const planned = plan(admission(3));
    expect(planned.requirements.map(({ key }) => key)).toEqual([
      '/ns/job/sharding/3/instance',
      '/ns/job/sharding/3/running',
      '/ns/job/sharding/3/fencing',
    ]);
  });
});
