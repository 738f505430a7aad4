import { hostname } from 'node:os';
import { describe, expect, it, vi } from 'vitest';
import {
  createJobExecutionEvent,
  createJobStatusTraceEvent,
  ipOfTaskId,
  type JobEvent,
  JobEventBus,
  jobExecutionFailed,
  jobExecutionSucceeded,
  jobStatusMessages,
} from '../src/event/index.js';
import type { Logger } from '../src/logging/logger.js';

const TASK_ID = 'orders@-@0,1@-@READY@-@10.0.0.7@-@4242';

function statusEvent(message: string): JobEvent {
  return createJobStatusTraceEvent({
    jobName: 'orders',
    taskId: TASK_ID,
    source: 'NORMAL_TRIGGER',
    shardingItems: [0, 1],
    state: 'TASK_RUNNING',
    message,
  });
}

function messagesOf(events: readonly JobEvent[]): string[] {
  return events.map((event) =>
    event.kind === 'status'
      ? event.message
      : event.kind === 'execution'
        ? `item ${event.shardingItem}`
        : event.kind,
  );
}

function recordingLogger(): { logger: Logger; entries: { level: string; args: unknown[] }[] } {
  const entries: { level: string; args: unknown[] }[] = [];
  const method =
    (level: string) =>
    (...args: unknown[]): void =>
      void entries.push({ level, args });
  const logger = {
    debug: method('debug'),
    info: method('info'),
    warn: method('warn'),
    error: method('error'),
    child: () => logger,
  } as Logger;
  return { logger, entries };
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((res) => {
    resolve = res;
  });
  return { promise, resolve };
}

describe('JobEventBus', () => {
  it('delivers asynchronously, after post returns', async () => {
    const bus = new JobEventBus();
    const seen: JobEvent[] = [];
    bus.subscribe((event) => void seen.push(event));
    bus.post(statusEvent('a'));
    expect(seen).toEqual([]);
    await bus.flush();
    expect(messagesOf(seen)).toEqual(['a']);
    await bus.close();
  });

  it('keeps post order per subscriber, awaiting async listeners one event at a time', async () => {
    const bus = new JobEventBus();
    const seen: string[] = [];
    let running = 0;
    let overlapped = false;
    bus.subscribe(async (event) => {
      running++;
      if (running > 1) overlapped = true;
      // The first event takes longest; order must still hold.
      const delays = { a: 3, b: 1, c: 0 } as Record<string, number>;
      for (let i = 0; i < (delays[(event as { message: string }).message] ?? 0); i++) {
        await new Promise((resolve) => setImmediate(resolve));
      }
      seen.push((event as { message: string }).message);
      running--;
    });
    for (const message of ['a', 'b', 'c']) bus.post(statusEvent(message));
    await bus.flush();
    expect(seen).toEqual(['a', 'b', 'c']);
    expect(overlapped).toBe(false);
    await bus.close();
  });

  it('hands a synchronous listener the queued events in one turn, in post order, a throw skipping one event', async () => {
    const { logger, entries } = recordingLogger();
    const bus = new JobEventBus({ logger });
    const seen: string[] = [];
    bus.subscribe((event) => {
      const { message } = event as { message: string };
      if (message === 'b') throw new Error('listener failed on b');
      seen.push(message);
    });
    for (const message of ['a', 'b', 'c']) bus.post(statusEvent(message));
    expect(seen).toEqual([]);
    await Promise.resolve(); // the turn the drain starts in
    await Promise.resolve();
    expect(seen).toEqual(['a', 'c']);
    expect(entries.filter((entry) => entry.level === 'error')).toHaveLength(1);
    await bus.close();
  });

  it('goes on after an async listener rejects, with events posted while it waited, in order', async () => {
    const { logger, entries } = recordingLogger();
    const bus = new JobEventBus({ logger });
    const seen: string[] = [];
    let releaseA!: () => void;
    bus.subscribe((event) => {
      const { message } = event as { message: string };
      seen.push(message);
      if (message === 'a')
        return new Promise<void>((_, reject) => {
          releaseA = () => reject(new Error('listener rejected a'));
        });
      return undefined;
    });
    bus.post(statusEvent('a'));
    await vi.waitFor(() => expect(seen).toEqual(['a']));
    bus.post(statusEvent('b'));
    bus.post(statusEvent('c'));
    await Promise.resolve();
    expect(seen).toEqual(['a']); // still waiting for a's promise
    releaseA();
    await bus.flush();
    expect(seen).toEqual(['a', 'b', 'c']);
    expect(entries.filter((entry) => entry.level === 'error').map((entry) => entry.args[1])).toEqual([
      'job event listener failed; the event is skipped for it',
    ]);
    await bus.close();
  });

  it('tells whether anyone listens', async () => {
    const bus = new JobEventBus();
    expect(bus.hasSubscribers).toBe(false);
    const unsubscribe = bus.subscribe(() => {});
    expect(bus.hasSubscribers).toBe(true);
    unsubscribe();
    expect(bus.hasSubscribers).toBe(false);
    await bus.close();
  });

  it('isolates subscribers: a failing or stuck listener neither blocks others nor the poster', async () => {
    const { logger, entries } = recordingLogger();
    const bus = new JobEventBus({ logger });
    const gate = deferred();
    const healthy: string[] = [];
    const stuck: string[] = [];
    bus.subscribe((event) => {
      if ((event as { message: string }).message === 'b') throw new Error('listener broke');
    });
    bus.subscribe(async (event) => {
      await gate.promise;
      stuck.push((event as { message: string }).message);
    });
    bus.subscribe((event) => void healthy.push((event as { message: string }).message));
    expect(() => {
      for (const message of ['a', 'b', 'c']) bus.post(statusEvent(message));
    }).not.toThrow();
    await expect.poll(() => healthy).toEqual(['a', 'b', 'c']);
    expect(stuck).toEqual([]);
    expect(entries).toEqual([
      {
        level: 'error',
        args: [
          expect.objectContaining({ err: new Error('listener broke'), jobName: 'orders', kind: 'status' }),
          'job event listener failed; the event is skipped for it',
        ],
      },
    ]);
    gate.resolve();
    await bus.flush();
    expect(stuck).toEqual(['a', 'b', 'c']);
    await bus.close();
  });

  it('stops delivering to an unsubscribed listener, including queued events', async () => {
    const bus = new JobEventBus();
    const seen: string[] = [];
    const unsubscribe = bus.subscribe((event) => void seen.push((event as { message: string }).message));
    bus.post(statusEvent('a'));
    unsubscribe();
    unsubscribe();
    bus.post(statusEvent('b'));
    await bus.flush();
    expect(seen).toEqual([]);
    await bus.close();
  });

  it('close() drains queued events, then drops posts and refuses subscribers', async () => {
    const { logger, entries } = recordingLogger();
    const bus = new JobEventBus({ logger });
    const seen: string[] = [];
    bus.subscribe(async (event) => {
      await new Promise((resolve) => setImmediate(resolve));
      seen.push((event as { message: string }).message);
    });
    bus.post(statusEvent('a'));
    bus.post(statusEvent('b'));
    await bus.close();
    expect(seen).toEqual(['a', 'b']);
    expect(bus.closed).toBe(true);
    bus.post(statusEvent('c'));
    await bus.flush();
    expect(seen).toEqual(['a', 'b']);
    expect(entries.map((e) => e.level)).toEqual(['debug']);
    expect(() => bus.subscribe(() => {})).toThrow(TypeError);
    await bus.close();
  });

  it('drops events beyond maxQueuedEventsPerListener for a slow subscriber, with a warning', async () => {
    const { logger, entries } = recordingLogger();
    const bus = new JobEventBus({ logger, maxQueuedEventsPerListener: 2 });
    const gate = deferred();
    const started: string[] = [];
    const seen: string[] = [];
    bus.subscribe(async (event) => {
      started.push((event as { message: string }).message);
      await gate.promise;
      seen.push((event as { message: string }).message);
    });
    bus.post(statusEvent('a'));
    await expect.poll(() => started).toEqual(['a']);
    // 'a' is being delivered; the queue holds at most two more.
    for (const message of ['b', 'c', 'd']) bus.post(statusEvent(message));
    gate.resolve();
    await bus.close();
    expect(seen).toEqual(['a', 'b', 'c']);
    expect(entries).toEqual([expect.objectContaining({ level: 'warn' })]);
    expect(() => new JobEventBus({ maxQueuedEventsPerListener: 0 })).toThrow(TypeError);
  });
});

describe('job event builders', () => {
  it('builds start, success and failure copies sharing one id', () => {
    const start = createJobExecutionEvent({
      jobName: 'orders',
      taskId: TASK_ID,
      source: 'MISFIRE',
      shardingItem: 1,
      startTimeMs: 1000,
    });
    expect(start).toEqual({
      kind: 'execution',
      id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
      hostname: hostname(),
      ip: '10.0.0.7',
      taskId: TASK_ID,
      jobName: 'orders',
      source: 'MISFIRE',
      shardingItem: 1,
      startTimeMs: 1000,
    });
    expect(
      createJobExecutionEvent({ jobName: 'orders', taskId: TASK_ID, source: 'MISFIRE', shardingItem: 1 }).id,
    ).not.toBe(start.id);

    expect(jobExecutionSucceeded(start, 1500)).toEqual({ ...start, completeTimeMs: 1500, success: true });

    const cause = new Error('disk full');
    const failed = jobExecutionFailed(start, new Error('write failed', { cause }), 2000);
    expect(failed).toMatchObject({ ...start, completeTimeMs: 2000, success: false });
    expect(failed.failureCause).toMatch(/^Error: write failed\n\s+at /);
    expect(failed.failureCause).toContain('Caused by: Error: disk full');
    expect(jobExecutionFailed(start, 'plain text', 2000).failureCause).toBe('plain text');
    // A completion copy of a completion copy does not keep a stale failure.
    expect(jobExecutionSucceeded(failed, 3000)).not.toHaveProperty('failureCause');
  });

  it('keeps a given id and the scheduled fire time in the start and its completion copies', () => {
    const start = createJobExecutionEvent({
      id: 'run-7',
      jobName: 'orders',
      taskId: TASK_ID,
      source: 'NORMAL_TRIGGER',
      shardingItem: 2,
      startTimeMs: 1000,
      scheduledFireTimeMs: 999,
    });
    expect(start).toMatchObject({ id: 'run-7', scheduledFireTimeMs: 999 });
    expect(jobExecutionSucceeded(start, 1500)).toStrictEqual({
      ...start,
      completeTimeMs: 1500,
      success: true,
    });
    expect(jobExecutionFailed(start, 'x', 1600)).toStrictEqual({
      ...start,
      completeTimeMs: 1600,
      success: false,
      failureCause: 'x',
    });
    // Absent, not `undefined`, when the run serves no fire (a trigger, misfire or failover run).
    const triggered = createJobExecutionEvent({
      jobName: 'orders',
      taskId: TASK_ID,
      source: 'NORMAL_TRIGGER',
      shardingItem: 2,
      scheduledFireTimeMs: undefined,
    });
    expect(Object.keys(triggered)).not.toContain('scheduledFireTimeMs');
    expect(Object.keys(jobExecutionSucceeded(triggered))).not.toContain('scheduledFireTimeMs');
  });

  it('lets callers override ip and hostname', () => {
    expect(
      createJobExecutionEvent({
        jobName: 'orders',
        taskId: 'odd-task-id',
        source: 'NORMAL_TRIGGER',
        shardingItem: 0,
        ip: '192.168.1.2',
        hostname: 'node-a',
      }),
    ).toMatchObject({ ip: '192.168.1.2', hostname: 'node-a' });
    expect(ipOfTaskId('odd-task-id')).toBe('');
  });

  it('builds status trace events with slaveId from the taskId and a fresh id', () => {
    const items = [0, 1];
    const event = createJobStatusTraceEvent({
      jobName: 'orders',
      taskId: TASK_ID,
      source: 'NORMAL_TRIGGER',
      shardingItems: items,
      state: 'TASK_STAGING',
      message: jobStatusMessages.begin('orders'),
      creationTimeMs: 5,
    });
    items.push(9);
    expect(event).toEqual({
      kind: 'status',
      id: expect.any(String),
      jobName: 'orders',
      taskId: TASK_ID,
      slaveId: '10.0.0.7',
      source: 'NORMAL_TRIGGER',
      executionType: 'READY',
      shardingItems: [0, 1],
      state: 'TASK_STAGING',
      message: "Job 'orders' execute begin.",
      creationTimeMs: 5,
    });
    // Any iterable of items, e.g. a run's item map's keys, copied once.
    const parameters = new Map([
      [3, 'c'],
      [5, undefined],
    ]);
    const running = createJobStatusTraceEvent({
      id: 'status-1',
      jobName: 'orders',
      taskId: TASK_ID,
      source: 'NORMAL_TRIGGER',
      shardingItems: parameters.keys(),
      state: 'TASK_RUNNING',
      message: '',
    });
    parameters.set(7, 'd');
    expect(running).toMatchObject({ id: 'status-1', shardingItems: [3, 5] });
    expect(jobStatusMessages.finished()).toBe('');
    expect(
      jobStatusMessages.error(
        new Map([
          [0, 'Error: a'],
          [2, 'Error: b'],
        ]),
      ),
    ).toBe('{0=Error: a, 2=Error: b}');
    expect(jobStatusMessages.emptyItems('orders')).toBe("Sharding item for job 'orders' is empty.");
    expect(jobStatusMessages.stillRunning('orders', [0, 2])).toBe(
      "Previous job 'orders' - shardingItems '[0, 2]' is still running, misfired job will start after previous job completed.",
    );
  });
});
