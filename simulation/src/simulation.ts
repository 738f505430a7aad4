/**
 * One simulated run from one seed: a cluster of processes running the real kernel on the memory
 * registry, on simulated time, under seeded faults and operator commands, with the invariants
 * checked as it goes and at the end.
 *
 * @module
 */
import { createJobOperationAPIs, type JobOperationAPIs } from '@elasticjob-ts/core';
import { MemoryRegistryCenter, MemoryRegistryServer } from '@elasticjob-ts/registry-memory';
import { checkConvergence, checkCoverage, type Disturbance, type ItemCountChange } from './checks.js';
import { Random } from './random.js';
import { RunLedger, type Violation } from './run-ledger.js';
import { SIM_NAMESPACE, SimProcess } from './sim-process.js';
import { ProcessClock, SimulatedTime } from './simulated-time.js';
import { Trace } from './trace.js';
import { type ClusterSpec, generateClusterSpec, registerSimulationPoolSizes } from './workload.js';

/** Simulated epoch of every run: 2026-01-01T00:00:00Z. */
export const SIMULATION_EPOCH_MS = Date.UTC(2026, 0, 1);

/** Options of {@link simulateSeed}. */
export interface SimulationOptions {
  /** Simulated minutes per seed. @defaultValue 2 */
  readonly minutes?: number;
  /**
   * Write the kernel's logs into the trace (`log <level> …` lines per process). The seed's
   * history is the same with and without. @defaultValue false
   */
  readonly kernelLog?: boolean;
  /**
   * How watch events reach each process: `ordered` on one channel with responses (ZooKeeper),
   * `separate` on a channel of their own (etcd's watch stream, Redis's subscriber connection:
   * a response may arrive before the event of a change made before it), `mixed` one or the
   * other per process, drawn from the seed. The workload and faults of a seed are the same in
   * every mode. @defaultValue 'ordered'
   */
  readonly eventChannel?: EventChannelMode;
}

/** See {@link SimulationOptions.eventChannel}. */
export type EventChannelMode = 'ordered' | 'separate' | 'mixed';

/** The accepted values of {@link EventChannelMode}. */
export const EVENT_CHANNEL_MODES: readonly EventChannelMode[] = ['ordered', 'separate', 'mixed'];

/** The outcome of one seed. */
export interface SimulationResult {
  readonly seed: number;
  readonly spec: ClusterSpec;
  readonly violations: readonly Violation[];
  readonly trace: Trace;
  /** Sum over processes of the simulated time they were alive, ms. */
  readonly processMs: number;
  /** Item runs recorded. */
  readonly runCount: number;
  /** Simulated events processed. */
  readonly eventCount: number;
  /** Fires whose items the no-lost-item check covered (fires in quiet windows x items). */
  readonly checkedFires: number;
  /** Jobs whose convergence was checked (the quiet tail was long enough for their recovery bound). */
  readonly convergenceChecks: number;
}

/** Drain bound the kernel gets at shutdown in the simulation, ms. */
const SHUTDOWN_TIMEOUT_MS = 5000;

/**
 * Runs one seed to the end and returns its violations and trace. Deterministic: the same seed
 * (and minutes) gives the same trace.
 *
 * @param seed - a 32-bit integer.
 * @param options - see {@link SimulationOptions}.
 */
export async function simulateSeed(seed: number, options: SimulationOptions = {}): Promise<SimulationResult> {
  registerSimulationPoolSizes();
  const simulation = new Simulation(
    seed,
    options.minutes ?? 2,
    options.kernelLog ?? false,
    options.eventChannel ?? 'ordered',
  );
  return simulation.run();
}

class Simulation {
  readonly #seed: number;
  readonly #spec: ClusterSpec;
  readonly #time = new SimulatedTime(SIMULATION_EPOCH_MS);
  readonly #server = new MemoryRegistryServer({ clock: this.#time });
  readonly #trace = new Trace(SIMULATION_EPOCH_MS, () => this.#time.now());
  readonly #chaos: Random;
  readonly #processRandom: Random;
  readonly #processes: SimProcess[] = [];
  readonly #ledger: RunLedger;
  readonly #disturbances: Disturbance[] = [];
  readonly #itemCounts = new Map<string, ItemCountChange[]>();
  readonly #frozen = new Set<string>();
  readonly #healers = new Map<string, () => void>();
  /** `{processId}/{jobName}` of jobs an operator shut down on a process. */
  readonly #shutJobs = new Set<string>();
  /** Since when a job has had no process running it (until the next process starts). */
  readonly #joblessSince = new Map<string, number>();
  #operator: { registry: MemoryRegistryCenter; apis: JobOperationAPIs } | undefined;
  #nextProcess = 0;
  #nextIp = 1;
  #processMs = 0;

  readonly #kernelLog: boolean;
  readonly #eventChannel: EventChannelMode;
  /** Draws of the `mixed` event channel mode, apart from every other stream of the seed. */
  readonly #channelRandom: Random;

  constructor(seed: number, minutes: number, kernelLog: boolean, eventChannel: EventChannelMode) {
    this.#seed = seed;
    this.#kernelLog = kernelLog;
    this.#eventChannel = eventChannel;
    this.#channelRandom = new Random((seed ^ 0x2545f491) >>> 0);
    const root = new Random(seed);
    this.#spec = generateClusterSpec(seed, root.fork(), minutes);
    this.#chaos = root.fork();
    this.#processRandom = root.fork();
    for (const job of this.#spec.jobs)
      this.#itemCounts.set(job.jobName, [{ fromMs: SIMULATION_EPOCH_MS, count: job.shardingTotalCount }]);
    this.#ledger = new RunLedger(
      {
        now: () => this.#time.now(),
        isSessionAlive: (sessionId) => sessionId !== undefined && this.#server.isSessionAlive(sessionId),
        isFrozen: (processId) => this.#frozen.has(processId),
        knowsSessionEnded: (processId, sessionId) =>
          sessionId !== undefined &&
          this.#processes.some((p) => p.id === processId && p.lostSessions.has(sessionId)),
        isInstanceRegistered: (jobName, instanceId) =>
          this.#server.dump(`/${SIM_NAMESPACE}/${jobName}/instances/${instanceId}`).length > 0,
        checksExclusion: (jobName) =>
          this.#spec.jobs.find((job) => job.jobName === jobName)?.monitorExecution ?? false,
      },
      (violation) => this.#trace.add('check', `VIOLATION ${violation.kind}: ${violation.message}`),
    );
  }

  async run(): Promise<SimulationResult> {
    const spec = this.#spec;
    const start = this.#time.now();
    this.#describe();
    const operatorRegistry = new MemoryRegistryCenter({
      server: this.#server,
      namespace: SIM_NAMESPACE,
      sessionTimeoutMs: spec.sessionTimeoutMs,
      clock: this.#time,
    });
    await operatorRegistry.start();
    this.#operator = { registry: operatorRegistry, apis: createJobOperationAPIs(operatorRegistry) };
    for (let i = 0; i < spec.initialProcesses; i++) this.#spawn();
    this.#disturb(start, start);
    this.#scheduleChaos();
    const faultEnd = start + spec.faultPhaseMs;
    await this.#time.runUntil(faultEnd);
    this.#calm();
    const end = start + spec.durationMs;
    await this.#time.runUntil(end);
    const live = this.#processes.filter((p) => p.state === 'running');
    const checkedFires = checkCoverage({
      spec,
      ledger: this.#ledger,
      disturbances: this.#disturbances,
      itemCounts: this.#itemCounts,
      startMs: start,
      endMs: end,
    });
    const quietSinceMs = Math.max(...this.#disturbances.map((d) => d.toMs));
    const convergenceChecks = checkConvergence({
      spec,
      server: this.#server,
      live,
      ledger: this.#ledger,
      itemCounts: this.#itemCounts,
      quietSinceMs,
      nowMs: this.#time.now(),
    });
    await this.#shutdownAll(live);
    this.#ledger.classify();
    for (const violation of this.#ledger.violations) {
      this.#trace.add('check', `classified: ${violation.kind}: ${violation.message}`);
    }
    return {
      seed: this.#seed,
      spec,
      violations: this.#ledger.violations,
      trace: this.#trace,
      processMs: this.#processMs,
      runCount: this.#ledger.runs.length,
      eventCount: this.#time.eventsRun,
      checkedFires,
      convergenceChecks,
    };
  }

  #describe(): void {
    const spec = this.#spec;
    this.#trace.add(
      'chaos',
      `seed ${this.#seed}: session ${spec.sessionTimeoutMs} ms, ${spec.initialProcesses} processes, skew <= ${spec.maxSkewMs} ms, latency <= ${spec.maxLatencyMs} ms, watch delay <= ${spec.maxWatchDelayMs} ms${this.#eventChannel === 'ordered' ? '' : `, event channel ${this.#eventChannel}`}`,
    );
    for (const job of spec.jobs) {
      this.#trace.add(
        'chaos',
        `${job.jobName}: every ${job.periodSeconds}s, ${job.shardingTotalCount} items, failover ${job.failover}, misfire ${job.misfire}, monitorExecution ${job.monitorExecution}, items <= ${job.maxItemDurationMs} ms, pool ${job.poolSize}, honours abort ${job.honorsAbortProbability}`,
      );
    }
  }

  // ---------------------------------------------------------------- processes

  #spawn(reuseInstanceId?: string): SimProcess {
    const spec = this.#spec;
    // Nothing could run a job without an instance: no fire of that time is checked for loss.
    for (const [, sinceMs] of this.#joblessSince) this.#disturb(sinceMs, this.#time.now());
    this.#joblessSince.clear();
    const index = this.#nextProcess++;
    const ip = `10.0.0.${this.#nextIp++}`;
    const skew = spec.maxSkewMs === 0 ? 0 : this.#chaos.int(-spec.maxSkewMs, spec.maxSkewMs);
    const clock = new ProcessClock(this.#time, skew);
    const process = new SimProcess(
      `p${index}`,
      reuseInstanceId ?? `${ip}@-@${1000 + index}`,
      ip,
      clock,
      this.#processRandom.fork(),
      {
        server: this.#server,
        ledger: this.#ledger,
        trace: this.#trace,
        now: () => this.#time.now(),
        sessionTimeoutMs: spec.sessionTimeoutMs,
        shutdownTimeoutMs: SHUTDOWN_TIMEOUT_MS,
        kernelLog: this.#kernelLog,
      },
    ) as Alive;
    process.bornMs = this.#time.now();
    const random = this.#chaos.fork();
    if (spec.maxLatencyMs > 0) {
      const max = random.between(0, spec.maxLatencyMs);
      process.registry.faults.setRequestLatency(() => random.between(0, max));
    }
    const separateChannel =
      this.#eventChannel === 'separate' ||
      (this.#eventChannel === 'mixed' && this.#channelRandom.chance(0.5));
    if (spec.maxWatchDelayMs > 0) {
      const max = random.between(0, spec.maxWatchDelayMs / 2);
      process.registry.faults.setWatchDelay(
        () => random.between(0, max),
        random.pick([0, 0, spec.maxWatchDelayMs / 2]),
        { separateChannel },
      );
    } else if (separateChannel) {
      process.registry.faults.setWatchDelay(0, 0, { separateChannel });
    }
    this.#processes.push(process);
    this.#trace.add(
      process.id,
      `process starts as ${process.instanceId} (skew ${skew} ms${separateChannel ? ', events on their own channel' : ''})`,
    );
    process.track(process.start(this.#spec.jobs, (jobName) => this.#currentItemCount(jobName)));
    return process;
  }

  #currentItemCount(jobName: string): number {
    const counts = this.#itemCounts.get(jobName) ?? [];
    return counts[counts.length - 1]?.count ?? 1;
  }

  #retire(process: SimProcess): void {
    this.#processMs += this.#time.now() - (process as Alive).bornMs;
  }

  // ---------------------------------------------------------------- chaos

  #disturb(fromMs: number, toMs: number): void {
    this.#disturbances.push({ fromMs, toMs });
  }

  #scheduleChaos(): void {
    const delay = this.#chaos.int(2000, 12_000);
    this.#time.setTimeout(() => {
      if (this.#time.now() >= SIMULATION_EPOCH_MS + this.#spec.faultPhaseMs) return;
      this.#chaosStep();
      this.#scheduleChaos();
    }, delay);
  }

  /** Notes the jobs that no live process runs any more (after a crash, a stop, a job shutdown). */
  #noteJoblessJobs(): void {
    for (const job of this.#spec.jobs) {
      const running = this.#live().some((p) => !this.#shutJobs.has(`${p.id}/${job.jobName}`));
      if (!running && !this.#joblessSince.has(job.jobName))
        this.#joblessSince.set(job.jobName, this.#time.now());
    }
  }

  #live(): SimProcess[] {
    return this.#processes.filter((p) => p.state === 'running');
  }

  #idle(): SimProcess[] {
    return this.#live().filter((p) => !this.#frozen.has(p.id) && !this.#healers.has(p.id));
  }

  #chaosStep(): void {
    const chaos = this.#chaos;
    const spec = this.#spec;
    const now = this.#time.now();
    const idle = this.#idle();
    const kind = chaos.pick([
      'freeze',
      'freeze',
      'partition',
      'disconnect',
      'expire',
      'crash',
      'scale-out',
      'scale-in',
      'operator',
      'operator',
    ] as const);
    const target = idle.length > 0 ? chaos.pick(idle) : undefined;
    const session = spec.sessionTimeoutMs;
    switch (kind) {
      case 'freeze': {
        if (target === undefined) return;
        const durationMs = Math.round(chaos.between(0.3, 2.5) * session);
        this.#trace.add('chaos', `freeze ${target.id} for ${durationMs} ms`);
        this.#frozen.add(target.id);
        target.clock.freeze();
        target.registry.faults.partition({ detectAfterMs: 0 });
        this.#disturb(now, now + durationMs);
        this.#healLater(target, durationMs, () => {
          this.#trace.add('chaos', `resume ${target.id}`);
          this.#frozen.delete(target.id);
          target.clock.resume();
          target.registry.faults.heal();
        });
        return;
      }
      case 'partition': {
        if (target === undefined) return;
        const durationMs = Math.round(chaos.between(0.3, 2.5) * session);
        const detectAfterMs = Math.round(chaos.between(0.1, 0.7) * session);
        this.#trace.add(
          'chaos',
          `partition ${target.id} for ${durationMs} ms (noticed after ${detectAfterMs} ms)`,
        );
        target.registry.faults.partition({ detectAfterMs });
        this.#disturb(now, now + durationMs);
        this.#healLater(target, durationMs, () => {
          this.#trace.add('chaos', `heal ${target.id}`);
          target.registry.faults.heal();
        });
        return;
      }
      case 'disconnect': {
        if (target === undefined) return;
        const durationMs = Math.round(chaos.between(0.3, 2) * session);
        this.#trace.add(
          'chaos',
          `disconnect ${target.id} for ${durationMs} ms (client-side LOST after the session timeout)`,
        );
        target.registry.simulateDisconnect();
        this.#disturb(now, now + durationMs);
        this.#healLater(target, durationMs, () => {
          this.#trace.add('chaos', `reconnect ${target.id}`);
          target.registry.simulateReconnect();
        });
        return;
      }
      case 'expire': {
        if (target === undefined) return;
        this.#trace.add('chaos', `expire the session of ${target.id}`);
        target.registry.expireSession();
        this.#disturb(now, now);
        return;
      }
      case 'crash': {
        if (target === undefined || this.#live().length <= 1) return;
        this.#trace.add('chaos', `crash ${target.id}`);
        target.crash();
        this.#retire(target);
        this.#disturb(now, now);
        this.#noteJoblessJobs();
        if (chaos.chance(0.6)) {
          const reuse = chaos.chance(0.5) ? target.instanceId : undefined;
          const afterMs = chaos.int(1000, 12_000);
          this.#disturb(now, now + afterMs);
          this.#time.setTimeout(() => {
            if (this.#time.now() >= SIMULATION_EPOCH_MS + spec.faultPhaseMs) return;
            this.#trace.add(
              'chaos',
              `restart after the crash of ${target.id}${reuse ? ` with the same id` : ''}`,
            );
            this.#spawn(reuse);
          }, afterMs);
        }
        return;
      }
      case 'scale-out': {
        if (this.#live().length >= spec.maxProcesses) return;
        this.#trace.add('chaos', 'scale out');
        this.#disturb(now, now);
        this.#spawn();
        return;
      }
      case 'scale-in': {
        if (target === undefined || this.#live().length <= 1) return;
        this.#trace.add('chaos', `scale in: stop ${target.id}`);
        this.#disturb(now, now + SHUTDOWN_TIMEOUT_MS);
        this.#stopProcess(target);
        this.#noteJoblessJobs();
        return;
      }
      case 'operator':
        this.#operatorCommand();
        return;
    }
  }

  #healLater(process: SimProcess, afterMs: number, heal: () => void): void {
    const wrapped = (): void => {
      if (!this.#healers.has(process.id)) return;
      this.#healers.delete(process.id);
      if (process.state === 'running') heal();
    };
    this.#healers.set(process.id, wrapped);
    this.#time.setTimeout(wrapped, afterMs);
  }

  #stopProcess(process: SimProcess): void {
    process.state = 'stopped';
    const stop = process.stop().then(async () => {
      await process.registry.close();
      this.#trace.add(process.id, 'process exits');
    });
    process.track(stop);
    this.#retire(process);
  }

  #operatorCommand(): void {
    const operator = this.#operator;
    if (operator === undefined) return;
    const chaos = this.#chaos;
    const job = chaos.pick(this.#spec.jobs);
    const live = this.#live();
    const now = this.#time.now();
    const api = operator.apis;
    const command = chaos.pick(['disable', 'trigger', 'reshard', 'shutdown'] as const);
    const run = (what: string, action: () => Promise<unknown>): void => {
      this.#trace.add('operator', what);
      void action().catch((error: unknown) =>
        this.#trace.add('operator', `${what} failed: ${String(error)}`),
      );
    };
    switch (command) {
      case 'disable': {
        const target = live.length > 0 ? chaos.pick(live) : undefined;
        if (target === undefined) return;
        const forMs = chaos.int(2000, 15_000);
        this.#disturb(now, now + forMs);
        run(`disable ${job.jobName} on ${target.serverIp} for ${forMs} ms`, () =>
          api.jobOperateAPI.disable(job.jobName, target.serverIp),
        );
        this.#time.setTimeout(() => {
          run(`enable ${job.jobName} on ${target.serverIp}`, () =>
            api.jobOperateAPI.enable(job.jobName, target.serverIp),
          );
        }, forMs);
        return;
      }
      case 'trigger':
        this.#disturb(now, now);
        run(`trigger ${job.jobName}`, () => api.jobOperateAPI.trigger(job.jobName));
        return;
      case 'reshard': {
        const count = chaos.chance(0.2)
          ? chaos.int(1, 64)
          : Math.max(1, this.#currentItemCount(job.jobName) + chaos.int(-3, 3));
        this.#itemCounts.get(job.jobName)?.push({ fromMs: now, count });
        this.#disturb(now, now);
        run(`config change: ${job.jobName} shardingTotalCount ${count}`, async () => {
          const current = await api.jobConfigurationAPI.getJobConfiguration(job.jobName);
          await api.jobConfigurationAPI.updateJobConfiguration({ ...current, shardingTotalCount: count });
        });
        return;
      }
      case 'shutdown': {
        const target = live.length > 1 ? chaos.pick(live) : undefined;
        if (target === undefined) return;
        this.#disturb(now, now + SHUTDOWN_TIMEOUT_MS);
        run(`shutdown ${job.jobName} on ${target.serverIp}`, () =>
          api.jobOperateAPI.shutdown(job.jobName, target.serverIp),
        );
        for (const p of live)
          if (p.serverIp === target.serverIp) this.#shutJobs.add(`${p.id}/${job.jobName}`);
        this.#noteJoblessJobs();
        return;
      }
    }
  }

  /** Ends every fault: frozen processes resume, partitions heal, and each job has an instance. */
  #calm(): void {
    const now = this.#time.now();
    this.#trace.add('chaos', 'faults stop: healing everything');
    for (const heal of [...this.#healers.values()]) heal();
    const live = this.#live();
    const operator = this.#operator;
    if (operator !== undefined) {
      this.#trace.add('operator', 'enable every job on every server');
      for (const job of this.#spec.jobs) {
        void operator.apis.jobOperateAPI.enable(job.jobName).catch(() => {});
      }
    }
    // Operator shutdowns may have stopped a job on every live process: a fresh one runs them all.
    if (live.length < this.#spec.maxProcesses + 1) this.#spawn();
    this.#disturb(now, now);
  }

  // ---------------------------------------------------------------- shutdown and leaks

  async #shutdownAll(live: readonly SimProcess[]): Promise<void> {
    const startMs = this.#time.now();
    let done = 0;
    for (const process of live) {
      const stop = process.stop().then(
        () => {
          done++;
        },
        () => {
          done++;
        },
      );
      process.track(stop);
    }
    // Each process shuts its jobs down one after the other, each drain bounded by the timeout.
    const boundMs = this.#spec.jobs.length * SHUTDOWN_TIMEOUT_MS + this.#spec.sessionTimeoutMs + 2000;
    await this.#time.runUntil(startMs + boundMs, () => done === live.length);
    if (done < live.length) {
      this.#ledger.report({
        kind: 'shutdown-hang',
        atMs: this.#time.now(),
        message: `${live.length - done} process(es) still shutting down ${boundMs} ms after shutdown began`,
      });
    }
    for (const process of live) {
      const timers = process.timers.size;
      if (timers > 0) {
        this.#ledger.report({
          kind: 'leak-timer',
          atMs: this.#time.now(),
          message: `${process.id}: ${timers} kernel timer(s) left after shutdown`,
        });
      }
      if (process.registry.watchCount > 0) {
        this.#ledger.report({
          kind: 'leak-watch',
          atMs: this.#time.now(),
          message: `${process.id}: ${process.registry.watchCount} watch(es) left after shutdown`,
        });
      }
      // A run whose signal was aborted and that ignores it is the job's business, not a leak.
      if (process.unabortedRunCount > 0) {
        this.#ledger.report({
          kind: 'leak-run',
          atMs: this.#time.now(),
          message: `${process.id}: ${process.unabortedRunCount} item run(s) still in progress after shutdown, signal not aborted`,
        });
      }
      await process.registry.close();
      this.#retire(process);
    }
    await this.#operator?.registry.close();
    await this.#time.runUntil(this.#time.now() + 1000);
    for (const process of live) {
      const left = process.clock.pendingTimerCount - process.activeRunCount;
      if (left > 0) {
        this.#ledger.report({
          kind: 'leak-timer',
          atMs: this.#time.now(),
          message: `${process.id}: ${left} clock timer(s) left after shutdown and close (item runs' own timers excluded)`,
        });
      }
    }
  }
}

type Alive = SimProcess & { bornMs: number };
