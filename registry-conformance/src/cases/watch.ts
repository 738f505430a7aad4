/**
 * `watch`: initial snapshot, event types and values, per-key order, subtree scope, unwatch,
 * several watchers, delivery after reconnect and after a new session.
 *
 * @module
 */
import {
  type CoordinatorRegistryCenter,
  isWithinRegistryPath,
  type RegistryEvent,
} from '@elasticjob-ts/core/adapter';
import { describe, expect, it } from 'vitest';
import { type ConformanceContext, readSubtree, sortedEntries } from '../harness.js';
import type { EventRecorder } from '../recorders.js';
import { BASE_TEST_TIMEOUT_MS, control, needsControls } from './common.js';

function assertParentsFirst(events: readonly RegistryEvent[]): void {
  const firstAdded = new Map<string, number>();
  events.forEach((event, index) => {
    if (event.type === 'ADDED' && !firstAdded.has(event.key)) firstAdded.set(event.key, index);
  });
  for (const [key, index] of firstAdded) {
    for (const [other, otherIndex] of firstAdded) {
      if (other !== key && isWithinRegistryPath(key, other)) {
        expect(otherIndex, `ADDED ${other} must come before ADDED ${key}`).toBeLessThan(index);
      }
    }
  }
}

/** Waits until the recorder's mirror equals the server's subtree (root included). */
async function expectMirrorToMatchServer(
  ctx: ConformanceContext,
  recorder: EventRecorder,
  reader: Parameters<typeof readSubtree>[0],
  key: string,
): Promise<void> {
  const server = await readSubtree(reader, key, true);
  await recorder.waitFor(
    () => JSON.stringify(sortedEntries(recorder.mirror())) === JSON.stringify(sortedEntries(server)),
    ctx.ms(10_000),
    `the watched state to equal the server's: ${JSON.stringify(sortedEntries(server))}`,
  );
  expect(recorder.anomalies()).toEqual([]);
}

/**
 * Runs `write` and waits until every recorder reported an event for `key` after it. Writes made this
 * way, one after the other, are each made after the previous one was observed, so the contract
 * allows no merging: every change must be reported as its own event.
 */
async function writeObserved(
  write: () => Promise<unknown>,
  key: string,
  recorders: readonly EventRecorder[],
): Promise<void> {
  const marks = recorders.map((recorder) => recorder.mark());
  await write();
  await Promise.all(recorders.map((recorder, i) => recorder.waitForEvent({ key }, { from: marks[i] })));
}

/**
 * Changes `key` (absent at first) as fast as the writer can, several times, then waits until every
 * recorder converged to the last value; then removes it and waits until every recorder reported it
 * gone. Each recorder's events for `key` must be consistent with the commit order (merges allowed:
 * skipped values, a short-lived node unreported; no reordering, duplicate or invented value), and a
 * `DELETED` after a converged state must carry that state's value.
 */
async function expectFastChangesConsistent(
  writer: CoordinatorRegistryCenter,
  key: string,
  recorders: readonly EventRecorder[],
): Promise<void> {
  const marks = recorders.map((recorder) => recorder.mark());
  const history: Array<string | undefined> = [undefined];
  const commit = async (write: Promise<unknown>, state: string | undefined) => {
    await write;
    history.push(state);
  };
  await commit(writer.persist(key, 'fast-1'), 'fast-1');
  await commit(writer.update(key, 'fast-2'), 'fast-2');
  await commit(writer.persist(key, 'fast-3'), 'fast-3');
  await commit(writer.remove(key), undefined);
  await commit(writer.persist(key, 'fast-4'), 'fast-4');
  await commit(writer.update(key, 'fast-5'), 'fast-5');
  await Promise.all(
    recorders.map((recorder) =>
      recorder.waitFor(
        () => recorder.mirror().get(key) === 'fast-5',
        undefined,
        `${key} to converge to its last value "fast-5"`,
      ),
    ),
  );
  await commit(writer.remove(key), undefined);
  await Promise.all(
    recorders.map((recorder) =>
      recorder.waitFor(() => !recorder.mirror().has(key), undefined, `DELETED ${key} after its removal`),
    ),
  );
  recorders.forEach((recorder, i) => {
    expect(recorder.commitOrderViolations(key, history, marks[i]), `watcher #${i + 1}`).toEqual([]);
    expect(recorder.anomalies(), `watcher #${i + 1}`).toEqual([]);
  });
}

/** Registers the watch tests. */
export function defineWatchTests(ctx: ConformanceContext): void {
  const timeout = ctx.ms(BASE_TEST_TIMEOUT_MS);
  const reconnect = needsControls(ctx, 'disconnect', 'reconnect');
  const expiry = needsControls(ctx, 'expireSession');

  describe('watch', () => {
    it(
      'delivers an ADDED snapshot of the subtree, parents before children, before the promise resolves',
      async () => {
        const writer = await ctx.client();
        await writer.persist(ctx.path('w', 'a', 'b'), '2');
        await writer.persist(ctx.path('w', 'a'), '1');
        await writer.persist(ctx.path('w', 'c'), '3');
        await writer.persist(ctx.path('outside'), 'x');
        await writer.persist(ctx.path('wx'), 'prefix sibling');
        const watcher = await ctx.client();
        const recorder = ctx.recorder();
        await watcher.watch(ctx.path('w'), recorder.listener);
        const snapshot = [...recorder.events];
        expect(snapshot.every((event) => event.type === 'ADDED')).toBe(true);
        expect(sortedEntries(new Map(snapshot.map((event) => [event.key, event.value])))).toEqual(
          sortedEntries(
            new Map([
              [ctx.path('w'), ''],
              [ctx.path('w', 'a'), '1'],
              [ctx.path('w', 'a', 'b'), '2'],
              [ctx.path('w', 'c'), '3'],
            ]),
          ),
        );
        expect(snapshot).toHaveLength(4);
        assertParentsFirst(snapshot);
      },
      timeout,
    );

    it(
      'a watch on an absent node reports its creation, implicit parents before children',
      async () => {
        const watcher = await ctx.client();
        const writer = await ctx.client();
        const recorder = ctx.recorder();
        await watcher.watch(ctx.path('later'), recorder.listener);
        expect(recorder.events).toEqual([]);
        await writer.persist(ctx.path('later', 'x', 'y'), 'deep');
        await recorder.waitForEvent({ type: 'ADDED', key: ctx.path('later', 'x', 'y'), value: 'deep' });
        await recorder.waitForEvent({ type: 'ADDED', key: ctx.path('later', 'x'), value: '' });
        await recorder.waitForEvent({ type: 'ADDED', key: ctx.path('later'), value: '' });
        assertParentsFirst(recorder.events);
      },
      timeout,
    );

    it(
      'reports ADDED, UPDATED and DELETED with values; DELETED carries the last value',
      async () => {
        const watcher = await ctx.client();
        const writer = await ctx.client();
        await writer.persist(ctx.path('w'), '');
        const recorder = ctx.recorder();
        await watcher.watch(ctx.path('w'), recorder.listener);
        // Each change made once the previous one was observed: nothing may be merged.
        const from = recorder.mark();
        const key = ctx.path('w', 'node');
        await writeObserved(() => writer.persist(key, 'v1'), key, [recorder]);
        await writeObserved(() => writer.update(key, 'v2'), key, [recorder]);
        await writeObserved(() => writer.persist(key, 'v3'), key, [recorder]);
        await writeObserved(() => writer.remove(key), key, [recorder]);
        expect(recorder.since(from)).toEqual([
          { type: 'ADDED', key, value: 'v1' },
          { type: 'UPDATED', key, value: 'v2' },
          { type: 'UPDATED', key, value: 'v3' },
          { type: 'DELETED', key, value: 'v3' },
        ]);
        // Changes faster than a round trip: may be merged, but in commit order, converging, real values.
        await expectFastChangesConsistent(writer, ctx.path('w', 'fast'), [recorder]);
        expect(
          recorder.since(from).every((event) => event.key === key || event.key === ctx.path('w', 'fast')),
        ).toBe(true);
      },
      timeout,
    );

    it(
      'a recursive remove reports DELETED for every node of the subtree with its last value',
      async () => {
        const watcher = await ctx.client();
        const writer = await ctx.client();
        await writer.persist(ctx.path('w', 'job', 'a'), 'A');
        await writer.persist(ctx.path('w', 'job', 'a', 'deep'), 'D');
        await writer.persist(ctx.path('w', 'job', 'b'), 'B');
        await writer.persist(ctx.path('w', 'job'), 'J');
        const recorder = ctx.recorder();
        await watcher.watch(ctx.path('w'), recorder.listener);
        const from = recorder.mark();
        await writer.remove(ctx.path('w', 'job'));
        await recorder.waitFor(
          (events) => events.slice(from).filter((event) => event.type === 'DELETED').length === 4,
          undefined,
          'four DELETED events',
        );
        expect(sortedEntries(new Map(recorder.since(from).map((event) => [event.key, event.value])))).toEqual(
          sortedEntries(
            new Map([
              [ctx.path('w', 'job'), 'J'],
              [ctx.path('w', 'job', 'a'), 'A'],
              [ctx.path('w', 'job', 'a', 'deep'), 'D'],
              [ctx.path('w', 'job', 'b'), 'B'],
            ]),
          ),
        );
        expect(recorder.since(from).every((event) => event.type === 'DELETED')).toBe(true);
        expect(recorder.mirror()).toEqual(new Map([[ctx.path('w'), '']]));
      },
      timeout,
    );

    it(
      'delivers rapid updates of each key in commit order, ending with the last value',
      async () => {
        const watcher = await ctx.client();
        const writer = await ctx.client();
        const keys = [ctx.path('w', 'a'), ctx.path('w', 'b')];
        for (const key of keys) await writer.persist(key, '0');
        const recorder = ctx.recorder();
        await watcher.watch(ctx.path('w'), recorder.listener);
        const from = recorder.mark();
        const updates = 40;
        for (let i = 1; i <= updates; i += 1) {
          for (const key of keys) await writer.update(key, String(i));
        }
        for (const key of keys) await recorder.waitForEvent({ type: 'UPDATED', key, value: String(updates) });
        const history = Array.from({ length: updates + 1 }, (_, i) => String(i));
        for (const key of keys) expect(recorder.commitOrderViolations(key, history, from), key).toEqual([]);
        expect(recorder.anomalies()).toEqual([]);
      },
      timeout,
    );

    it(
      "reports only the watched subtree: not '/a/bc' for a watch on '/a/b', nor the parent",
      async () => {
        const watcher = await ctx.client();
        const writer = await ctx.client();
        await writer.persist(ctx.path('a', 'b'), '');
        const recorder = ctx.recorder();
        await watcher.watch(ctx.path('a', 'b'), recorder.listener);
        const from = recorder.mark();
        await writer.persist(ctx.path('a', 'bc'), 'sibling');
        await writer.persist(ctx.path('a', 'bc', 'child'), 'sibling child');
        await writer.persist(ctx.path('a', 'b-x'), 'sibling');
        await writer.persist(ctx.path('a'), 'parent');
        await writer.persist(ctx.path('other'), 'elsewhere');
        await writer.remove(ctx.path('a', 'bc'));
        await writer.persist(ctx.path('a', 'b', 'marker'), 'in scope');
        await recorder.waitForEvent({ type: 'ADDED', key: ctx.path('a', 'b', 'marker') }, { from });
        expect(recorder.since(from)).toEqual([
          { type: 'ADDED', key: ctx.path('a', 'b', 'marker'), value: 'in scope' },
        ]);
      },
      timeout,
    );

    it(
      'unwatch stops delivery (once its promise resolved) and is idempotent; other watches continue',
      async () => {
        const watcher = await ctx.client();
        const writer = await ctx.client();
        const stopped = ctx.recorder();
        const kept = ctx.recorder();
        const unwatch = await watcher.watch(ctx.path('w'), stopped.listener);
        await watcher.watch(ctx.path('w'), kept.listener);
        await writer.persist(ctx.path('w', 'before'), '1');
        await stopped.waitForEvent({ type: 'ADDED', key: ctx.path('w', 'before') });
        await unwatch();
        await unwatch();
        const from = stopped.mark();
        await writer.persist(ctx.path('w', 'after'), '2');
        await kept.waitForEvent({ type: 'ADDED', key: ctx.path('w', 'after') });
        expect(stopped.since(from)).toEqual([]);
      },
      timeout,
    );

    it(
      "a client's own writes are delivered to its own watches",
      async () => {
        const client = await ctx.client();
        const recorder = ctx.recorder();
        await client.watch(ctx.path('w'), recorder.listener);
        const own = ctx.path('w', 'own');
        // Each change made once the previous one was observed: nothing may be merged.
        await writeObserved(() => client.persist(own, '1'), own, [recorder]);
        await writeObserved(() => client.persistEphemeral(ctx.path('w', 'eph'), 'e'), ctx.path('w', 'eph'), [
          recorder,
        ]);
        await writeObserved(
          () => client.executeInTransaction([{ type: 'update', key: own, value: '2' }]),
          own,
          [recorder],
        );
        await writeObserved(() => client.remove(own), own, [recorder]);
        expect(recorder.eventsFor(ctx.path('w', 'own'))).toEqual([
          { type: 'ADDED', key: ctx.path('w', 'own'), value: '1' },
          { type: 'UPDATED', key: ctx.path('w', 'own'), value: '2' },
          { type: 'DELETED', key: ctx.path('w', 'own'), value: '2' },
        ]);
        expect(recorder.eventsFor(ctx.path('w', 'eph'))).toEqual([
          { type: 'ADDED', key: ctx.path('w', 'eph'), value: 'e' },
        ]);
      },
      timeout,
    );

    it(
      'several watchers on one or several clients each get every event',
      async () => {
        const first = await ctx.client();
        const second = await ctx.client();
        const writer = await ctx.client();
        const recorders = [ctx.recorder(), ctx.recorder(), ctx.recorder()];
        await first.watch(ctx.path('w'), recorders[0]!.listener);
        await first.watch(ctx.path('w', 'x'), recorders[1]!.listener);
        await second.watch(ctx.path('w'), recorders[2]!.listener);
        const key = ctx.path('w', 'x');
        // Each change made once every watcher observed the previous one: nothing may be merged.
        await writeObserved(() => writer.persist(key, 'a'), key, recorders);
        await writeObserved(() => writer.update(key, 'b'), key, recorders);
        await writeObserved(() => writer.remove(key), key, recorders);
        recorders.forEach((recorder, i) => {
          expect(recorder.eventsFor(key), `watcher #${i + 1}`).toEqual([
            { type: 'ADDED', key, value: 'a' },
            { type: 'UPDATED', key, value: 'b' },
            { type: 'DELETED', key, value: 'b' },
          ]);
        });
        // Changes faster than a round trip: each watcher may merge, but consistently with the commits.
        await expectFastChangesConsistent(writer, key, recorders);
      },
      timeout,
    );

    it(
      'a listener that throws does not stop delivery to itself or to other listeners',
      async () => {
        const watcher = await ctx.client();
        const writer = await ctx.client();
        const healthy = ctx.recorder();
        const thrower = ctx.recorder();
        await watcher.watch(ctx.path('w'), (event) => {
          thrower.listener(event);
          throw new Error('listener failure (expected by the conformance suite)');
        });
        await watcher.watch(ctx.path('w'), healthy.listener);
        await writer.persist(ctx.path('w', 'one'), '1');
        await writer.persist(ctx.path('w', 'two'), '2');
        // Two watches: their deliveries are not ordered with each other, so wait on each one.
        for (const recorder of [thrower, healthy]) {
          await recorder.waitForEvent({ type: 'ADDED', key: ctx.path('w', 'one'), value: '1' });
          await recorder.waitForEvent({ type: 'ADDED', key: ctx.path('w', 'two'), value: '2' });
          expect(recorder.anomalies()).toEqual([]);
        }
      },
      timeout,
    );

    it(
      "a watch on '/' sees the whole namespace",
      async () => {
        const watcher = await ctx.client();
        const writer = await ctx.client();
        await writer.persist(ctx.path('pre'), 'existing');
        const recorder = ctx.recorder();
        await watcher.watch('/', recorder.listener);
        await recorder.waitForEvent({ type: 'ADDED', key: ctx.path('pre'), value: 'existing' });
        await writer.persist('/top-level', 'x');
        await recorder.waitForEvent({ type: 'ADDED', key: '/top-level', value: 'x' });
        expect(recorder.events.every((event) => event.key.startsWith('/'))).toBe(true);
      },
      timeout,
    );

    it(
      'a watch started during concurrent writes converges to the server state without anomalies',
      async () => {
        const watcher = await ctx.client();
        const writer = await ctx.client();
        const recorder = ctx.recorder();
        const writes = (async () => {
          for (let i = 0; i < 60; i += 1) {
            const key = ctx.path('w', `k${i % 7}`);
            if (i % 5 === 4) await writer.remove(key);
            else await writer.persist(key, `v${i}`);
          }
        })();
        await watcher.watch(ctx.path('w'), recorder.listener);
        await writes;
        await writer.persist(ctx.path('w', 'marker'), 'end');
        await recorder.waitForEvent({ type: 'ADDED', key: ctx.path('w', 'marker') });
        await expectMirrorToMatchServer(ctx, recorder, writer, ctx.path('w'));
      },
      timeout,
    );

    it(
      'replacing an ephemeral node ends with its new value for watchers',
      async () => {
        const owner = await ctx.client();
        const watcher = await ctx.client();
        await owner.persistEphemeral(ctx.path('w', 'e'), 'v1');
        const recorder = ctx.recorder();
        await watcher.watch(ctx.path('w'), recorder.listener);
        await owner.persistEphemeral(ctx.path('w', 'e'), 'v2');
        await recorder.waitFor(() => recorder.mirror().get(ctx.path('w', 'e')) === 'v2', undefined, 'e = v2');
        expect(recorder.anomalies()).toEqual([]);
      },
      timeout,
    );

    it(
      'closing the watching client stops delivery',
      async () => {
        const watcher = await ctx.client();
        const writer = await ctx.client();
        const closed = ctx.recorder();
        const open = ctx.recorder();
        await watcher.watch(ctx.path('w'), closed.listener);
        await writer.watch(ctx.path('w'), open.listener);
        await watcher.close();
        const from = closed.mark();
        await writer.persist(ctx.path('w', 'after-close'), 'x');
        await open.waitForEvent({ type: 'ADDED', key: ctx.path('w', 'after-close') });
        expect(closed.since(from)).toEqual([]);
      },
      timeout,
    );

    it.skipIf(reconnect.skip)(
      `after a reconnect within the session no change is lost or duplicated${reconnect.tag}`,
      async () => {
        const states = ctx.states();
        const watcher = await ctx.client({ states });
        const writer = await ctx.client();
        await writer.persist(ctx.path('w', 'a'), 'a0');
        await writer.persist(ctx.path('w', 'c'), 'c0');
        const recorder = ctx.recorder();
        await watcher.watch(ctx.path('w'), recorder.listener);
        await control(ctx, 'disconnect')(watcher);
        await states.waitForState('SUSPENDED');
        await writer.update(ctx.path('w', 'a'), 'a1');
        await writer.persist(ctx.path('w', 'b'), 'b1');
        await writer.remove(ctx.path('w', 'c'));
        await writer.update(ctx.path('w', 'a'), 'a2');
        await writer.persist(ctx.path('w', 'd', 'e'), 'e1');
        const from = states.count;
        await control(ctx, 'reconnect')(watcher);
        await states.waitForState('RECONNECTED', { from });
        await writer.persist(ctx.path('w', 'marker'), 'after reconnect');
        await recorder.waitForEvent({ type: 'ADDED', key: ctx.path('w', 'marker') });
        await expectMirrorToMatchServer(ctx, recorder, writer, ctx.path('w'));
        expect(states.states).not.toContain('LOST');
      },
      timeout,
    );

    it.skipIf(expiry.skip)(
      `after a new session the watch re-syncs: lost ephemerals DELETED, missed changes delivered${expiry.tag}`,
      async () => {
        const states = ctx.states();
        const watcher = await ctx.client({ states });
        const writer = await ctx.client();
        await watcher.persistEphemeral(ctx.path('w', 'mine'), 'owned by the expired session');
        await writer.persist(ctx.path('w', 'p'), 'p1');
        await writer.persist(ctx.path('w', 'gone'), 'g');
        const recorder = ctx.recorder();
        await watcher.watch(ctx.path('w'), recorder.listener);
        await control(ctx, 'expireSession')(watcher);
        await states.waitForState('LOST', { timeoutMs: ctx.ms(20_000) });
        await writer.update(ctx.path('w', 'p'), 'p2');
        await writer.persist(ctx.path('w', 'q'), 'q1');
        await writer.remove(ctx.path('w', 'gone'));
        const lostAt = states.states.indexOf('LOST');
        await states.waitForState('RECONNECTED', { from: lostAt, timeoutMs: ctx.ms(20_000) });
        await writer.persist(ctx.path('w', 'marker'), 'after expiry');
        await recorder.waitForEvent(
          { type: 'ADDED', key: ctx.path('w', 'marker') },
          { timeoutMs: ctx.ms(20_000) },
        );
        await expectMirrorToMatchServer(ctx, recorder, writer, ctx.path('w'));
        expect(recorder.mirror().has(ctx.path('w', 'mine'))).toBe(false);
      },
      ctx.ms(BASE_TEST_TIMEOUT_MS * 2),
    );
  });
}
