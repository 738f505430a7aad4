/**
 * Lifecycle and argument checking: start/close, NOT_STARTED, INVALID_STATE, bad keys, leaked
 * handles.
 *
 * @module
 */
import type { CoordinatorRegistryCenter } from '@elasticjob-ts/core/adapter';
import { describe, expect, it } from 'vitest';
import { type ConformanceContext, captureError, expectRegistryError } from '../harness.js';
import { type LiveResource, ResourceTracker } from '../resources.js';
import { waitForCondition } from '../wait.js';
import { BASE_TEST_TIMEOUT_MS } from './common.js';

/** Every contract method that needs a started client. */
type KeyedMethod = Exclude<
  keyof CoordinatorRegistryCenter,
  | 'start'
  | 'close'
  | 'addConnectionStateListener'
  | 'confirmSession'
  | 'isSessionProven'
  | 'capabilities'
  | 'namespace'
  | 'openTransactionMeter'
>;

/** One call per keyed method, with `key` as its path argument; the callback must never run. */
function keyedCalls(
  onCallback: () => void,
): Record<KeyedMethod, (client: CoordinatorRegistryCenter, key: string) => Promise<unknown>> {
  return {
    get: (client, key) => client.get(key),
    getDirectly: (client, key) => client.getDirectly(key),
    isExisted: (client, key) => client.isExisted(key),
    getChildrenKeys: (client, key) => client.getChildrenKeys(key),
    getNumChildren: (client, key) => client.getNumChildren(key),
    persist: (client, key) => client.persist(key, 'v'),
    update: (client, key) => client.update(key, 'v'),
    persistEphemeral: (client, key) => client.persistEphemeral(key, 'v'),
    persistSequential: (client, key) => client.persistSequential(key, 'v'),
    persistEphemeralSequential: (client, key) => client.persistEphemeralSequential(key),
    remove: (client, key) => client.remove(key),
    getRegistryCenterTime: (client, key) => client.getRegistryCenterTime(key),
    executeInTransaction: (client, key) => client.executeInTransaction([{ type: 'create', key, value: 'v' }]),
    executeInLeader: (client, key) =>
      client.executeInLeader(key, () => {
        onCallback();
        return 'ran';
      }),
    watch: (client, key) => client.watch(key, () => onCallback()),
  };
}

const BAD_KEYS: readonly string[] = [
  '',
  'relative/path',
  '/trailing/',
  '/double//slash',
  '/dot/./segment',
  '/dotdot/../segment',
  '/nul\u0000char',
];

/** Registers the lifecycle tests. */
export function defineLifecycleTests(ctx: ConformanceContext): void {
  const timeout = ctx.ms(BASE_TEST_TIMEOUT_MS);

  describe('lifecycle', () => {
    it('declares the capabilities the suite was given and the namespace it was created with', async () => {
      const client = await ctx.client({ start: false });
      expect(client.capabilities).toEqual(ctx.capabilities);
      expect(client.namespace).toBe(ctx.namespace);
    });

    it(
      'start() resolves and reports CONNECTED once',
      async () => {
        const states = ctx.states();
        const client = await ctx.client({ states });
        await states.waitForState('CONNECTED');
        expect(states.states).toEqual(['CONNECTED']);
        expect(await client.isExisted(ctx.root)).toBe(false);
      },
      timeout,
    );

    it(
      'start() on a started client rejects with INVALID_STATE and leaves it usable',
      async () => {
        const client = await ctx.client();
        await expectRegistryError(() => client.start(), 'INVALID_STATE');
        await client.persist(ctx.path('still-usable'), 'yes');
        expect(await client.getDirectly(ctx.path('still-usable'))).toBe('yes');
      },
      timeout,
    );

    it(
      'close() is idempotent, also on a client that was never started',
      async () => {
        const neverStarted = await ctx.client({ start: false });
        await neverStarted.close();
        await neverStarted.close();
        const client = await ctx.client();
        await client.close();
        await client.close();
        await Promise.all([client.close(), client.close()]);
      },
      timeout,
    );

    it(
      'close() reports no connection state change, and removed listeners hear nothing',
      async () => {
        const states = ctx.states();
        const removed = ctx.states();
        const client = await ctx.client({ states });
        removed.attach(client);
        await states.waitForState('CONNECTED');
        removed.detach();
        removed.detach();
        const before = states.count;
        await client.close();
        expect(states.since(before)).toEqual([]);
        expect(removed.states.filter((state) => state !== 'CONNECTED')).toEqual([]);
      },
      timeout,
    );

    it(
      'confirmSession() resolves on a live session (and again), and rejects with NOT_STARTED before start() and after close()',
      async () => {
        const client = await ctx.client({ start: false });
        const before = await captureError(() => client.confirmSession());
        expect((before as { code?: unknown }).code, String(before)).toBe('NOT_STARTED');
        await client.start();
        await client.confirmSession();
        await client.confirmSession();
        await client.close();
        const after = await captureError(() => client.confirmSession());
        expect((after as { code?: unknown }).code, String(after)).toBe('NOT_STARTED');
      },
      timeout,
    );

    it(
      'isSessionProven() (optional) is false before start() and after close(), and true once confirmSession() has resolved',
      async () => {
        const client = await ctx.client({ start: false });
        // An adapter without it leaves the kernel to await confirmSession(), checked above.
        if (client.isSessionProven === undefined) return;
        expect(client.isSessionProven()).toBe(false);
        await client.start();
        await client.confirmSession();
        expect(client.isSessionProven()).toBe(true);
        await client.close();
        expect(client.isSessionProven()).toBe(false);
      },
      timeout,
    );

    it(
      'every keyed method rejects with NOT_STARTED before start() and never runs callbacks',
      async () => {
        const client = await ctx.client({ start: false });
        let callbacks = 0;
        const calls = keyedCalls(() => {
          callbacks += 1;
        });
        for (const [method, call] of Object.entries(calls)) {
          const error = await captureError(() => call(client, ctx.path('node')));
          expect((error as { code?: unknown }).code, `${method} before start: ${String(error)}`).toBe(
            'NOT_STARTED',
          );
          expect((error as Error).name, method).toBe('RegistryError');
        }
        expect(callbacks).toBe(0);
      },
      timeout,
    );

    it(
      'every keyed method rejects with NOT_STARTED after close() and never runs callbacks',
      async () => {
        const client = await ctx.client();
        await client.persist(ctx.path('node'), 'v');
        await client.close();
        let callbacks = 0;
        const calls = keyedCalls(() => {
          callbacks += 1;
        });
        for (const [method, call] of Object.entries(calls)) {
          const error = await captureError(() => call(client, ctx.path('node')));
          expect((error as { code?: unknown }).code, `${method} after close: ${String(error)}`).toBe(
            'NOT_STARTED',
          );
        }
        expect(callbacks).toBe(0);
      },
      timeout,
    );

    it(
      'every keyed method throws a TypeError naming an invalid key and writes nothing',
      async () => {
        const client = await ctx.client();
        let callbacks = 0;
        const calls = keyedCalls(() => {
          callbacks += 1;
        });
        for (const [method, call] of Object.entries(calls)) {
          for (const key of BAD_KEYS) {
            const error = await captureError(() => call(client, key));
            expect(error, `${method}(${JSON.stringify(key)}) should throw a TypeError`).toBeInstanceOf(
              TypeError,
            );
            expect(
              (error as Error).message,
              `${method}(${JSON.stringify(key)}) message names the key`,
            ).toContain(key === '' ? "''" : key);
          }
          const nonString = await captureError(() => call(client, 42 as unknown as string));
          expect(nonString, `${method}(42) should throw a TypeError`).toBeInstanceOf(TypeError);
        }
        expect(callbacks).toBe(0);
        expect(await client.getChildrenKeys('/')).toEqual([]);
      },
      timeout,
    );

    it(
      'persist, persistEphemeral and remove reject the root path with a TypeError',
      async () => {
        const client = await ctx.client();
        await expect(captureError(() => client.persist('/', 'v'))).resolves.toBeInstanceOf(TypeError);
        await expect(captureError(() => client.persistEphemeral('/', 'v'))).resolves.toBeInstanceOf(
          TypeError,
        );
        await expect(captureError(() => client.remove('/'))).resolves.toBeInstanceOf(TypeError);
      },
      timeout,
    );

    it(
      'close() leaves no timer, socket or pipe that keeps the process alive',
      async () => {
        const tracker = new ResourceTracker();
        ctx.onCleanup(() => tracker.dispose());
        const states = ctx.states();
        const client = await ctx.client({ states });
        const recorder = ctx.recorder();
        await client.persist(ctx.path('p'), '1');
        await client.persistEphemeral(ctx.path('e'), '1');
        await client.persistEphemeralSequential(ctx.path('s-'));
        await client.watch(ctx.root, recorder.listener);
        await client.executeInLeader(ctx.path('latch'), () => undefined);
        await client.executeInTransaction([{ type: 'create', key: ctx.path('tx'), value: '' }]);
        await client.getRegistryCenterTime(ctx.path('time'));
        await client.persist(ctx.path('p'), '2');
        await recorder.waitForEvent({ type: 'UPDATED', key: ctx.path('p'), value: '2' });
        await client.close();
        await client.close();
        tracker.stop();
        let live: LiveResource[] = [];
        await waitForCondition(
          () => {
            live = tracker.live();
            return live.length === 0;
          },
          {
            timeoutMs: ctx.ms(5_000),
            description: 'every timer and socket the client created to be released',
            describeState: () =>
              live.map((resource) => `${resource.type} created at\n${resource.createdAt}`).join('\n'),
          },
        );
      },
      timeout,
    );
  });
}
