/**
 * One job instance in its own OS process, for the multi-process integration tests
 * (`node dist/worker/job-instance.js '<config JSON>'`, see {@link JobInstanceWorkerConfig}).
 *
 * It connects to ZooKeeper, etcd or Redis, schedules a `SimpleJob` whose items each run for
 * `itemDurationMs` (honouring the `AbortSignal`), and appends every item start, end and abort and
 * every registry connection state change to its execution log (format: `../harness/execution-log.ts`).
 * It prints `READY` on stdout once scheduled, shuts down gracefully on `SIGTERM` (exit code 0),
 * and exits when its stdin closes, i.e. when the test process that spawned it dies.
 *
 * @module
 */
import { closeSync, fdatasyncSync, openSync, writeSync } from 'node:fs';
import {
  type CoordinatorRegistryCenter,
  createRegistryCenter,
  type RegistryCenterConfiguration,
  ScheduleJobBootstrap,
  type ShardingContext,
} from '@elasticjob-ts/core';
import {
  formatInstanceLine,
  formatItemLine,
  type InstanceEventType,
  type ItemEventType,
} from '../harness/execution-log.js';
import {
  type JobInstanceWorkerConfig,
  parseWorkerConfig,
  registryConfigurationOf,
  WORKER_CONFIG_ENV,
} from './worker-config.js';

/** Appends whole lines to a log file: one `write(2)` per line, then `fdatasync`. */
class LineLog {
  readonly #fd: number;
  #closed = false;

  constructor(path: string) {
    this.#fd = openSync(path, 'a');
  }

  append(line: string): void {
    if (this.#closed) return;
    writeSync(this.#fd, line);
    fdatasyncSync(this.#fd);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeSync(this.#fd);
  }
}

/** The fire a run belongs to, when the kernel puts it on the context (`fireTimeMs`). */
function kernelFireTimeOf(context: ShardingContext): number | undefined {
  const value = (context as { readonly fireTimeMs?: unknown }).fireTimeMs;
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** Waits `ms`, or less when `signal` aborts; resolves to whether it was aborted. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(true);
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve(true);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(false);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function registryConfiguration(config: JobInstanceWorkerConfig): RegistryCenterConfiguration {
  return registryConfigurationOf(config.registry, config.namespace, config.sessionTimeoutMs, 15_000);
}

async function main(): Promise<void> {
  const raw = process.argv[2] ?? process.env[WORKER_CONFIG_ENV];
  if (raw === undefined)
    throw new TypeError(`pass the worker config JSON as argv[2] or in ${WORKER_CONFIG_ENV}`);
  const config = parseWorkerConfig(raw);
  const { instanceId, job: jobConfig } = config;
  const log = new LineLog(config.logFile);
  const instanceEvent = (event: InstanceEventType) =>
    log.append(formatInstanceLine({ instanceId, event, wallMs: Date.now() }));
  const itemEvent = (fireTimeMs: number, context: ShardingContext, event: ItemEventType) =>
    log.append(
      formatItemLine({
        fireTimeMs,
        instanceId,
        item: context.shardingItem,
        event,
        wallMs: Date.now(),
        taskId: context.taskId,
      }),
    );

  const registry: CoordinatorRegistryCenter = await createRegistryCenter(registryConfiguration(config));
  registry.addConnectionStateListener((state) => instanceEvent(state));

  const job = {
    async execute(context: ShardingContext): Promise<void> {
      const fireTimeMs = kernelFireTimeOf(context) ?? Date.now();
      itemEvent(fireTimeMs, context, 'start');
      const aborted = await sleep(jobConfig.itemDurationMs, context.signal);
      if (aborted) {
        itemEvent(fireTimeMs, context, 'abort');
        throw context.signal.reason instanceof Error ? context.signal.reason : new Error('item aborted');
      }
      itemEvent(fireTimeMs, context, 'end');
    },
  };
  const waitMs = config.kernelWaitTimeoutMs ?? 10_000;
  const bootstrap = new ScheduleJobBootstrap(
    registry,
    job,
    {
      jobName: jobConfig.jobName,
      cron: jobConfig.cron,
      shardingTotalCount: jobConfig.shardingTotalCount,
      failover: jobConfig.failover,
      monitorExecution: jobConfig.monitorExecution,
      misfire: jobConfig.misfire,
      overwrite: true,
    },
    {
      instanceId,
      serverIp: config.serverIp ?? '127.0.0.1',
      reshardingWaitTimeoutMs: waitMs,
      shutdownTimeoutMs: waitMs,
    },
  );

  let stopping = false;
  const stop = (exitCode: number) => {
    if (stopping) return;
    stopping = true;
    void (async () => {
      let code = exitCode;
      try {
        await bootstrap.shutdown();
        await registry.close();
        instanceEvent('SHUTDOWN');
      } catch (error) {
        process.stderr.write(`job-instance worker: shutdown failed: ${describeError(error)}\n`);
        code = 3;
      } finally {
        log.close();
        process.exit(code);
      }
    })();
  };
  process.on('SIGTERM', () => stop(0));
  process.on('SIGINT', () => stop(0));
  // The parent holds our stdin: when it dies (even by SIGKILL), the pipe closes and we leave.
  process.stdin.on('end', () => stop(1));
  process.stdin.on('error', () => stop(1));
  process.stdin.resume();

  await bootstrap.schedule();
  instanceEvent('READY');
  process.stdout.write('READY\n');
}

function describeError(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

main().catch((error: unknown) => {
  // stderr is a pipe (asynchronous): exit once the message is written, or the harness sees none.
  process.stderr.write(`job-instance worker failed: ${describeError(error)}\n`, () => process.exit(2));
});
