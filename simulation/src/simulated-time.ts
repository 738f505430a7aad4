/**
 * Simulated time: one global time source with an event queue, and per-process clock views (the
 * kernel's {@link Clock} interface) that can be skewed, frozen (nothing of that process fires while
 * frozen: its timers are held and fire, in order, on resume) and killed (a crash: its timers never
 * fire). Real time plays no part: after each event the simulator lets the microtasks it started
 * settle, then moves to the next event.
 *
 * @module
 */
import type { Clock, ClockTimer, ClockTimerOptions } from '@elasticjob-ts/core';

/** An event of the global queue. */
export interface QueuedEvent {
  readonly dueMs: number;
  readonly seq: number;
  readonly owner: ProcessClock | undefined;
  readonly callback: () => void;
  cancelled: boolean;
}

/** Lets every microtask (and `process.nextTick`) started so far run to completion. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Lets every microtask started so far run to completion, without a turn of the event loop: Node
 * runs a `process.nextTick` callback queued from a microtask only once the microtask queue is
 * empty. The kernel and the memory registry chain their work through promises and
 * `queueMicrotask` only (no `nextTick`, no real timers or I/O in a simulation), so this settles
 * as completely as {@link settle}, at a tenth of its cost (no epoll round per event).
 */
function settleMicrotasks(): Promise<void> {
  return new Promise((resolve) => queueMicrotask(() => process.nextTick(resolve)));
}

/** Events run between two real event-loop turns (lets output and other I/O through). */
const EVENTS_PER_LOOP_TURN = 512;

/**
 * The global simulated time and its event queue: events fire in due-time order, ties in the order
 * they were scheduled. Also a {@link Clock} itself (the registry server's clock: no skew, never
 * frozen).
 */
export class SimulatedTime implements Clock {
  #nowMs: number;
  #seq = 0;
  readonly #heap: QueuedEvent[] = [];
  #eventsRun = 0;

  /** @param startMs - the initial simulated time, epoch ms. */
  constructor(startMs: number) {
    this.#nowMs = startMs;
  }

  /** Current simulated time, epoch ms. */
  now(): number {
    return this.#nowMs;
  }

  /** Number of events run so far. */
  get eventsRun(): number {
    return this.#eventsRun;
  }

  /** Schedules `callback` `delayMs` from now on the global time (never frozen). */
  setTimeout(callback: () => void, delayMs: number, _options?: ClockTimerOptions): ClockTimer {
    return this.schedule(this.#nowMs + Math.max(0, delayMs), undefined, callback);
  }

  /**
   * Schedules `callback` at `dueMs` for `owner` (held while the owner is frozen, dropped once it is
   * killed).
   */
  schedule(dueMs: number, owner: ProcessClock | undefined, callback: () => void): ClockTimer {
    const event: QueuedEvent = {
      dueMs: Math.max(dueMs, this.#nowMs),
      seq: this.#seq++,
      owner,
      callback,
      cancelled: false,
    };
    this.#push(event);
    return {
      cancel: () => {
        event.cancelled = true;
      },
    };
  }

  /**
   * Runs events in order up to `untilMs` (inclusive), settling microtasks after each, and leaves
   * the time at `untilMs`. Stops early when `stop()` returns true (checked after each event).
   *
   * @returns `true` when stopped early.
   */
  async runUntil(untilMs: number, stop: () => boolean = () => false): Promise<boolean> {
    await settle();
    for (;;) {
      const head = this.#heap[0];
      if (head === undefined || head.dueMs > untilMs) break;
      this.#pop();
      if (head.cancelled) continue;
      this.#nowMs = head.dueMs;
      const owner = head.owner;
      if (owner !== undefined && !owner.accepts(head)) continue;
      this.#eventsRun++;
      head.callback();
      await (this.#eventsRun % EVENTS_PER_LOOP_TURN === 0 ? settle() : settleMicrotasks());
      if (stop()) return true;
    }
    this.#nowMs = Math.max(this.#nowMs, untilMs);
    return false;
  }

  /** Re-queues held events of a resumed clock, now, in their original order. @internal */
  requeue(events: readonly QueuedEvent[]): void {
    for (const event of events) {
      if (!event.cancelled) this.schedule(this.#nowMs, event.owner, event.callback);
    }
  }

  #less(a: QueuedEvent, b: QueuedEvent): boolean {
    return a.dueMs < b.dueMs || (a.dueMs === b.dueMs && a.seq < b.seq);
  }

  #push(event: QueuedEvent): void {
    const heap = this.#heap;
    heap.push(event);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#less(heap[i] as QueuedEvent, heap[parent] as QueuedEvent)) break;
      [heap[i], heap[parent]] = [heap[parent] as QueuedEvent, heap[i] as QueuedEvent];
      i = parent;
    }
  }

  #pop(): void {
    const heap = this.#heap;
    const last = heap.pop();
    if (heap.length === 0 || last === undefined) return;
    heap[0] = last;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < heap.length && this.#less(heap[left] as QueuedEvent, heap[smallest] as QueuedEvent))
        smallest = left;
      if (right < heap.length && this.#less(heap[right] as QueuedEvent, heap[smallest] as QueuedEvent))
        smallest = right;
      if (smallest === i) break;
      [heap[i], heap[smallest]] = [heap[smallest] as QueuedEvent, heap[i] as QueuedEvent];
      i = smallest;
    }
  }
}

/**
 * One simulated process's view of time: the global time plus a constant skew; its timers are
 * events of the global queue owned by this view.
 */
export class ProcessClock implements Clock {
  readonly #time: SimulatedTime;
  readonly skewMs: number;
  #frozen = false;
  #killed = false;
  #held: QueuedEvent[] = [];
  #pending = 0;

  /**
   * @param time - the global time.
   * @param skewMs - added to the global time by {@link now}; timers are relative, so a skewed
   *   process fires its cron `skewMs` early (positive) or late (negative) in global time.
   */
  constructor(time: SimulatedTime, skewMs: number) {
    this.#time = time;
    this.skewMs = skewMs;
  }

  /** Global time + skew, epoch ms. */
  now(): number {
    return this.#time.now() + this.skewMs;
  }

  /** Whether the process is frozen. */
  get frozen(): boolean {
    return this.#frozen;
  }

  /** Whether the process was killed. */
  get killed(): boolean {
    return this.#killed;
  }

  /** Timers scheduled and not yet fired nor cancelled (held ones included). */
  get pendingTimerCount(): number {
    return this.#pending;
  }

  /** Schedules `callback` `delayMs` from now, owned by this process. */
  setTimeout(callback: () => void, delayMs: number, _options?: ClockTimerOptions): ClockTimer {
    if (this.#killed) return { cancel() {} };
    this.#pending++;
    let done = false;
    const finish = (): boolean => {
      if (done) return false;
      done = true;
      this.#pending--;
      return true;
    };
    const timer = this.#time.schedule(this.#time.now() + Math.max(0, delayMs), this, () => {
      if (finish()) callback();
    });
    return {
      cancel: () => {
        if (finish()) timer.cancel();
      },
    };
  }

  /** Freezes the process: its due timers are held until {@link resume}. */
  freeze(): void {
    this.#frozen = true;
  }

  /** Resumes a frozen process: held timers fire now, in their original order. */
  resume(): void {
    if (!this.#frozen || this.#killed) return;
    this.#frozen = false;
    const held = this.#held;
    this.#held = [];
    this.#time.requeue(held);
  }

  /** Kills the process: no timer of it fires any more. */
  kill(): void {
    this.#killed = true;
    this.#held = [];
    this.#pending = 0;
  }

  /** Whether a due event of this process may run now (else it is held or dropped). @internal */
  accepts(event: QueuedEvent): boolean {
    if (this.#killed) return false;
    if (this.#frozen) {
      this.#held.push(event);
      return false;
    }
    return true;
  }
}
