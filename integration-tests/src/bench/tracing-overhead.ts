/**
 * `npm run bench:tracing`: the cost of event tracing, in one run.
 *
 * 1. Trigger latency with and without tracing in the same run: one job (cron `* * * * * ?`, 8
 *    items, memory registry, real clock) whose tracing is switched every 5 fires between none,
 *    SQLite and PostgreSQL (a server started by the harness with its default durability), so the
 *    three modes share the machine's load. Latency = the whole-second fire time → the item
 *    handler's start; median and p99 per mode.
 * 2. Sustained rows/s into each backend: start + completion events for N item executions pushed
 *    through the writer (batches of 500, one transaction each) until every row is written.
 *
 * Options: `--fires N` (default 30), `--executions N` (default 50000).
 *
 * @module
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createJobExecutionEvent,
  createJobStatusTraceEvent,
  type JobEvent,
  jobExecutionSucceeded,
  ScheduleJobBootstrap,
  silentLogger,
} from '@elasticjob-ts/core';
import { MemoryRegistryCenter, MemoryRegistryServer } from '@elasticjob-ts/registry-memory';
import { startPostgresqlServer } from '@elasticjob-ts/test-support';
import {
  type EventTracing,
  EventTracingWriter,
  openHistoryStore,
  startEventTracing,
} from '@elasticjob-ts/tracing';
import { machineBusyPercent, machineCpu } from './backends.js';
import { formatMs, markdownTable, summarize } from './stats.js';

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(name);
  const value = index >= 0 ? Number(process.argv[index + 1]) : fallback;
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer`);
  return value;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function triggerLatency(fires: number, urls: Record<string, string | undefined>): Promise<string> {
  const server = new MemoryRegistryServer();
  const registry = new MemoryRegistryCenter({ server, namespace: 'bench-tracing' });
  await registry.start();
  const latencies = new Map<string, number[]>(Object.keys(urls).map((label) => [label, []]));
  let current: number[] | undefined;
  const bootstrap = new ScheduleJobBootstrap(
    registry,
    {
      async execute() {
        const now = Date.now();
        current?.push(now - Math.floor(now / 1000) * 1000);
      },
    },
    { jobName: 'bench', cron: '* * * * * ?', shardingTotalCount: 8 },
    { instanceId: '127.0.0.1@-@bench', serverIp: '127.0.0.1', logger: silentLogger },
  );
  await bootstrap.schedule();
  const tracings = new Map<string, EventTracing>();
  for (const [label, url] of Object.entries(urls)) {
    if (url !== undefined) tracings.set(label, await startEventTracing({ url }));
  }
  await sleep(2500); // first resharding, JIT warm-up
  const before = machineCpu();
  // Blocks of 5 fires per mode, rotating, so every mode sees the same machine load.
  const blockFires = 5;
  for (let done = 0; done < fires; done += blockFires) {
    for (const label of Object.keys(urls)) {
      const tracing = tracings.get(label);
      const detach = tracing?.attach(bootstrap);
      await sleep(1000 - (Date.now() % 1000) + 500); // mid-second: between fires
      current = latencies.get(label);
      await sleep(blockFires * 1000);
      current = undefined;
      detach?.();
    }
  }
  const busy = machineBusyPercent(before, machineCpu());
  await bootstrap.shutdown();
  const written = [...tracings].map(([label, t]) => `${label} ${t.writer.stats.writtenEvents}`);
  for (const tracing of tracings.values()) await tracing.close();
  await registry.close();
  const rows = [...latencies].map(([label, samples]) => {
    const s = summarize(samples);
    return [label, String(s.count), formatMs(s.medianMs), formatMs(s.p99Ms), formatMs(s.maxMs)];
  });
  return [
    `### Trigger latency with and without event tracing (${fires} fires per mode, same run)`,
    '',
    'One job × 8 items on the memory registry, cron every second; tracing switched between none, ' +
      `SQLite and PostgreSQL every ${blockFires} fires, so all modes share the machine's load (busy ` +
      `${busy.toFixed(0)}% of all cores during the run). Events written: ${written.join(', ')}.`,
    '',
    markdownTable(['tracing', 'item starts', 'median ms', 'p99 ms', 'max ms'], rows),
    '',
  ].join('\n');
}

function executionEvents(count: number): JobEvent[] {
  const events: JobEvent[] = [];
  const t0 = Date.now() - count;
  for (let i = 0; i < count; i++) {
    const taskId = `bench@-@${i % 8}@-@READY@-@127.0.0.1@-@1`;
    const start = createJobExecutionEvent({
      jobName: 'bench',
      taskId,
      source: 'NORMAL_TRIGGER',
      shardingItem: i % 8,
      startTimeMs: t0 + i,
    });
    events.push(start, jobExecutionSucceeded(start, t0 + i + 5));
    if (i % 8 === 0) {
      events.push(
        createJobStatusTraceEvent({
          jobName: 'bench',
          taskId,
          source: 'NORMAL_TRIGGER',
          shardingItems: [0, 1, 2, 3, 4, 5, 6, 7],
          state: 'TASK_RUNNING',
          message: '',
          creationTimeMs: t0 + i,
        }),
      );
    }
  }
  return events;
}

async function rowsPerSecond(executions: number, urls: Record<string, string>): Promise<string> {
  const rows: string[][] = [];
  for (const [label, url] of Object.entries(urls)) {
    const store = await openHistoryStore({ url });
    const events = executionEvents(executions);
    const writer = new EventTracingWriter(store, { maxQueuedEvents: events.length, flushIntervalMs: 1 });
    const started = performance.now();
    for (const event of events) writer.record(event);
    const recordMs = performance.now() - started;
    await writer.flush();
    const seconds = (performance.now() - started) / 1000;
    const stored = (await store.queries.jobStatistics({ jobName: 'bench', granularity: 'day' })).reduce(
      (sum, b) => sum + b.runs,
      0,
    );
    await writer.close();
    await store.close();
    const tableRows = executions + Math.ceil(executions / 8);
    rows.push([
      label,
      String(events.length),
      String(stored),
      String(writer.stats.droppedEvents),
      ((recordMs * 1e6) / events.length).toFixed(0),
      seconds.toFixed(2),
      Math.round(tableRows / seconds).toLocaleString('en-US'),
    ]);
  }
  return [
    `### Sustained writes (${executions} item executions: start + completion events, plus a status row per 8)`,
    '',
    'Events recorded as fast as possible into one writer (batches of 500 events, one transaction ' +
      'each: one upsert into JOB_EXECUTION_LOG, one insert into JOB_STATUS_TRACE_LOG).',
    '',
    markdownTable(
      ['backend', 'events', 'execution rows', 'dropped', 'record() ns/event', 'seconds', 'table rows/s'],
      rows,
    ),
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const fires = option('--fires', 30);
  const executions = option('--executions', 50_000);
  const dir = mkdtempSync(join(tmpdir(), 'bench-tracing-'));
  const postgres = await startPostgresqlServer({ durable: true });
  try {
    const pgUrl = (name: string) => postgres.url.replace(/\/[^/]*$/, `/${name}`);
    const { default: pg } = await import('pg');
    const admin = new pg.Client({ connectionString: postgres.url });
    await admin.connect();
    for (const name of ['latency', 'throughput']) await admin.query(`create database ${name}`);
    await admin.end();
    console.log(
      `Node ${process.version}, PostgreSQL at ${postgres.url} (durable defaults), SQLite in ${dir} (WAL)\n`,
    );
    console.log(
      await triggerLatency(fires, {
        none: undefined,
        sqlite: `sqlite:${join(dir, 'latency.db')}`,
        postgresql: pgUrl('latency'),
      }),
    );
    console.log(
      await rowsPerSecond(executions, {
        sqlite: `sqlite:${join(dir, 'throughput.db')}`,
        postgresql: pgUrl('throughput'),
      }),
    );
  } finally {
    await postgres.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
