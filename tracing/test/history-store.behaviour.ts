/**
 * The history store on one backend: migrations, idempotent batched writes, queries with cursor
 * pagination, statistics in SQL, and retention.
 */
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type HistoryStore, MIGRATION_NAMES, openHistoryStore } from '../src/index.js';
import type { BackendFixture } from './support/backends.js';
import { failed, started, status, succeeded, T0 } from './support/events.js';

const HOUR = 3_600_000;

export function describeHistoryStore(fixture: BackendFixture): void {
  describe(`history store on ${fixture.name}`, () => {
    const stores: HistoryStore[] = [];
    beforeAll(() => fixture.setup());
    afterAll(() => fixture.teardown());
    afterEach(async () => {
      for (const store of stores.splice(0)) await store.close();
    });
    const open = async (migrate: 'eager' | 'lazy' = 'eager') => {
      const store = await openHistoryStore({ url: await fixture.newDatabaseUrl(), migrate });
      stores.push(store);
      return store;
    };
    const indexNames = async (store: HistoryStore): Promise<string[]> => {
      const query =
        fixture.name === 'sqlite'
          ? sql<{
              name: string;
            }>`select name from sqlite_master where type = 'index' and name like 'idx_job_%'`
          : sql<{ name: string }>`select indexname as name from pg_indexes where indexname like 'idx_job_%'`;
      return (await query.execute(store.db)).rows.map((r) => r.name).sort();
    };

    it('migrates an empty database to the latest schema with the query indexes', async () => {
      const store = await open();
      expect(await store.appliedMigrations()).toEqual([...MIGRATION_NAMES]);
      expect(await indexNames(store)).toEqual([
        'idx_job_execution_log_ip_time',
        'idx_job_execution_log_job_time',
        'idx_job_execution_log_time',
        'idx_job_status_trace_log_job_time',
        'idx_job_status_trace_log_task',
        'idx_job_status_trace_log_time',
      ]);
      expect(await store.queries.findExecutions()).toEqual({ items: [] });
    });

    it('migrates a database on the older schema (ElasticJob tables, no indexes) and keeps its rows', async () => {
      const store = await open('lazy');
      expect(await store.migrateTo('0001_elasticjob_tables')).toEqual(['0001_elasticjob_tables']);
      expect(await indexNames(store)).toEqual([]);
      const start = started('orders', 0, T0);
      await store.db
        .insertInto('JOB_EXECUTION_LOG')
        .values({
          id: start.id,
          job_name: 'orders',
          task_id: start.taskId,
          hostname: start.hostname,
          ip: start.ip,
          sharding_item: 0,
          execution_source: 'NORMAL_TRIGGER',
          failure_cause: null,
          is_success: store.backend.encodeBoolean(true),
          start_time: store.backend.encodeTime(T0),
          complete_time: store.backend.encodeTime(T0 + 1000),
        })
        .execute();
      await store.ensureSchema();
      expect(await store.appliedMigrations()).toEqual([...MIGRATION_NAMES]);
      expect(await indexNames(store)).toHaveLength(6);
      const { items } = await store.queries.findExecutions({ jobName: 'orders' });
      expect(items).toEqual([
        expect.objectContaining({ id: start.id, success: true, completeTimeMs: T0 + 1000 }),
      ]);
    });

    it('writes a start and its completion as one row, in one batch or two, and never duplicates a retried batch', async () => {
      const store = await open();
      const a = started('orders', 0, T0);
      const b = started('orders', 1, T0 + 10);
      const c = started('orders', 2, T0 + 20);
      await store.writeEvents([a, succeeded(a, 2), b]);
      expect((await store.queries.findExecutions({ taskId: b.taskId })).items[0]).not.toHaveProperty(
        'success',
      );
      const bDone = failed(b, 3, 'boom');
      await store.writeEvents([bDone, c]);
      await store.writeEvents([bDone, c]); // the retry of a batch that committed
      const stage = status('orders', a.taskId, 'TASK_STAGING', T0);
      await store.writeEvents([stage]);
      await store.writeEvents([stage]);
      const { items } = await store.queries.findExecutions({ jobName: 'orders' });
      expect(items.map((e) => [e.shardingItem, e.success, e.completeTimeMs])).toEqual([
        [2, undefined, undefined],
        [1, false, T0 + 10 + 3000],
        [0, true, T0 + 2000],
      ]);
      expect(items[1]?.failureCause).toContain('Error: boom');
      // A start arriving after its completion (duplicate delivery) does not undo the completion.
      await store.writeEvents([a]);
      expect(
        (await store.queries.findExecutions({ taskId: a.taskId, shardingItem: 0 })).items[0]?.success,
      ).toBe(true);
      const trace = await store.queries.findStatusTraces({ taskId: a.taskId });
      expect(trace.items).toEqual([
        expect.objectContaining({
          state: 'TASK_STAGING',
          shardingItems: [0, 1],
          originalTaskId: '',
          creationTimeMs: T0,
        }),
      ]);
    });

    it('filters executions by job, item, ip, source, result, time range and failure text', async () => {
      const store = await open();
      const events = [];
      for (let i = 0; i < 6; i++) {
        const start = started(i % 2 === 0 ? 'orders' : 'billing', i % 3, T0 + i * 1000, {
          ip: i < 3 ? '10.0.0.1' : '10.0.0.2',
          source: i === 5 ? 'FAILOVER' : 'NORMAL_TRIGGER',
        });
        events.push(start, i === 4 ? failed(start, 1, 'Disk FULL on /var') : succeeded(start, 1));
      }
      await store.writeEvents(events);
      const q = store.queries;
      const items = async (filter: Parameters<typeof q.findExecutions>[0]) =>
        (await q.findExecutions(filter)).items.map((e) => e.startTimeMs - T0);
      expect(await items({ jobName: 'orders' })).toEqual([4000, 2000, 0]);
      expect(await items({ shardingItem: 1 })).toEqual([4000, 1000]);
      expect(await items({ ip: '10.0.0.2' })).toEqual([5000, 4000, 3000]);
      expect(await items({ source: 'FAILOVER' })).toEqual([5000]);
      expect(await items({ success: false })).toEqual([4000]);
      expect(await items({ success: true, jobName: 'orders' })).toEqual([2000, 0]);
      expect(await items({ fromMs: T0 + 1000, toMs: T0 + 3000 })).toEqual([2000, 1000]);
      expect(await items({ failureText: 'disk full' })).toEqual([4000]);
      expect(await items({ failureText: '100%_' })).toEqual([]);
      await expect(q.findExecutions({}, { limit: 0 })).rejects.toThrow(
        /limit must be an integer from 1 to 1000/,
      );
      await expect(q.findExecutions({}, { cursor: 'nonsense' })).rejects.toThrow(/cursor 'nonsense'/);
      await expect(q.findExecutions({ fromMs: T0 + 1, toMs: T0 })).rejects.toThrow(
        /fromMs .* must not be after toMs/,
      );
      expect(await q.jobNames()).toEqual(['billing', 'orders']);
    });

    it('pages through executions and status traces with cursors, each row once, in order', async () => {
      const store = await open();
      const events = [];
      // 25 executions, several sharing a start time so the id breaks ties.
      for (let i = 0; i < 25; i++) events.push(started('orders', i, T0 + Math.floor(i / 3) * 1000));
      for (let i = 0; i < 7; i++)
        events.push(status('orders', 'task-1', 'TASK_RUNNING', T0 + Math.floor(i / 2)));
      await store.writeEvents(events);
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await store.queries.findExecutions({ jobName: 'orders' }, { limit: 4, cursor });
        seen.push(...page.items.map((e) => e.id));
        cursor = page.nextCursor;
        pages++;
      } while (cursor !== undefined);
      expect(pages).toBe(7);
      const all = (await store.queries.findExecutions({ jobName: 'orders' }, { limit: 1000 })).items.map(
        (e) => e.id,
      );
      expect(seen).toEqual(all);
      expect(new Set(seen).size).toBe(25);
      const first = await store.queries.findStatusTraces({ taskId: 'task-1' }, { limit: 5 });
      const second = await store.queries.findStatusTraces(
        { taskId: 'task-1' },
        { limit: 5, cursor: first.nextCursor },
      );
      expect(second.nextCursor).toBeUndefined();
      const times = [...first.items, ...second.items].map((s) => s.creationTimeMs - T0);
      expect(times).toEqual([0, 0, 1, 1, 2, 2, 3]);
      await expect(store.queries.findStatusTraces({})).rejects.toThrow(/taskId or a jobName/);
    });

    it('computes runs, failures and p50/p95 durations per job and hour in SQL', async () => {
      const store = await open();
      const events = [];
      for (let s = 1; s <= 10; s++) {
        const start = started('orders', s, T0 + s * 60_000);
        events.push(start, s === 3 ? failed(start, s, 'x') : succeeded(start, s));
      }
      const nextHour = started('orders', 0, T0 + HOUR + 5);
      events.push(nextHour, succeeded(nextHour, 0.5), started('orders', 1, T0 + HOUR + 6));
      events.push(succeeded(started('billing', 0, T0), 4));
      await store.writeEvents(events);
      const hours = await store.queries.jobStatistics({ jobName: 'orders', granularity: 'hour' });
      expect(hours).toHaveLength(2);
      expect(hours[0]).toMatchObject({
        jobName: 'orders',
        bucketStartMs: T0,
        runs: 10,
        failures: 1,
        running: 0,
      });
      expect(hours[0]?.p50DurationSeconds).toBeCloseTo(5.5, 3);
      expect(hours[0]?.p95DurationSeconds).toBeCloseTo(9.55, 3);
      expect(hours[1]).toMatchObject({ bucketStartMs: T0 + HOUR, runs: 2, failures: 0, running: 1 });
      expect(hours[1]?.p50DurationSeconds).toBeCloseTo(0.5, 3);
      const days = await store.queries.jobStatistics({ granularity: 'day' });
      expect(days.map((d) => [d.jobName, d.bucketStartMs, d.runs])).toEqual([
        ['billing', Date.parse('2026-03-01T00:00:00Z'), 1],
        ['orders', Date.parse('2026-03-01T00:00:00Z'), 12],
      ]);
      await expect(store.queries.jobStatistics({ granularity: 'week' as 'day' })).rejects.toThrow(
        /granularity must be 'hour' or 'day'/,
      );
    });

    it('applies retention by age and by row count in bounded batches', async () => {
      const store = await open();
      const events = [];
      for (let i = 0; i < 30; i++) {
        const start = started('orders', i, T0 + i * HOUR);
        events.push(
          start,
          succeeded(start, 1),
          status('orders', start.taskId, 'TASK_RUNNING', T0 + i * HOUR),
        );
      }
      await store.writeEvents(events);
      const now = T0 + 30 * HOUR;
      // Older than 20 hours: the first 10 rows of each table (start at T0 .. T0+9h < now-20h = T0+10h).
      expect(await store.applyRetention({ maxAgeMs: 20 * HOUR, batchSize: 3 }, now)).toEqual({
        executionsDeleted: 10,
        statusTracesDeleted: 10,
      });
      expect(await store.applyRetention({ maxRows: 5, batchSize: 4 }, now)).toEqual({
        executionsDeleted: 15,
        statusTracesDeleted: 15,
      });
      const left = (await store.queries.findExecutions({}, { limit: 100 })).items.map(
        (e) => (e.startTimeMs - T0) / HOUR,
      );
      expect(left).toEqual([29, 28, 27, 26, 25]);
      await expect(store.applyRetention({})).rejects.toThrow(/maxAgeMs and\/or maxRows/);
      await expect(store.applyRetention({ maxRows: -1 })).rejects.toThrow(
        /retention.maxRows must be a positive integer/,
      );
    });
  });
}
