/**
 * {@link JobEventBus}: delivers job events to subscribers asynchronously, so tracing never slows or
 * breaks a run (ElasticJob `JobTracingEventBus`, a Guava `AsyncEventBus`).
 *
 * @module
 */
import type { Logger } from '../logging/logger.js';
import { silentLogger } from '../logging/logger.js';
import type { JobEvent, JobEventListener } from './job-event.js';

/** Options of {@link JobEventBus}. */
export interface JobEventBusOptions {
  /** Where listener errors and dropped events are reported. @defaultValue {@link silentLogger} */
  readonly logger?: Logger;
  /**
   * Events queued per subscriber before newer ones are dropped (with a `warn` log), so a stuck
   * listener cannot grow memory without bound. @defaultValue 10000
   */
  readonly maxQueuedEventsPerListener?: number;
}

interface Subscription {
  readonly listener: JobEventListener;
  readonly queue: JobEvent[];
  /** Delivers the queue (made once per subscription, queued as a microtask after a post). */
  readonly deliver: () => void;
  /** A delivery is queued as a microtask and has not run yet. */
  scheduled: boolean;
  /** A delivery waiting for a listener's promise, or `undefined`. */
  awaiting: Promise<void> | undefined;
  active: boolean;
}

/**
 * An asynchronous, per-subscriber-ordered event bus.
 *
 * - {@link post} returns at once; delivery starts in a later microtask.
 * - Each subscriber gets events in post order, one at a time (an async listener's promise is
 *   awaited before its next event); subscribers do not wait for each other.
 * - A listener that throws or rejects is logged at `error` level; other subscribers, later events
 *   and the poster are unaffected.
 *
 * Unlike ElasticJob, which drops events unless a tracing configuration exists, the bus always
 * delivers to whoever subscribed.
 *
 * @example
 * ```ts
 * const bus = new JobEventBus({ logger });
 * const unsubscribe = bus.subscribe((event) => console.log(event.kind, event.jobName));
 * bus.post(createJobStatusTraceEvent({ ... }));
 * await bus.close();
 * ```
 */
export class JobEventBus {
  readonly #logger: Logger;
  readonly #maxQueued: number;
  readonly #subscriptions = new Set<Subscription>();
  #closed = false;

  /** @param options - see {@link JobEventBusOptions}. */
  constructor(options: JobEventBusOptions = {}) {
    this.#logger = options.logger ?? silentLogger;
    this.#maxQueued = options.maxQueuedEventsPerListener ?? 10_000;
    if (!Number.isSafeInteger(this.#maxQueued) || this.#maxQueued <= 0) {
      throw new TypeError(`maxQueuedEventsPerListener must be a positive integer, got ${this.#maxQueued}`);
    }
  }

  /** Whether {@link close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Whether any listener is subscribed: a poster may skip building an event nobody receives
   * (ids, objects and a queue entry on every run of every job).
   */
  get hasSubscribers(): boolean {
    return this.#subscriptions.size > 0;
  }

  /**
   * Adds a listener; it receives events posted from now on.
   *
   * @param listener - called once per event, never concurrently with itself.
   * @returns a function that removes the listener (events still queued for it are dropped);
   * calling it again does nothing.
   * @throws {TypeError} when the bus is closed.
   */
  subscribe(listener: JobEventListener): () => void {
    if (this.#closed) throw new TypeError('JobEventBus is closed');
    const subscription: Subscription = {
      listener,
      queue: [],
      deliver: () => this.#deliver(subscription),
      scheduled: false,
      awaiting: undefined,
      active: true,
    };
    this.#subscriptions.add(subscription);
    return () => {
      subscription.active = false;
      subscription.queue.length = 0;
      this.#subscriptions.delete(subscription);
    };
  }

  /**
   * Queues `event` for every current subscriber and returns without waiting. After {@link close},
   * events are dropped (logged at `debug`).
   *
   * @param event - the event.
   */
  post(event: JobEvent): void {
    if (this.#closed) {
      this.#logger.debug({ jobName: event.jobName, kind: event.kind }, 'JobEventBus closed; event dropped');
      return;
    }
    for (const subscription of this.#subscriptions) {
      if (subscription.queue.length >= this.#maxQueued) {
        this.#logger.warn(
          { jobName: event.jobName, kind: event.kind, maxQueuedEventsPerListener: this.#maxQueued },
          'job event listener is falling behind; event dropped',
        );
        continue;
      }
      subscription.queue.push(event);
      // One microtask per burst of posts, not an async function per post: at 1,000 jobs a fire's
      // posts happen in the turn that starts user code, and what that turn allocates matters.
      if (!subscription.scheduled && subscription.awaiting === undefined) {
        subscription.scheduled = true;
        queueMicrotask(subscription.deliver);
      }
    }
  }

  /** Resolves once every event posted so far has been handled by its subscribers. */
  async flush(): Promise<void> {
    for (;;) {
      const pending = [...this.#subscriptions].filter((s) => s.scheduled || s.awaiting !== undefined);
      if (pending.length === 0) return;
      // A queued delivery runs before this await resumes (microtasks run in order).
      await Promise.all(pending.map((s) => s.awaiting));
    }
  }

  /**
   * Stops accepting events, waits for the queued ones to be delivered (a listener that never
   * settles delays this), then removes every subscriber. Idempotent.
   */
  async close(): Promise<void> {
    this.#closed = true;
    await this.flush();
    this.#subscriptions.clear();
  }

  /**
   * Hands the queued events to the listener in order, synchronously while it returns no promise
   * (a job posts five per fire: one turn for all of them), else after its promise settles
   * ({@link #resumeAfter}).
   */
  #deliver(subscription: Subscription): void {
    subscription.scheduled = false;
    for (let event = subscription.queue.shift(); event !== undefined; event = subscription.queue.shift()) {
      if (!subscription.active) return;
      let result: unknown;
      try {
        result = subscription.listener(event);
      } catch (error) {
        this.#listenerFailed(error, event);
        continue;
      }
      if (isPromiseLike(result)) {
        subscription.awaiting = this.#resumeAfter(subscription, event, result);
        return;
      }
    }
  }

  /** Waits for a listener's promise for `event`, then delivers the rest of the queue. */
  async #resumeAfter(
    subscription: Subscription,
    event: JobEvent,
    result: PromiseLike<unknown>,
  ): Promise<void> {
    try {
      await result;
    } catch (error) {
      this.#listenerFailed(error, event);
    }
    subscription.awaiting = undefined;
    this.#deliver(subscription);
  }

  #listenerFailed(error: unknown, event: JobEvent): void {
    this.#logger.error(
      { err: error, jobName: event.jobName, kind: event.kind },
      'job event listener failed; the event is skipped for it',
    );
  }
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function'
  );
}
