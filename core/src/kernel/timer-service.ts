/**
 * One timer service per process for every job: a min-heap of due times served
 * by a single underlying clock timer, instead of one scheduler and thread per job as in
 * ElasticJob.
 *
 * @module
 */
import { type Clock, type ClockTimer, systemClock } from '../time/clock.js';
import { DueHeap } from './due-heap.js';

/** A scheduled callback; `cancel()` is idempotent. */
export interface ScheduledTimer {
  cancel(): void;
}

/** A scheduled callback in the heap; also its caller's handle (one object per scheduling). */
class Entry implements ScheduledTimer {
  cancelled = false;

  constructor(
    readonly dueMs: number,
    readonly seq: number,
    readonly callback: () => void,
    private readonly onCancel: () => void,
  ) {}

  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.onCancel();
  }
}

/**
 * Runs callbacks at absolute times (epoch ms of its {@link Clock}). Callbacks due at the same time
 * run in scheduling order. A callback that throws is reported to `onError` and does not stop others.
 */
export class TimerService {
  readonly clock: Clock;
  readonly #onError: (error: unknown) => void;
  readonly #heap = new DueHeap<Entry>();
  #seq = 0;
  #armed: { dueMs: number; timer: ClockTimer } | undefined;
  /** Re-arms after a cancellation (one function for every entry). */
  readonly #rearm = () => this.#arm();

  /**
   * @param clock - time source (default the system clock).
   * @param onError - receives exceptions thrown by callbacks (default: rethrown asynchronously).
   */
  constructor(clock: Clock = systemClock, onError?: (error: unknown) => void) {
    this.clock = clock;
    this.#onError =
      onError ??
      ((error) => {
        queueMicrotask(() => {
          throw error;
        });
      });
  }

  /** Number of pending callbacks. */
  get size(): number {
    return this.#heap.entries().filter((entry) => !entry.cancelled).length;
  }

  /**
   * Calls `callback` at `dueMs` (epoch ms), or as soon as possible if that is in the past.
   *
   * @param dueMs - absolute due time in epoch ms.
   * @param callback - called once.
   * @returns a handle to cancel it.
   */
  scheduleAt(dueMs: number, callback: () => void): ScheduledTimer {
    const entry = new Entry(dueMs, this.#seq++, callback, this.#rearm);
    this.#heap.push(entry);
    this.#arm();
    return entry;
  }

  #arm(): void {
    while (this.#heap.peek()?.cancelled) this.#heap.pop();
    const head = this.#heap.peek();
    if (head === undefined) {
      this.#armed?.timer.cancel();
      this.#armed = undefined;
      return;
    }
    if (this.#armed !== undefined && this.#armed.dueMs === head.dueMs) return;
    this.#armed?.timer.cancel();
    const dueMs = head.dueMs;
    const timer = this.clock.setTimeout(() => this.#fire(), Math.max(0, dueMs - this.clock.now()));
    this.#armed = { dueMs, timer };
  }

  #fire(): void {
    this.#armed = undefined;
    const now = this.clock.now();
    const due: Entry[] = [];
    for (let head = this.#heap.peek(); head !== undefined; head = this.#heap.peek()) {
      if (head.cancelled) {
        this.#heap.pop();
        continue;
      }
      if (head.dueMs > now) break;
      due.push(this.#heap.pop() as Entry);
    }
    for (const entry of due) {
      entry.cancelled = true;
      try {
        entry.callback();
      } catch (error) {
        this.#onError(error);
      }
    }
    this.#arm();
  }
}

let defaultTimerService: TimerService | undefined;

/** The process-wide timer service on the system clock, shared by every job that is not given one. */
export function getDefaultTimerService(): TimerService {
  defaultTimerService ??= new TimerService(systemClock);
  return defaultTimerService;
}
