/**
 * Reads and writes: get/getDirectly/isExisted, persist/update, ephemerals, sequentials, children
 * and their order, remove, registry time.
 *
 * @module
 */
import { describe, expect, it } from 'vitest';
import { type ConformanceContext, expectRegistryError, readSubtree, sortedEntries } from '../harness.js';
import { waitForCondition } from '../wait.js';
import { BASE_TEST_TIMEOUT_MS } from './common.js';

const SEQUENTIAL_SUFFIX = /^\d{10}$/;

/** Registers the data tests. */
export function defineDataTests(ctx: ConformanceContext): void {
  const timeout = ctx.ms(BASE_TEST_TIMEOUT_MS);

  describe('get, getDirectly, isExisted', () => {
    it(
      'absent nodes read as undefined / false',
      async () => {
        const client = await ctx.client();
        expect(await client.get(ctx.path('absent'))).toBeUndefined();
        expect(await client.getDirectly(ctx.path('absent'))).toBeUndefined();
        expect(await client.isExisted(ctx.path('absent'))).toBe(false);
      },
      timeout,
    );

    it(
      'values round-trip as UTF-8 strings, including empty, multi-line and non-ASCII',
      async () => {
        const client = await ctx.client();
        const values = {
          empty: '',
          yaml: 'cron: 0/5 * * * * ?\nshardingTotalCount: 3\nshardingItemParameters: 0=A,1=B\n',
          unicode: 'Grüße — 日本語 — 😀 — \u0000 inside',
          long: 'x'.repeat(100_000),
        };
        for (const [name, value] of Object.entries(values)) await client.persist(ctx.path(name), value);
        const reader = await ctx.client();
        for (const [name, value] of Object.entries(values)) {
          expect(await reader.getDirectly(ctx.path(name)), name).toBe(value);
          expect(await reader.get(ctx.path(name)), name).toBe(value);
          expect(await reader.isExisted(ctx.path(name)), name).toBe(true);
        }
      },
      timeout,
    );

    it(
      "getDirectly sees another client's write at once; get converges to it",
      async () => {
        const writer = await ctx.client();
        const reader = await ctx.client();
        await writer.persist(ctx.path('config'), 'v1');
        expect(await reader.get(ctx.path('config'))).toBe('v1');
        await writer.update(ctx.path('config'), 'v2');
        expect(await reader.getDirectly(ctx.path('config'))).toBe('v2');
        await waitForCondition(async () => (await reader.get(ctx.path('config'))) === 'v2', {
          timeoutMs: ctx.ms(10_000),
          description: 'get() to return the updated value',
        });
        await writer.remove(ctx.path('config'));
        expect(await reader.getDirectly(ctx.path('config'))).toBeUndefined();
        await waitForCondition(async () => (await reader.get(ctx.path('config'))) === undefined, {
          timeoutMs: ctx.ms(10_000),
          description: 'get() to return undefined after the node was removed',
        });
      },
      timeout,
    );

    it(
      'get reflects changes inside a watched subtree (cache, if any, is kept current)',
      async () => {
        const writer = await ctx.client();
        const reader = await ctx.client();
        await writer.persist(ctx.path('job', 'config'), 'v1');
        const recorder = ctx.recorder();
        await reader.watch(ctx.path('job'), recorder.listener);
        await writer.update(ctx.path('job', 'config'), 'v2');
        await recorder.waitForEvent({ type: 'UPDATED', key: ctx.path('job', 'config'), value: 'v2' });
        expect(await reader.get(ctx.path('job', 'config'))).toBe('v2');
        await writer.remove(ctx.path('job', 'config'));
        await recorder.waitForEvent({ type: 'DELETED', key: ctx.path('job', 'config') });
        expect(await reader.get(ctx.path('job', 'config'))).toBeUndefined();
        await writer.persist(ctx.path('job', 'config'), 'v3');
        expect(await reader.getDirectly(ctx.path('job', 'config'))).toBe('v3');
      },
      timeout,
    );
  });

  describe('persist and update', () => {
    it(
      "persist creates missing parents with '' and later persists keep parents' values",
      async () => {
        const client = await ctx.client();
        await client.persist(ctx.path('a', 'b', 'c'), 'leaf');
        expect(await client.getDirectly(ctx.path('a'))).toBe('');
        expect(await client.getDirectly(ctx.path('a', 'b'))).toBe('');
        expect(await client.getDirectly(ctx.path('a', 'b', 'c'))).toBe('leaf');
        await client.persist(ctx.path('a'), 'parent');
        await client.persist(ctx.path('a', 'b', 'd'), 'sibling');
        expect(await client.getDirectly(ctx.path('a'))).toBe('parent');
        expect(await client.getDirectly(ctx.path('a', 'b', 'c'))).toBe('leaf');
      },
      timeout,
    );

    it(
      'persist overwrites an existing value',
      async () => {
        const client = await ctx.client();
        await client.persist(ctx.path('k'), 'first');
        await client.persist(ctx.path('k'), 'second');
        expect(await client.getDirectly(ctx.path('k'))).toBe('second');
        await client.persist(ctx.path('k'), '');
        expect(await client.getDirectly(ctx.path('k'))).toBe('');
      },
      timeout,
    );

    it(
      'concurrent persists of the same deep path from several clients never fail',
      async () => {
        const clients = await Promise.all([ctx.client(), ctx.client(), ctx.client()]);
        const writes = clients.flatMap((client, c) =>
          Array.from({ length: 5 }, (_, i) => client.persist(ctx.path('x', 'y', 'z', `n${i}`), `c${c}`)),
        );
        await Promise.all(writes);
        const children = await clients[0]!.getChildrenKeys(ctx.path('x', 'y', 'z'));
        expect(children).toEqual(['n4', 'n3', 'n2', 'n1', 'n0']);
        for (const child of children) {
          expect(['c0', 'c1', 'c2']).toContain(await clients[1]!.getDirectly(ctx.path('x', 'y', 'z', child)));
        }
      },
      timeout,
    );

    it(
      'update sets the value of an existing node',
      async () => {
        const client = await ctx.client();
        await client.persist(ctx.path('k'), 'old');
        await client.update(ctx.path('k'), 'new');
        expect(await client.getDirectly(ctx.path('k'))).toBe('new');
      },
      timeout,
    );

    it(
      'update of an absent node rejects with NO_NODE naming it and creates nothing',
      async () => {
        const client = await ctx.client();
        await expectRegistryError(
          () => client.update(ctx.path('absent', 'deep'), 'v'),
          'NO_NODE',
          ctx.path('absent', 'deep'),
        );
        expect(await client.isExisted(ctx.path('absent', 'deep'))).toBe(false);
        expect(await client.isExisted(ctx.path('absent'))).toBe(false);
      },
      timeout,
    );
  });

  describe('ephemeral nodes', () => {
    it(
      'persistEphemeral creates the node with persistent parents, visible to other clients',
      async () => {
        const owner = await ctx.client();
        const other = await ctx.client();
        await owner.persistEphemeral(ctx.path('instances', 'i1'), 'host-a');
        expect(await other.getDirectly(ctx.path('instances', 'i1'))).toBe('host-a');
        await owner.close();
        expect(await other.isExisted(ctx.path('instances', 'i1'))).toBe(false);
        expect(await other.isExisted(ctx.path('instances'))).toBe(true);
      },
      timeout,
    );

    it(
      'persistEphemeral replaces an existing node and the latest value wins',
      async () => {
        const owner = await ctx.client();
        await owner.persistEphemeral(ctx.path('e'), 'v1');
        await owner.persistEphemeral(ctx.path('e'), 'v2');
        expect(await owner.getDirectly(ctx.path('e'))).toBe('v2');
        expect(await owner.getNumChildren(ctx.root)).toBe(1);
        await owner.persist(ctx.path('p'), 'persistent');
        await owner.persistEphemeral(ctx.path('p'), 'now ephemeral');
        expect(await owner.getDirectly(ctx.path('p'))).toBe('now ephemeral');
        const other = await ctx.client();
        await owner.close();
        expect(await other.isExisted(ctx.path('e'))).toBe(false);
        expect(await other.isExisted(ctx.path('p'))).toBe(false);
      },
      timeout,
    );

    it(
      'ephemeral nodes disappear on close and other watchers see DELETED with the last value',
      async () => {
        const owner = await ctx.client();
        const watcher = await ctx.client();
        await owner.persistEphemeral(ctx.path('instances', 'i1'), 'v1');
        await owner.persistEphemeral(ctx.path('instances', 'i1'), 'v2');
        const sequential = await owner.persistEphemeralSequential(ctx.path('instances', 'seq-'));
        await owner.persist(ctx.path('instances', 'durable'), 'stays');
        const recorder = ctx.recorder();
        await watcher.watch(ctx.path('instances'), recorder.listener);
        const from = recorder.mark();
        await owner.close();
        await recorder.waitForEvent(
          { type: 'DELETED', key: ctx.path('instances', 'i1'), value: 'v2' },
          { from },
        );
        await recorder.waitForEvent({ type: 'DELETED', key: sequential }, { from });
        expect(await watcher.getChildrenKeys(ctx.path('instances'))).toEqual(['durable']);
        expect(recorder.since(from).map((event) => event.type)).toEqual(['DELETED', 'DELETED']);
      },
      timeout,
    );
    it(
      "persistEphemeral by a second client takes the node over; the first client's close spares it",
      async () => {
        const first = await ctx.client();
        const second = await ctx.client();
        const observer = await ctx.client();
        await first.persistEphemeral(ctx.path('instances', 'shared'), 'first');
        await second.persistEphemeral(ctx.path('instances', 'shared'), 'second');
        expect(await observer.getDirectly(ctx.path('instances', 'shared'))).toBe('second');
        await first.close();
        expect(await observer.getDirectly(ctx.path('instances', 'shared'))).toBe('second');
        await second.close();
        expect(await observer.isExisted(ctx.path('instances', 'shared'))).toBe(false);
      },
      timeout,
    );
  });

  describe('sequential nodes', () => {
    it(
      'persistSequential returns the created path: the prefix plus a 10-digit suffix, with the value',
      async () => {
        const client = await ctx.client();
        const path = await client.persistSequential(ctx.path('queue', 'job-'), 'payload');
        expect(path.startsWith(ctx.path('queue', 'job-'))).toBe(true);
        expect(path.slice(ctx.path('queue', 'job-').length)).toMatch(SEQUENTIAL_SUFFIX);
        expect(await client.getDirectly(path)).toBe('payload');
        expect(await client.getChildrenKeys(ctx.path('queue'))).toEqual([
          path.slice(ctx.path('queue').length + 1),
        ]);
      },
      timeout,
    );

    it(
      'persistEphemeralSequential creates an empty node owned by the session',
      async () => {
        const owner = await ctx.client();
        const other = await ctx.client();
        const path = await owner.persistEphemeralSequential(ctx.path('locks', 'lock-'));
        expect(path.slice(ctx.path('locks', 'lock-').length)).toMatch(SEQUENTIAL_SUFFIX);
        expect(await other.getDirectly(path)).toBe('');
        await owner.close();
        expect(await other.isExisted(path)).toBe(false);
      },
      timeout,
    );

    it(
      'suffixes increase across clients in completion order, for every prefix of the same parent',
      async () => {
        const clients = await Promise.all([ctx.client(), ctx.client(), ctx.client()]);
        const suffixes: number[] = [];
        for (let round = 0; round < 4; round += 1) {
          for (const [index, client] of clients.entries()) {
            const prefix = ctx.path('q', index % 2 === 0 ? 'even-' : 'odd-');
            const path =
              round % 2 === 0
                ? await client.persistSequential(prefix, `${round}`)
                : await client.persistEphemeralSequential(prefix);
            const suffix = path.slice(prefix.length);
            expect(suffix).toMatch(SEQUENTIAL_SUFFIX);
            suffixes.push(Number(suffix));
          }
        }
        for (let i = 1; i < suffixes.length; i += 1) {
          expect(suffixes[i], `suffix #${i} after ${suffixes[i - 1]}`).toBeGreaterThan(suffixes[i - 1]!);
        }
      },
      timeout,
    );

    it(
      'concurrent sequential creates from several clients get unique suffixes and all exist',
      async () => {
        const clients = await Promise.all([ctx.client(), ctx.client(), ctx.client(), ctx.client()]);
        const prefix = ctx.path('burst', 'n-');
        const paths = await Promise.all(
          clients.flatMap((client, c) =>
            Array.from({ length: 10 }, (_, i) =>
              i % 3 === 0
                ? client.persistEphemeralSequential(prefix)
                : client.persistSequential(prefix, `${c}-${i}`),
            ),
          ),
        );
        expect(new Set(paths).size).toBe(40);
        for (const path of paths) expect(path.slice(prefix.length)).toMatch(SEQUENTIAL_SUFFIX);
        const children = await clients[0]!.getChildrenKeys(ctx.path('burst'));
        expect([...children].sort()).toEqual(
          paths.map((path) => path.slice(ctx.path('burst').length + 1)).sort(),
        );
      },
      timeout,
    );
  });

  describe('children', () => {
    it(
      'getChildrenKeys sorts names descending by UTF-16 code units: 9, 8, 2, 10, 1, 0',
      async () => {
        const client = await ctx.client();
        for (const name of ['0', '1', '10', '2', '8', '9']) await client.persist(ctx.path('items', name), '');
        expect(await client.getChildrenKeys(ctx.path('items'))).toEqual(['9', '8', '2', '10', '1', '0']);
      },
      timeout,
    );

    it(
      'getChildrenKeys order holds for mixed case, punctuation and non-ASCII names',
      async () => {
        const client = await ctx.client();
        const names = [
          'a',
          'B',
          'b',
          'Z',
          'ab',
          '_x',
          '-y',
          'é',
          'ä',
          'z',
          '日本',
          'ｱ',
          '127.0.0.1@-@42',
          '10.0.0.2@-@7',
        ];
        for (const name of names) await client.persist(ctx.path('mixed', name), name);
        const expected = [...names].sort((x, y) => (x < y ? 1 : x > y ? -1 : 0));
        expect(expected.slice(0, 4)).toEqual(['ｱ', '日本', 'é', 'ä']);
        expect(await client.getChildrenKeys(ctx.path('mixed'))).toEqual(expected);
      },
      timeout,
    );

    it(
      'implicit parents, ephemeral and sequential nodes are children; absent or leaf nodes have none',
      async () => {
        const client = await ctx.client();
        await client.persist(ctx.path('p', 'implicit', 'deep', 'leaf'), 'x');
        await client.persistEphemeral(ctx.path('p', 'eph'), 'x');
        const sequential = await client.persistSequential(ctx.path('p', 's-'), 'x');
        const children = await client.getChildrenKeys(ctx.path('p'));
        expect([...children].sort()).toEqual(
          ['eph', 'implicit', sequential.slice(ctx.path('p').length + 1)].sort(),
        );
        expect(await client.getChildrenKeys(ctx.path('p', 'implicit'))).toEqual(['deep']);
        expect(await client.getChildrenKeys(ctx.path('p', 'implicit', 'deep', 'leaf'))).toEqual([]);
        expect(await client.getChildrenKeys(ctx.path('absent'))).toEqual([]);
        expect(await client.getChildrenKeys(ctx.root)).toEqual(['p']);
      },
      timeout,
    );

    it(
      'getNumChildren counts direct children only; 0 for absent and leaf nodes',
      async () => {
        const client = await ctx.client();
        await client.persist(ctx.path('n', 'a', 'deep'), '');
        await client.persist(ctx.path('n', 'b'), '');
        await client.persistEphemeral(ctx.path('n', 'c'), '');
        expect(await client.getNumChildren(ctx.path('n'))).toBe(3);
        expect(await client.getNumChildren(ctx.path('n', 'a'))).toBe(1);
        expect(await client.getNumChildren(ctx.path('n', 'b'))).toBe(0);
        expect(await client.getNumChildren(ctx.path('absent'))).toBe(0);
        await client.remove(ctx.path('n', 'a'));
        expect(await client.getNumChildren(ctx.path('n'))).toBe(2);
      },
      timeout,
    );
  });

  describe('remove', () => {
    it(
      'remove deletes the node and its whole subtree',
      async () => {
        const client = await ctx.client();
        await client.persist(ctx.path('r', 'a', 'b', 'c'), 'x');
        await client.persist(ctx.path('r', 'a', 'd'), 'x');
        await client.persistEphemeral(ctx.path('r', 'a', 'e'), 'x');
        await client.remove(ctx.path('r', 'a'));
        expect(await client.isExisted(ctx.path('r', 'a'))).toBe(false);
        expect(await client.isExisted(ctx.path('r', 'a', 'b', 'c'))).toBe(false);
        expect(await client.isExisted(ctx.path('r'))).toBe(true);
        expect(await client.getChildrenKeys(ctx.path('r'))).toEqual([]);
      },
      timeout,
    );

    it(
      "remove('/a/b') spares '/a/bc', '/a/b-x' and '/a/b.c' and their subtrees",
      async () => {
        const client = await ctx.client();
        for (const name of ['b', 'bc', 'b-x', 'b.c', 'ab']) {
          await client.persist(ctx.path('a', name), name);
          await client.persist(ctx.path('a', name, 'child'), name);
        }
        await client.remove(ctx.path('a', 'b'));
        const remaining = await readSubtree(client, ctx.path('a'));
        expect(sortedEntries(remaining)).toEqual(
          sortedEntries(
            new Map(
              ['bc', 'b-x', 'b.c', 'ab'].flatMap((name) => [
                [ctx.path('a', name), name],
                [ctx.path('a', name, 'child'), name],
              ]),
            ),
          ),
        );
      },
      timeout,
    );

    it(
      'removing an absent node (or one below an absent parent) succeeds',
      async () => {
        const client = await ctx.client();
        await client.remove(ctx.path('never'));
        await client.remove(ctx.path('never', 'deeper'));
        await client.persist(ctx.path('once'), '');
        await client.remove(ctx.path('once'));
        await client.remove(ctx.path('once'));
        expect(await client.isExisted(ctx.path('once'))).toBe(false);
      },
      timeout,
    );

    it(
      "remove by one client deletes nodes another client's session owns",
      async () => {
        const owner = await ctx.client();
        const other = await ctx.client();
        await owner.persistEphemeral(ctx.path('owned', 'e'), 'x');
        await other.remove(ctx.path('owned'));
        expect(await owner.isExisted(ctx.path('owned', 'e'))).toBe(false);
        await owner.persistEphemeral(ctx.path('owned', 'e'), 'again');
        expect(await other.getDirectly(ctx.path('owned', 'e'))).toBe('again');
      },
      timeout,
    );
  });

  describe('getRegistryCenterTime', () => {
    it(
      'returns the server clock in epoch ms, close to local time within the declared resolution',
      async () => {
        const client = await ctx.client();
        const resolutionMs = ctx.capabilities.registryCenterTimeResolutionMs;
        const skewMs = 500; // same-host or LAN server; the kernel tolerates far more (maxTimeDiffSeconds)
        for (let i = 0; i < 3; i += 1) {
          const before = Date.now();
          const time = await client.getRegistryCenterTime(ctx.path('systemTime', 'current'));
          const after = Date.now();
          expect(Number.isInteger(time)).toBe(true);
          expect(time).toBeGreaterThanOrEqual(before - resolutionMs - skewMs);
          expect(time).toBeLessThanOrEqual(after + resolutionMs + skewMs);
        }
      },
      timeout,
    );

    it(
      'successive readings do not go backwards by more than the resolution',
      async () => {
        const client = await ctx.client();
        const resolutionMs = ctx.capabilities.registryCenterTimeResolutionMs;
        let previous = await client.getRegistryCenterTime(ctx.path('systemTime', 'current'));
        for (let i = 0; i < 5; i += 1) {
          const time = await client.getRegistryCenterTime(ctx.path('systemTime', 'current'));
          expect(time).toBeGreaterThanOrEqual(previous - resolutionMs);
          previous = time;
        }
        expect(resolutionMs).toBeGreaterThan(0);
      },
      timeout,
    );

    it(
      'writes the scratch node, as ElasticJob does (operators and tools look for it)',
      async () => {
        const client = await ctx.client();
        const other = await ctx.client();
        const key = ctx.path('systemTime', 'current');
        await client.getRegistryCenterTime(key);
        expect(await other.isExisted(key)).toBe(true);
      },
      timeout,
    );
  });
}
