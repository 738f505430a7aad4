/**
 * {@link registryConformanceSuite}: the one conformance suite every registry adapter runs.
 *
 * @module
 */
import { afterEach, beforeEach, describe } from 'vitest';
import { defineDataTests } from './cases/data.js';
import { defineIsolationTests } from './cases/isolation.js';
import { defineLatchTests } from './cases/latch.js';
import { defineLifecycleTests } from './cases/lifecycle.js';
import { defineSessionTests } from './cases/sessions.js';
import { defineTransactionTests } from './cases/transactions.js';
import { defineWatchTests } from './cases/watch.js';
import { ConformanceContext } from './harness.js';
import type { RegistryConformanceSuiteOptions } from './options.js';

/**
 * Registers the conformance tests of the `CoordinatorRegistryCenter` contract for one adapter, as
 * vitest `describe`/`it` blocks under `registry conformance: <name>`. Call it at the top level of a
 * test file (it uses `describe`, `it`, `beforeEach` and `afterEach` from `vitest`).
 *
 * Every test gets its own namespace and root path, creates its clients through `options.create`,
 * and closes every client it created when it ends, also when it fails. Tests of an optional feature
 * the adapter does not declare (`[capability: name]`) or of a fault the environment cannot inject
 * (`[control: name]`) are reported as skipped with that name in their title — never hidden. The
 * never-optional semantics (the core contract of `CoordinatorRegistryCenter`) need no capability or control and always run.
 *
 * Waits are event- or condition-based and end as soon as the condition holds; their bounds (and the
 * per-test timeouts) are multiplied by `timeoutScale`.
 *
 * @param options - adapter name, client factory, declared capabilities, available controls and
 *   `timeoutScale` (default 1).
 * @example
 * ```ts
 * // my-adapter/test/conformance.test.ts
 * import { registryConformanceSuite } from '@elasticjob-ts/registry-conformance';
 * import { MyRegistryCenter } from '../src/index.js';
 *
 * registryConformanceSuite({
 *   name: 'my-adapter',
 *   create: ({ namespace, digest, sessionTimeoutMs }) =>
 *     new MyRegistryCenter({ serverLists: process.env.MY_SERVER!, namespace, digest, sessionTimeoutMs }),
 *   capabilities: { authentication: false, registryCenterTimeResolutionMs: 1 },
 * });
 * ```
 */
export function registryConformanceSuite(options: RegistryConformanceSuiteOptions): void {
  if (typeof options?.create !== 'function') {
    throw new TypeError(
      'registryConformanceSuite: options.create must be a function returning an unstarted client',
    );
  }
  if (typeof options.name !== 'string' || options.name === '') {
    throw new TypeError('registryConformanceSuite: options.name must be a non-empty string');
  }
  const scale = options.timeoutScale ?? 1;
  if (!Number.isFinite(scale) || scale <= 0) {
    throw new TypeError(
      `registryConformanceSuite: options.timeoutScale must be a positive number, got ${scale}`,
    );
  }
  const ctx = new ConformanceContext(options);
  describe(`registry conformance: ${options.name}`, () => {
    beforeEach(() => {
      ctx.begin();
    });
    afterEach(async () => {
      await ctx.end();
    }, ctx.ms(60_000));

    defineLifecycleTests(ctx);
    defineDataTests(ctx);
    defineTransactionTests(ctx);
    defineLatchTests(ctx);
    defineWatchTests(ctx);
    defineSessionTests(ctx);
    defineIsolationTests(ctx);
  });
}
