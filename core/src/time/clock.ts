/**
 * Time source used by the kernel and the memory registry, so tests can drive time by hand
 * ({@link ManualClock}) instead of sleeping.
 *
 * @module
 */

/** A pending timer; `cancel()` is idempotent. */
export interface ClockTimer {
  cancel(): void;
}

/** Options of {@link Clock.setTimeout}. */
export interface ClockTimerOptions {
  /**
   * When `true` the timer does not keep the Node.js process alive (`Timeout.unref()`).
   * @defaultValue false
   */
  readonly unref?: boolean;
}

/** A source of the current time and of one-shot timers. */
export interface Clock {
  /** Current time in epoch milliseconds. */
  now(): number;
  /**
   * Calls `callback` once, `delayMs` from now. Delays beyond Node's 2^31−1 ms (~24.8 days) timer
   * limit are honoured (the system clock chains timers).
   *
   * @param callback - called once; exceptions propagate like an uncaught timer exception.
   * @param delayMs - delay in ms; negative values count as 0.
   * @param options - see {@link ClockTimerOptions}.
   */
  setTimeout(callback: () => void, delayMs: number, options?: ClockTimerOptions): ClockTimer;
}

/** Node's maximum `setTimeout` delay, in ms (2^31 − 1). Longer delays overflow to 1 ms. */
export const MAX_TIMER_DELAY_MS = 2_147_483_647;

/** The real clock: `Date.now()` and Node timers, with long delays chained. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(callback, delayMs, options = {}) {
    const deadline = Date.now() + Math.max(0, delayMs);
    let handle: NodeJS.Timeout | undefined;
    let cancelled = false;
    const arm = (): void => {
      const remaining = deadline - Date.now();
      if (remaining > MAX_TIMER_DELAY_MS) {
        handle = setTimeout(arm, MAX_TIMER_DELAY_MS);
      } else {
        handle = setTimeout(
          () => {
            if (!cancelled) callback();
          },
          Math.max(0, remaining),
        );
      }
      if (options.unref) handle.unref();
    };
    arm();
    return {
      cancel() {
        cancelled = true;
        if (handle !== undefined) clearTimeout(handle);
      },
    };
  },
};

interface ManualTimer {
  readonly id: number;
  readonly dueMs: number;
  readonly callback: () => void;
  cancelled: boolean;
}

/**
 * A clock that only moves when told to. Timers fire in due-time order (ties in creation order)
 * during {@link ManualClock.advance}, which yields to the event loop after each timer so that the
 * async work a timer starts can proceed before the next one fires.
 *
 * @example
 * ```ts
 * const clock = new ManualClock(Date.parse('2026-01-01T00:00:00Z'));
 * clock.setTimeout(() => console.log('fired'), 1000);
 * await clock.advance(1000); // logs "fired"
 * ```
 */
export class ManualClock implements Clock {
  #nowMs: number;
  #nextId = 0;
  #timers: ManualTimer[] = [];

  /** @param startMs - initial time in epoch ms (default `Date.now()` at construction). */
  constructor(startMs: number = Date.now()) {
    this.#nowMs = startMs;
  }

  /** Current manual time in epoch ms. */
  now(): number {
    return this.#nowMs;
  }

  /** Schedules `callback` at `now() + delayMs` of manual time. `options` are ignored. */
  setTimeout(callback: () => void, delayMs: number, _options?: ClockTimerOptions): ClockTimer {
    const timer: ManualTimer = {
      id: this.#nextId++,
      dueMs: this.#nowMs + Math.max(0, delayMs),
      callback,
      cancelled: false,
    };
    this.#timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
        this.#timers = this.#timers.filter((t) => t !== timer);
      },
    };
  }

  /** Number of timers that have not fired nor been cancelled. */
  get pendingTimerCount(): number {
    return this.#timers.length;
  }

  /** Due time (epoch ms) of the earliest pending timer, or `undefined`. */
  get nextTimerDueMs(): number | undefined {
    return this.#earliest()?.dueMs;
  }

  /**
   * Moves time forward by `deltaMs`, firing every timer that falls due on the way, in order, and
   * letting the event loop run after each one.
   *
   * @param deltaMs - non-negative amount of time in ms.
   * @throws {RangeError} when `deltaMs` is negative.
   */
  async advance(deltaMs: number): Promise<void> {
    if (deltaMs < 0) throw new RangeError(`deltaMs must be >= 0, got ${deltaMs}`);
    await this.advanceTo(this.#nowMs + deltaMs);
  }

  /**
   * Moves time forward to `targetMs` (epoch ms), firing due timers as {@link advance} does.
   *
   * @param targetMs - epoch ms not before {@link now}.
   * @throws {RangeError} when `targetMs` is in the past.
   */
  async advanceTo(targetMs: number): Promise<void> {
    if (targetMs < this.#nowMs) throw new RangeError(`cannot move a ManualClock backwards to ${targetMs}`);
    await yieldToEventLoop();
    for (;;) {
      const next = this.#earliest();
      if (next === undefined || next.dueMs > targetMs) break;
      this.#timers = this.#timers.filter((t) => t !== next);
      this.#nowMs = Math.max(this.#nowMs, next.dueMs);
      next.callback();
      await yieldToEventLoop();
    }
    this.#nowMs = targetMs;
    await yieldToEventLoop();
  }

  /**
   * Advances to the earliest pending timer and fires it (and any others due at the same time).
   *
   * @returns `false` when no timer was pending.
   */
  async runNextTimer(): Promise<boolean> {
    const next = this.#earliest();
    if (next === undefined) return false;
    await this.advanceTo(next.dueMs);
    return true;
  }

  #earliest(): ManualTimer | undefined {
    let best: ManualTimer | undefined;
    for (const timer of this.#timers) {
      if (
        best === undefined ||
        timer.dueMs < best.dueMs ||
        (timer.dueMs === best.dueMs && timer.id < best.id)
      ) {
        best = timer;
      }
    }
    return best;
  }
}

/** Resolves after pending I/O callbacks and microtasks had a chance to run. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
