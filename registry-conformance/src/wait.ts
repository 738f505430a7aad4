/**
 * Condition-based waiting for conformance tests: no fixed sleeps, generous bounds, resolution as
 * soon as the condition holds.
 *
 * @module
 */

/** Thrown when a bounded wait runs out; the message says what was awaited and what was seen. */
export class ConditionTimeoutError extends Error {
  /**
   * @param message - what was awaited, for how long, and the state observed at the deadline.
   */
  constructor(message: string) {
    super(message);
    this.name = 'ConditionTimeoutError';
  }
}

/** Options of {@link waitForCondition}. */
export interface WaitForConditionOptions {
  /** Upper bound of the wait, in ms. */
  readonly timeoutMs: number;
  /** What is awaited, used in the timeout message. @defaultValue 'condition' */
  readonly description?: string;
  /**
   * Interval between evaluations, in ms. Used only for conditions that cannot signal a change
   * themselves (server state, process resources).
   * @defaultValue 10
   */
  readonly pollIntervalMs?: number;
  /** Called at the deadline to describe the observed state in the timeout message. */
  readonly describeState?: () => string | Promise<string>;
}

/**
 * Re-evaluates `predicate` until it returns `true` (resolving at once), or rejects with a
 * {@link ConditionTimeoutError} after `timeoutMs`. The deadline is checked against `Date.now()` and
 * no timer outlives the wait. Errors thrown by `predicate` are treated as "not yet" and the last one
 * is included in the timeout message.
 *
 * @param predicate - the condition; may be async (e.g. a registry read).
 * @param options - bound and diagnostics.
 * @throws {ConditionTimeoutError} when the condition did not hold in time.
 */
export async function waitForCondition(
  predicate: () => boolean | Promise<boolean>,
  options: WaitForConditionOptions,
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  const intervalMs = options.pollIntervalMs ?? 10;
  let lastError: unknown;
  for (;;) {
    try {
      if (await predicate()) return;
      lastError = undefined;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) break;
    await delay(Math.min(intervalMs, Math.max(0, deadline - Date.now())));
  }
  const state = options.describeState === undefined ? '' : `; observed: ${await options.describeState()}`;
  const cause = lastError === undefined ? '' : `; last error: ${String(lastError)}`;
  throw new ConditionTimeoutError(
    `Timed out after ${options.timeoutMs} ms waiting for ${options.description ?? 'condition'}${state}${cause}`,
  );
}

/**
 * Races `promise` against a bound: resolves or rejects like `promise`, or rejects with a
 * {@link ConditionTimeoutError} naming `description` after `timeoutMs`. The timer is cleared either way.
 *
 * @param promise - the operation awaited.
 * @param timeoutMs - bound in ms.
 * @param description - what is awaited, for the timeout message.
 * @returns the promise's value.
 */
export function withTimeout<T>(promise: Promise<T>, timeoutMs: number, description: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new ConditionTimeoutError(`Timed out after ${timeoutMs} ms waiting for ${description}`));
    }, timeoutMs);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/**
 * A promise with its `resolve`/`reject` exposed, plus a `settled` flag. Used to hold a leader latch
 * open until the test decides, or to signal that a callback started.
 */
export class Deferred<T = void> {
  /** The promise settled by {@link Deferred.resolve} / {@link Deferred.reject}. */
  readonly promise: Promise<T>;
  #resolve!: (value: T) => void;
  #reject!: (reason: unknown) => void;
  #settled = false;

  constructor() {
    this.promise = new Promise<T>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    // A rejected deferred nobody awaits must not become an unhandled rejection.
    this.promise.catch(() => undefined);
  }

  /** Whether resolve or reject was called. */
  get settled(): boolean {
    return this.#settled;
  }

  /** Resolves the promise (no-op when already settled). */
  resolve(value: T): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#resolve(value);
  }

  /** Rejects the promise (no-op when already settled). */
  reject(reason: unknown): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#reject(reason);
  }
}

/** Resolves after `ms` milliseconds. Internal: only for polling intervals, never as a test's wait. */
function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
