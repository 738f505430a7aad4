/**
 * Event-driven waits (no polling loops): a predicate re-checked whenever the job
 * cache changes, bounded by a timeout on the injected clock.
 *
 * @module
 */
import type { Clock } from '../time/clock.js';

interface Waiter {
  readonly predicate: () => boolean;
  readonly resolve: (satisfied: boolean) => void;
}

/** Waits for conditions over state that changes on events; call {@link notify} after each change. */
export class ConditionWaiters {
  readonly #waiters = new Set<Waiter>();

  constructor(private readonly clock: Clock) {}

  /**
   * Resolves `true` as soon as `predicate()` holds (checked now and after every {@link notify}),
   * or `false` after `timeoutMs` (on the clock) or when {@link cancelAll} is called.
   *
   * @param predicate - synchronous condition over local state.
   * @param timeoutMs - bound in ms.
   */
  waitFor(predicate: () => boolean, timeoutMs: number): Promise<boolean> {
    if (predicate()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = this.clock.setTimeout(
        () => {
          this.#waiters.delete(waiter);
          resolve(predicate());
        },
        timeoutMs,
        { unref: true },
      );
      const waiter: Waiter = {
        predicate,
        resolve: (satisfied) => {
          timer.cancel();
          this.#waiters.delete(waiter);
          resolve(satisfied);
        },
      };
      this.#waiters.add(waiter);
    });
  }

  /** Re-checks every pending predicate. */
  notify(): void {
    if (this.#waiters.size === 0) return; // every registry event and run end notifies
    for (const waiter of [...this.#waiters]) {
      if (waiter.predicate()) waiter.resolve(true);
    }
  }

  /** Resolves every pending wait with `false` (used at shutdown). */
  cancelAll(): void {
    for (const waiter of [...this.#waiters]) waiter.resolve(false);
  }
}
