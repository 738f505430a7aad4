/**
 * Event tracing of real jobs on one backend: a row for every execution and status change
 * (including failover and misfire runs), and, on PostgreSQL, a database outage that the job does
 * not notice: the queue drops the oldest events and counts them, then writes resume.
 */
import { createDefaultLogger } from '@elasticjob-ts/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type EventTracing, startEventTracing } from '../src/index.js';
import type { BackendFixture } from './support/backends.js';
import { runFailoverAndMisfire, TestCluster, waitFor } from './support/cluster.js';
import { started, status, T0 } from './support/events.js';

export function describeJobTracing(fixture: BackendFixture): void {
  describe(`event tracing of real jobs on ${fixture.name}`, () => {
    const cleanups: Array<() => Promise<void>> = [];
    beforeAll(() => fixture.setup());
    afterAll(() => fixture.teardown());
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });
    const setup = async (writer: Parameters<typeof startEventTracing>[0]['writer'] = {}) => {
      const cluster = new TestCluster();
      const tracing = await startEventTracing({
        url: await fixture.newDatabaseUrl(),
        writer: { flushIntervalMs: 20, retryInitialDelayMs: 50, retryMaxDelayMs: 200, ...writer },
        ...(process.env.TRACING_TEST_LOG ? { logger: createDefaultLogger() } : {}),
      });
      cleanups.push(
        () => tracing.close(),
        () => cluster.close(),
      );
      return { cluster, tracing };
    };
    const allRows = async (tracing: EventTracing) => {
      const executions = (await tracing.store.queries.findExecutions({}, { limit: 1000 })).items;
      const statusTraces = (
        await tracing.store.queries.findStatusTraces({ jobName: 'orders' }, { limit: 1000 })
      ).items;
      return { executions, statusTraces };
    };

    it('writes a row for every execution and status change, with failover and misfire sources', async () => {
      const { cluster, tracing } = await setup();
      await runFailoverAndMisfire(cluster, (bootstrap) => tracing.attach(bootstrap));
      await tracing.writer.flush();
      const { executions, statusTraces } = await allRows(tracing);

      const executionEvents = new Map<string, (typeof cluster.events)[number]>();
      for (const event of cluster.events)
        if (event.kind === 'execution') executionEvents.set(event.id, event);
      expect(executions.map((e) => e.id).sort()).toEqual([...executionEvents.keys()].sort());
      for (const row of executions) {
        const event = executionEvents.get(row.id);
        if (event?.kind !== 'execution') throw new Error('no event for row');
        expect(row).toMatchObject({
          jobName: 'orders',
          taskId: event.taskId,
          ip: event.ip,
          shardingItem: event.shardingItem,
          source: event.source,
          startTimeMs: event.startTimeMs,
        });
        expect([row.completeTimeMs, row.success]).toEqual([event.completeTimeMs, event.success]);
      }
      expect(new Set(executions.map((e) => e.source))).toEqual(
        new Set(['NORMAL_TRIGGER', 'FAILOVER', 'MISFIRE']),
      );
      const failover = executions.filter((e) => e.source === 'FAILOVER');
      expect(failover).toEqual([expect.objectContaining({ ip: '10.0.0.1', success: false })]);
      expect(failover[0]?.failureCause).toContain('failed over and failed');

      const statusEvents = cluster.events.filter((e) => e.kind === 'status');
      expect(statusTraces.map((s) => s.id).sort()).toEqual(statusEvents.map((e) => e.id).sort());
      const survivorStates = statusTraces
        .filter((s) => s.slaveId === '10.0.0.1')
        .map((s) => `${s.source}:${s.state}`);
      expect(survivorStates).toEqual(expect.arrayContaining(['FAILOVER:TASK_ERROR', 'MISFIRE:TASK_RUNNING']));
      expect(tracing.writer.stats).toMatchObject({ droppedEvents: 0, queuedEvents: 0 });
    });

    it('rejects writer bounds that are not positive integers, naming the option', async () => {
      await expect(setup({ maxQueuedEvents: 0 })).rejects.toThrow(
        'EventTracingWriter option maxQueuedEvents must be a positive integer, got 0',
      );
      await expect(setup({ flushIntervalMs: 1.5 })).rejects.toThrow(
        /flushIntervalMs must be a positive integer/,
      );
    });

    if (fixture.name === 'postgresql') {
      it('closes within its bound while PostgreSQL is down, counting the unwritten events as dropped', async () => {
        const server = fixture.server;
        if (server === undefined) throw new Error('no server');
        const { tracing } = await setup();
        await tracing.store.ensureSchema();
        await server.halt();
        try {
          const events = [started('orders', 0, T0), status('orders', 'task', 'TASK_RUNNING', T0)];
          for (const event of events) tracing.writer.record(event);
          await waitFor(() => expect(tracing.writer.stats.failing).toBe(true));
          const closing = performance.now();
          await tracing.close(300);
          expect(performance.now() - closing).toBeLessThan(300 + 2_000);
          expect(tracing.writer.stats).toMatchObject({ droppedEvents: 2, queuedEvents: 0, writtenEvents: 0 });
          tracing.writer.record(started('orders', 1, T0));
          expect(tracing.writer.stats.queuedEvents).toBe(0);
        } finally {
          await server.restart();
        }
      });

      it('keeps the job on schedule while PostgreSQL is down, drops the oldest events, counts them, and resumes', async () => {
        const server = fixture.server;
        if (server === undefined) throw new Error('no server');
        const { cluster, tracing } = await setup({ maxQueuedEvents: 12 });
        let runs = 0;
        const { bootstrap } = await cluster.start(
          1,
          { jobName: 'orders', cron: '* * * * * ?', shardingTotalCount: 2 },
          async () => {
            runs++;
          },
        );
        tracing.attach(bootstrap);
        await cluster.waitForSharding('orders', 2, ['10.0.0.1@-@1001']);
        await cluster.fire();
        await waitFor(() => expect(runs).toBe(2));
        await tracing.writer.flush();
        expect((await allRows(tracing)).executions).toHaveLength(2);

        await server.halt();
        // Each fire posts 2 status + 4 execution events; 5 fires overflow a 12-event queue.
        const outageFires: number[] = [];
        for (let fire = 1; fire <= 5; fire++) {
          await cluster.fire();
          outageFires.push(cluster.clock.now());
          await waitFor(() => expect(runs).toBe(2 + fire * 2));
        }
        await waitFor(() => expect(tracing.writer.stats.failing).toBe(true));
        await waitFor(() => expect(tracing.writer.stats.droppedEvents).toBeGreaterThanOrEqual(5 * 6 - 12));
        expect(tracing.writer.stats.queuedEvents).toBe(12);

        await server.restart();
        await cluster.fire();
        await waitFor(() => expect(runs).toBe(14));
        const lastFire = cluster.clock.now();
        // Writes resume by themselves: the last fire's two items are written.
        await waitFor(async () => {
          const { executions } = await allRows(tracing);
          expect(executions.filter((e) => e.startTimeMs === lastFire && e.success === true)).toHaveLength(2);
        });
        await waitFor(() => expect(tracing.writer.stats).toMatchObject({ queuedEvents: 0, failing: false }));
        // Every event was either written or counted as dropped.
        await waitFor(() =>
          expect(tracing.writer.stats.writtenEvents + tracing.writer.stats.droppedEvents).toBe(
            cluster.events.length,
          ),
        );
        // The oldest events of the outage were dropped, the newest kept and written.
        const { executions } = await allRows(tracing);
        const startsOf = (fireMs: number) => executions.filter((e) => e.startTimeMs === fireMs).length;
        expect(startsOf(outageFires[0] as number)).toBe(0);
        expect(startsOf(outageFires[4] as number)).toBe(2);
      });
    }
  });
}
