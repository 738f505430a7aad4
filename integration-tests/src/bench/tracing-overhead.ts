/**
 * `npm run bench:tracing`: the cost of event tracing, in one run.
 *
 * 1. Trigger latency with and without tracing, side by side in one process: three identical jobs
 *    (cron `* * * * * ?`, 8 items, memory registry, real clock) fire on the same seconds; one has
 *    no tracing, one traces into SQLite, one into PostgreSQL (a server started by the harness with
 *    its default durability). Latency = the whole-second fire time → the item handler's start;
 *    median and p99 per job over the same fires.
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
import { startPostgresqlServer } from '@elasticjob-ts/registry-conformance/servers';
import { MemoryRegistryCenter, MemoryRegistryServer } from '@elasticjob-ts/registry-memory';
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
  const latencies = new Map<string, number[]>();
  const bootstraps: ScheduleJobBootstrap[] = [];
  const registries: MemoryRegistryCenter[] = [];
  const tracings: EventTracing[] = [];
  let recording = false;
  for (const [label, url] of Object.entries(urls)) {
    const samples: number[] = [];
    latencies.set(label, samples);
    const registry = new MemoryRegistryCenter({ server, namespace: `bench-tracing-${label}` });
    await registry.start();
    registries.push(registry);
    const bootstrap = new ScheduleJobBootstrap(
      registry,
      {
        async execute() {
          const now = Date.now();
          if (recording) samples.push(now - Math.floor(now / 1000) * 1000);
        },
      },
      { jobName: 'bench', cron: '* * * * * ?', shardingTotalCount: 8 },
      { instanceId: `127.0.0.1@-@${label}`, serverIp: '127.0.0.1', logger: silentLogger },
    );
    await bootstrap.schedule();
    if (url !== undefined) {
      const tracing = await startEventTracing({ url });
      tracing.attach(bootstrap);
      tracings.push(tracing);
    }
    bootstraps.push(bootstrap);
  }
  await sleep(2500); // first resharding, JIT warm-up
  const before = machineCpu();
  recording = true;
  await sleep(fires * 1000);
  recording = false;
  const busy = machineBusyPercent(before, machineCpu());
  for (const bootstrap of bootstraps) await bootstrap.shutdown();
  const written = tracings.map((t) => t.writer.stats.writtenEvents);
  for (const tracing of tracings) await tracing.close();
  for (const registry of registries) await registry.close();
  const rows = [...latencies].map(([label, samples]) => {
    const s = summarize(samples);
    return [label, String(s.count), formatMs(s.medianMs), formatMs(s.p99Ms), formatMs(s.maxMs)];
  });
  return [
    `### Trigger latency with and without event tracing (${fires} fires, same run)`,
    '',
    `Three jobs × 8 items in one process on the memory registry, firing on the same seconds; machine ` +
      `busy ${busy.toFixed(0)}% of all cores during the window; events written: ${written.join(', ')}.`,
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
