/**
 * One OpenTelemetry span per item execution, through @opentelemetry/api with a recording tracer
 * (what an SDK would receive), and nothing recorded without one (the API's no-op default).
 */
import type { Attributes, Span, SpanOptions, SpanStatus, TimeInput, Tracer } from '@opentelemetry/api';
import { SpanStatusCode } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { EXECUTION_SPAN_NAME, ExecutionSpans } from '../src/index.js';
import { failed, started, status, succeeded, T0 } from './support/events.js';

interface Recorded {
  name: string;
  startTime: TimeInput | undefined;
  attributes: Attributes | undefined;
  status?: SpanStatus;
  endTime?: TimeInput | undefined;
}

/** A tracer that records what it is given, as an SDK's span processor would see it. */
function recordingTracer(): { tracer: Tracer; spans: Recorded[] } {
  const spans: Recorded[] = [];
  const tracer = {
    startSpan(name: string, options: SpanOptions = {}): Span {
      const recorded: Recorded = { name, startTime: options.startTime, attributes: options.attributes };
      spans.push(recorded);
      const span = {
        setStatus(s: SpanStatus) {
          recorded.status = s;
          return span;
        },
        end(endTime?: TimeInput) {
          recorded.endTime = endTime;
        },
      };
      return span as unknown as Span;
    },
  } as unknown as Tracer;
  return { tracer, spans };
}

describe('execution spans', () => {
  it('records one span per item execution with its times, attributes and outcome', () => {
    const { tracer, spans } = recordingTracer();
    const recorder = new ExecutionSpans({ tracer });
    const ok = started('orders', 0, T0);
    const bad = started('orders', 1, T0 + 5, { source: 'FAILOVER', ip: '10.0.0.2' });
    recorder.record(ok);
    recorder.record(bad);
    recorder.record(status('orders', ok.taskId, 'TASK_RUNNING', T0));
    expect(recorder.openSpans).toBe(2);
    recorder.record(succeeded(ok, 2));
    recorder.record(failed(bad, 1, 'no stock\n  at line 2'));
    expect(recorder.openSpans).toBe(0);
    expect(spans).toEqual([
      {
        name: EXECUTION_SPAN_NAME,
        startTime: T0,
        attributes: {
          'elasticjob.job': 'orders',
          'elasticjob.sharding_item': 0,
          'elasticjob.source': 'NORMAL_TRIGGER',
          'elasticjob.task_id': ok.taskId,
          'elasticjob.instance_ip': '10.0.0.1',
        },
        status: { code: SpanStatusCode.OK },
        endTime: T0 + 2000,
      },
      expect.objectContaining({
        startTime: T0 + 5,
        attributes: expect.objectContaining({
          'elasticjob.source': 'FAILOVER',
          'elasticjob.sharding_item': 1,
        }),
        status: { code: SpanStatusCode.ERROR, message: 'Error: no stock' },
        endTime: T0 + 1005,
      }),
    ]);
  });

  it('ends the oldest open span when completions never arrive, keeping memory bounded', () => {
    const { tracer, spans } = recordingTracer();
    const recorder = new ExecutionSpans({ tracer, maxOpenSpans: 2 });
    for (let i = 0; i < 3; i++) recorder.record(started('orders', i, T0 + i));
    expect(recorder.openSpans).toBe(2);
    expect(spans[0]?.status).toEqual({
      code: SpanStatusCode.ERROR,
      message: 'completion event not received',
    });
  });

  it('uses the global no-op tracer when the application installed no SDK', () => {
    const recorder = new ExecutionSpans();
    const start = started('orders', 0, T0);
    recorder.record(start);
    recorder.record(succeeded(start, 1));
    expect(recorder.openSpans).toBe(0);
  });
});
