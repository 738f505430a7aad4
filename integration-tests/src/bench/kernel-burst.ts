/**
 * The kernel's own cost of a burst: `jobs` jobs of one item in one process on the memory registry
 * (no registry I/O), all firing every second, monitorExecution on, handlers returning at once.
 * Measures, per build and per mode (with and without an `onEvent` subscriber), item start − the
 * second (p50 / p99 / max), CPU % of one core, garbage collection (pause ms per second, the part
 * of it that began in the first 50 ms after a second, scavenges per second) and, with `BURST_ALLOCATION=1`, allocation per fire (V8 heap sampling, objects
 * collected since included: a separate window, since sampling slows the process).
 *
 * ```sh
 * node integration-tests/dist/bench/kernel-burst.js
 * BENCH_BASELINE=<another checkout, built> BURST_JOBS=1000 BURST_WINDOW_SECONDS=10 BURST_REPS=3 \
 *   BURST_EVENTS=both BURST_ALLOCATION=1 node integration-tests/dist/bench/kernel-burst.js
 * ```
 *
 * Each measurement runs in a fresh process (`fork` of this file), the builds alternating within a
 * repetition so that both see the same machine. A baseline only needs the public API of
 * `@elasticjob-ts/core` and `@elasticjob-ts/registry-memory` built in its `dist` folders.
 *
 * @module
 */
import { fork } from 'node:child_process';
import { Session } from 'node:inspector/promises';
import { resolve } from 'node:path';
import { type PerformanceEntry, PerformanceObserver, performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { percentile } from './stats.js';

/** What one measuring process is told (JSON in argv[2]). */
interface BurstConfig {
  readonly root: string;
  readonly jobs: number;
  readonly windowSeconds: number;
  readonly events: boolean;
  readonly allocation: boolean;
}

/** What one measuring process reports. */
interface BurstResult {
  readonly fires: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly cpuPercent: number;
  readonly gcPauseMsPerSecond: number;
  /** GC pauses that began within {@link BURST_MS} after a whole second, ms per second. */
  readonly burstGcPauseMsPerSecond: number;
  readonly scavengesPerSecond: number;
  /** Allocated bytes per fire; with `allocation` only. */
  readonly allocationPerFireBytes?: number;
}

const SETTLE_MS = 8000;
/** The part of each second after the fire that the starts of a burst fall in, ms. */
const BURST_MS = 50;

async function measure(config: BurstConfig): Promise<BurstResult> {
  const core = await import(pathToFileURL(resolve(config.root, 'core/dist/index.js')).href);
  const memory = await import(pathToFileURL(resolve(config.root, 'registry-memory/dist/index.js')).href);
  const registry = await core.createRegistryCenter({
    type: 'memory',
    server: new memory.MemoryRegistryServer(),
    namespace: 'kernel-burst',
  });
  let measuring = false;
  const latencies: number[] = [];
  const bootstraps = Array.from({ length: config.jobs }, (_, i) => {
    const job = {
      async execute(context: { scheduledFireTimeMs?: number }): Promise<void> {
        if (measuring && context.scheduledFireTimeMs !== undefined)
          latencies.push(Date.now() - context.scheduledFireTimeMs);
      },
    };
    return new core.ScheduleJobBootstrap(
      registry,
      job,
      {
        jobName: `burst-${i}`,
        cron: '* * * * * ?',
        shardingTotalCount: 1,
        monitorExecution: true,
        overwrite: true,
      },
      {
        instanceId: '127.0.0.1@-@1',
        serverIp: '127.0.0.1',
        ...(config.events ? { onEvent: () => {} } : {}),
      },
    );
  });
  await Promise.all(bootstraps.map((bootstrap: { schedule(): Promise<void> }) => bootstrap.schedule()));
  await new Promise((done) => setTimeout(done, SETTLE_MS));

  const session = new Session();
  session.connect();
  if (config.allocation)
    await session.post('HeapProfiler.startSampling', {
      samplingInterval: 4096,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
  let gcPauseMs = 0;
  let burstGcPauseMs = 0;
  let scavenges = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gcPauseMs += entry.duration;
      // Pauses that began within BURST_MS after a whole second: they hold back that second's starts.
      if ((performance.timeOrigin + entry.startTime) % 1000 < BURST_MS) burstGcPauseMs += entry.duration;
      // NODE_PERFORMANCE_GC_MINOR: a scavenge.
      if ((entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind === 1) scavenges++;
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  const cpuBefore = process.cpuUsage();
  const startedMs = Date.now();
  measuring = true;
  await new Promise((done) => setTimeout(done, config.windowSeconds * 1000));
  measuring = false;
  const cpu = process.cpuUsage(cpuBefore);
  const wallMs = Date.now() - startedMs;
  observer.disconnect();
  let allocationPerFireBytes: number | undefined;
  if (config.allocation) {
    const { profile } = await session.post('HeapProfiler.stopSampling');
    let bytes = 0;
    const visit = (node: { selfSize: number; children: unknown[] }): void => {
      bytes += node.selfSize;
      for (const child of node.children) visit(child as typeof node);
    };
    visit(profile.head as unknown as { selfSize: number; children: unknown[] });
    allocationPerFireBytes = bytes / Math.max(1, latencies.length);
  }
  session.disconnect();
  return {
    fires: latencies.length,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    maxMs: Math.max(...latencies),
    cpuPercent: ((cpu.user + cpu.system) / 1000 / wallMs) * 100,
    gcPauseMsPerSecond: gcPauseMs / (wallMs / 1000),
    burstGcPauseMsPerSecond: burstGcPauseMs / (wallMs / 1000),
    scavengesPerSecond: scavenges / (wallMs / 1000),
    ...(allocationPerFireBytes === undefined ? {} : { allocationPerFireBytes }),
  };
}

function runChild(config: BurstConfig): Promise<BurstResult> {
  return new Promise((done, fail) => {
    const child = fork(fileURLToPath(import.meta.url), [JSON.stringify(config)], { stdio: 'inherit' });
    child.once('message', (message) => done(message as BurstResult));
    child.once('exit', (code) => {
      if (code !== 0) fail(new Error(`kernel-burst: measuring process exited with ${code}`));
    });
  });
}

function positiveInteger(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value <= 0)
    throw new TypeError(`${name} must be a positive integer, got '${raw}'`);
  return value;
}

/** `BURST_EVENTS`: `no`, `yes` or `both` (the default): without and/or with an `onEvent` subscriber. */
function eventModes(raw: string | undefined): boolean[] {
  if (raw === undefined || raw === '' || raw === 'both') return [false, true];
  if (raw === 'no') return [false];
  if (raw === 'yes') return [true];
  throw new TypeError(`BURST_EVENTS must be one of no, yes, both; got '${raw}'`);
}

async function main(): Promise<void> {
  const jobs = positiveInteger('BURST_JOBS', 1000);
  const windowSeconds = positiveInteger('BURST_WINDOW_SECONDS', 10);
  const reps = positiveInteger('BURST_REPS', 3);
  const allocation = process.env.BURST_ALLOCATION === '1';
  const modes = eventModes(process.env.BURST_EVENTS);
  const here = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
  const builds: Array<[string, string]> = [['this', here]];
  const baseline = process.env.BENCH_BASELINE;
  if (baseline !== undefined && baseline !== '') builds.push(['baseline', resolve(baseline)]);
  console.log(
    `kernel burst: ${jobs} jobs on the memory registry, cron every second, ${windowSeconds} s windows, ${reps} repetitions; ${new Date().toISOString()}`,
  );
  console.log(
    `| build | onEvent | rep | fires | p50 / p99 / max ms | CPU % | GC pause ms/s | of which in the first ${BURST_MS} ms after the second | scavenges/s |`,
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (let rep = 1; rep <= reps; rep++) {
    for (const events of modes) {
      for (const [name, root] of builds) {
        const r = await runChild({ root, jobs, windowSeconds, events, allocation: false });
        console.log(
          `| ${name} | ${events ? 'yes' : 'no'} | ${rep} | ${r.fires} | ${r.p50Ms} / ${r.p99Ms} / ${r.maxMs} | ${r.cpuPercent.toFixed(1)} | ${r.gcPauseMsPerSecond.toFixed(1)} | ${r.burstGcPauseMsPerSecond.toFixed(1)} | ${r.scavengesPerSecond.toFixed(1)} |`,
        );
      }
    }
  }
  if (!allocation) return;
  console.log('\n| build | onEvent | allocation per fire KB (heap sampling) |\n| --- | --- | --- |');
  for (const events of modes) {
    for (const [name, root] of builds) {
      const r = await runChild({ root, jobs, windowSeconds, events, allocation: true });
      console.log(
        `| ${name} | ${events ? 'yes' : 'no'} | ${((r.allocationPerFireBytes ?? 0) / 1024).toFixed(1)} |`,
      );
    }
  }
}

const configArg = process.argv[2];
if (configArg !== undefined && process.send !== undefined) {
  measure(JSON.parse(configArg) as BurstConfig)
    .then((result) => {
      process.send?.(result, () => process.exit(0));
    })
    .catch((error: unknown) => {
      console.error(error);
      process.exit(2);
    });
} else {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
