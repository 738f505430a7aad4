/**
 * Sessions and connection states: SUSPENDED/RECONNECTED/LOST sequences via fault injection,
 * ephemeral nodes on session expiry, server restart.
 *
 * @module
 */
import { REGISTRY_CLOSE_GRACE_MS } from '@elasticjob-ts/core/adapter';
import { describe, expect, it } from 'vitest';
import { type ConformanceContext, captureError } from '../harness.js';
import { CONFORMANCE_SESSION_TIMEOUT_MS } from '../options.js';
import { BASE_TEST_TIMEOUT_MS, control, needsControls } from './common.js';

/** Registers the session and connection-state tests. */
export function defineSessionTests(ctx: ConformanceContext): void {
  const timeout = ctx.ms(BASE_TEST_TIMEOUT_MS * 2);
  const expiry = needsControls(ctx, 'expireSession');
  const cut = needsControls(ctx, 'disconnect', 'reconnect');
  const restart = needsControls(ctx, 'restartServer');
  const silent = needsControls(ctx, 'blackhole');
  /** Bound for a session to expire after a disconnect, in ms. */
  const lostBoundMs = ctx.ms(CONFORMANCE_SESSION_TIMEOUT_MS * 3 + 10_000);

  describe('sessions and connection states', () => {
    it.skipIf(expiry.skip)(
      `session expiry removes ephemeral nodes; other clients see DELETED with the last value${expiry.tag}`,
      async () => {
        const states = ctx.states();
        const owner = await ctx.client({ states });
        const watcher = await ctx.client();
        await owner.persistEphemeral(ctx.path('instances', 'i1'), 'alive');
        const sequential = await owner.persistEphemeralSequential(ctx.path('instances', 'seq-'));
        await owner.persist(ctx.path('instances', 'durable'), 'kept');
        const recorder = ctx.recorder();
        await watcher.watch(ctx.path('instances'), recorder.listener);
        await control(ctx, 'expireSession')(owner);
        await recorder.waitForEvent(
          { type: 'DELETED', key: ctx.path('instances', 'i1'), value: 'alive' },
          { timeoutMs: ctx.ms(20_000) },
        );
        await recorder.waitForEvent({ type: 'DELETED', key: sequential }, { timeoutMs: ctx.ms(20_000) });
        await states.waitForState('LOST', { timeoutMs: ctx.ms(20_000) });
        expect(await watcher.getChildrenKeys(ctx.path('instances'))).toEqual(['durable']);
      },
      timeout,
    );

    it.skipIf(expiry.skip)(
      `after expiry the client reports LOST then RECONNECTED and works in a new session${expiry.tag}`,
      async () => {
        const states = ctx.states();
        const client = await ctx.client({ states });
        const other = await ctx.client();
        await states.waitForState('CONNECTED');
        await client.persistEphemeral(ctx.path('e'), 'old session');
        await control(ctx, 'expireSession')(client);
        const lostAt = await states.waitForState('LOST', { timeoutMs: ctx.ms(20_000) });
        await states.waitForState('RECONNECTED', { from: lostAt, timeoutMs: ctx.ms(20_000) });
        expect(states.states[0]).toBe('CONNECTED');
        expect(states.states.slice(1, lostAt).every((state) => state === 'SUSPENDED')).toBe(true);
        expect(await other.isExisted(ctx.path('e'))).toBe(false);
        await client.persistEphemeral(ctx.path('e'), 'new session');
        expect(await other.getDirectly(ctx.path('e'))).toBe('new session');
        await client.close();
        expect(await other.isExisted(ctx.path('e'))).toBe(false);
      },
      timeout,
    );

    it.skipIf(cut.skip)(
      `a short disconnect reports SUSPENDED then RECONNECTED and keeps the session's ephemerals${cut.tag}`,
      async () => {
        const states = ctx.states();
        const client = await ctx.client({ states });
        const watcher = await ctx.client();
        await client.persistEphemeral(ctx.path('e'), 'survives');
        const recorder = ctx.recorder();
        await watcher.watch(ctx.path('e'), recorder.listener);
        await states.waitForState('CONNECTED');
        await control(ctx, 'disconnect')(client);
        const suspendedAt = await states.waitForState('SUSPENDED');
        await control(ctx, 'reconnect')(client);
        await states.waitForState('RECONNECTED', { from: suspendedAt });
        expect(states.states).toEqual(['CONNECTED', 'SUSPENDED', 'RECONNECTED']);
        expect(await watcher.getDirectly(ctx.path('e'))).toBe('survives');
        await client.update(ctx.path('e'), 'still mine');
        await recorder.waitForEvent({ type: 'UPDATED', key: ctx.path('e'), value: 'still mine' });
        expect(recorder.events.filter((event) => event.type === 'DELETED')).toEqual([]);
      },
      timeout,
    );

    it.skipIf(silent.skip)(
      `close() of a client whose server does not answer returns within the close grace, and no call is left waiting: those cut by the close reject with NOT_STARTED${silent.tag}`,
      async () => {
        const states = ctx.states();
        const client = await ctx.client({ states });
        await client.persist(ctx.path('n'), 'v');
        await states.waitForState('CONNECTED');
        await control(ctx, 'blackhole')(client);
        let closed = false;
        const outcomes = [
          client.getDirectly(ctx.path('n')),
          client.update(ctx.path('n'), 'w'),
          client.executeInTransaction([{ type: 'update', key: ctx.path('n'), value: 'x' }]),
        ].map((call) =>
          call.then(
            () => ({ answered: true, afterClose: closed, code: undefined }),
            (error: unknown) => ({
              answered: false,
              afterClose: closed,
              code: (error as { code?: unknown }).code,
            }),
          ),
        );
        const started = performance.now();
        await client.close();
        const elapsedMs = performance.now() - started;
        closed = true;
        expect(elapsedMs).toBeLessThan(REGISTRY_CLOSE_GRACE_MS + ctx.ms(2_000));
        // Settled by the next turn: an adapter may have failed a call before the close (it noticed
        // the cut: CONNECTION_LOSS); one the close cut short is NOT_STARTED.
        await new Promise((resolve) => setImmediate(resolve));
        const settled = await Promise.race([
          Promise.all(outcomes),
          new Promise<'waiting'>((resolve) => setTimeout(() => resolve('waiting'), 0)),
        ]);
        expect(settled, 'calls still waiting after close() resolved').not.toBe('waiting');
        for (const outcome of settled as Array<{ answered: boolean; afterClose: boolean; code: unknown }>) {
          expect(outcome.answered).toBe(false);
          if (outcome.afterClose) expect(outcome.code).toBe('NOT_STARTED');
          else expect(['CONNECTION_LOSS', 'NOT_STARTED']).toContain(outcome.code);
        }
      },
      timeout,
    );

    it.skipIf(cut.skip)(
      `a disconnect longer than the session timeout ends the session: LOST (at the latest once a server answers again), then a new session${cut.tag}`,
      async () => {
        const states = ctx.states();
        const client = await ctx.client({ states, sessionTimeoutMs: CONFORMANCE_SESSION_TIMEOUT_MS });
        const watcher = await ctx.client();
        await client.persistEphemeral(ctx.path('e'), 'doomed');
        const recorder = ctx.recorder();
        await watcher.watch(ctx.root, recorder.listener);
        await states.waitForState('CONNECTED');
        await control(ctx, 'disconnect')(client);
        const suspendedAt = await states.waitForState('SUSPENDED');
        // The server ends the session; a cut-off client may learn it only when it reaches a server
        // again (an adapter may also presume it after a session timeout without one).
        await recorder.waitForEvent(
          { type: 'DELETED', key: ctx.path('e'), value: 'doomed' },
          { timeoutMs: lostBoundMs },
        );
        expect(states.since(suspendedAt).every((state) => state === 'SUSPENDED' || state === 'LOST')).toBe(
          true,
        );
        // No proof of a session the server has ended.
        const unconfirmed = await captureError(() => client.confirmSession());
        expect(['CONNECTION_LOSS', 'SESSION_EXPIRED'], String(unconfirmed)).toContain(
          (unconfirmed as { code?: unknown }).code,
        );
        expect(client.isSessionProven?.() ?? false).toBe(false);
        await control(ctx, 'reconnect')(client);
        const lostAt = await states.waitForState('LOST', { from: suspendedAt, timeoutMs: lostBoundMs });
        await states.waitForState('RECONNECTED', { from: lostAt, timeoutMs: ctx.ms(20_000) });
        expect(states.states).toEqual(['CONNECTED', 'SUSPENDED', 'LOST', 'RECONNECTED']);
        expect(await client.isExisted(ctx.path('e'))).toBe(false);
        await client.persistEphemeral(ctx.path('e'), 'reborn');
        await recorder.waitForEvent({ type: 'ADDED', key: ctx.path('e'), value: 'reborn' });
        await client.confirmSession();
      },
      ctx.ms(BASE_TEST_TIMEOUT_MS * 2 + CONFORMANCE_SESSION_TIMEOUT_MS * 3),
    );

    it.skipIf(restart.skip)(
      `after a server restart clients reconnect, data survives and watches keep delivering${restart.tag}`,
      async () => {
        const states = ctx.states();
        const client = await ctx.client({ states });
        const watcherStates = ctx.states();
        const watcher = await ctx.client({ states: watcherStates });
        await client.persist(ctx.path('durable'), 'kept');
        await client.persistEphemeral(ctx.path('ephemeral'), 'maybe');
        const recorder = ctx.recorder();
        await watcher.watch(ctx.root, recorder.listener);
        await states.waitForState('CONNECTED');
        await watcherStates.waitForState('CONNECTED');
        const from = states.count;
        const watcherFrom = watcherStates.count;
        await control(ctx, 'restartServer')();
        await states.waitFor(
          (all) => all.length > from && all[all.length - 1] === 'RECONNECTED',
          ctx.ms(30_000),
          'RECONNECTED after the restart',
        );
        await watcherStates.waitFor(
          (all) => all.length > watcherFrom && all[all.length - 1] === 'RECONNECTED',
          ctx.ms(30_000),
          'RECONNECTED of the watcher after the restart',
        );
        expect(states.since(from)[0]).toMatch(/^(SUSPENDED|LOST)$/);
        expect(await client.getDirectly(ctx.path('durable'))).toBe('kept');
        const sessionLost = states.since(from).includes('LOST');
        expect(await watcher.isExisted(ctx.path('ephemeral'))).toBe(!sessionLost);
        await client.persist(ctx.path('after-restart'), 'delivered');
        await recorder.waitForEvent(
          { type: 'ADDED', key: ctx.path('after-restart'), value: 'delivered' },
          { timeoutMs: ctx.ms(20_000) },
        );
        expect(recorder.anomalies()).toEqual([]);
      },
      ctx.ms(BASE_TEST_TIMEOUT_MS * 3),
    );
  });
}
