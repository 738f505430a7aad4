/** The screenshot script's demo history: what the History screenshots rely on is in it. */
import type { JobExecutionEvent, JobStatusTraceEvent } from '@elasticjob-ts/core';
import { describe, expect, it } from 'vitest';
import { demoHistoryEvents } from '../scripts/demo-history.js';

const NOW = Date.UTC(2025, 5, 12, 9, 41);
const DAY = 24 * 3_600_000;

describe('demo history', () => {
  const { events, incidents } = demoHistoryEvents(NOW);
  const executions = events.filter((event): event is JobExecutionEvent => event.kind === 'execution');
  const traces = events.filter((event): event is JobStatusTraceEvent => event.kind === 'status');

  it('spans three days of runs of every job, all before now', () => {
    const starts = executions.map((event) => event.startTimeMs);
    expect(Math.min(...starts)).toBeLessThan(NOW - 3 * DAY + 3_600_000);
    expect(
      Math.max(
        ...events.map((event) => (event.kind === 'status' ? event.creationTimeMs : event.startTimeMs)),
      ),
    ).toBeLessThan(NOW + 3_600_000);
    expect(new Set(executions.map((event) => event.jobName))).toEqual(
      new Set(['orders-sync', 'stock-levels', 'invoice-mailer', 'search-index']),
    );
  });

  it('has the outage, scattered failures, the crash with its failover, and the misfire', () => {
    const failed = executions.filter((event) => event.success === false);
    const inOutage = failed.filter(
      (event) => event.startTimeMs >= incidents.outage.fromMs && event.startTimeMs < incidents.outage.toMs,
    );
    expect(inOutage.length).toBeGreaterThan(100);
    expect(inOutage.every((event) => event.failureCause?.includes('ECONNREFUSED'))).toBe(true);
    expect(failed.length - inOutage.length).toBeGreaterThan(10);
    const crashed = executions.filter((event) => event.completeTimeMs === undefined);
    expect(crashed.map((event) => `${event.ip}#${event.shardingItem}`).sort()).toEqual([
      '10.0.0.13#6',
      '10.0.0.13#7',
    ]);
    const failover = executions.filter((event) => event.source === 'FAILOVER');
    expect(failover.map((event) => event.shardingItem).sort()).toEqual([6, 7]);
    expect(
      traces.filter((event) => event.taskId === incidents.failoverTaskId).map((event) => event.state),
    ).toEqual(['TASK_STAGING', 'TASK_RUNNING', 'TASK_FINISHED']);
    expect(executions.some((event) => event.source === 'MISFIRE' && event.jobName === 'stock-levels')).toBe(
      true,
    );
    expect(traces.some((event) => event.message.includes('misfired job will start'))).toBe(true);
    expect(traces.some((event) => event.state === 'TASK_ERROR' && event.message.startsWith('{'))).toBe(true);
  });

  it('is the same for the same time', () => {
    const again = demoHistoryEvents(NOW).events;
    expect(again.map((event) => (event.kind === 'execution' ? event.completeTimeMs : event.message))).toEqual(
      events.map((event) => (event.kind === 'execution' ? event.completeTimeMs : event.message)),
    );
  });
});
