/**
 * One benchmark process (`fork`ed by the benchmarks, IPC channel required): connects to ZooKeeper
 * or etcd, schedules `jobs.count` jobs as one job instance each (one counting registry wrapper per
 * job over the process's single registry client), records when every item handler starts, and
 * answers the parent's measurement requests.
 *
 * Messages (parent → worker): `{ type: 'begin' }` resets the counters and samples and starts a
 * measurement window; `{ type: 'end' }` closes it and is answered with a {@link WorkerMeasurement};
 * `{ type: 'stop' }` shuts every job down, closes the client and exits 0. The worker sends
 * `{ type: 'ready', startupMs }` once every job is scheduled, and exits when the IPC channel
 * closes (its parent died).
 *
 * @module
 */
import {
  type CoordinatorRegistryCenter,
  createRegistryCenter,
  type RegistryCenterConfiguration,
  ScheduleJobBootstrap,
  type ShardingContext,
} from '@elasticjob-ts/core';
import { registryConfigurationOf, type WorkerRegistryConnection } from '../worker/worker-config.js';
import { CountingRegistryCenter, type RegistryCallCounts } from './counting-registry.js';
import { StartLogWriter } from './start-log.js';

/** The jobs one benchmark process schedules. */
export interface BenchJobsConfig {
  /** Number of jobs; named `{namePrefix}` when 1, else `{namePrefix}-{i}`. */
  readonly count: number;
  readonly namePrefix: string;
  /** Quartz cron, e.g. `* * * * * ?` (unless {@link BenchJobsConfig.spreadPeriodSeconds} is set). */
  readonly cron: string;
  /**
   * When set, job `i` fires every `spreadPeriodSeconds` s at second `i mod spreadPeriodSeconds` of
   * the period (cron `{i mod P}/{P} * * * * ?`, `{i mod 60} * * * * ?` for 60, instead of
   * {@link BenchJobsConfig.cron}): the jobs'
   * fires are spread evenly over the period. A divisor of 60.
   */
  readonly spreadPeriodSeconds?: number;
  readonly shardingTotalCount: number;
  readonly monitorExecution: boolean;
  readonly failover: boolean;
  readonly misfire: boolean;
  /** How long each item handler runs, in ms (0: returns at once). */
  readonly itemDurationMs: number;
}

/** Configuration of one benchmark process (JSON in argv[2]). */
export interface BenchWorkerConfig {
  readonly registry: WorkerRegistryConnection;
  readonly namespace: string;
  /** Registry session timeout / lease TTL, in ms. */
  readonly sessionTimeoutMs: number;
  /** Job instance id (the same for every job of this process). */
  readonly instanceId: string;
  readonly jobs: BenchJobsConfig;
  /** How many jobs are started at once. @defaultValue 25 */
  readonly startConcurrency?: number;
  /**
   * When set, every item start (the kernel's execution start event, with its source) is appended to
   * this file as it happens (`start-log.ts`), and survives a SIGKILL of the process.
   */
  readonly startsFile?: string;
}

/** What a worker measured in one window. */
export interface WorkerMeasurement {
  readonly type: 'measurement';
  readonly instanceId: string;
  /** Item start − the whole second it belongs to (the cron fires on whole seconds), in ms. */
  readonly latenciesMs: number[];
  /**
   * Run staging (the kernel's `TASK_STAGING` event of a cron run, posted after the timer fired and
   * before the run registers its items in the registry) − the nearest whole second, in ms: negative
   * when the run was prepared ahead of its fire.
   */
  readonly stagingMs: number[];
  /** Distinct (job, fire second) pairs that started at least one item. */
  readonly fires: number;
  /** Wall time of the window, in ms. */
  readonly wallMs: number;
  /** CPU time (user + system) of the process during the window, in ms. */
  readonly cpuMs: number;
  /** Resident set size at the end of the window, in bytes. */
  readonly rssBytes: number;
  /** V8 heap used at the end of the window after a full GC, in bytes. */
  readonly heapUsedBytes: number;
  /** V8 heap committed (used + free) at the end of the window, in bytes. */
  readonly heapTotalBytes: number;
  /** Registry calls of all jobs of this process during the window (summed over the wrappers). */
  readonly counts: RegistryCallCounts;
  /** Jobs in this process. */
  readonly jobs: number;
}

/** Messages a worker sends. */
export type WorkerMessage =
  | { readonly type: 'ready'; readonly startupMs: number }
  | WorkerMeasurement
  | { readonly type: 'error'; readonly message: string };

function registryConfiguration(config: BenchWorkerConfig): RegistryCenterConfiguration {
  return registryConfigurationOf(config.registry, config.namespace, config.sessionTimeoutMs, 15_000);
}

function sumCounts(all: readonly RegistryCallCounts[]): RegistryCallCounts {
  const calls: Record<string, number> = {};
  let requests = 0;
  let transactionOps = 0;
  let activeWatches = 0;
  let watchEvents = 0;
  for (const counts of all) {
    for (const [method, value] of Object.entries(counts.calls)) calls[method] = (calls[method] ?? 0) + value;
    requests += counts.requests;
    transactionOps += counts.transactionOps;
    activeWatches += counts.activeWatches;
    watchEvents += counts.watchEvents;
  }
  return {
    calls: calls as RegistryCallCounts['calls'],
    requests,
    transactionOps,
    activeWatches,
    watchEvents,
  };
}

/**
 * The cron of job `index` when the fires are spread over `periodSeconds`: second `index mod P`
 * of every period (a period of 60 s is a plain second field, the step is at most 59).
 *
 * @param index - the job's index.
 * @param periodSeconds - the period, s (a divisor of 60).
 */
function spreadCron(index: number, periodSeconds: number): string {
  const second = index % periodSeconds;
  return periodSeconds >= 60 ? `${second} * * * * ?` : `${second}/${periodSeconds} * * * * ?`;
}

function send(message: WorkerMessage): void {
  process.send?.(message);
}

async function main(): Promise<void> {
  const raw = process.argv[2];
  if (raw === undefined || process.send === undefined)
    throw new TypeError('bench-worker must be forked with an IPC channel and the config JSON as argv[2]');
  const config = JSON.parse(raw) as BenchWorkerConfig;
  const startedAt = Date.now();
  const registry: CoordinatorRegistryCenter = await createRegistryCenter(registryConfiguration(config));
  const jobsConfig = config.jobs;
  let latencies: number[] = [];
  let staging: number[] = [];
  let fires = new Set<string>();
  const names = Array.from({ length: jobsConfig.count }, (_, i) =>
    jobsConfig.count === 1 ? jobsConfig.namePrefix : `${jobsConfig.namePrefix}-${i}`,
  );
  const wrappers: CountingRegistryCenter[] = [];
  const bootstraps: ScheduleJobBootstrap[] = [];
  const startLog = config.startsFile === undefined ? undefined : new StartLogWriter(config.startsFile);
  const period = jobsConfig.spreadPeriodSeconds;
  for (const [index, name] of names.entries()) {
    const counting = new CountingRegistryCenter(registry);
    wrappers.push(counting);
    const job = {
      async execute(context: ShardingContext): Promise<void> {
        const now = Date.now();
        // A cron run knows the fire it serves; misfire re-runs, failover runs and triggers serve
        // none and are not counted (a baseline build runs its own worker, which counts every run).
        const fireTimeMs = context.scheduledFireTimeMs;
        if (fireTimeMs !== undefined) {
          latencies.push(now - fireTimeMs);
          fires.add(`${name}@${fireTimeMs}`);
        }
        if (jobsConfig.itemDurationMs > 0) {
          await new Promise((resolve) => setTimeout(resolve, jobsConfig.itemDurationMs));
        }
      },
    };
    bootstraps.push(
      new ScheduleJobBootstrap(
        counting,
        job,
        {
          jobName: name,
          cron: period === undefined ? jobsConfig.cron : spreadCron(index, period),
          shardingTotalCount: jobsConfig.shardingTotalCount,
          monitorExecution: jobsConfig.monitorExecution,
          failover: jobsConfig.failover,
          misfire: jobsConfig.misfire,
          overwrite: true,
        },
        {
          instanceId: config.instanceId,
          serverIp: '127.0.0.1',
          reshardingWaitTimeoutMs: 10_000,
          shutdownTimeoutMs: 10_000,
          onEvent: (event) => {
            if (event.kind === 'execution' && event.completeTimeMs === undefined) {
              startLog?.append(
                index,
                event.shardingItem,
                event.startTimeMs,
                event.source,
                event.scheduledFireTimeMs,
              );
            } else if (
              event.kind === 'status' &&
              event.state === 'TASK_STAGING' &&
              event.source === 'NORMAL_TRIGGER'
            ) {
              // The nearest whole second: a cron run is prepared up to 500 ms ahead of its fire.
              staging.push(event.creationTimeMs - Math.round(event.creationTimeMs / 1000) * 1000);
            }
          },
        },
      ),
    );
  }
  const concurrency = Math.max(1, config.startConcurrency ?? 25);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, bootstraps.length) }, async () => {
      while (next < bootstraps.length) {
        const bootstrap = bootstraps[next++] as ScheduleJobBootstrap;
        await bootstrap.schedule();
      }
    }),
  );
  send({ type: 'ready', startupMs: Date.now() - startedAt });

  let windowStart = { wallMs: Date.now(), cpu: process.cpuUsage() };
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    await Promise.allSettled(bootstraps.map((bootstrap) => bootstrap.shutdown()));
    await registry.close().catch(() => {});
    process.exit(code);
  };
  process.on('message', (message: { type?: string }) => {
    if (message.type === 'begin') {
      latencies = [];
      staging = [];
      fires = new Set();
      for (const wrapper of wrappers) wrapper.reset();
      windowStart = { wallMs: Date.now(), cpu: process.cpuUsage() };
    } else if (message.type === 'end') {
      const cpu = process.cpuUsage(windowStart.cpu);
      // Live heap, not garbage: the processes run with --expose-gc.
      (globalThis as { gc?: () => void }).gc?.();
      const memory = process.memoryUsage();
      send({
        type: 'measurement',
        instanceId: config.instanceId,
        latenciesMs: latencies,
        stagingMs: staging,
        fires: fires.size,
        wallMs: Date.now() - windowStart.wallMs,
        cpuMs: (cpu.user + cpu.system) / 1000,
        rssBytes: memory.rss,
        heapUsedBytes: memory.heapUsed,
        heapTotalBytes: memory.heapTotal,
        counts: sumCounts(wrappers.map((wrapper) => wrapper.snapshot())),
        jobs: bootstraps.length,
      });
    } else if (message.type === 'stop') {
      void stop(0);
    }
  });
  process.on('disconnect', () => void stop(1));
}

main().catch((error: unknown) => {
  send({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  process.exit(2);
});
