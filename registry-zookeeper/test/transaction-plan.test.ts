import { RegistryError } from '@elasticjob-ts/core';
import { describe, expect, it } from 'vitest';
import {
  ANY_VERSION,
  IMPOSSIBLE_VERSION,
  type NodeVersion,
  type PreparedOperation,
  planTransaction,
  type TransactionPlan,
  type TransactionReads,
} from '../src/transaction-plan.js';

/** Server state for the planner's reads: absolute path → value; versions count from 0. */
function serverReads(nodes: Record<string, string>): TransactionReads & { readonly listings: string[] } {
  const listings: string[] = [];
  return {
    listings,
    cachedDescendants: () => undefined,
    cachedNode: () => undefined,
    async listDescendants(path) {
      listings.push(path);
      return Object.keys(nodes).filter((node) => node.startsWith(`${path}/`));
    },
    async readNode(path): Promise<NodeVersion | undefined> {
      const value = nodes[path];
      return value === undefined ? undefined : { value, version: 3 };
    },
  };
}

type Op =
  | { readonly type: 'create' | 'update'; readonly path: string; readonly value?: string }
  | { readonly type: 'check'; readonly path: string; readonly value?: string }
  | { readonly type: 'delete'; readonly path: string };

function prepare(ops: readonly Op[]): PreparedOperation[] {
  return ops.map((op, index) => ({
    index,
    type: op.type,
    key: op.path,
    path: op.path,
    data: op.type === 'create' || op.type === 'update' ? Buffer.from(op.value ?? '') : undefined,
    expected: op.type === 'check' ? op.value : undefined,
  }));
}

async function plan(ops: readonly Op[], nodes: Record<string, string> = {}): Promise<TransactionPlan> {
  return planTransaction(prepare(ops), serverReads(nodes), (path) => path);
}

function multi(result: TransactionPlan) {
  if (result.kind !== 'multi') throw new Error(`expected a multi, got ${result.kind}`);
  return result.operations.map(({ type, path, version, originIndex }) => ({
    type,
    path,
    version,
    originIndex,
  }));
}

describe('planTransaction', () => {
  it('deletes a subtree deepest first, with what earlier operations created under a node only the server has', async () => {
    const result = await plan(
      [
        { type: 'create', path: '/ns/a/b/c', value: 'x' },
        { type: 'delete', path: '/ns/a' },
      ],
      { '/ns/a': '', '/ns/a/b': '' },
    );
    expect(multi(result)).toEqual([
      { type: 'create', path: '/ns/a/b/c', version: ANY_VERSION, originIndex: 0 },
      { type: 'delete', path: '/ns/a/b/c', version: ANY_VERSION, originIndex: 1 },
      { type: 'delete', path: '/ns/a/b', version: ANY_VERSION, originIndex: 1 },
      { type: 'delete', path: '/ns/a', version: ANY_VERSION, originIndex: 1 },
    ]);
  });

  it('does not delete again what an earlier delete of the transaction removed', async () => {
    const result = await plan(
      [
        { type: 'delete', path: '/ns/a/b' },
        { type: 'delete', path: '/ns/a' },
      ],
      {
        '/ns/a': '',
        '/ns/a/b': '',
        '/ns/a/b/c': '',
        '/ns/a/d': '',
      },
    );
    expect(multi(result).map(({ type, path }) => `${type} ${path}`)).toEqual([
      'delete /ns/a/b/c',
      'delete /ns/a/b',
      'delete /ns/a/d',
      'delete /ns/a',
    ]);
  });

  it('deletes a node re-created after its parent was deleted in the same transaction', async () => {
    const result = await plan(
      [
        { type: 'delete', path: '/ns/a' },
        { type: 'create', path: '/ns/a', value: '' },
        { type: 'create', path: '/ns/a/b', value: '' },
        { type: 'delete', path: '/ns/a' },
      ],
      { '/ns/a': '' },
    );
    expect(multi(result).map(({ type, path }) => `${type} ${path}`)).toEqual([
      'delete /ns/a',
      'create /ns/a',
      'create /ns/a/b',
      'delete /ns/a/b',
      'delete /ns/a',
    ]);
  });

  it('decides value checks of nodes the transaction wrote or deleted without reading the server', async () => {
    const result = await plan(
      [
        { type: 'create', path: '/ns/x', value: 'mine' },
        { type: 'check', path: '/ns/x', value: 'mine' },
        { type: 'check', path: '/ns/x', value: 'theirs' },
        { type: 'delete', path: '/ns/p' },
        { type: 'check', path: '/ns/p/q', value: 'v' },
      ],
      { '/ns/x': 'server', '/ns/p': '', '/ns/p/q': 'v' },
    );
    expect(multi(result).map(({ type, path, version }) => `${type} ${path} ${version}`)).toEqual([
      `create /ns/x ${ANY_VERSION}`,
      `check /ns/x ${ANY_VERSION}`,
      `check /ns/x ${IMPOSSIBLE_VERSION}`,
      `delete /ns/p/q ${ANY_VERSION}`,
      `delete /ns/p ${ANY_VERSION}`,
      // Deleted above: ANY_VERSION, and the multi fails with NONODE.
      `check /ns/p/q ${ANY_VERSION}`,
    ]);
  });

  it('fails before sending when only value checks precede a mismatch, and lets the multi fail otherwise', async () => {
    const nodes = { '/ns/a': 'one', '/ns/b': 'two' };
    const early = await plan(
      [
        { type: 'check', path: '/ns/a', value: 'one' },
        { type: 'check', path: '/ns/b', value: 'other' },
      ],
      nodes,
    );
    expect(early.kind).toBe('failed');
    if (early.kind === 'failed') {
      expect(early.index).toBe(1);
      expect(RegistryError.is(early.cause, 'VALUE_MISMATCH')).toBe(true);
    }
    const absent = await plan([{ type: 'check', path: '/ns/none', value: 'v' }], nodes);
    expect(absent.kind === 'failed' && RegistryError.is(absent.cause, 'NO_NODE')).toBe(true);

    const late = await plan(
      [
        { type: 'update', path: '/ns/a', value: 'new' },
        { type: 'check', path: '/ns/b', value: 'other' },
      ],
      nodes,
    );
    expect(multi(late)[1]).toEqual({
      type: 'check',
      path: '/ns/b',
      version: IMPOSSIBLE_VERSION,
      originIndex: 1,
    });
  });

  it('takes descendants and checked versions from the cache first, and reads the server only for the rest', async () => {
    const server = serverReads({ '/ns/a': '', '/ns/a/b': '', '/ns/v': 'one', '/ns/w': 'two' });
    const reads: TransactionReads = {
      ...server,
      cachedDescendants: (path) => (path === '/ns/a' ? ['/ns/a/b'] : undefined),
      cachedNode: (path, expected) => (path === '/ns/v' ? { value: expected, version: 41 } : undefined),
    };
    const result = await planTransaction(
      prepare([
        { type: 'check', path: '/ns/v', value: 'one' },
        { type: 'check', path: '/ns/w', value: 'two' },
        { type: 'delete', path: '/ns/a' },
        { type: 'delete', path: '/ns/w' },
      ]),
      reads,
      (path) => path,
    );
    expect(multi(result).map(({ type, path, version }) => `${type} ${path} ${version}`)).toEqual([
      'check /ns/v 41',
      'check /ns/w 3',
      `delete /ns/a/b ${ANY_VERSION}`,
      `delete /ns/a ${ANY_VERSION}`,
      `delete /ns/w ${ANY_VERSION}`,
    ]);
    expect(server.listings).toEqual(['/ns/w']);
  });

  it('plans the coalesced running-node writes of a thousand jobs: one operation each, in order', async () => {
    const jobs = Array.from({ length: 1000 }, (_, i) => `/ns/job-${i}/sharding/0`);
    const ops: Op[] = [
      ...jobs.map((job): Op => ({ type: 'create', path: `${job}/running`, value: '7' })),
      ...jobs.map((job): Op => ({ type: 'delete', path: `${job}/running` })),
      ...jobs.map((job): Op => ({ type: 'check', path: `${job}/running`, value: '7' })),
    ];
    const operations = multi(await plan(ops));
    expect(operations).toHaveLength(3000);
    expect(operations.map((op) => op.originIndex)).toEqual(ops.map((_, index) => index));
    expect(operations.slice(1000, 2000).every((op) => op.type === 'delete')).toBe(true);
    // Deleted by the transaction itself: decided in the multi (NONODE), no server read.
    expect(operations.slice(2000).every((op) => op.type === 'check' && op.version === ANY_VERSION)).toBe(
      true,
    );
  });
});
