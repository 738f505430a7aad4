/**
 * `executeInTransaction`: atomic commit, all-or-nothing rollback for every failing op type at every
 * position, error shape.
 *
 * @module
 */
import type {
  CoordinatorRegistryCenter,
  RegistryErrorCode,
  RegistryTransactionOperation,
} from '@elasticjob-ts/core';
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

/** Registers the transaction tests. */
export function defineTransactionTests(ctx: ConformanceContext): void {
  const timeout = ctx.ms(BASE_TEST_TIMEOUT_MS);

  describe('executeInTransaction', () => {
    it(
      'commits check, create, update and (recursive) delete together',
      async () => {
        const client = await ctx.client();
        await seed(ctx, client);
        await client.executeInTransaction(validOperations(ctx));
        const reader = await ctx.client();
        expect(sortedEntries(await readSubtree(reader, ctx.path('tx')))).toEqual(
          sortedEntries(
            new Map([
              [ctx.path('tx', 'existing'), 'changed'],
              [ctx.path('tx', 'new'), 'n'],
              [ctx.path('tx', 'new', 'child'), 'nc'],
              [ctx.path('tx', 'victimized'), 'prefix sibling'],
            ]),
          ),
        );
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
            const error = await expectRegistryError(
              () => client.executeInTransaction(operations),
              'TRANSACTION_FAILED',
              bad.key,
            );
            expect(error.failedOperationIndex, 'failedOperationIndex').toBe(position.index);
            const cause = (error as Error).cause;
            expect(isRegistryErrorLike(cause), `cause is a RegistryError: ${String(cause)}`).toBe(true);
            expect((cause as { code: string }).code, 'cause code').toBe(failing.causeCode);
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
  });
}
