/**
 * `executeInLeader`: exclusion across clients, fairness, results and errors, release on session
 * end, bounded and abortable waits.
 *
 * @module
 */
import type { CoordinatorRegistryCenter } from '@elasticjob-ts/core/adapter';
import { describe, expect, it } from 'vitest';
import {
  type ConformanceContext,
  captureError,
  expectRegistryError,
  isRegistryErrorLike,
} from '../harness.js';
import { Deferred, withTimeout } from '../wait.js';
import { BASE_TEST_TIMEOUT_MS, control, needsControls, nextTurn } from './common.js';

/**
 * Starts `executeInLeader` with a callback that signals `entered` and then holds the latch until
 * `release` is resolved. The test's cleanup releases it.
 */
function holdLatch(
  ctx: ConformanceContext,
  client: CoordinatorRegistryCenter,
  latchKey: string,
): { entered: Deferred; release: Deferred; done: Promise<unknown> } {
  const entered = new Deferred();
  const release = new Deferred();
  const done = client.executeInLeader(latchKey, async () => {
    entered.resolve();
    await release.promise;
    return 'held';
  });
  done.catch(() => undefined);
  ctx.onCleanup(() => release.resolve());
  return { entered, release, done };
}

/** Registers the leader latch tests. */
export function defineLatchTests(ctx: ConformanceContext): void {
  const timeout = ctx.ms(BASE_TEST_TIMEOUT_MS);
  const expiry = needsControls(ctx, 'expireSession');

  describe('executeInLeader', () => {
    it(
      "returns the callback's result, for sync and async callbacks",
      async () => {
        const client = await ctx.client();
        expect(await client.executeInLeader(ctx.path('latch'), () => 42)).toBe(42);
        expect(await client.executeInLeader(ctx.path('latch'), async () => ({ ok: true }))).toEqual({
          ok: true,
        });
        expect(await client.executeInLeader(ctx.path('latch'), () => undefined)).toBeUndefined();
      },
      timeout,
    );

    it(
      'rethrows the error the callback threw, unchanged, and releases the latch',
      async () => {
        const client = await ctx.client();
        const other = await ctx.client();
        const thrown = new Error('callback failed');
        expect(
          await captureError(() => client.executeInLeader(ctx.path('latch'), () => Promise.reject(thrown))),
        ).toBe(thrown);
        const syncThrown = new RangeError('sync failure');
        expect(
          await captureError(() =>
            client.executeInLeader(ctx.path('latch'), () => {
              throw syncThrown;
            }),
          ),
        ).toBe(syncThrown);
        const result = await other.executeInLeader(ctx.path('latch'), () => 'acquired after errors', {
          waitTimeoutMs: ctx.ms(5_000),
        });
        expect(result).toBe('acquired after errors');
      },
      timeout,
    );

    it(
      'callbacks for the same latch never overlap across clients (no lost counter update)',
      async () => {
        const clients = await Promise.all([ctx.client(), ctx.client(), ctx.client(), ctx.client()]);
        const counter = ctx.path('counter');
        await clients[0]!.persist(counter, '0');
        let active = 0;
        let maxActive = 0;
        const perClient = 5;
        await Promise.all(
          clients.flatMap((client) =>
            Array.from({ length: perClient }, () =>
              client.executeInLeader(
                ctx.path('latch'),
                async () => {
                  active += 1;
                  maxActive = Math.max(maxActive, active);
                  const value = Number(await client.getDirectly(counter));
                  await nextTurn();
                  await client.update(counter, String(value + 1));
                  active -= 1;
                },
                { waitTimeoutMs: ctx.ms(30_000) },
              ),
            ),
          ),
        );
        expect(maxActive).toBe(1);
        expect(await clients[0]!.getDirectly(counter)).toBe(String(clients.length * perClient));
      },
      ctx.ms(BASE_TEST_TIMEOUT_MS * 2),
    );

    it(
      'different latch keys do not exclude each other',
      async () => {
        const a = await ctx.client();
        const b = await ctx.client();
        const holder = holdLatch(ctx, a, ctx.path('latch-one'));
        await holder.entered.promise;
        expect(
          await b.executeInLeader(ctx.path('latch-two'), () => 'independent', {
            waitTimeoutMs: ctx.ms(5_000),
          }),
        ).toBe('independent');
        holder.release.resolve();
        await holder.done;
      },
      timeout,
    );

    it(
      'waiters are served in arrival order (FIFO-ish fairness)',
      async () => {
        const holderClient = await ctx.client();
        const waiters = await Promise.all([ctx.client(), ctx.client(), ctx.client()]);
        const observer = await ctx.client();
        const latch = ctx.path('latch');
        const recorder = ctx.recorder();
        await observer.watch(latch, recorder.listener);
        const holder = holdLatch(ctx, holderClient, latch);
        await holder.entered.promise;
        // Adapters that keep waiters as nodes below the latch key show one ADDED key per queue entry
        // (the holder's included). Counting distinct keys ties each wait to its own waiter: a late
        // event of an earlier entry cannot end the wait for the next one.
        const entriesSeen = (events: readonly { type: string; key: string }[]) =>
          new Set(events.filter((event) => event.type === 'ADDED' && event.key !== latch).map((e) => e.key))
            .size;
        const nodesShown = await recorder
          .waitFor((events) => entriesSeen(events) >= 1, ctx.ms(2000), 'the holder entry')
          .then(
            () => true,
            () => false,
          );
        const order: number[] = [];
        const runs: Promise<unknown>[] = [];
        for (const [index, client] of waiters.entries()) {
          runs.push(
            client.executeInLeader(
              latch,
              () => {
                order.push(index);
              },
              { waitTimeoutMs: ctx.ms(15_000) },
            ),
          );
          // Let the waiter register before the next one arrives. Adapters without entry nodes get a
          // grace period, generous enough for a loaded machine.
          if (nodesShown) {
            await recorder.waitFor(
              (events) => entriesSeen(events) >= index + 2,
              ctx.ms(10_000),
              `queue entry of waiter ${index}`,
            );
          } else {
            await new Promise((resolve) => setTimeout(resolve, ctx.ms(2000)));
          }
        }
        holder.release.resolve();
        await holder.done;
        await Promise.all(runs);
        expect(order).toEqual([0, 1, 2]);
      },
      timeout,
    );

    it(
      'rejects with TIMEOUT after waitTimeoutMs, never runs that callback, and does not block later callers',
      async () => {
        const holderClient = await ctx.client();
        const waiter = await ctx.client();
        const later = await ctx.client();
        const latch = ctx.path('latch');
        const holder = holdLatch(ctx, holderClient, latch);
        await holder.entered.promise;
        let ran = false;
        const started = Date.now();
        await expectRegistryError(
          () =>
            waiter.executeInLeader(
              latch,
              () => {
                ran = true;
              },
              { waitTimeoutMs: 300 },
            ),
          'TIMEOUT',
        );
        expect(Date.now() - started).toBeGreaterThanOrEqual(250);
        holder.release.resolve();
        await holder.done;
        expect(await later.executeInLeader(latch, () => 'next', { waitTimeoutMs: ctx.ms(5_000) })).toBe(
          'next',
        );
        expect(ran).toBe(false);
      },
      timeout,
    );

    it(
      'an aborted signal rejects the wait with its reason and does not block later callers',
      async () => {
        const holderClient = await ctx.client();
        const waiter = await ctx.client();
        const later = await ctx.client();
        const latch = ctx.path('latch');
        const holder = holdLatch(ctx, holderClient, latch);
        await holder.entered.promise;
        let ran = false;
        const controller = new AbortController();
        const reason = new Error('shutting down');
        const waiting = waiter.executeInLeader(
          latch,
          () => {
            ran = true;
          },
          { signal: controller.signal, waitTimeoutMs: ctx.ms(15_000) },
        );
        waiting.catch(() => undefined);
        await nextTurn();
        controller.abort(reason);
        expect(
          await withTimeout(
            captureError(() => waiting),
            ctx.ms(5_000),
            'the aborted wait to reject',
          ),
        ).toBe(reason);
        const preReason = new Error('already aborted');
        const preAborted = AbortSignal.abort(preReason);
        const preError = await captureError(() =>
          waiter.executeInLeader(
            latch,
            () => {
              ran = true;
            },
            { signal: preAborted },
          ),
        );
        expect(preError).toBe(preReason);
        holder.release.resolve();
        await holder.done;
        expect(await later.executeInLeader(latch, () => 'next', { waitTimeoutMs: ctx.ms(5_000) })).toBe(
          'next',
        );
        expect(ran).toBe(false);
      },
      timeout,
    );

    it(
      'a holder that closes its client releases the latch to a waiting client',
      async () => {
        const holderClient = await ctx.client();
        const waiter = await ctx.client();
        const latch = ctx.path('latch');
        const holder = holdLatch(ctx, holderClient, latch);
        await holder.entered.promise;
        const acquired = new Deferred();
        const waiting = waiter.executeInLeader(latch, () => acquired.resolve(), {
          waitTimeoutMs: ctx.ms(15_000),
        });
        const closing = holderClient.close();
        closing.catch(() => undefined);
        await withTimeout(acquired.promise, ctx.ms(10_000), 'the waiter to acquire after the holder closed');
        await waiting;
        holder.release.resolve();
        await closing;
      },
      timeout,
    );

    it(
      'a waiter whose client closes stops waiting with a RegistryError and does not block later callers',
      async () => {
        const holderClient = await ctx.client();
        const waiterClient = await ctx.client();
        const later = await ctx.client();
        const latch = ctx.path('latch');
        const holder = holdLatch(ctx, holderClient, latch);
        await holder.entered.promise;
        let ran = false;
        const waiting = waiterClient.executeInLeader(
          latch,
          () => {
            ran = true;
          },
          { waitTimeoutMs: ctx.ms(30_000) },
        );
        waiting.catch(() => undefined);
        await nextTurn();
        await waiterClient.close();
        const error = await withTimeout(
          captureError(() => waiting),
          ctx.ms(5_000),
          'the wait of a closed client to end',
        );
        expect(isRegistryErrorLike(error), `a RegistryError: ${String(error)}`).toBe(true);
        holder.release.resolve();
        await holder.done;
        expect(await later.executeInLeader(latch, () => 'next', { waitTimeoutMs: ctx.ms(5_000) })).toBe(
          'next',
        );
        expect(ran).toBe(false);
      },
      timeout,
    );

    it.skipIf(expiry.skip)(
      `a holder whose session expires releases the latch${expiry.tag}`,
      async () => {
        const holderClient = await ctx.client();
        const waiter = await ctx.client();
        const latch = ctx.path('latch');
        const holder = holdLatch(ctx, holderClient, latch);
        await holder.entered.promise;
        const acquired = new Deferred();
        const waiting = waiter.executeInLeader(latch, () => acquired.resolve(), {
          waitTimeoutMs: ctx.ms(30_000),
        });
        await control(ctx, 'expireSession')(holderClient);
        await withTimeout(acquired.promise, ctx.ms(20_000), 'the waiter to acquire after the holder expired');
        await waiting;
        holder.release.resolve();
      },
      ctx.ms(BASE_TEST_TIMEOUT_MS * 2),
    );
  });
}
