/**
 * Namespace isolation between clients of one server, and authentication.
 *
 * @module
 */
import type { CoordinatorRegistryCenter } from '@elasticjob-ts/core/adapter';
import { describe, expect, it } from 'vitest';
import { type ConformanceContext, captureError, isRegistryErrorLike } from '../harness.js';
import { CONFORMANCE_DIGEST, CONFORMANCE_WRONG_DIGEST } from '../options.js';
import { BASE_TEST_TIMEOUT_MS, needsCapability } from './common.js';

/**
 * Asserts that a client with `digest` (or none) is refused: either `start()` or every attempted
 * operation rejects with `NO_AUTH`. Every client of the authentication tests — this one too — is
 * created with `authentication: true`, so that backends route it to their auth-enabled server.
 */
async function expectRefused(
  ctx: ConformanceContext,
  digest: string | undefined,
  operations: Record<string, (client: CoordinatorRegistryCenter) => Promise<unknown>>,
): Promise<void> {
  const client = await ctx.client({
    authentication: true,
    start: false,
    ...(digest === undefined ? {} : { digest }),
  });
  const startError = await client.start().then(
    () => undefined,
    (error: unknown) => error,
  );
  if (startError !== undefined) {
    expect(isRegistryErrorLike(startError) && startError.code, `start(): ${String(startError)}`).toBe(
      'NO_AUTH',
    );
    return;
  }
  for (const [name, operation] of Object.entries(operations)) {
    const error = await captureError(() => operation(client));
    expect(refusalCode(error), `${name}: ${String(error)}`).toBe('NO_AUTH');
  }
}

/** `NO_AUTH` for a refusal, also when a transaction reports it as the cause of `TRANSACTION_FAILED`. */
function refusalCode(error: unknown): string | undefined {
  if (!isRegistryErrorLike(error)) return undefined;
  if (error.code === 'TRANSACTION_FAILED' && isRegistryErrorLike(error.cause)) return error.cause.code;
  return error.code;
}

/** Registers the namespace and authentication tests. */
export function defineIsolationTests(ctx: ConformanceContext): void {
  const timeout = ctx.ms(BASE_TEST_TIMEOUT_MS);
  const auth = needsCapability(ctx, 'authentication');

  describe('namespaces', () => {
    it(
      'clients of one namespace share nodes',
      async () => {
        const a = await ctx.client();
        const b = await ctx.client();
        await a.persist('/shared', 'from a');
        expect(await b.getDirectly('/shared')).toBe('from a');
        expect(await b.getChildrenKeys('/')).toEqual(['shared']);
      },
      timeout,
    );

    it(
      "two namespaces on one server never see, change or remove each other's nodes",
      async () => {
        const first = await ctx.client({ namespace: ctx.freshNamespace() });
        const second = await ctx.client({ namespace: ctx.freshNamespace() });
        await first.persist('/job/config', 'first');
        await first.persistEphemeral('/job/instances/i1', 'first');
        expect(await second.getDirectly('/job/config')).toBeUndefined();
        expect(await second.isExisted('/job')).toBe(false);
        expect(await second.getChildrenKeys('/')).toEqual([]);
        expect(await second.getNumChildren('/')).toBe(0);
        await second.persist('/job/config', 'second');
        await second.update('/job/config', 'second updated');
        expect(await first.getDirectly('/job/config')).toBe('first');
        await second.remove('/job');
        expect(await first.getDirectly('/job/config')).toBe('first');
        expect(await first.getDirectly('/job/instances/i1')).toBe('first');
        await second.executeInTransaction([{ type: 'create', key: '/job', value: 'tx' }]);
        expect(await first.getDirectly('/job')).toBe('');
      },
      timeout,
    );

    it(
      'namespaces that share a prefix are isolated (ns vs ns-suffix)',
      async () => {
        const base = ctx.freshNamespace();
        const short = await ctx.client({ namespace: base });
        const long = await ctx.client({ namespace: `${base}-x` });
        await long.persist('/node', 'long');
        await short.persist('/node', 'short');
        expect(await short.getChildrenKeys('/')).toEqual(['node']);
        expect(await long.getDirectly('/node')).toBe('long');
        await short.remove('/node');
        expect(await long.getDirectly('/node')).toBe('long');
      },
      timeout,
    );

    it(
      'watches, latches and sequential nodes stay inside their namespace',
      async () => {
        const first = await ctx.client({ namespace: ctx.freshNamespace() });
        const second = await ctx.client({ namespace: ctx.freshNamespace() });
        const recorder = ctx.recorder();
        await first.watch('/', recorder.listener);
        await first.persist('/mine', 'x');
        await recorder.waitForEvent({ type: 'ADDED', key: '/mine' });
        const from = recorder.mark();
        await second.persist('/theirs', 'y');
        await second.persistEphemeral('/theirs/e', 'y');
        const path = await second.persistSequential('/seq-', 'y');
        await first.persist('/mine', 'marker');
        await recorder.waitForEvent({ type: 'UPDATED', key: '/mine', value: 'marker' }, { from });
        expect(recorder.since(from)).toEqual([{ type: 'UPDATED', key: '/mine', value: 'marker' }]);
        expect(await first.isExisted(path)).toBe(false);
        let release!: () => void;
        const held = new Promise<void>((resolve) => {
          release = resolve;
        });
        ctx.onCleanup(() => release());
        let entered!: () => void;
        const enteredPromise = new Promise<void>((resolve) => {
          entered = resolve;
        });
        const holding = first.executeInLeader('/latch', async () => {
          entered();
          await held;
        });
        await enteredPromise;
        expect(
          await second.executeInLeader('/latch', () => 'not blocked', { waitTimeoutMs: ctx.ms(5_000) }),
        ).toBe('not blocked');
        release();
        await holding;
      },
      timeout,
    );
  });

  describe('authentication', () => {
    it.skipIf(auth.skip)(
      `a client with the digest can read and write what it created${auth.tag}`,
      async () => {
        const owner = await ctx.client({ authentication: true, digest: CONFORMANCE_DIGEST });
        const sameUser = await ctx.client({ authentication: true, digest: CONFORMANCE_DIGEST });
        await owner.persist(ctx.path('secret'), 'classified');
        expect(await sameUser.getDirectly(ctx.path('secret'))).toBe('classified');
        await sameUser.update(ctx.path('secret'), 'reclassified');
        await sameUser.persist(ctx.path('secret', 'child'), 'c');
        expect(await owner.getDirectly(ctx.path('secret'))).toBe('reclassified');
        await sameUser.remove(ctx.path('secret'));
        expect(await owner.isExisted(ctx.path('secret'))).toBe(false);
      },
      timeout,
    );

    for (const [label, digest] of [
      ['without credentials', undefined],
      ['with a wrong password', CONFORMANCE_WRONG_DIGEST],
    ] as const) {
      it.skipIf(auth.skip)(
        `a client ${label} gets NO_AUTH, never silent success${auth.tag}`,
        async () => {
          const owner = await ctx.client({ authentication: true, digest: CONFORMANCE_DIGEST });
          await owner.persist(ctx.path('secret'), 'classified');
          await owner.persist(ctx.path('secret', 'child'), 'c');
          await expectRefused(ctx, digest, {
            getDirectly: (client) => client.getDirectly(ctx.path('secret')),
            update: (client) => client.update(ctx.path('secret'), 'tampered'),
            persist: (client) => client.persist(ctx.path('secret'), 'tampered'),
            'persist child': (client) => client.persist(ctx.path('secret', 'intruder'), 'tampered'),
            remove: (client) => client.remove(ctx.path('secret', 'child')),
            executeInTransaction: (client) =>
              client.executeInTransaction([{ type: 'update', key: ctx.path('secret'), value: 'tampered' }]),
          });
          expect(await owner.getDirectly(ctx.path('secret'))).toBe('classified');
          expect(await owner.getChildrenKeys(ctx.path('secret'))).toEqual(['child']);
        },
        timeout,
      );
    }
  });
}
