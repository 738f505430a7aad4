/**
 * One simulated application process: its clock view, its registry client (on the shared memory
 * server, with the fault channel), its timer service, and one real `ScheduleJobBootstrap` per job,
 * whose `execute(ctx)` records every item run in the ledger.
 *
 * @module
 */
import { setMaxListeners } from 'node:events';
import {
  type JobEvent,
  type Logger,
  ScheduleJobBootstrap,
  type ShardingContext,
  silentLogger,
  TimerService,
} from '@elasticjob-ts/core';
import { MemoryRegistryCenter, type MemoryRegistryServer } from '@elasticjob-ts/registry-memory';
import type { Random } from './random.js';
import { fencingTokenOf, type RunLedger, type RunRecord } from './run-ledger.js';
import type { ProcessClock } from './simulated-time.js';
import type { Trace } from './trace.js';
import { traceLogger } from './trace-logger.js';
import { type JobSpec, poolSizeType } from './workload.js';

/** Registry namespace of every simulated cluster. */
export const SIM_NAMESPACE = 'sim';

/** Lifecycle of a simulated process. */
export type SimProcessState = 'running' | 'crashed' | 'stopped';

/** What a process needs from the simulation. */
export interface SimProcessDeps {
  readonly server: MemoryRegistryServer;
  readonly ledger: RunLedger;
  readonly trace: Trace;
  /** Global simulated time, epoch ms. */
  now(): number;
  readonly sessionTimeoutMs: number;
  /** Bound of the kernel's drain at shutdown, ms. */
  readonly shutdownTimeoutMs: number;
  /** Write the kernel's and the registry client's logs into the trace (`--kernel-log`). */
  readonly kernelLog: boolean;
}

/** A simulated process running every job of the cluster. */
export class SimProcess {
  readonly id: string;
  readonly instanceId: string;
  readonly serverIp: string;
  readonly clock: ProcessClock;
  readonly registry: MemoryRegistryCenter;
  readonly timers: TimerService;
  readonly bootstraps = new Map<string, ScheduleJobBootstrap>();
  state: SimProcessState = 'running';
  /** Global time of the last LOST this process reported. */
  lastLostMs: number | undefined;
  /** Registry sessions this process's client reported `LOST` for. */
  readonly lostSessions = new Set<string>();
  readonly #deps: SimProcessDeps;
  readonly #random: Random;
  readonly #active = new Set<{ run: RunRecord; finish: () => void }>();
  readonly #background = new Set<Promise<unknown>>();

  /**
   * @param id - process id in traces, e.g. `p3`.
   * @param instanceId - the job instance id (a restarted process may reuse its predecessor's).
   * @param serverIp - the server IP it registers.
   * @param clock - its clock view.
   * @param random - its stream (item durations, abort behaviour).
   * @param deps - the simulation's shared parts.
   */
  constructor(
    id: string,
    instanceId: string,
    serverIp: string,
    clock: ProcessClock,
    random: Random,
    deps: SimProcessDeps,
  ) {
    this.id = id;
    this.instanceId = instanceId;
    this.serverIp = serverIp;
    this.clock = clock;
    this.#random = random;
    this.#deps = deps;
    this.registry = new MemoryRegistryCenter({
      server: deps.server,
      namespace: SIM_NAMESPACE,
      sessionTimeoutMs: deps.sessionTimeoutMs,
      clock,
      logger: this.#logger(),
    });
    this.timers = new TimerService(clock, (error) =>
      deps.trace.add(id, `timer callback threw: ${String(error)}`),
    );
    this.registry.addConnectionStateListener((state) => {
      deps.trace.add(id, `registry ${state} (session ${this.registry.sessionId ?? '-'})`);
      if (state !== 'LOST') return;
      this.lastLostMs = deps.now();
      if (this.registry.sessionId !== undefined) this.lostSessions.add(this.registry.sessionId);
    });
  }

  /** Number of item runs in progress here (each holds one clock timer: its duration). */
  get activeRunCount(): number {
    return this.#active.size;
  }

  /** Item runs in progress whose signal the kernel has not aborted. */
  get unabortedRunCount(): number {
    return [...this.#active].filter((entry) => !entry.run.signal.aborted).length;
  }

  /** Starts the registry client and schedules every job (in the background of the simulation). */
  async start(jobs: readonly JobSpec[], shardingTotalCount: (jobName: string) => number): Promise<void> {
    await this.registry.start();
    for (const job of jobs) await this.startJob(job, shardingTotalCount(job.jobName));
  }

  /** Schedules one job on this process. Failures (a fault during start) are traced, not thrown. */
  async startJob(job: JobSpec, shardingTotalCount: number): Promise<void> {
    const bootstrap = new ScheduleJobBootstrap(
      this.registry,
      { execute: (context) => this.#execute(job, context) },
      {
        jobName: job.jobName,
        cron: `0/${job.periodSeconds} * * * * ?`,
        timeZone: 'UTC',
        shardingTotalCount,
        failover: job.failover,
        misfire: job.misfire,
        monitorExecution: job.monitorExecution,
        reconcileIntervalMinutes: 1,
        jobExecutorThreadPoolSizeProviderType: poolSizeType(job.poolSize),
      },
      {
        instanceId: this.instanceId,
        serverIp: this.serverIp,
        logger: this.#logger(),
        timerService: this.timers,
        shutdownTimeoutMs: this.#deps.shutdownTimeoutMs,
        onEvent: (event) => this.#onJobEvent(event),
      },
    );
    this.bootstraps.set(job.jobName, bootstrap);
    try {
      await bootstrap.schedule();
      this.#deps.trace.add(this.id, `${job.jobName} scheduled as ${this.instanceId}`);
    } catch (error) {
      this.#deps.trace.add(this.id, `${job.jobName} failed to start: ${String(error)}`);
    }
  }

  /** Tracks a promise the process started (shutdown waits for none; the checks do). */
  track(promise: Promise<unknown>): void {
    this.#background.add(promise);
    void promise.finally(() => this.#background.delete(promise));
  }

  /** The process dies at once: no timer of it fires again, its runs end now, its session lingers. */
  crash(): void {
    this.state = 'crashed';
    this.clock.kill();
    this.registry.faults.partition();
    for (const entry of this.#active) this.#deps.ledger.end(entry.run, 'crashed');
    this.#active.clear();
  }

  /**
   * Graceful stop: every job shut down (the kernel's shutdown), then the registry client closed.
   *
   * @returns when done.
   */
  async stop(): Promise<void> {
    for (const [jobName, bootstrap] of this.bootstraps) {
      try {
        await bootstrap.shutdown();
      } catch (error) {
        this.#deps.trace.add(this.id, `${jobName} shutdown threw: ${String(error)}`);
      }
    }
    this.#deps.trace.add(this.id, `jobs shut down (watches left: ${this.registry.watchCount})`);
  }

  #onJobEvent(event: JobEvent): void {
    if (event.kind === 'execution' && event.completeTimeMs === undefined) {
      this.#deps.ledger.setSource(this.id, event.jobName, event.shardingItem, event.source);
    }
  }

  /** The job: records the run, lasts a drawn duration on this process's clock, honours aborts or not. */
  #execute(job: JobSpec, context: ShardingContext): Promise<void> {
    const deps = this.#deps;
    // One signal serves every item of a run (up to 64 here), each listening to it.
    setMaxListeners(0, context.signal);
    const assignment = deps.server.dump(
      `/${SIM_NAMESPACE}/${job.jobName}/sharding/${context.shardingItem}/instance`,
    );
    const run = deps.ledger.start({
      jobName: job.jobName,
      item: context.shardingItem,
      processId: this.id,
      instanceId: this.instanceId,
      sessionId: this.registry.sessionId,
      startMs: deps.now(),
      signal: context.signal,
      fencingToken: fencingTokenOf(context),
      scheduledFireTimeMs: context.scheduledFireTimeMs,
      assignedTo: assignment[0]?.value,
      afterLost: this.lastLostMs !== undefined,
    });
    const durationMs = Math.round(job.maxItemDurationMs * this.#random.between(0.1, 1));
    const honorsAbort = this.#random.chance(job.honorsAbortProbability);
    const token = run.fencingToken === undefined ? '' : `, token ${run.fencingToken}`;
    const assigned = run.assignedTo === this.instanceId ? '' : `, assigned to ${run.assignedTo ?? 'nobody'}`;
    deps.trace.add(
      this.id,
      `${job.jobName} item ${context.shardingItem} start run #${run.id} (${durationMs} ms${token}${assigned}${context.signal.aborted ? ', signal already aborted' : ''})`,
    );
    return new Promise<void>((resolve, reject) => {
      const entry = {
        run,
        finish: () => {
          if (!this.#active.delete(entry)) return;
          timer.cancel();
          const aborted = context.signal.aborted && honorsAbort;
          deps.ledger.end(run, aborted ? 'aborted' : 'finished');
          deps.trace.add(
            this.id,
            `${job.jobName} item ${context.shardingItem} end run #${run.id} (${run.source ?? '?'}${aborted ? ', aborted' : ''})`,
          );
          if (aborted) reject(context.signal.reason);
          else resolve();
        },
      };
      this.#active.add(entry);
      const timer = this.clock.setTimeout(() => entry.finish(), durationMs);
      if (honorsAbort) {
        if (context.signal.aborted) queueMicrotask(() => entry.finish());
        else context.signal.addEventListener('abort', () => entry.finish(), { once: true });
      }
    });
  }

  /** The kernel's logger: silent, or into the trace with `--kernel-log`. */
  #logger(): Logger {
    return this.#deps.kernelLog ? traceLogger(this.#deps.trace, this.id, {}) : silentLogger;
  }
}
