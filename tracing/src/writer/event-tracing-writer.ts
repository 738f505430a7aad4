/**
 * {@link EventTracingWriter}: the bounded, batching queue between job events and the history
 * database. A job never waits for it and never fails because of it: events are queued in memory
 * and written in batches by one background loop; when the database is down or slow the queue
 * keeps the newest `maxQueuedEvents`, drops the oldest, counts the drops and logs a warning, and
 * the loop retries with backoff until writes go through again.
 *
 * ElasticJob's tracing bus queues without bound and does one SELECT plus one write per event; its
 * write failures are logged and lost.
 *
 * @module
 */
import { type JobEvent, type JobEventListener, type Logger, silentLogger } from '@elasticjob-ts/core';

/** Where batches go (a `HistoryStore`, or anything that writes events in one transaction). */
export interface EventBatchSink {
  /** Writes the batch atomically; rejects when nothing was written. */
  writeEvents(events: readonly JobEvent[]): Promise<void>;
}

/** Options of {@link EventTracingWriter}. */
export interface EventTracingWriterOptions {
  /**
   * Events kept waiting while the database lags; beyond it the oldest are dropped. The batch being
   * written comes on top, so memory holds at most `maxQueuedEvents + maxBatchSize` events.
   * @defaultValue 10000
   */
  readonly maxQueuedEvents?: number;
  /** Events per write (one transaction, one statement per table). @defaultValue 500 */
  readonly maxBatchSize?: number;
  /** How long an event may wait for a fuller batch, in ms. @defaultValue 200 */
  readonly flushIntervalMs?: number;
  /** First wait after a failed write, in ms; doubles per failure. @defaultValue 500 */
  readonly retryInitialDelayMs?: number;
  /** Longest wait between retries, in ms. @defaultValue 30000 */
  readonly retryMaxDelayMs?: number;
  /** Least time between two "events dropped" warnings, in ms. @defaultValue 10000 */
  readonly dropWarningIntervalMs?: number;
  /** Where write failures and drops are reported. @defaultValue silentLogger */
  readonly logger?: Logger;
}

/** Counters of an {@link EventTracingWriter}. */
export interface EventTracingWriterStats {
  /** Events waiting in memory (including a batch being written). */
  readonly queuedEvents: number;
  /** Events written so far. */
  readonly writtenEvents: number;
  /** Events dropped because the queue was full (the `elasticjob_tracing_dropped_total` metric). */
  readonly droppedEvents: number;
  /** Failed write attempts so far. */
  readonly failedWrites: number;
  /** Whether the last write attempt failed (the database is down or slow). */
  readonly failing: boolean;
}

/**
 * Writes job events to an {@link EventBatchSink} in the background.
 *
 * @example
 * ```ts
 * const store = await openHistoryStore({ url: 'sqlite:./history.db' });
 * const writer = new EventTracingWriter(store, { logger });
 * const unsubscribe = bootstrap.subscribe(writer.listener);
 * // on shutdown:
 * await bootstrap.shutdown();
 * await writer.close();
 * await store.close();
 * ```
 */
export class EventTracingWriter {
  /** Pass to `bootstrap.subscribe(...)` or as the bootstrap's `onEvent` option. */
  readonly listener: JobEventListener;
  readonly #sink: EventBatchSink;
  readonly #logger: Logger;
  readonly #maxQueued: number;
  readonly #maxBatch: number;
  readonly #flushIntervalMs: number;
  readonly #retryInitialMs: number;
  readonly #retryMaxMs: number;
  readonly #dropWarningIntervalMs: number;
  /** Events not yet handed to the sink, oldest first. */
  #queue: JobEvent[] = [];
  /** The batch being written (reported as queued; back in the queue if the write fails). */
  #inFlight: JobEvent[] = [];
  #loop: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #wake: (() => void) | undefined;
  #closed = false;
  #written = 0;
  #dropped = 0;
  #droppedSinceWarning = 0;
  #lastDropWarningMs = Number.NEGATIVE_INFINITY;
  #failedWrites = 0;
  #failing = false;

  /**
   * @param sink - where batches are written.
   * @param options - see {@link EventTracingWriterOptions}.
   * @throws {TypeError} naming an option that is not a positive integer.
   */
  constructor(sink: EventBatchSink, options: EventTracingWriterOptions = {}) {
    this.#sink = sink;
    this.#logger = options.logger ?? silentLogger;
    this.#maxQueued = positive('maxQueuedEvents', options.maxQueuedEvents ?? 10_000);
    this.#maxBatch = positive('maxBatchSize', options.maxBatchSize ?? 500);
    this.#flushIntervalMs = positive('flushIntervalMs', options.flushIntervalMs ?? 200);
    this.#retryInitialMs = positive('retryInitialDelayMs', options.retryInitialDelayMs ?? 500);
    this.#retryMaxMs = positive('retryMaxDelayMs', options.retryMaxDelayMs ?? 30_000);
    this.#dropWarningIntervalMs = positive('dropWarningIntervalMs', options.dropWarningIntervalMs ?? 10_000);
    this.listener = (event) => this.record(event);
  }

  /** Current counters. */
  get stats(): EventTracingWriterStats {
    return {
      queuedEvents: this.#queue.length + this.#inFlight.length,
      writtenEvents: this.#written,
      droppedEvents: this.#dropped,
      failedWrites: this.#failedWrites,
      failing: this.#failing,
    };
  }

  /**
   * Queues one event and returns at once. When the queue is full the oldest event is dropped
   * (counted in `stats.droppedEvents`). Resharding events are queued too (the store skips them).
   * After {@link close} events are ignored.
   *
   * @param event - a job event.
   */
  record(event: JobEvent): void {
    if (this.#closed) return;
    this.#queue.push(event);
    this.#trim();
    this.#ensureLoop();
    if (this.#queue.length >= this.#maxBatch) this.#wake?.();
  }

  /**
   * Resolves once every event recorded so far is written (waits through retries while the
   * database is down).
   */
  async flush(): Promise<void> {
    while (this.#loop !== undefined) {
      this.#wake?.();
      await this.#loop;
    }
  }

  /**
   * Stops accepting events and writes what is queued, waiting at most `timeoutMs`; events still
   * unwritten then are dropped and counted. Idempotent.
   *
   * @param timeoutMs - bound on the final flush, in ms. @defaultValue 10000
   */
  async close(timeoutMs = 10_000): Promise<void> {
    this.#closed = true;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const outcome = await Promise.race([this.flush().then(() => 'flushed' as const), timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      const lost = this.#queue.length + this.#inFlight.length;
      this.#queue = [];
      // A write still in flight is abandoned: counted as dropped, not as written if it lands.
      this.#inFlight = [];
      this.#drop(lost);
      this.#logger.warn(
        { lost, timeoutMs },
        'event tracing closed before the history database took every event',
      );
    }
  }

  #trim(): void {
    // The batch being written is not counted: it is the database's now. Should the write fail it
    // comes back in front of the queue, and the oldest events go first.
    const excess = this.#queue.length - this.#maxQueued;
    if (excess <= 0) return;
    const fromQueue = Math.min(excess, this.#queue.length);
    this.#queue.splice(0, fromQueue);
    this.#drop(fromQueue);
  }

  #drop(count: number): void {
    if (count <= 0) return;
    this.#dropped += count;
    this.#droppedSinceWarning += count;
    const now = Date.now();
    if (now - this.#lastDropWarningMs >= this.#dropWarningIntervalMs) {
      this.#logger.warn(
        { dropped: this.#droppedSinceWarning, droppedTotal: this.#dropped, maxQueuedEvents: this.#maxQueued },
        'event tracing queue full: oldest job events dropped (history database down or slow)',
      );
      this.#lastDropWarningMs = now;
      this.#droppedSinceWarning = 0;
    }
  }

  #ensureLoop(): void {
    if (this.#loop !== undefined) return;
    this.#loop = this.#run().finally(() => {
      this.#loop = undefined;
      // Events recorded while the loop was finishing start a new one.
      if (this.#queue.length > 0) this.#ensureLoop();
    });
  }

  /** Sleeps until `ms` passed or {@link #wake} is called. */
  #sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      // Unref'd: a process that exits without close() is not held up by tracing.
      this.#timer = setTimeout(resolve, ms).unref();
      this.#wake = () => {
        clearTimeout(this.#timer);
        resolve();
      };
    }).finally(() => {
      this.#wake = undefined;
    });
  }

  async #run(): Promise<void> {
    let retryDelayMs = this.#retryInitialMs;
    if (!this.#closed && this.#queue.length < this.#maxBatch) await this.#sleep(this.#flushIntervalMs);
    while (this.#queue.length > 0) {
      this.#inFlight = this.#queue.splice(0, this.#maxBatch);
      try {
        await this.#sink.writeEvents(this.#inFlight);
        this.#written += this.#inFlight.length;
        this.#inFlight = [];
        if (this.#failing) this.#logger.info('history database writes resumed');
        this.#failing = false;
        retryDelayMs = this.#retryInitialMs;
      } catch (error) {
        this.#failedWrites++;
        if (!this.#failing) {
          this.#logger.warn(
            { err: error, queuedEvents: this.#queue.length + this.#inFlight.length },
            'history database write failed; events stay queued and the write is retried',
          );
        }
        this.#failing = true;
        // Put the batch back in front; the bound still holds (drops the oldest if needed).
        this.#queue = [...this.#inFlight, ...this.#queue];
        this.#inFlight = [];
        this.#trim();
        await this.#sleep(retryDelayMs);
        retryDelayMs = Math.min(retryDelayMs * 2, this.#retryMaxMs);
      }
    }
  }
}

function positive(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new TypeError(`EventTracingWriter option ${name} must be a positive integer, got ${String(value)}`);
  }
  return value;
}
