/**
 * A cluster of job instances, each in its own OS process (`dist/worker/job-instance.js`), against
 * a real ZooKeeper, etcd or Redis server: spawn and scale out, `kill -9`, `SIGSTOP`/`SIGCONT`, graceful
 * stop, registry server restart, and the parsed execution logs plus everything the harness knows
 * about each process (kills, pauses, exits, network faults) for the checker.
 *
 * Every worker reaches the registry through its own {@link FaultProxy} per registry member, so the
 * harness can cut one worker's network ({@link Cluster.networkFault}): partition, blackhole or a
 * pulled cable, healed by {@link Cluster.healNetwork}. The harness's admin client connects directly.
 *
 * Every worker dies with the test process: the harness `SIGKILL`s the ones still alive on
 * {@link Cluster.close} and on `process.exit`, and each worker exits by itself when its stdin pipe
 * (held by this process) closes.
 *
 * @module
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type CoordinatorRegistryCenter,
  createRegistryCenter,
  JobDumpService,
  type RegistryCenterConfiguration,
} from '@elasticjob-ts/core';
import { FaultProxy, type FaultProxyMode } from '@elasticjob-ts/test-support';
import {
  type JobInstanceWorkerConfig,
  registryConfigurationOf,
  type WorkerJobConfig,
  type WorkerRegistryConnection,
} from '../worker/worker-config.js';
import {
  buildRuns,
  type InstanceTimeline,
  type ItemRun,
  type NetworkFaultWindow,
  type PauseWindow,
} from './checker.js';
import { type ExecutionLogEntry, type InstanceLogEntry, parseExecutionLog } from './execution-log.js';

/** The compiled worker program the cluster spawns. */
export const WORKER_SCRIPT = fileURLToPath(new URL('../../dist/worker/job-instance.js', import.meta.url));

/** A registry server the cluster can restart (the registry-conformance test servers qualify). */
export interface RestartableServer {
  /** Stops the server and starts it again with its data; resolves once it serves again. */
  restart(): Promise<void>;
}

/** Options of {@link Cluster.start}. */
export interface ClusterOptions {
  /** How workers (and the harness's admin client) reach the registry server. */
  readonly registry: WorkerRegistryConnection;
  /** Namespace of this cluster; use a fresh one per test. */
  readonly namespace: string;
  /** Registry session timeout of every worker and of the admin client, in ms. */
  readonly sessionTimeoutMs: number;
  /** The job every worker schedules. */
  readonly job: WorkerJobConfig;
  /** The server behind `registry`, for {@link Cluster.restartRegistry}. */
  readonly server?: RestartableServer;
  /** Bound of the wait for a worker's `READY`, in ms. @defaultValue 30000 */
  readonly readyTimeoutMs?: number;
  /** `ELASTICJOB_LOG_LEVEL` of the workers (their stderr goes to `{id}.stderr.log`). @defaultValue 'info' */
  readonly workerLogLevel?: string;
  /**
   * Keep the log directory after {@link Cluster.close}.
   * @defaultValue `true` when the environment variable `ELASTICJOB_IT_KEEP_LOGS` is set
   */
  readonly keepLogs?: boolean;
}

/** How a worker process ended. */
export interface WorkerExit {
  /** Exit code, `null` when a signal ended it. */
  readonly code: number | null;
  /** The ending signal, `null` when it exited by itself. */
  readonly signal: NodeJS.Signals | null;
  /** When the harness saw the exit, epoch ms. */
  readonly atMs: number;
  /** Whether the harness caused it ({@link Cluster.kill9}, {@link Cluster.stop}, {@link Cluster.close}). */
  readonly expected: boolean;
}

/** One worker process of a {@link Cluster}. */
export interface WorkerHandle {
  /** Position in the cluster, from 0, in spawn order. */
  readonly index: number;
  /** Its job instance id (`127.0.0.1@-@w{index}`). */
  readonly instanceId: string;
  /** Its OS process id. */
  readonly pid: number;
  /** Its execution log. */
  readonly logFile: string;
  /** Its stderr (the kernel's pino log). */
  readonly stderrFile: string;
  /** `running`, `paused` (SIGSTOPped) or `exited`. */
  readonly state: 'running' | 'paused' | 'exited';
  /** The network fault its proxies apply now (`pass` when none). */
  readonly network: FaultProxyMode;
  /** Set once it exited. */
  readonly exit: WorkerExit | undefined;
}

/** Everything {@link Cluster.readLogs} returns. */
export interface ClusterLogs {
  /** Every parsed line, merged and sorted by wall-clock time. */
  readonly entries: ExecutionLogEntry[];
  /** Item runs, from the checker's {@link buildRuns}. */
  readonly runs: ItemRun[];
  /** One timeline per worker ever spawned. */
  readonly timelines: InstanceTimeline[];
  /** Protocol violations and malformed lines (must be empty). */
  readonly problems: string[];
  /** When the logs were read, epoch ms ("now" for open runs). */
  readonly readAtMs: number;
}

/** What {@link Cluster.readAssignment} returns. */
export interface ShardingSnapshot {
  /** Item → `sharding/{item}/instance`, for items that have an owner. */
  readonly assignment: Map<number, string>;
  /** Whether `leader/sharding/necessary` or `processing` exists. */
  readonly reshardingPending: boolean;
  /** Children of `instances/`. */
  readonly liveInstances: string[];
  /** `leader/election/instance`, if any. */
  readonly leader: string | undefined;
}

interface Worker {
  readonly index: number;
  readonly instanceId: string;
  readonly child: ChildProcess;
  readonly pid: number;
  readonly logFile: string;
  readonly stderrFile: string;
  readonly exited: Promise<WorkerExit>;
  state: 'running' | 'paused' | 'exited';
  exit: WorkerExit | undefined;
  expectExit: boolean;
  goneAtMs: number | undefined;
  readonly pauses: { fromMs: number; toMs: number | undefined }[];
  readonly proxies: readonly FaultProxy[];
  readonly networkFaults: { mode: FaultProxyMode; fromMs: number; toMs: number | undefined }[];
}

/** `host:port` pairs of a registry connection, in order. */
function memberAddresses(registry: WorkerRegistryConnection): { host: string; port: number }[] {
  const hostPorts =
    registry.type === 'zookeeper'
      ? registry.serverLists.split('/')[0]!.split(',')
      : registry.type === 'etcd'
        ? registry.endpoints.map((endpoint) => new URL(endpoint).host)
        : [new URL(registry.url).host];
  return hostPorts.map((hostPort) => {
    const index = hostPort.lastIndexOf(':');
    return { host: hostPort.slice(0, index), port: Number(hostPort.slice(index + 1)) };
  });
}

/** The same connection with every member replaced by its proxy, in order. */
function throughProxies(
  registry: WorkerRegistryConnection,
  proxies: readonly FaultProxy[],
): WorkerRegistryConnection {
  const local = proxies.map((proxy) => `127.0.0.1:${proxy.port}`);
  switch (registry.type) {
    case 'zookeeper':
      return { type: 'zookeeper', serverLists: local.join(',') };
    case 'etcd':
      return { type: 'etcd', endpoints: local.map((hostPort) => `http://${hostPort}`) };
    case 'redis': {
      const url = new URL(registry.url);
      url.host = local[0]!;
      return { type: 'redis', url: url.toString() };
    }
  }
}

const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of liveChildren) {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

/**
 * A cluster of worker processes of one job. Create it with {@link Cluster.start}; always
 * {@link Cluster.close} it (e.g. in `afterEach`).
 *
 * @example
 * ```ts
 * const cluster = await Cluster.start({ registry: { type: 'zookeeper', serverLists }, namespace: 'it-1',
 *   sessionTimeoutMs: 3000, job: { jobName: 'orders', cron: '* * * * * ?', shardingTotalCount: 4,
 *   failover: true, monitorExecution: true, misfire: true, itemDurationMs: 500 } }, 3);
 * await cluster.kill9(0);
 * const logs = await cluster.readLogs();
 * await cluster.close();
 * ```
 */
export class Cluster {
  readonly options: ClusterOptions;
  /** Directory holding every worker's execution log and stderr. */
  readonly logDir: string;
  readonly #workers: Worker[] = [];
  #nextIndex = 0;
  #admin: Promise<CoordinatorRegistryCenter> | undefined;
  #closed = false;

  private constructor(options: ClusterOptions, logDir: string) {
    this.options = options;
    this.logDir = logDir;
  }

  /**
   * Spawns `count` workers and waits until each printed `READY`.
   *
   * @param options - registry, namespace, session timeout, job.
   * @param count - number of workers to start.
   * @returns the running cluster.
   * @throws {Error} when the worker program was not built, or a worker exits or is not ready in
   *   time (the cluster is closed then).
   */
  static async start(options: ClusterOptions, count: number): Promise<Cluster> {
    if (!existsSync(WORKER_SCRIPT)) {
      throw new Error(
        `The worker program ${WORKER_SCRIPT} does not exist; build first: ` +
          'npx turbo run build --filter=@elasticjob-ts/integration-tests...',
      );
    }
    installExitHook();
    const cluster = new Cluster(
      options,
      await mkdtemp(join(tmpdir(), `elasticjob-it-${options.namespace}-`)),
    );
    try {
      await Promise.all(Array.from({ length: count }, () => cluster.add()));
    } catch (error) {
      await cluster.close();
      throw error;
    }
    return cluster;
  }

  /** Every worker ever spawned, in spawn order. */
  get workers(): readonly WorkerHandle[] {
    return this.#workers.map((worker) => this.#handle(worker));
  }

  /**
   * One worker.
   *
   * @param index - its position in spawn order.
   * @throws {RangeError} for an unknown index.
   */
  worker(index: number): WorkerHandle {
    return this.#handle(this.#get(index));
  }

  /** Instance ids of the workers that run (not paused, not exited). */
  runningInstanceIds(): string[] {
    return this.#workers.filter((worker) => worker.state === 'running').map((worker) => worker.instanceId);
  }

  /**
   * Spawns one more worker (scale out) and waits for its `READY`.
   *
   * @returns its handle.
   * @throws {Error} when it exits or is not ready within `readyTimeoutMs`.
   */
  async add(): Promise<WorkerHandle> {
    if (this.#closed) throw new Error('the cluster is closed');
    // Reserved before any await, so that concurrent add() calls get distinct indexes.
    const index = this.#nextIndex++;
    const instanceId = `127.0.0.1@-@w${String(index).padStart(2, '0')}`;
    const logFile = join(this.logDir, `w${index}.log`);
    const stderrFile = join(this.logDir, `w${index}.stderr.log`);
    const proxies = await Promise.all(
      memberAddresses(this.options.registry).map((member) =>
        FaultProxy.start({ targetHost: member.host, targetPort: member.port }),
      ),
    );
    const config: JobInstanceWorkerConfig = {
      registry: throughProxies(this.options.registry, proxies),
      namespace: this.options.namespace,
      sessionTimeoutMs: this.options.sessionTimeoutMs,
      job: this.options.job,
      instanceId,
      logFile,
    };
    const stderrFd = openSync(stderrFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, [WORKER_SCRIPT, JSON.stringify(config)], {
        stdio: ['pipe', 'pipe', stderrFd],
        env: { ...process.env, ELASTICJOB_LOG_LEVEL: this.options.workerLogLevel ?? 'info' },
      });
    } finally {
      closeSync(stderrFd);
    }
    if (child.pid === undefined) throw new Error(`could not spawn worker ${instanceId}`);
    liveChildren.add(child);
    child.stdin?.on('error', () => {
      // the worker is gone; nothing to tell it
    });
    const worker: Worker = {
      index,
      instanceId,
      child,
      pid: child.pid,
      logFile,
      stderrFile,
      exited: new Promise<WorkerExit>((resolve) => {
        child.once('exit', (code, signal) => {
          liveChildren.delete(child);
          const exit: WorkerExit = { code, signal, atMs: Date.now(), expected: worker.expectExit };
          worker.state = 'exited';
          worker.exit = exit;
          worker.goneAtMs ??= exit.atMs;
          resolve(exit);
        });
      }),
      state: 'running',
      exit: undefined,
      expectExit: false,
      goneAtMs: undefined,
      pauses: [],
      proxies,
      networkFaults: [],
    };
    this.#workers[index] = worker;
    await this.#waitReady(worker);
    return this.#handle(worker);
  }

  async #waitReady(worker: Worker): Promise<void> {
    const timeoutMs = this.options.readyTimeoutMs ?? 30_000;
    const stdout = worker.child.stdout;
    if (stdout === null) throw new Error('worker has no stdout');
    let buffered = '';
    const ready = await new Promise<boolean | 'exited'>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      stdout.setEncoding('utf8');
      stdout.on('data', (chunk: string) => {
        buffered += chunk;
        if (buffered.split('\n').includes('READY')) {
          clearTimeout(timer);
          resolve(true);
        }
      });
      void worker.exited.then(() => {
        clearTimeout(timer);
        resolve('exited');
      });
    });
    stdout.resume(); // keep draining later output
    if (ready === true) return;
    const stderr = await readFile(worker.stderrFile, 'utf8').catch(() => '');
    const why =
      ready === 'exited' ? `exited (${JSON.stringify(worker.exit)})` : `was not READY within ${timeoutMs} ms`;
    throw new Error(`worker ${worker.instanceId} ${why}; stderr tail:\n${stderr.slice(-4000)}`);
  }

  /**
   * `kill -9`: the process dies at once, without any cleanup; its session expires on the server.
   *
   * @param index - the worker.
   * @returns when the signal was sent, epoch ms (the kill time for failover latency).
   */
  async kill9(index: number): Promise<number> {
    const worker = this.#get(index);
    if (worker.state === 'exited') throw new Error(`worker ${worker.instanceId} already exited`);
    worker.expectExit = true;
    const atMs = Date.now();
    worker.goneAtMs = atMs;
    worker.child.kill('SIGKILL');
    await worker.exited;
    return atMs;
  }

  /**
   * `SIGSTOP`: the process freezes (no timers, no heartbeats) until {@link sigcont}.
   *
   * @param index - the worker.
   * @returns when it was stopped, epoch ms.
   */
  sigstop(index: number): number {
    const worker = this.#get(index);
    if (worker.state !== 'running') throw new Error(`worker ${worker.instanceId} is ${worker.state}`);
    worker.child.kill('SIGSTOP');
    const fromMs = Date.now();
    worker.pauses.push({ fromMs, toMs: undefined });
    worker.state = 'paused';
    return fromMs;
  }

  /**
   * `SIGCONT`: resumes a stopped process.
   *
   * @param index - the worker.
   * @returns when it was resumed, epoch ms.
   */
  sigcont(index: number): number {
    const worker = this.#get(index);
    const pause = worker.pauses.at(-1);
    if (worker.state !== 'paused' || pause === undefined)
      throw new Error(`worker ${worker.instanceId} is not paused`);
    const toMs = Date.now();
    pause.toMs = toMs;
    worker.state = 'running';
    worker.child.kill('SIGCONT');
    return toMs;
  }

  /**
   * Cuts one worker's network to every registry member (see `FaultProxy` for the modes):
   * `partition` (connections reset), `blackhole` (accepted, never answered) or `pause` (a pulled
   * cable: bytes held and delivered on heal). Replaces a fault already applied.
   *
   * @param index - the worker.
   * @param mode - the fault.
   * @returns when the fault began, epoch ms.
   */
  networkFault(index: number, mode: Exclude<FaultProxyMode, 'pass'>): number {
    const worker = this.#get(index);
    const fromMs = Date.now();
    const current = worker.networkFaults.at(-1);
    if (current !== undefined && current.toMs === undefined) current.toMs = fromMs;
    for (const proxy of worker.proxies) proxy.setMode(mode);
    worker.networkFaults.push({ mode, fromMs, toMs: undefined });
    return fromMs;
  }

  /**
   * Heals a worker's network (its proxies forward again). Does nothing when it is not cut.
   *
   * @param index - the worker.
   * @returns when it was healed, epoch ms.
   */
  healNetwork(index: number): number {
    const worker = this.#get(index);
    const toMs = Date.now();
    const current = worker.networkFaults.at(-1);
    if (current === undefined || current.toMs !== undefined) return toMs;
    for (const proxy of worker.proxies) proxy.heal();
    current.toMs = toMs;
    return toMs;
  }

  /**
   * Graceful stop (`SIGTERM`, scale in): the worker shuts its job down and exits with 0.
   *
   * @param index - the worker.
   * @param timeoutMs - bound of the wait for its exit, in ms (default 20000); then it is killed.
   * @returns its exit.
   * @throws {Error} when it did not exit in time or exited with a non-zero code.
   */
  async stop(index: number, timeoutMs = 20_000): Promise<WorkerExit> {
    const worker = this.#get(index);
    if (worker.state === 'exited') throw new Error(`worker ${worker.instanceId} already exited`);
    worker.expectExit = true;
    if (worker.state === 'paused') this.sigcont(index);
    worker.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), timeoutMs);
    });
    const exit = await Promise.race([worker.exited, timedOut]);
    clearTimeout(timer);
    if (exit === undefined) {
      worker.child.kill('SIGKILL');
      await worker.exited;
      throw new Error(`worker ${worker.instanceId} did not exit within ${timeoutMs} ms of SIGTERM`);
    }
    if (exit.code !== 0)
      throw new Error(`worker ${worker.instanceId} exited with ${JSON.stringify(exit)} on SIGTERM`);
    return exit;
  }

  /**
   * Restarts the registry server (stop, then start with the same data and port).
   *
   * @returns `{ fromMs, toMs }`: when the restart began and when the server served again.
   * @throws {Error} when the cluster has no `server`, or the restart fails.
   */
  async restartRegistry(): Promise<{ fromMs: number; toMs: number }> {
    const server = this.options.server;
    if (server === undefined) throw new Error('restartRegistry() needs the `server` option');
    const fromMs = Date.now();
    await server.restart();
    return { fromMs, toMs: Date.now() };
  }

  /** Workers that exited without the harness asking them to (crashes). */
  unexpectedExits(): { instanceId: string; exit: WorkerExit }[] {
    return this.#workers
      .filter((worker) => worker.exit !== undefined && !worker.exit.expected)
      .map((worker) => ({ instanceId: worker.instanceId, exit: worker.exit as WorkerExit }));
  }

  /**
   * Reads and parses every worker's execution log.
   *
   * @returns entries, runs, timelines and protocol problems (see {@link ClusterLogs}).
   */
  async readLogs(): Promise<ClusterLogs> {
    const readAtMs = Date.now();
    const entries: ExecutionLogEntry[] = [];
    const problems: string[] = [];
    const timelines: InstanceTimeline[] = [];
    for (const worker of this.#workers) {
      const text = await readFile(worker.logFile, 'utf8').catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return '';
        throw error;
      });
      const parsed = parseExecutionLog(text);
      for (const line of parsed.malformed)
        problems.push(`${worker.instanceId}: malformed log line '${line}'`);
      for (const entry of parsed.entries) {
        if (entry.instanceId !== worker.instanceId) {
          problems.push(
            `${worker.instanceId}: line of another instance in its log: ${JSON.stringify(entry)}`,
          );
        }
      }
      entries.push(...parsed.entries);
      timelines.push({
        instanceId: worker.instanceId,
        goneAtMs: worker.goneAtMs,
        pauses: worker.pauses.map((pause): PauseWindow => ({ ...pause })),
        networkFaults: worker.networkFaults.map((fault): NetworkFaultWindow => ({ ...fault })),
        events: parsed.entries
          .filter((entry): entry is InstanceLogEntry => entry.kind === 'instance')
          .map((entry) => ({ event: entry.event, wallMs: entry.wallMs })),
      });
    }
    const built = buildRuns(entries);
    problems.push(...built.violations);
    entries.sort((a, b) => a.wallMs - b.wallMs);
    return { entries, runs: built.runs, timelines, problems, readAtMs };
  }

  /**
   * A registry client of the harness in the cluster's namespace (created on first use, closed by
   * {@link close}).
   */
  admin(): Promise<CoordinatorRegistryCenter> {
    this.#admin ??= createRegistryCenter(this.#adminConfiguration());
    return this.#admin;
  }

  #adminConfiguration(): RegistryCenterConfiguration {
    const { registry, namespace, sessionTimeoutMs } = this.options;
    return registryConfigurationOf(registry, namespace, sessionTimeoutMs);
  }

  /**
   * Reads the sharding state straight from the registry server (`getDirectly`).
   *
   * @returns the assignment, whether resharding is pending, live instances and the leader.
   * @throws {RegistryError} when the registry fails.
   */
  async readAssignment(): Promise<ShardingSnapshot> {
    const admin = await this.admin();
    const job = `/${this.options.job.jobName}`;
    const assignment = new Map<number, string>();
    for (let item = 0; item < this.options.job.shardingTotalCount; item++) {
      const owner = await admin.getDirectly(`${job}/sharding/${item}/instance`);
      if (owner !== undefined && owner !== '') assignment.set(item, owner);
    }
    const reshardingPending =
      (await admin.isExisted(`${job}/leader/sharding/necessary`)) ||
      (await admin.isExisted(`${job}/leader/sharding/processing`));
    const liveInstances = await admin.getChildrenKeys(`${job}/instances`);
    const leader = await admin.getDirectly(`${job}/leader/election/instance`);
    return { assignment, reshardingPending, liveInstances, leader };
  }

  /**
   * Writes `trigger/{instanceId}` (ElasticJob's one-off trigger of that instance) through the admin
   * client.
   *
   * @param instanceId - the instance to trigger.
   */
  async trigger(instanceId: string): Promise<void> {
    const admin = await this.admin();
    await admin.persist(`/${this.options.job.jobName}/trigger/${instanceId}`, '');
  }

  /**
   * Kills every worker still alive (`SIGKILL`), closes the admin client and removes the log
   * directory unless logs are kept. When they are kept, the job's registry subtree as the workers
   * left it is written to `registry.txt` in the log directory first (in {@link JobDumpService}'s
   * format, addresses unmasked), so a failed assertion on the registry can be read afterwards.
   * Idempotent.
   *
   * @param options - `keepLogs` overrides {@link ClusterOptions.keepLogs} (e.g. when a test failed).
   */
  async close(options: { readonly keepLogs?: boolean } = {}): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const keep =
      options.keepLogs || (this.options.keepLogs ?? process.env.ELASTICJOB_IT_KEEP_LOGS !== undefined);
    if (keep) await this.#dumpRegistry();
    for (const worker of this.#workers) {
      if (worker.state === 'exited') continue;
      worker.expectExit = true;
      worker.child.kill('SIGKILL');
    }
    await Promise.all(this.#workers.map((worker) => worker.exited));
    await Promise.all(this.#workers.flatMap((worker) => worker.proxies.map((proxy) => proxy.close())));
    const admin = this.#admin;
    this.#admin = undefined;
    if (admin !== undefined) await (await admin.catch(() => undefined))?.close();
    if (keep) console.log(`cluster logs kept in ${this.logDir}`);
    else await rm(this.logDir, { recursive: true, force: true });
  }

  /** Writes the job's registry subtree to `registry.txt` (or why it could not be read). */
  async #dumpRegistry(): Promise<void> {
    let text: string;
    try {
      const dump = await new JobDumpService(await this.admin()).dump(this.options.job.jobName, {
        maskIps: false,
      });
      text = `registry read at ${new Date().toISOString()}\n${dump}`;
    } catch (error) {
      text = `registry could not be read: ${error instanceof Error ? error.message : String(error)}\n`;
    }
    await writeFile(join(this.logDir, 'registry.txt'), text);
  }

  #get(index: number): Worker {
    const worker = this.#workers[index];
    if (worker === undefined)
      throw new RangeError(`no worker ${index} (the cluster has ${this.#workers.length})`);
    return worker;
  }

  #handle(worker: Worker): WorkerHandle {
    return {
      index: worker.index,
      instanceId: worker.instanceId,
      pid: worker.pid,
      logFile: worker.logFile,
      stderrFile: worker.stderrFile,
      state: worker.state,
      network: worker.proxies[0]?.mode ?? 'pass',
      exit: worker.exit,
    };
  }
}
