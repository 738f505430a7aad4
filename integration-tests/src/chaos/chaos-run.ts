/**
 * A seeded chaos run: several worker processes of one job on a real registry (single server or
 * 3-member ensemble), and, from a seed, a random sequence of faults one at a time — `kill -9` (the
 * process comes back as a new instance), `SIGSTOP` beyond the session, short and long network
 * partitions, blackhole, pulled cable, registry restart or leader kill, scale out and in — for a
 * given duration. Afterwards every fault is healed, the cluster gets a quiet period, and the logs
 * are judged by {@link analyseChaosRun}.
 *
 * @module
 */
import { Cluster } from '../harness/cluster.js';
import {
  type RegistryBackendName,
  type RegistryTopology,
  startRunRegistry,
} from '../harness/registry-backends.js';
import {
  analyseChaosRun,
  type ChaosAnalysis,
  type ChaosFault,
  type ChaosFaultKind,
  type ChaosTiming,
  settleMs,
} from './chaos-report.js';
import { SeededRandom } from './random.js';

/** Options of {@link runChaos}. */
export interface ChaosRunOptions {
  /** The registry backend. */
  readonly backend: RegistryBackendName;
  /** `single` server or 3-member `cluster`. */
  readonly topology: RegistryTopology;
  /** The seed of the fault sequence. */
  readonly seed: number;
  /** How long faults are injected, in ms (the quiet period after it comes on top). */
  readonly durationMs: number;
  /** Workers at the start; scale out/in keeps the count within `[2, workers + 2]`. @defaultValue 3 */
  readonly workers?: number;
  /** Pause between the end of one fault and the start of the next, in ms. @defaultValue [6000, 12000] */
  readonly gapMs?: readonly [number, number];
  /** Registry session timeout of the workers, in ms. @defaultValue 3000 */
  readonly sessionTimeoutMs?: number;
  /** Sharding items. @defaultValue 8 */
  readonly shardingTotalCount?: number;
  /** Item duration, in ms. @defaultValue 800 */
  readonly itemDurationMs?: number;
  /** Progress lines (one per fault). @defaultValue none */
  readonly log?: (line: string) => void;
  /** Keep the worker logs (their directory is in the result). @defaultValue false */
  readonly keepLogs?: boolean;
}

/** What {@link runChaos} returns. */
export interface ChaosRunResult {
  /** The options the run used, defaults filled in. */
  readonly settings: Required<Omit<ChaosRunOptions, 'log' | 'keepLogs'>>;
  /** The job's timing. */
  readonly timing: ChaosTiming;
  /** The faults, in order. */
  readonly faults: ChaosFault[];
  /** The analysis of the logs. */
  readonly analysis: ChaosAnalysis;
  /** Workers that exited without being asked to (crashes). */
  readonly unexpectedExits: string[];
  /** Log protocol problems (must be empty). */
  readonly problems: string[];
  /** Where the worker logs are (deleted unless kept). */
  readonly logDir: string;
  /** When the run started and ended, epoch ms. */
  readonly startedAtMs: number;
  readonly endedAtMs: number;
}

const FIRE_PERIOD_MS = 2000;

/**
 * Runs a chaos run (see the module doc).
 *
 * @param options - backend, topology, seed, duration and job shape.
 * @returns faults and the analysis.
 * @throws {Error} when the registry or the workers cannot start.
 */
export async function runChaos(options: ChaosRunOptions): Promise<ChaosRunResult> {
  const settings = {
    backend: options.backend,
    topology: options.topology,
    seed: options.seed,
    durationMs: options.durationMs,
    workers: options.workers ?? 3,
    gapMs: options.gapMs ?? ([6000, 12_000] as const),
    sessionTimeoutMs: options.sessionTimeoutMs ?? 3000,
    shardingTotalCount: options.shardingTotalCount ?? 8,
    itemDurationMs: options.itemDurationMs ?? 800,
  };
  const timing: ChaosTiming = {
    sessionTimeoutMs: settings.sessionTimeoutMs,
    firePeriodMs: FIRE_PERIOD_MS,
    itemDurationMs: settings.itemDurationMs,
    shardingTotalCount: settings.shardingTotalCount,
  };
  const log = options.log ?? (() => undefined);
  const random = new SeededRandom(settings.seed);
  const registry = await startRunRegistry(settings.backend, settings.topology);
  let cluster: Cluster | undefined;
  try {
    cluster = await Cluster.start(
      {
        registry: registry.connection,
        server: registry,
        namespace: `chaos-${settings.backend}-${settings.topology}-${settings.seed}-${process.pid}`,
        sessionTimeoutMs: settings.sessionTimeoutMs,
        workerLogLevel: 'info',
        job: {
          jobName: 'orders',
          cron: `0/${FIRE_PERIOD_MS / 1000} * * * * ?`,
          shardingTotalCount: settings.shardingTotalCount,
          failover: true,
          monitorExecution: true,
          misfire: true,
          itemDurationMs: settings.itemDurationMs,
        },
      },
      settings.workers,
    );
    const startedAtMs = Date.now();
    const faults: ChaosFault[] = [];
    const injector = new FaultInjector(cluster, registry, random, settings);
    // Let the cluster settle before the first fault.
    await delay(settle(timing));
    while (Date.now() - startedAtMs < settings.durationMs) {
      const attemptedAtMs = Date.now();
      const fault = await injector.injectOne().catch(
        (error: unknown): ChaosFault => ({
          kind: injector.lastKind ?? 'scale-out',
          target: 'harness',
          fromMs: attemptedAtMs,
          toMs: Date.now(),
          error: error instanceof Error ? error.message.split('\n')[0] : String(error),
        }),
      );
      faults.push(fault);
      log(
        `${new Date(fault.fromMs).toISOString().slice(11, 23)} ${fault.kind} ${fault.target} ` +
          `(${fault.toMs - fault.fromMs} ms)${fault.error === undefined ? '' : ` FAILED: ${fault.error}`}`,
      );
      await delay(random.int(settings.gapMs[0], settings.gapMs[1]));
    }
    const faultsEndedAtMs = Date.now();
    // A quiet period long enough for the last fault to settle and a few fires to be judged.
    await delay(settle(timing) + 4 * FIRE_PERIOD_MS);
    const logs = await cluster.readLogs();
    const endedAtMs = Date.now();
    const analysis = analyseChaosRun(
      logs.runs,
      logs.timelines,
      faults,
      { fromMs: startedAtMs + settle(timing), toMs: logs.readAtMs - settings.itemDurationMs },
      timing,
    );
    log(
      `faults ended at ${new Date(faultsEndedAtMs).toISOString().slice(11, 23)}; logs in ${cluster.logDir}`,
    );
    return {
      settings,
      timing,
      faults,
      analysis,
      unexpectedExits: cluster.unexpectedExits().map((e) => `${e.instanceId}: ${JSON.stringify(e.exit)}`),
      problems: logs.problems,
      logDir: cluster.logDir,
      startedAtMs,
      endedAtMs,
    };
  } finally {
    await cluster?.close({ keepLogs: options.keepLogs ?? false });
    await registry.stop();
  }
}

function settle(timing: ChaosTiming): number {
  return settleMs(timing);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Chooses and injects one fault at a time, and heals it before returning. */
class FaultInjector {
  readonly #cluster: Cluster;
  readonly #registry: Awaited<ReturnType<typeof startRunRegistry>>;
  readonly #random: SeededRandom;
  readonly #sessionTimeoutMs: number;
  readonly #minWorkers = 2;
  readonly #maxWorkers: number;

  constructor(
    cluster: Cluster,
    registry: Awaited<ReturnType<typeof startRunRegistry>>,
    random: SeededRandom,
    settings: { readonly sessionTimeoutMs: number; readonly workers: number },
  ) {
    this.#cluster = cluster;
    this.#registry = registry;
    this.#random = random;
    this.#sessionTimeoutMs = settings.sessionTimeoutMs;
    this.#maxWorkers = settings.workers + 2;
  }

  #running(): number[] {
    return this.#cluster.workers.filter((w) => w.state === 'running').map((w) => w.index);
  }

  #kinds(): ChaosFaultKind[] {
    const count = this.#running().length;
    const kinds: ChaosFaultKind[] = [
      'sigstop',
      'partition-short',
      'partition-long',
      'blackhole',
      'pulled-cable',
      this.#registry.killLeader === undefined ? 'registry-restart' : 'leader-kill',
    ];
    if (count > this.#minWorkers) kinds.push('kill9', 'scale-in');
    if (count < this.#maxWorkers) kinds.push('scale-out');
    return kinds;
  }

  /** The kind of the fault injected last (also when it failed). */
  lastKind: ChaosFaultKind | undefined;

  /**
   * Injects one random fault and heals it; resolves with what was done.
   *
   * @throws {Error} when the harness could not do it (e.g. a worker did not stop on SIGTERM in time).
   */
  async injectOne(): Promise<ChaosFault> {
    const kind = this.#random.pick(this.#kinds());
    this.lastKind = kind;
    const beyondSessionMs = () => this.#sessionTimeoutMs + this.#random.int(1000, 3000);
    const cluster = this.#cluster;
    const fromMs = Date.now();
    const worker = () => cluster.worker(this.#random.pick(this.#running()));
    switch (kind) {
      case 'kill9': {
        const victim = worker();
        await cluster.kill9(victim.index);
        await delay(this.#random.int(1000, 6000));
        const back = await cluster.add();
        return { kind, target: `${victim.instanceId} → ${back.instanceId}`, fromMs, toMs: Date.now() };
      }
      case 'sigstop': {
        const victim = worker();
        cluster.sigstop(victim.index);
        await delay(beyondSessionMs());
        cluster.sigcont(victim.index);
        return { kind, target: victim.instanceId, fromMs, toMs: Date.now() };
      }
      case 'partition-short':
      case 'partition-long':
      case 'blackhole':
      case 'pulled-cable': {
        const victim = worker();
        const mode = kind === 'blackhole' ? 'blackhole' : kind === 'pulled-cable' ? 'pause' : 'partition';
        cluster.networkFault(victim.index, mode);
        await delay(
          kind === 'partition-short'
            ? this.#random.int(this.#sessionTimeoutMs / 6, this.#sessionTimeoutMs / 2)
            : beyondSessionMs(),
        );
        cluster.healNetwork(victim.index);
        return { kind, target: victim.instanceId, fromMs, toMs: Date.now() };
      }
      case 'registry-restart': {
        await this.#registry.restart();
        return { kind, target: 'registry', fromMs, toMs: Date.now() };
      }
      case 'leader-kill': {
        const member = await this.#registry.killLeader?.();
        await delay(this.#random.int(1000, 5000));
        if (member !== undefined) await this.#registry.restartMember?.(member);
        return { kind, target: `member ${member}`, fromMs, toMs: Date.now() };
      }
      case 'scale-out': {
        const added = await cluster.add();
        return { kind, target: added.instanceId, fromMs, toMs: Date.now() };
      }
      case 'scale-in': {
        const victim = worker();
        await cluster.stop(victim.index);
        return { kind, target: victim.instanceId, fromMs, toMs: Date.now() };
      }
    }
  }
}
