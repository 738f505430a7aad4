/**
 * `executeInTransaction`: atomic commit, all-or-nothing rollback for every failing op type at every
 * position, error shape; `check` with a `value` (exact equality at commit time, in operation order,
 * and no lost update when clients compare-and-set one node concurrently).
 *
 * @module
 */
import {
  type CoordinatorRegistryCenter,
  CountingTransactionMeter,
  type RegistryErrorCode,
  type RegistryTransactionOperation,
  type TransactionMeter,
} from '@elasticjob-ts/core/adapter';
import { describe, expect, it } from 'vitest';
import {
  type ConformanceContext,
  captureError,
  expectRegistryError,
  isRegistryErrorLike,
  readSubtree,
  sortedEntries,
} from '../harness.js';
import { BASE_TEST_TIMEOUT_MS } from './common.js';

interface FailingOperation {
  readonly name: string;
  readonly causeCode: RegistryErrorCode;
  operation(ctx: ConformanceContext): RegistryTransactionOperation;
}

const FAILING_OPERATIONS: readonly FailingOperation[] = [
  {
    name: 'check of an absent node',
    causeCode: 'NO_NODE',
    operation: (ctx) => ({ type: 'check', key: ctx.path('tx', 'absent') }),
  },
  {
    name: 'check with a value of a node holding another value',
    causeCode: 'VALUE_MISMATCH',
    operation: (ctx) => ({ type: 'check', key: ctx.path('tx', 'victimized'), value: 'prefix sibling!' }),
  },
  {
    name: 'check with a value of an absent node',
    causeCode: 'NO_NODE',
    operation: (ctx) => ({ type: 'check', key: ctx.path('tx', 'absent'), value: '' }),
  },
  {
    name: 'create of an existing node',
    causeCode: 'NODE_EXISTS',
    operation: (ctx) => ({ type: 'create', key: ctx.path('tx', 'existing'), value: 'clash' }),
  },
  {
    name: 'create below an absent parent',
    causeCode: 'NO_NODE',
    operation: (ctx) => ({ type: 'create', key: ctx.path('tx', 'absent', 'child'), value: 'orphan' }),
  },
  {
    name: 'update of an absent node',
    causeCode: 'NO_NODE',
    operation: (ctx) => ({ type: 'update', key: ctx.path('tx', 'absent'), value: 'x' }),
  },
  {
    name: 'delete of an absent node',
    causeCode: 'NO_NODE',
    operation: (ctx) => ({ type: 'delete', key: ctx.path('tx', 'absent') }),
  },
];

const POSITIONS = [
  { name: 'first', index: 0 },
  { name: 'middle', index: 2 },
  { name: 'last', index: 5 },
] as const;

/** Valid operations of every kind; a failing one is inserted among them. */
function validOperations(ctx: ConformanceContext): RegistryTransactionOperation[] {
  return [
    { type: 'create', key: ctx.path('tx', 'new'), value: 'n' },
    { type: 'create', key: ctx.path('tx', 'new', 'child'), value: 'nc' },
    { type: 'update', key: ctx.path('tx', 'existing'), value: 'changed' },
    { type: 'check', key: ctx.path('tx', 'existing') },
    { type: 'delete', key: ctx.path('tx', 'victim') },
  ];
}

async function seed(ctx: ConformanceContext, client: CoordinatorRegistryCenter): Promise<void> {
  await client.persist(ctx.path('tx', 'existing'), 'old');
  await client.persist(ctx.path('tx', 'victim'), 'v');
  await client.persist(ctx.path('tx', 'victim', 'child'), 'vc');
  await client.persist(ctx.path('tx', 'victim', 'child', 'grandchild'), 'vg');
  await client.persist(ctx.path('tx', 'victimized'), 'prefix sibling');
}

/** Checks the subtree below the test's `tx` node: relative path (`a/b`) → value. */
async function expectTxSubtree(ctx: ConformanceContext, expected: Record<string, string>): Promise<void> {
  const reader = await ctx.client();
  const wanted = new Map(
    Object.entries(expected).map(([relative, value]) => [ctx.path('tx', ...relative.split('/')), value]),
  );
  expect(sortedEntries(await readSubtree(reader, ctx.path('tx')))).toEqual(sortedEntries(wanted));
}

/** The `TRANSACTION_FAILED` of `operations`, checked for its index and its cause's code. */
async function expectTransactionFailure(
  client: CoordinatorRegistryCenter,
  operations: readonly RegistryTransactionOperation[],
  index: number,
  causeCode: RegistryErrorCode,
): Promise<void> {
  const error = await expectRegistryError(
    () => client.executeInTransaction(operations),
    'TRANSACTION_FAILED',
    operations[index]?.key,
  );
  expect(error.failedOperationIndex, 'failedOperationIndex').toBe(index);
  const cause = (error as Error).cause;
  expect(isRegistryErrorLike(cause), `cause is a RegistryError: ${String(cause)}`).toBe(true);
  expect((cause as { code: string }).code, 'cause code').toBe(causeCode);
}

/** Clients compare-and-set increments of one counter node; reports what committed. */
async function compareAndSetIncrements(
  client: CoordinatorRegistryCenter,
  counter: string,
  successes: number,
): Promise<{ readonly committedFrom: number[]; readonly mismatches: number }> {
  const committedFrom: number[] = [];
  let mismatches = 0;
  for (let attempt = 0; committedFrom.length < successes; attempt += 1) {
    if (attempt >= successes * 100) throw new Error(`no progress after ${attempt} attempts`);
    const read = Number(await client.getDirectly(counter));
    try {
      await client.executeInTransaction([
        { type: 'check', key: counter, value: String(read) },
        { type: 'update', key: counter, value: String(read + 1) },
      ]);
      committedFrom.push(read);
    } catch (error) {
      const cause = (error as Error).cause as { code?: string } | undefined;
      if (!isRegistryErrorLike(error) || error.failedOperationIndex !== 0 || cause?.code !== 'VALUE_MISMATCH')
        throw error;
      mismatches += 1;
    }
  }
  return { committedFrom, mismatches };
}

function defineValueCheckTests(ctx: ConformanceContext, timeout: number): void {
  describe('check with a value', () => {
    it(
      'passes when the node holds exactly the value, committed together with create, update and delete',
      async () => {
        const client = await ctx.client();
        await seed(ctx, client);
        await client.executeInTransaction([
          { type: 'check', key: ctx.path('tx', 'existing'), value: 'old' },
          { type: 'create', key: ctx.path('tx', 'new'), value: 'n' },
          { type: 'update', key: ctx.path('tx', 'existing'), value: 'changed' },
          { type: 'check', key: ctx.path('tx', 'victimized'), value: 'prefix sibling' },
          { type: 'delete', key: ctx.path('tx', 'victim') },
        ]);
        await expectTxSubtree(ctx, { existing: 'changed', new: 'n', victimized: 'prefix sibling' });
      },
      timeout,
    );

    it(
      'compares exact strings: another normalisation, case or a trailing space is a mismatch; empty matches empty',
      async () => {
        const client = await ctx.client();
        const accented = ctx.path('exact', 'accented');
        const empty = ctx.path('exact', 'empty');
        await client.persist(accented, '\u00e9t\u00e9');
        await client.persist(empty, '');
        for (const other of ['e\u0301te\u0301', '\u00c9T\u00c9', '\u00e9t\u00e9 ', '']) {
          await expectTransactionFailure(
            client,
            [{ type: 'check', key: accented, value: other }],
            0,
            'VALUE_MISMATCH',
          );
        }
        await expectTransactionFailure(
          client,
          [{ type: 'check', key: empty, value: ' ' }],
          0,
          'VALUE_MISMATCH',
        );
        await client.executeInTransaction([
          { type: 'check', key: accented, value: '\u00e9t\u00e9' },
          { type: 'check', key: empty, value: '' },
          { type: 'update', key: empty, value: 'checked' },
        ]);
        expect(await client.getDirectly(empty)).toBe('checked');
      },
      timeout,
    );

    it(
      'sees what earlier operations of the same transaction wrote or deleted',
      async () => {
        const client = await ctx.client();
        const node = ctx.path('seq', 'node');
        const child = ctx.path('seq', 'node', 'child');
        await client.persist(node, 'v0');
        await client.executeInTransaction([
          { type: 'update', key: node, value: 'v1' },
          { type: 'check', key: node, value: 'v1' },
          { type: 'create', key: child, value: 'c' },
          { type: 'check', key: child, value: 'c' },
        ]);
        expect(await client.getDirectly(child)).toBe('c');
        const stale: RegistryTransactionOperation[] = [
          { type: 'update', key: node, value: 'v2' },
          { type: 'check', key: node, value: 'v1' },
        ];
        await expectTransactionFailure(client, stale, 1, 'VALUE_MISMATCH');
        const deleted: RegistryTransactionOperation[] = [
          { type: 'delete', key: node },
          { type: 'check', key: child, value: 'c' },
        ];
        await expectTransactionFailure(client, deleted, 1, 'NO_NODE');
        expect(await client.getDirectly(node)).toBe('v1');
        expect(await client.getDirectly(child)).toBe('c');
      },
      timeout,
    );

    it(
      'fails when another client changed the value after it was read',
      async () => {
        const client = await ctx.client();
        const other = await ctx.client();
        const fence = ctx.path('fence');
        await client.persist(fence, '7');
        const read = await client.getDirectly(fence);
        await other.update(fence, '8');
        await expectTransactionFailure(
          client,
          [
            { type: 'check', key: fence, value: String(read) },
            { type: 'create', key: ctx.path('fence', 'running'), value: 'stale' },
          ],
          0,
          'VALUE_MISMATCH',
        );
        expect(await client.isExisted(ctx.path('fence', 'running'))).toBe(false);
        expect(await client.getDirectly(fence)).toBe('8');
      },
      timeout,
    );

    it(
      'concurrent compare-and-set increments from several clients lose no update',
      async () => {
        const counter = ctx.path('counter');
        const clients = await Promise.all([ctx.client(), ctx.client(), ctx.client(), ctx.client()]);
        await clients[0]?.persist(counter, '0');
        const perClient = 15;
        const outcomes = await Promise.all(
          clients.map((client) => compareAndSetIncrements(client, counter, perClient)),
        );
        const committedFrom = outcomes.flatMap((outcome) => outcome.committedFrom);
        // Every commit started from a value no other commit started from: nobody overwrote a change.
        expect(new Set(committedFrom).size, 'distinct values compare-and-set from').toBe(
          committedFrom.length,
        );
        expect(await clients[0]?.getDirectly(counter)).toBe(String(clients.length * perClient));
      },
      timeout,
    );
  });
}

/** Registers the transaction tests. */
export function defineTransactionTests(ctx: ConformanceContext): void {
  const timeout = ctx.ms(BASE_TEST_TIMEOUT_MS);

  describe('executeInTransaction', () => {
    defineValueCheckTests(ctx, timeout);

    it(
      'commits check, create, update and (recursive) delete together',
      async () => {
        const client = await ctx.client();
        await seed(ctx, client);
        await client.executeInTransaction(validOperations(ctx));
        await expectTxSubtree(ctx, {
          existing: 'changed',
          new: 'n',
          'new/child': 'nc',
          victimized: 'prefix sibling',
        });
      },
      timeout,
    );

    it(
      'a create may rely on the create of its parent earlier in the same transaction',
      async () => {
        const client = await ctx.client();
        await client.persist(ctx.path('base'), '');
        await client.executeInTransaction([
          { type: 'create', key: ctx.path('base', 'a'), value: '1' },
          { type: 'create', key: ctx.path('base', 'a', 'b'), value: '2' },
          { type: 'create', key: ctx.path('base', 'a', 'b', 'c') },
          { type: 'update', key: ctx.path('base', 'a'), value: '1b' },
          { type: 'check', key: ctx.path('base', 'a', 'b', 'c') },
        ]);
        expect(await client.getDirectly(ctx.path('base', 'a'))).toBe('1b');
        expect(await client.getDirectly(ctx.path('base', 'a', 'b'))).toBe('2');
        expect(await client.getDirectly(ctx.path('base', 'a', 'b', 'c'))).toBe('');
      },
      timeout,
    );

    it(
      'delete removes the whole subtree, spares prefix siblings, and check accepts implicit parents',
      async () => {
        const client = await ctx.client();
        await client.persist(ctx.path('d', 'job', 'sharding', '0', 'instance'), 'i0');
        await client.persist(ctx.path('d', 'job', 'sharding', '1', 'running'), '');
        await client.persist(ctx.path('d', 'jobs', 'keep'), 'k');
        await client.executeInTransaction([
          { type: 'check', key: ctx.path('d', 'job', 'sharding') },
          { type: 'delete', key: ctx.path('d', 'job') },
        ]);
        expect(await client.isExisted(ctx.path('d', 'job'))).toBe(false);
        expect(await client.isExisted(ctx.path('d', 'job', 'sharding', '0', 'instance'))).toBe(false);
        expect(await client.getDirectly(ctx.path('d', 'jobs', 'keep'))).toBe('k');
      },
      timeout,
    );

    for (const failing of FAILING_OPERATIONS) {
      for (const position of POSITIONS) {
        it(
          `rolls everything back when the ${position.name} operation fails: ${failing.name}`,
          async () => {
            const client = await ctx.client();
            await seed(ctx, client);
            const before = await readSubtree(client, ctx.path('tx'));
            const operations = validOperations(ctx);
            const bad = failing.operation(ctx);
            operations.splice(position.index, 0, bad);
            expect(operations.indexOf(bad)).toBe(position.index);
            await expectTransactionFailure(client, operations, position.index, failing.causeCode);
            const reader = await ctx.client();
            expect(sortedEntries(await readSubtree(reader, ctx.path('tx')))).toEqual(sortedEntries(before));
          },
          timeout,
        );
      }
    }

    it(
      'a failed transaction emits no watch event',
      async () => {
        const client = await ctx.client();
        await seed(ctx, client);
        const watcher = await ctx.client();
        const recorder = ctx.recorder();
        await watcher.watch(ctx.path('tx'), recorder.listener);
        const from = recorder.mark();
        const operations = validOperations(ctx);
        operations.push({ type: 'check', key: ctx.path('tx', 'absent') });
        await expectRegistryError(() => client.executeInTransaction(operations), 'TRANSACTION_FAILED');
        await client.persist(ctx.path('tx', 'marker'), 'after');
        await recorder.waitForEvent({ type: 'ADDED', key: ctx.path('tx', 'marker') }, { from });
        expect(recorder.since(from)).toEqual([
          { type: 'ADDED', key: ctx.path('tx', 'marker'), value: 'after' },
        ]);
      },
      timeout,
    );

    it(
      'a committed transaction is seen by watchers with values',
      async () => {
        const client = await ctx.client();
        await seed(ctx, client);
        const watcher = await ctx.client();
        const recorder = ctx.recorder();
        await watcher.watch(ctx.path('tx'), recorder.listener);
        const from = recorder.mark();
        await client.executeInTransaction(validOperations(ctx));
        await recorder.waitFor(
          (events) => {
            const seen = events.slice(from);
            return (
              seen.some(
                (e) => e.type === 'ADDED' && e.key === ctx.path('tx', 'new', 'child') && e.value === 'nc',
              ) &&
              seen.some(
                (e) => e.type === 'UPDATED' && e.key === ctx.path('tx', 'existing') && e.value === 'changed',
              ) &&
              seen.some(
                (e) => e.type === 'DELETED' && e.key === ctx.path('tx', 'victim', 'child', 'grandchild'),
              ) &&
              seen.some((e) => e.type === 'DELETED' && e.key === ctx.path('tx', 'victim') && e.value === 'v')
            );
          },
          undefined,
          'the events of the committed transaction',
        );
        expect(recorder.anomalies()).toEqual([]);
      },
      timeout,
    );

    it(
      'an invalid key anywhere throws a TypeError naming it and commits nothing',
      async () => {
        const client = await ctx.client();
        const error = await captureError(() =>
          client.executeInTransaction([
            { type: 'create', key: ctx.path('valid'), value: '' },
            { type: 'create', key: `${ctx.path('invalid')}/`, value: '' },
          ]),
        );
        expect(error).toBeInstanceOf(TypeError);
        expect((error as Error).message).toContain(`${ctx.path('invalid')}/`);
        expect(await client.isExisted(ctx.path('valid'))).toBe(false);
      },
      timeout,
    );

    it(
      'a transaction of capabilities.maxTransactionOperations operations (default 40) commits whole',
      async () => {
        const client = await ctx.client();
        const size = ctx.capabilities.maxTransactionOperations ?? 40;
        await client.persist(ctx.path('big'), '');
        const keys = Array.from({ length: size }, (_, i) => ctx.path('big', `n${i}`));
        await client.executeInTransaction(keys.map((key) => ({ type: 'create', key, value: 'v' })));
        expect((await client.getChildrenKeys(ctx.path('big'))).length).toBe(size);
      },
      timeout,
    );

    it(
      'transactions packed by the meter (openTransactionMeter, else maxTransactionOperations) commit whole',
      async () => {
        const client = await ctx.client();
        const open = (): TransactionMeter =>
          client.openTransactionMeter?.() ??
          new CountingTransactionMeter(ctx.capabilities.maxTransactionOperations ?? 40);
        /** Packs groups into transactions the way the kernel does: a new one when the meter refuses. */
        const pack = (
          groups: readonly RegistryTransactionOperation[][],
        ): RegistryTransactionOperation[][] => {
          const transactions: RegistryTransactionOperation[][] = [];
          let meter = open();
          let transaction: RegistryTransactionOperation[] = [];
          for (const group of groups) {
            if (!meter.tryAdd(group)) {
              transactions.push(transaction);
              transaction = [];
              meter = open();
              expect(meter.tryAdd(group)).toBe(true);
            }
            transaction.push(...group);
          }
          transactions.push(transaction);
          return transactions;
        };
        const run = async (groups: readonly RegistryTransactionOperation[][]) => {
          const transactions = pack(groups);
          // More than one transaction (600 items exceed every adapter's bound at each step), and
          // more than one group in each.
          expect(transactions.length).toBeGreaterThan(1);
          expect(transactions.length).toBeLessThan(groups.length / 2);
          for (const transaction of transactions) await client.executeInTransaction(transaction);
        };
        const items = Array.from({ length: 600 }, (_, i) => i);
        const node = (item: number, name?: string) =>
          name === undefined ? ctx.path('packed', `${item}`) : ctx.path('packed', `${item}`, name);
        await client.persist(ctx.path('packed'), '');
        // Setup, then an admission's shape (ownership check, running mark, fencing compare-and-set),
        // then a clear's (check and delete of the mark).
        await run(
          items.map((item) => [
            { type: 'create', key: node(item) },
            { type: 'create', key: node(item, 'instance'), value: 'me' },
            { type: 'create', key: node(item, 'fencing'), value: '0' },
          ]),
        );
        await run(
          items.map((item) => [
            { type: 'check', key: node(item, 'instance'), value: 'me' },
            { type: 'create', key: node(item, 'running'), value: 'me' },
            { type: 'check', key: node(item, 'fencing'), value: '0' },
            { type: 'update', key: node(item, 'fencing'), value: '1' },
          ]),
        );
        for (const item of [0, 300, 599]) {
          expect(await client.getDirectly(node(item, 'running'))).toBe('me');
          expect(await client.getDirectly(node(item, 'fencing'))).toBe('1');
        }
        await run(
          items.map((item) => [
            { type: 'check', key: node(item, 'running'), value: 'me' },
            { type: 'delete', key: node(item, 'running') },
          ]),
        );
        for (const item of [0, 300, 599]) expect(await client.isExisted(node(item, 'running'))).toBe(false);
        // A refused group leaves the meter as it was; an empty meter takes any group.
        const meter = open();
        let added = 0;
        while (
          meter.tryAdd([
            { type: 'check', key: node(added % items.length, 'instance') },
            { type: 'create', key: ctx.path('packed', `n${added}`) },
          ])
        )
          added++;
        expect(added).toBeGreaterThan(1);
        const size = meter.size;
        expect(size).toBe(2 * added);
        expect(meter.tryAdd(items.map((item) => ({ type: 'check', key: node(item) })))).toBe(false);
        expect(meter.size).toBe(size);
        const huge = Array.from(
          { length: 2_000 },
          (_, i): RegistryTransactionOperation => ({ type: 'check', key: node(i % items.length) }),
        );
        expect(open().tryAdd(huge)).toBe(true);
      },
      timeout,
    );

    it(
      'transactions asked for at once each get their own outcome: a refused one holds back no other',
      async () => {
        const client = await ctx.client();
        await client.persist(ctx.path('at-once'), '');
        const outcomes = await Promise.allSettled([
          client.executeInTransaction([{ type: 'create', key: ctx.path('at-once', 'a'), value: 'a' }]),
          client.executeInTransaction([
            { type: 'create', key: ctx.path('at-once', 'b'), value: 'b' },
            { type: 'check', key: ctx.path('at-once', 'absent') },
          ]),
          client.executeInTransaction([{ type: 'create', key: ctx.path('at-once', 'c'), value: 'c' }]),
        ]);
        expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
        const failure = (outcomes[1] as PromiseRejectedResult).reason as {
          code: string;
          failedOperationIndex?: number;
        };
        expect(failure.code).toBe('TRANSACTION_FAILED');
        expect(failure.failedOperationIndex).toBe(1);
        expect((await client.getChildrenKeys(ctx.path('at-once'))).sort()).toEqual(['a', 'c']);
      },
      timeout,
    );
  });
}
