/**
 * History endpoints over a real SQLite history store of the tracing package: filters, cursor pages,
 * a task's status trace, per-job statistics, and bad input naming the field.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryRegistryCenter } from '@elasticjob-ts/registry-memory';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningConsole } from '../src/index.js';
import { ApiClient, SEEDED_TASK_ID, seedHistory, startTestConsole } from './support/console-fixture.js';

interface Execution {
  id: string;
  shardingItem: number;
  success: boolean;
  executionSource: string;
  failureCause: string | null;
  startTime: string;
}

describe('history endpoints (SQLite history store)', () => {
  let dir: string;
  let registry: MemoryRegistryCenter;
  let running: RunningConsole;
  let api: ApiClient;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ejc-history-'));
    registry = new MemoryRegistryCenter({ namespace: 'history' });
    await registry.start();
    running = await startTestConsole({ registries: [{ client: registry }], history: await seedHistory(dir) });
    api = new ApiClient(running.url);
  });

  afterAll(async () => {
    await running?.close();
    await registry?.close();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('searches executions by job, item, result and time, newest first, in cursor pages', async () => {
    const all = await api.get<{ items: Execution[]; nextCursor: string | null }>(
      '/api/v1/executions?job=orders&limit=5',
    );
    expect(all.items).toHaveLength(5);
    expect(all.items.map((row) => row.id)).toEqual(['exec-0', 'exec-1', 'exec-2', 'exec-3', 'exec-4']);
    const next = await api.get<{ items: Execution[]; nextCursor: string | null }>(
      `/api/v1/executions?job=orders&limit=5&cursor=${encodeURIComponent(all.nextCursor!)}`,
    );
    expect(next.items.map((row) => row.id)).toEqual(['exec-5', 'exec-6', 'exec-7', 'exec-8', 'exec-9']);
    expect(next.items[0]!.executionSource).toBe('FAILOVER');

    const failed = await api.get<{ items: Execution[] }>('/api/v1/executions?success=false');
    expect(failed.items.map((row) => row.id)).toEqual(['exec-3', 'exec-7']);
    expect(failed.items[0]!.failureCause).toContain('payment gateway timed out');
    const itemOne = await api.get<{ items: Execution[] }>('/api/v1/executions?item=1&ip=10.0.0.2&limit=50');
    expect(itemOne.items.every((row) => row.shardingItem === 1)).toBe(true);
    expect(itemOne.items).toHaveLength(6);
    const from = new Date(Date.parse(all.items[2]!.startTime)).toISOString();
    const recent = await api.get<{ items: Execution[] }>(`/api/v1/executions?from=${from}`);
    expect(recent.items.map((row) => row.id)).toEqual(['exec-0', 'exec-1', 'exec-2']);
  });

  it.each([
    ['/api/v1/executions?cursor=garbage', 'query.cursor', /cursor 'garbage' is not a nextCursor/],
    ['/api/v1/status-traces', 'query.taskId', /status traces need a taskId or a jobName filter/],
  ])('answers %s with a 400 naming %s, not an internal error', async (path, field, message) => {
    const response = await api.request('GET', path);
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    const body = (await response.json()) as { type: string; field: string; detail: string };
    expect(body).toMatchObject({ type: 'urn:elasticjob-console:invalid-input', field });
    expect(body.detail).toMatch(message);
  });

  it("shows a task's status trace in order", async () => {
    const trace = await api.get<{ items: { state: string; shardingItem: string }[] }>(
      `/api/v1/status-traces?taskId=${encodeURIComponent(SEEDED_TASK_ID)}`,
    );
    expect(trace.items.map((row) => row.state)).toEqual(['TASK_STAGING', 'TASK_RUNNING', 'TASK_FINISHED']);
    expect(trace.items[0]!.shardingItem).toBe('0,1');
  });

  it('computes runs, failures and duration percentiles per hour', async () => {
    const buckets = await api.get<{ runs: number; failures: number; p50DurationMs: number | null }[]>(
      '/api/v1/jobs/orders/stats?bucket=hour',
    );
    expect(buckets.reduce((sum, bucket) => sum + bucket.runs, 0)).toBe(12);
    expect(buckets.reduce((sum, bucket) => sum + bucket.failures, 0)).toBe(2);
    expect(buckets.some((bucket) => bucket.p50DurationMs !== null && bucket.p50DurationMs >= 200)).toBe(true);
  });

  it('names the field of bad input', async () => {
    for (const [query, field] of [
      ['from=yesterday', 'query.from'],
      ['item=-2', 'query.item'],
      ['limit=0', 'query.limit'],
      ['from=2026-12-04T10:00:00Z&to=2026-12-04T09:00:00Z', 'query.to'],
    ] as const) {
      const response = await api.request('GET', `/api/v1/executions?${query}`);
      expect(response.status, query).toBe(400);
      expect(((await response.json()) as { field: string }).field, query).toBe(field);
    }
    const stats = await api.request('GET', '/api/v1/jobs/orders/stats?bucket=week');
    expect(stats.status).toBe(400);
    expect(((await stats.json()) as { field: string }).field).toBe('query.bucket');
  });
});
