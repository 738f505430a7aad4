/**
 * Benchmark 5, scale: 1, 100 and 1,000 jobs (one item each, cron every second) in one process,
 * and 1,000 jobs in each of 3 processes (3 instances per job); per configuration: startup time
 * and the CPU it took, RSS, CPU share at steady state (`process.cpuUsage` over a window), registry nodes and watches
 * per job (the server's own node and watch counts, and `watch()` registrations counted by the
 * counting wrapper), adapter calls per fire, and trigger latency.
 *
 * @module
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parseCron } from '@elasticjob-ts/core';
import { type Backend, machineBusyPercent, machineCpu } from './backends.js';
import {
  type BenchBuild,
  BenchProcess,
  benchBuilds,
  everySecondJobs,
  measureWindow,
  sleep,
} from './processes.js';
import { type BenchTable, formatMs, summarize } from './stats.js';

/** One scale configuration. */
export interface ScaleConfiguration {
  readonly processes: number;
  readonly jobs: number;
  /**
   * Idle-scheduled jobs: a cron that never fires in the window (`0 0 0 1 1 ? 2099`), to show
   * what jobs at rest cost the registry. @defaultValue false (every second)
   */
  readonly idle?: boolean;
}

/** A cron that does not fire within any benchmark window. */
const IDLE_CRON = '0 0 0 1 1 ? 2099';

/** Options of {@link benchScale}. */
export interface ScaleOptions {
  /** Window length in s. */
  readonly windowSeconds: number;
  /** Configurations. @defaultValue 1×1, 1×100, 1×1000, 3×1000 */
  readonly configurations?: readonly ScaleConfiguration[];
  /** Bound of one process's startup, in ms (a configuration that needs longer is reported as not fitting). */
  readonly startupTimeoutMs?: number;
}

interface Row {
  readonly backend: string;
  readonly build: string;
  readonly processes: number;
  readonly jobs: number;
  readonly idle: boolean;
  readonly fitted: boolean;
  readonly note: string;
  readonly startupS?: number;
  /** CPU of the busiest process from fork to its last job scheduled, in s. */
  readonly startupCpuS?: number;
  readonly rssMb?: number;
  readonly heapMb?: number;
  readonly heapTotalMb?: number;
  readonly cpuPercent?: number;
  /** Registry server's CPU over the window, % of one core. */
  readonly serverCpuPercent?: number;
  /** Whole machine busy over the window, % of all cores (other users' load included). */
  readonly machineBusyPercent?: number;
  readonly nodesPerJob?: number;
  readonly serverWatchesPerJob?: number;
  readonly watchCallsPerJobInstance?: number;
  readonly callsPerJobFire?: number;
  /** Adapter calls per job fire, per method (methods with no call left out); in the JSON only. */
  readonly callsPerJobFireByMethod?: Readonly<Record<string, number>>;
  /** Operations inside transactions per job fire; in the JSON only. */
  readonly transactionOpsPerJobFire?: number;
  /** Watch events delivered to the jobs' listeners per job fire; in the JSON only. */
  readonly watchEventsPerJobFire?: number;
  readonly firedRatio?: number;
  readonly p50Ms?: number;
  readonly p99Ms?: number;
  readonly maxMs?: number;
  readonly stagingP50Ms?: number;
  readonly stagingP99Ms?: number;
  /** Requests the registry server received over the window (all processes), per minute. */
  readonly serverRequestsPerMinute?: number;
}

const MB = 1024 * 1024;

function round(value: number, digits = 1): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

async function scaleRow(
  backend: Backend,
  configuration: ScaleConfiguration,
  windowSeconds: number,
  startupTimeoutMs: number,
  build: BenchBuild,
): Promise<Row> {
  const { processes: count, jobs } = configuration;
  const idle = configuration.idle === true;
  const base = { backend: backend.name, build: build.label, processes: count, jobs, idle };
  const namespace = `bench-scale-${count}x${jobs}${idle ? 'i' : ''}-${Date.now()}`;
  const jobsConfig = everySecondJobs('scale', 1, true, jobs);
  const before = await backend.counters();
  const processes: BenchProcess[] = [];
  try {
    const started = Date.now();
    const results = await Promise.allSettled(
      Array.from({ length: count }, (_, i) =>
        BenchProcess.start(
          {
            registry: backend.connection,
            namespace,
            sessionTimeoutMs: 30_000,
            instanceId: `127.0.0.1@-@s${i}`,
            jobs: idle ? { ...jobsConfig, cron: IDLE_CRON } : jobsConfig,
            startConcurrency: 25,
          },
          startupTimeoutMs,
          build,
        ),
      ),
    );
    for (const result of results) if (result.status === 'fulfilled') processes.push(result.value);
    const failed = results.find((result) => result.status === 'rejected');
    if (failed !== undefined) {
      return {
        ...base,
        fitted: false,
        note: `did not fit: ${(failed as PromiseRejectedResult).reason instanceof Error ? ((failed as PromiseRejectedResult).reason as Error).message.split('\n')[0] : String((failed as PromiseRejectedResult).reason)}`,
      };
    }
    const startupS = (Date.now() - started) / 1000;
    await sleep(3000);
    const windowBefore = await backend.counters();
    const machineBefore = machineCpu();
    const measurements = await measureWindow(processes, windowSeconds);
    const after = await backend.counters();
    const machineBusy = machineBusyPercent(machineBefore, machineCpu());
    const windowWallMs = Math.max(...measurements.map((m) => m.wallMs)) + 500;
    const latencies = measurements.flatMap((m) => m.latenciesMs);
    const summary = summarize(latencies);
    const staging = summarize(measurements.flatMap((m) => m.stagingMs));
    const fires = measurements.reduce((sum, m) => sum + m.fires, 0);
    const calls = measurements.reduce((sum, m) => sum + m.counts.requests, 0);
    const watchCalls = measurements.reduce((sum, m) => sum + m.counts.activeWatches, 0);
    const byMethod: Record<string, number> = {};
    for (const m of measurements) {
      for (const [method, value] of Object.entries(m.counts.calls)) {
        if (value > 0) byMethod[method] = (byMethod[method] ?? 0) + value;
      }
    }
    for (const method of Object.keys(byMethod)) {
      byMethod[method] = round((byMethod[method] ?? 0) / Math.max(1, fires), 3);
    }
    return {
      ...base,
      fitted: true,
      note: '',
      startupS: round(startupS),
      startupCpuS: round(Math.max(...processes.map((p) => p.startupCpuMs)) / 1000),
      rssMb: round(Math.max(...measurements.map((m) => m.rssBytes)) / MB),
      heapMb: round(Math.max(...measurements.map((m) => m.heapUsedBytes)) / MB),
      heapTotalMb: round(Math.max(...measurements.map((m) => m.heapTotalBytes)) / MB),
      cpuPercent: round(
        (measurements.reduce((sum, m) => sum + m.cpuMs / m.wallMs, 0) / measurements.length) * 100,
      ),
      serverCpuPercent: round(((after.cpuMs - windowBefore.cpuMs) / windowWallMs) * 100),
      machineBusyPercent: round(machineBusy),
      nodesPerJob: round((after.nodes - before.nodes) / jobs),
      serverWatchesPerJob: round((after.watches - before.watches) / jobs),
      watchCallsPerJobInstance: round(watchCalls / (jobs * count), 2),
      callsPerJobFire: round(calls / Math.max(1, fires), 2),
      callsPerJobFireByMethod: byMethod,
      transactionOpsPerJobFire: round(
        measurements.reduce((sum, m) => sum + m.counts.transactionOps, 0) / Math.max(1, fires),
        2,
      ),
      watchEventsPerJobFire: round(
        measurements.reduce((sum, m) => sum + m.counts.watchEvents, 0) / Math.max(1, fires),
        2,
      ),
      firedRatio: round(fires / (jobs * windowSeconds), 3),
      serverRequestsPerMinute: round(((after.requests - windowBefore.requests) / windowWallMs) * 60_000),
      p50Ms: summary.medianMs,
      p99Ms: summary.p99Ms,
      maxMs: summary.maxMs,
      stagingP50Ms: staging.medianMs,
      stagingP99Ms: staging.p99Ms,
    };
  } finally {
    await Promise.all(processes.map((p) => p.stop(60_000)));
  }
}

/**
 * Retained heap of parsed cron expressions, measured by parsing 200 and comparing the heap after
 * full GCs: 200 different expressions (what 200 jobs on different schedules hold), and 200 parses
 * of `* * * * * ?` (what 200 jobs on one schedule hold; {@link parseCron} shares a parse).
 *
 * @returns bytes per parse, for distinct and for repeated expressions.
 */
export function cronHeapProbe(): { distinctBytes: number; repeatedBytes: number } {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const count = 200;
  const retained = (expressionOf: (i: number) => string): number => {
    gc();
    gc();
    const before = process.memoryUsage().heapUsed;
    const kept = Array.from({ length: count }, (_, i) => parseCron(expressionOf(i), { timeZone: 'UTC' }));
    gc();
    gc();
    const after = process.memoryUsage().heapUsed;
    if (kept.length !== count) throw new Error('unreachable');
    return (after - before) / count;
  };
  return {
    distinctBytes: retained((i) => `${i % 60} ${Math.floor(i / 60)} 3 * * ?`),
    repeatedBytes: retained(() => '* * * * * ?'),
  };
}

/**
 * CPU time of one `next()` of a parsed `* * * * * ?` (what every job computes on every fire).
 *
 * @returns µs per call.
 */
export function cronNextProbe(): number {
  const expression = parseCron('* * * * * ?', { timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone });
  const start = Date.now();
  for (let i = 0; i < 1000; i++) expression.next(new Date(start + i * 1000));
  const count = 5000;
  const began = performance.now();
  for (let i = 0; i < count; i++) expression.next(new Date(start + i * 1000));
  return ((performance.now() - began) / count) * 1000;
}

/**
 * Runs benchmark 5.
 *
 * @param backends - started backends.
 * @param options - window, configurations, startup bound.
 * @returns the table and raw figures.
 */
export async function benchScale(backends: readonly Backend[], options: ScaleOptions): Promise<BenchTable> {
  const configurations = options.configurations ?? [
    { processes: 1, jobs: 1 },
    { processes: 1, jobs: 100 },
    { processes: 1, jobs: 1000 },
    { processes: 3, jobs: 1000 },
  ];
  const cronBytes = cronHeapProbe();
  const cronNextMicros = cronNextProbe();
  const builds = benchBuilds();
  const rows: Row[] = [];
  for (const backend of backends) {
    for (const configuration of configurations) {
      for (const build of builds) {
        rows.push(
          await scaleRow(
            backend,
            configuration,
            options.windowSeconds,
            options.startupTimeoutMs ?? 180_000,
            build,
          ),
        );
      }
    }
  }
  const cell = (value: number | undefined, format: (v: number) => string = String) =>
    value === undefined || Number.isNaN(value) ? 'n/a' : format(value);
  return {
    id: 'scale',
    title: '5. Scale: jobs per process',
    caption:
      `Jobs of one item each, cron every second (idle: \`${IDLE_CRON}\`, not firing in the window), ` +
      'monitorExecution on, handler returns at once; every process ' +
      `holds one instance of every job (3 processes = 3 instances per job), scheduled 25 at a time. ` +
      'startup: from the forks to the last job scheduled; startup CPU: what the busiest process spent in that ' +
      'time (user + system, `/proc`), module loading included. ' +
      `Window ${options.windowSeconds} s ` +
      'after startup + 3 s. RSS/heap: the largest process (heap used after a full GC / heap committed), read once inside the process after ' +
      `that GC at the end of the window (${options.windowSeconds + 3.5}–${options.windowSeconds + 4.5} s after its last job was scheduled, ` +
      'early in a run: at 100 jobs the steady state differs by up to 25 MB either way, see `bench:rss`); CPU: mean per process, % of one core; server CPU: ' +
      'the registry server process, % of one core; machine busy: all cores, % (includes other users); nodes and ' +
      "server watches: growth of the server's counts per job (ZooKeeper `zk_znode_count`/`zk_watch_count`, " +
      'etcd `etcd_debugging_mvcc_keys_total`/`watcher_total`); watch() calls: registrations through the ' +
      'counting wrapper per job instance; fired = fires seen / (jobs × window s); p50/p99/max = trigger ' +
      'latency (item start − second); server requests / min: what the registry server received over the ' +
      'window from every client (ZooKeeper packets with session pings; etcd unary gRPC calls, not the ' +
      'messages of its lease keep-alive stream; Redis script calls and change-feed reads); ' +
      "staging = the run's TASK_STAGING event − second (timer and dispatch, " +
      "before the run's registry transaction; negative: prepared ahead of the fire); heap after a full GC. Probe: a parsed cron expression " +
      `retains ${Math.round(cronBytes.distinctBytes / 1024)} KB of heap per distinct expression and ` +
      `${Math.round(cronBytes.repeatedBytes)} bytes per job when jobs share one (\`* * * * * ?\`); one \`next()\` ` +
      `search costs ${cronNextMicros.toFixed(0)} µs of CPU (builds that share parses search once per expression per ` +
      'second; the baseline build, per job per fire). build: `this` = this checkout, `baseline <commit>` = ' +
      '`BENCH_BASELINE`, measured in the same run.',
    header: [
      'backend',
      'build',
      'processes × jobs',
      'startup s',
      'startup CPU s',
      'RSS MB',
      'heap used / committed MB',
      'CPU %',
      'server CPU %',
      'machine busy %',
      'nodes / job',
      'server watches / job',
      'watch() / job instance',
      'adapter calls / job fire',
      'server requests / min',
      'fired',
      'p50 ms',
      'p99 ms',
      'max ms',
      'staging p50 / p99 ms',
      'note',
    ],
    rows: rows.map((row) => [
      row.backend,
      row.build,
      `${row.processes} × ${row.jobs}${row.idle ? ' idle' : ''}`,
      cell(row.startupS),
      cell(row.startupCpuS),
      cell(row.rssMb),
      row.heapMb === undefined ? 'n/a' : `${row.heapMb} / ${row.heapTotalMb}`,
      cell(row.cpuPercent),
      cell(row.serverCpuPercent),
      cell(row.machineBusyPercent),
      cell(row.nodesPerJob),
      cell(row.serverWatchesPerJob),
      cell(row.watchCallsPerJobInstance),
      cell(row.callsPerJobFire),
      cell(row.serverRequestsPerMinute),
      cell(row.firedRatio),
      cell(row.p50Ms, formatMs),
      cell(row.p99Ms, formatMs),
      cell(row.maxMs, formatMs),
      row.stagingP50Ms === undefined
        ? 'n/a'
        : `${formatMs(row.stagingP50Ms)} / ${formatMs(row.stagingP99Ms ?? Number.NaN)}`,
      row.note,
    ]),
    data: {
      cronHeapBytesPerDistinctExpression: Math.round(cronBytes.distinctBytes),
      cronHeapBytesPerJobOnSharedExpression: Math.round(cronBytes.repeatedBytes),
      cronNextMicros: Math.round(cronNextMicros * 10) / 10,
      rows,
    },
  };
}
