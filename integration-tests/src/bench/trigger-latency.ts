/**
 * Benchmark 1, trigger latency: scheduled fire time (the whole second; the cron is
 * `* * * * * ?`) → item handler start, for 1 and 3 job instances (separate OS processes) × 8
 * items, on each backend; plus, in the same run, a bare `setTimeout` in a process of its own (the
 * floor a timer gives on this machine) and the peers node-cron 4 (in the benchmark's process) and
 * BullMQ's job scheduler on a local Redis with 3 workers.
 *
 * @module
 */

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  type Backend,
  findRedisServer,
  machineBusyPercent,
  machineCpu,
  startRedisServer,
} from './backends.js';
import {
  type BenchBuild,
  BenchProcess,
  benchBuilds,
  everySecondJobs,
  measureWindow,
  sleep,
} from './processes.js';
import { type BenchTable, formatMs, type LatencySummary, summarize } from './stats.js';

/** Options of {@link benchTriggerLatency}. */
export interface TriggerLatencyOptions {
  /** Fires measured per configuration. */
  readonly fires: number;
  /** Instance counts to run. @defaultValue [1, 3] */
  readonly instanceCounts?: readonly number[];
  /** Items of the job. @defaultValue 8 */
  readonly items?: number;
}

interface Row {
  readonly system: string;
  /** The build the instances ran ({@link benchBuilds}), or `—` for a peer. */
  readonly build: string;
  readonly backend: string;
  readonly processes: string;
  readonly fires: number;
  readonly expectedStarts: number;
  readonly starts: number;
  readonly summary: LatencySummary | undefined;
  /** Fire → run staging (before the registry round trip of `monitorExecution`). */
  readonly staging: LatencySummary | undefined;
  /** Whole machine busy during the window, % of all cores (other users included). */
  readonly machineBusyPercent: number;
  readonly note: string;
}

async function elasticJobRow(
  backend: Backend,
  instances: number,
  items: number,
  fires: number,
  monitorExecution: boolean,
  build: BenchBuild,
): Promise<Row> {
  const namespace = `bench-trigger-${instances}-${monitorExecution ? 'm' : 'nm'}-${Date.now()}`;
  const processes: BenchProcess[] = [];
  try {
    for (let i = 0; i < instances; i++) {
      processes.push(
        await BenchProcess.start(
          {
            registry: backend.connection,
            namespace,
            sessionTimeoutMs: 10_000,
            instanceId: `127.0.0.1@-@t${i}`,
            jobs: everySecondJobs('trigger', items, monitorExecution),
          },
          undefined,
          build,
        ),
      );
    }
    await sleep(2500); // resharding after the last join, JIT warm-up
    const cpuBefore = machineCpu();
    const measurements = await measureWindow(processes, fires);
    const machineBusy = machineBusyPercent(cpuBefore, machineCpu());
    const latencies = measurements.flatMap((m) => m.latenciesMs);
    return {
      system: 'ElasticJob-TS',
      build: build.label,
      backend: backend.name,
      processes: instances === 1 ? '1 (one process)' : `${instances} (${instances} processes)`,
      fires,
      expectedStarts: fires * items,
      starts: latencies.length,
      summary: summarize(latencies),
      staging: summarize(measurements.flatMap((m) => m.stagingMs)),
      machineBusyPercent: machineBusy,
      note: monitorExecution
        ? 'monitorExecution on (default)'
        : 'monitorExecution off: no registry call on the path',
    };
  } finally {
    await Promise.all(processes.map((p) => p.stop()));
  }
}

async function nodeCronRow(fires: number): Promise<Row> {
  const cron = (await import('node-cron')).default;
  const latencies: number[] = [];
  let recording = false;
  let cpuBefore = machineCpu();
  let machineBusy = Number.NaN;
  const task = cron.schedule('* * * * * *', () => {
    const now = Date.now();
    if (recording) latencies.push(now - Math.floor(now / 1000) * 1000);
  });
  try {
    await sleep(1500);
    recording = true;
    cpuBefore = machineCpu();
    await sleep(fires * 1000);
    machineBusy = machineBusyPercent(cpuBefore, machineCpu());
    recording = false;
  } finally {
    await task.destroy();
  }
  const got = latencies.slice(0, fires);
  return {
    system: 'node-cron 4 (peer)',
    build: '—',
    backend: 'none',
    processes: '1 (this process)',
    fires,
    expectedStarts: fires,
    starts: got.length,
    summary: summarize(got),
    staging: undefined,
    machineBusyPercent: machineBusy,
    note: 'in-process timer',
  };
}

/**
 * A bare `setTimeout` armed for each whole second, in a Node.js process of its own, as each
 * ElasticJob-TS instance is: the lateness of a timer on this machine at this time (one sample per
 * second), the floor any scheduler's trigger latency sits on.
 */
const TIMER_FLOOR_SCRIPT = `
const fires = Number(process.argv[1]);
const latencies = [];
const arm = () => setTimeout(() => {
  const now = Date.now();
  latencies.push(now - Math.round(now / 1000) * 1000);
  if (latencies.length < fires + 1) arm(); else console.log(JSON.stringify(latencies.slice(1)));
}, 1000 - (Date.now() % 1000));
arm();
`;

async function timerFloorRow(fires: number): Promise<Row> {
  const cpuBefore = machineCpu();
  const { stdout } = await promisify(execFile)(process.execPath, ['-e', TIMER_FLOOR_SCRIPT, String(fires)]);
  const machineBusy = machineBusyPercent(cpuBefore, machineCpu());
  const latencies = JSON.parse(stdout) as number[];
  return {
    build: '—',
    system: 'setTimeout to the second (floor)',
    backend: 'none',
    processes: '1 (own process)',
    fires,
    expectedStarts: fires,
    starts: latencies.length,
    summary: summarize(latencies),
    staging: undefined,
    machineBusyPercent: machineBusy,
    note: 'bare Node.js timer, nothing else in the process',
  };
}

async function bullmqRow(fires: number): Promise<Row> {
  const base = {
    system: 'BullMQ job scheduler (peer)',
    build: '—',
    processes: '3 workers (this process)',
    fires,
    expectedStarts: fires,
  };
  const executable = findRedisServer();
  if (executable === undefined) {
    return {
      ...base,
      backend: 'redis',
      starts: 0,
      summary: undefined,
      staging: undefined,
      machineBusyPercent: Number.NaN,
      note: 'redis-server is not installed: not measured',
    };
  }
  const { Queue, Worker } = await import('bullmq');
  const redis = await startRedisServer(executable);
  const connection = { host: redis.host, port: redis.port, maxRetriesPerRequest: null };
  const queueName = `bench-${Date.now()}`;
  const queue = new Queue(queueName, { connection });
  const latencies: number[] = [];
  let recording = false;
  let cpuBefore = machineCpu();
  let machineBusy = Number.NaN;
  const workers = Array.from(
    { length: 3 },
    () =>
      new Worker(
        queueName,
        async (job) => {
          const now = Date.now();
          const scheduled =
            (job.opts as { prevMillis?: number }).prevMillis ??
            Number(/:(\d+)$/.exec(job.id ?? '')?.[1] ?? Number.NaN);
          if (recording) latencies.push(now - scheduled);
        },
        { connection, concurrency: 1 },
      ),
  );
  try {
    await Promise.all(workers.map((worker) => worker.waitUntilReady()));
    await queue.upsertJobScheduler('tick', { pattern: '* * * * * *' }, { name: 'tick', data: {} });
    await sleep(2500);
    recording = true;
    cpuBefore = machineCpu();
    await sleep(fires * 1000 + 500);
    machineBusy = machineBusyPercent(cpuBefore, machineCpu());
    recording = false;
  } finally {
    await queue.removeJobScheduler('tick').catch(() => {});
    await Promise.allSettled(workers.map((worker) => worker.close(true)));
    await queue.close();
    await redis.stop();
  }
  const got = latencies.slice(0, fires);
  return {
    ...base,
    backend: `redis ${redis.version}`,
    starts: got.length,
    summary: summarize(got),
    staging: undefined,
    machineBusyPercent: machineBusy,
    note: 'one job per tick, first of 3 workers takes it',
  };
}

/**
 * Runs benchmark 1 on every backend and the peers.
 *
 * @param backends - started backends.
 * @param options - fires per configuration, instance counts, items.
 * @returns the table and raw figures.
 */
export async function benchTriggerLatency(
  backends: readonly Backend[],
  options: TriggerLatencyOptions,
): Promise<BenchTable> {
  const items = options.items ?? 8;
  const rows: Row[] = [];
  const builds = benchBuilds();
  for (const backend of backends) {
    for (const instances of options.instanceCounts ?? [1, 3]) {
      for (const build of builds) {
        rows.push(await elasticJobRow(backend, instances, items, options.fires, true, build));
      }
    }
    for (const build of builds)
      rows.push(await elasticJobRow(backend, 1, items, options.fires, false, build));
  }
  rows.push(await timerFloorRow(options.fires));
  rows.push(await nodeCronRow(options.fires));
  rows.push(await bullmqRow(options.fires));
  return {
    id: 'triggerLatency',
    title: '1. Trigger latency (scheduled second → item handler start)',
    caption:
      `Cron \`* * * * * ?\`, ${items} items, ${options.fires} fires per configuration (fewer than 60 to keep ` +
      `\`npm run bench\` within 15 minutes; starts = item handler calls seen in the window; ElasticJob-TS: ` +
      `handler returns at once, each instance its own OS process). Latency = handler start − the whole second of the fire, ms. "staging p50/p99" = ` +
      `the kernel's TASK_STAGING event of the run − the second (timer and dispatch, before the one registry ` +
      `transaction that registers the running items; negative: prepared ahead of the fire, whose user code ` +
      `then waits for the second). "machine ` +
      `busy" = all cores during the window (other engineers' load included).`,
    header: [
      'system',
      'build',
      'backend',
      'instances',
      'fires',
      'starts / expected',
      'p50 ms',
      'p99 ms',
      'max ms',
      'staging p50 / p99 ms',
      'machine busy %',
      'note',
    ],
    rows: rows.map((row) => [
      row.system,
      row.build,
      row.backend,
      row.processes,
      String(row.fires),
      `${row.starts} / ${row.expectedStarts}`,
      row.summary ? formatMs(row.summary.medianMs) : 'n/a',
      row.summary ? formatMs(row.summary.p99Ms) : 'n/a',
      row.summary ? formatMs(row.summary.maxMs) : 'n/a',
      row.staging ? `${formatMs(row.staging.medianMs)} / ${formatMs(row.staging.p99Ms)}` : '—',
      Number.isNaN(row.machineBusyPercent) ? 'n/a' : String(Math.round(row.machineBusyPercent)),
      row.note,
    ]),
    data: rows,
  };
}
