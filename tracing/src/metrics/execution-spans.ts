/**
 * {@link ExecutionSpans}: one OpenTelemetry span `elasticjob.execute` per item execution, through
 * `@opentelemetry/api` only. Without an SDK installed by the application the API is a no-op, so
 * this costs nearly nothing.
 *
 * Spans are built from job events (start and completion, with their own timestamps), so they
 * have the right times, attributes and status, but they are not the parent of spans the job body
 * creates (the events are delivered after the fact, outside the execution's context).
 *
 * @module
 */
import type { JobEvent, JobEventListener } from '@elasticjob-ts/core';
import { type Span, SpanKind, SpanStatusCode, type Tracer, trace } from '@opentelemetry/api';

/** Span name of one item execution. */
export const EXECUTION_SPAN_NAME = 'elasticjob.execute';

/** Options of {@link ExecutionSpans}. */
export interface ExecutionSpansOptions {
  /** The tracer. @defaultValue `trace.getTracer('@elasticjob-ts/tracing')` (the global provider) */
  readonly tracer?: Tracer;
  /** Open spans kept while their completion is pending; the oldest is ended beyond. @defaultValue 10000 */
  readonly maxOpenSpans?: number;
}

/**
 * Turns execution events into spans with attributes `elasticjob.job`, `elasticjob.sharding_item`,
 * `elasticjob.source`, `elasticjob.task_id`, `elasticjob.instance_ip`; status `ERROR` with the
 * first line of the failure cause when the item failed.
 *
 * @example
 * ```ts
 * const spans = new ExecutionSpans();
 * bootstrap.subscribe(spans.listener);
 * ```
 */
export class ExecutionSpans {
  /** Pass to `bootstrap.subscribe(...)`. */
  readonly listener: JobEventListener;
  readonly #tracer: Tracer | undefined;
  readonly #maxOpen: number;
  readonly #open = new Map<string, Span>();

  /** @param options - see {@link ExecutionSpansOptions}. */
  constructor(options: ExecutionSpansOptions = {}) {
    this.#tracer = options.tracer;
    this.#maxOpen = options.maxOpenSpans ?? 10_000;
    this.listener = (event) => this.record(event);
  }

  /** Spans started whose completion has not arrived yet. */
  get openSpans(): number {
    return this.#open.size;
  }

  /**
   * Starts or ends the span of an execution event; other events are ignored.
   *
   * @param event - a job event.
   */
  record(event: JobEvent): void {
    if (event.kind !== 'execution') return;
    const tracer = this.#tracer ?? trace.getTracer('@elasticjob-ts/tracing');
    let span = this.#open.get(event.id);
    if (span === undefined) {
      span = tracer.startSpan(EXECUTION_SPAN_NAME, {
        kind: SpanKind.INTERNAL,
        startTime: event.startTimeMs,
        attributes: {
          'elasticjob.job': event.jobName,
          'elasticjob.sharding_item': event.shardingItem,
          'elasticjob.source': event.source,
          'elasticjob.task_id': event.taskId,
          'elasticjob.instance_ip': event.ip,
        },
      });
    }
    if (event.completeTimeMs === undefined) {
      this.#open.set(event.id, span);
      if (this.#open.size > this.#maxOpen) this.#endOldest();
      return;
    }
    this.#open.delete(event.id);
    if (event.success === true) span.setStatus({ code: SpanStatusCode.OK });
    else
      span.setStatus({
        code: SpanStatusCode.ERROR,
        message: (event.failureCause ?? '').split('\n')[0] ?? '',
      });
    span.end(event.completeTimeMs);
  }

  #endOldest(): void {
    const [id, span] = this.#open.entries().next().value as [string, Span];
    this.#open.delete(id);
    span.setStatus({ code: SpanStatusCode.ERROR, message: 'completion event not received' });
    span.end();
  }
}
