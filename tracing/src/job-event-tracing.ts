/**
 * {@link startEventTracing}: ElasticJob's event tracing for this process in one call: the history
 * store chosen by URL, the batching writer every attached job posts to, and periodic retention.
 *
 * @module
 */
import { type Logger, silentLogger } from '@elasticjob-ts/core';
import type { ObservableJob } from './metrics/observable-job.js';
import { type HistoryStore, type HistoryStoreOptions, openHistoryStore } from './store/history-store.js';
import { type RetentionPolicy, validateRetentionPolicy } from './store/retention.js';
import { EventTracingWriter, type EventTracingWriterOptions } from './writer/event-tracing-writer.js';

/** Options of {@link startEventTracing}. */
export interface EventTracingOptions extends Omit<HistoryStoreOptions, 'migrate' | 'logger'> {
  /** Where database problems, drops and retention runs are reported. @defaultValue silentLogger */
  readonly logger?: Logger;
  /** Queue and batch bounds of the writer. */
  readonly writer?: Omit<EventTracingWriterOptions, 'logger'>;
  /** Rows to keep; no retention when absent (ElasticJob keeps everything). */
  readonly retention?: RetentionPolicy & {
    /** How often retention runs, in ms. @defaultValue 3600000 (hourly) */
    readonly intervalMs?: number;
  };
}

/** Event tracing of this process; see {@link startEventTracing}. */
export interface EventTracing {
  /** The history database (its `queries` serve consoles and scripts). */
  readonly store: HistoryStore;
  /** The queue between job events and the database. */
  readonly writer: EventTracingWriter;
  /**
   * Sends a job's events to the history database.
   *
   * @param job - a started bootstrap.
   * @returns a function that stops tracing it.
   */
  attach(job: Pick<ObservableJob, 'subscribe'>): () => void;
  /**
   * Stops retention, writes the queued events (at most `timeoutMs`), closes the database. Call it
   * after the jobs' `shutdown()` so their last events are written. Idempotent.
   *
   * @param timeoutMs - bound on the final flush, in ms. @defaultValue 10000
   */
  close(timeoutMs?: number): Promise<void>;
}

/**
 * Opens the history database (schema migrated before the first write, so the application starts
 * even while the database is down), starts the writer and, when configured, hourly retention.
 *
 * @param options - URL, writer bounds, retention.
 * @throws {HistoryUrlError} for an unusable URL.
 * @throws {RetentionPolicyError} for an invalid retention policy.
 * @example
 * ```ts
 * const tracing = await startEventTracing({ url: 'sqlite:./history.db', retention: { maxAgeMs: 7 * 86_400_000 } });
 * tracing.attach(bootstrap);
 * // ...
 * await bootstrap.shutdown();
 * await tracing.close();
 * ```
 */
export async function startEventTracing(options: EventTracingOptions): Promise<EventTracing> {
  const logger = options.logger ?? silentLogger;
  const { retention } = options;
  if (retention !== undefined) validateRetentionPolicy(retention);
  const store = await openHistoryStore({ ...options, logger, migrate: 'lazy' });
  const writer = new EventTracingWriter(store, { ...options.writer, logger });
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  if (retention !== undefined) {
    timer = setInterval(() => {
      running ??= store
        .applyRetention(retention)
        .then(
          (result) => logger.info({ ...result }, 'history retention applied'),
          (error: unknown) =>
            logger.warn({ err: error }, 'history retention failed; retried at the next interval'),
        )
        .finally(() => {
          running = undefined;
        });
    }, retention.intervalMs ?? 3_600_000).unref();
  }
  const subscriptions = new Set<() => void>();
  let closed: Promise<void> | undefined;
  return {
    store,
    writer,
    attach(job) {
      const unsubscribe = job.subscribe(writer.listener);
      subscriptions.add(unsubscribe);
      return () => {
        unsubscribe();
        subscriptions.delete(unsubscribe);
      };
    },
    close(timeoutMs) {
      closed ??= (async () => {
        clearInterval(timer);
        await running;
        await writer.close(timeoutMs);
        for (const unsubscribe of subscriptions) unsubscribe();
        await store.close();
      })();
      return closed;
    },
  };
}
