/**
 * Parent side of `bench-worker.ts`: fork benchmark processes, open and close measurement windows
 * aligned to whole seconds, stop them. Every process is killed when the benchmark process exits.
 *
 * @module
 */
import { type ChildProcess, execFileSync, fork } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { processCpuMs } from './backends.js';
import type { BenchJobsConfig, BenchWorkerConfig, WorkerMeasurement, WorkerMessage } from './bench-worker.js';

/** Where the benchmark processes' stderr (the kernel's log) goes: one file per process. */
export const BENCH_LOG_DIR = resolve(process.env.BENCH_LOG_DIR ?? 'bench-results/logs');

/** The compiled benchmark worker program. */
export const BENCH_WORKER_SCRIPT = fileURLToPath(new URL('./bench-worker.js', import.meta.url));

/**
 * The jobs most benchmarks schedule: cron every second, misfire on, failover off, handlers that
 * return at once.
 *
 * @param namePrefix - job name prefix.
 * @param shardingTotalCount - items per job.
 * @param monitorExecution - whether runs write `running` marks.
 * @param count - number of jobs (default 1).
 */
export function everySecondJobs(
  namePrefix: string,
  shardingTotalCount: number,
  monitorExecution: boolean,
  count = 1,
): BenchJobsConfig {
  return {
    count,
    namePrefix,
    cron: '* * * * * ?',
    shardingTotalCount,
    monitorExecution,
    failover: false,
    misfire: true,
    itemDurationMs: 0,
  };
}

/** A build of ElasticJob-TS the benchmark processes run: this checkout's, or a baseline's. */
export interface BenchBuild {
  /** Shown in the tables' `build` column: `this` or `baseline <short commit>`. */
  readonly label: string;
  /** Its compiled `bench-worker.js`. */
  readonly workerScript: string;
  /** Node.js flags its processes start with besides `--expose-gc` (none by default). */
  readonly nodeFlags?: readonly string[];
}

/** This checkout's build. */
export const CURRENT_BUILD: BenchBuild = { label: 'this', workerScript: BENCH_WORKER_SCRIPT };

/**
 * The builds to compare: this checkout's; then, when `BENCH_NODE_FLAGS` holds Node.js flags
 * (space-separated, e.g. `--max-semi-space-size=2`), this checkout's again with those flags, labelled
 * with them; then, when `BENCH_BASELINE` names the directory of another checkout of this repository
 * that was installed and built (`npm ci && npx turbo run build`), that one's, so that before and
 * after are measured in the same run on the same servers.
 *
 * @throws {Error} when `BENCH_BASELINE` is set but holds no built `bench-worker.js`.
 */
export function benchBuilds(): BenchBuild[] {
  const builds = [CURRENT_BUILD];
  const flags = (process.env.BENCH_NODE_FLAGS ?? '').split(/\s+/).filter((flag) => flag !== '');
  if (flags.length > 0) {
    builds.push({ label: `this ${flags.join(' ')}`, workerScript: BENCH_WORKER_SCRIPT, nodeFlags: flags });
  }
  const baseline = baselineBuild();
  return baseline === undefined ? builds : [...builds, baseline];
}

/**
 * The `BENCH_BASELINE` build, if that variable is set.
 *
 * @throws {Error} when it holds no built `bench-worker.js`.
 */
function baselineBuild(): BenchBuild | undefined {
  const directory = process.env.BENCH_BASELINE;
  if (directory === undefined || directory.trim() === '') return undefined;
  const workerScript = join(resolve(directory), 'integration-tests/dist/bench/bench-worker.js');
  if (!existsSync(workerScript)) {
    throw new Error(
      `BENCH_BASELINE='${directory}' has no ${workerScript}: run 'npm ci && npx turbo run build' in that checkout`,
    );
  }
  let commit = '?';
  try {
    commit = execFileSync('git', ['-C', directory, 'rev-parse', '--short', 'HEAD'], {
      encoding: 'utf8',
    }).trim();
  } catch {
    // Not a git checkout: the label says so.
    commit = 'not a git checkout';
  }
  return { label: `baseline ${commit}`, workerScript };
}

const live = new Set<ChildProcess>();
let hooked = false;

/**
 * Resolves after `ms`.
 *
 * @param ms - delay in ms.
 */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Waits until `offsetMs` after the next whole second of the wall clock.
 *
 * @param offsetMs - offset into the second, in ms (0–999).
 * @returns the epoch ms reached.
 */
export async function alignToSecond(offsetMs: number): Promise<number> {
  const now = Date.now();
  let target = Math.floor(now / 1000) * 1000 + offsetMs;
  if (target <= now) target += 1000;
  await sleep(target - now);
  return Date.now();
}

/** One forked benchmark process. */
export class BenchProcess {
  readonly instanceId: string;
  readonly child: ChildProcess;
  /** The file holding its stderr. */
  logFile = '';
  /** Time from fork to every job scheduled, in ms. */
  startupMs = 0;
  /** CPU time (user + system) the process spent from fork to every job scheduled, in ms (NaN without procfs). */
  startupCpuMs = Number.NaN;
  readonly #pending: ((message: WorkerMeasurement) => void)[] = [];
  readonly exited: Promise<number | null>;

  private constructor(instanceId: string, child: ChildProcess) {
    this.instanceId = instanceId;
    this.child = child;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code) => {
        live.delete(child);
        resolve(code);
      });
    });
    child.on('message', (message: WorkerMessage) => {
      if (message.type === 'measurement') this.#pending.shift()?.(message);
    });
  }

  /**
   * Forks a benchmark process and waits until every job of it is scheduled.
   *
   * @param config - its configuration.
   * @param readyTimeoutMs - bound of the wait, in ms (default 180000).
   * @param build - the build it runs (default this checkout's).
   * @returns the ready process.
   * @throws {Error} when the worker fails or is not ready in time (it is killed then).
   */
  static async start(
    config: BenchWorkerConfig,
    readyTimeoutMs = 180_000,
    build: BenchBuild = CURRENT_BUILD,
  ): Promise<BenchProcess> {
    if (!existsSync(build.workerScript)) {
      throw new Error(
        `${build.workerScript} is missing: build with npx turbo run build --filter=@elasticjob-ts/integration-tests...`,
      );
    }
    if (!hooked) {
      hooked = true;
      process.on('exit', () => {
        for (const child of live) child.kill('SIGKILL');
      });
    }
    mkdirSync(BENCH_LOG_DIR, { recursive: true });
    const logFile = join(
      BENCH_LOG_DIR,
      `${config.namespace}-${config.instanceId.replace(/[^\w.-]/g, '_')}.log`,
    );
    const stderr = openSync(logFile, 'a');
    const child = fork(build.workerScript, [JSON.stringify(config)], {
      stdio: ['ignore', 'inherit', stderr, 'ipc'],
      execArgv: ['--expose-gc', ...(build.nodeFlags ?? [])],
      env: { ...process.env, ELASTICJOB_LOG_LEVEL: process.env.ELASTICJOB_LOG_LEVEL ?? 'error' },
    });
    closeSync(stderr);
    live.add(child);
    const handle = new BenchProcess(config.instanceId, child);
    handle.logFile = logFile;
    const ready = await new Promise<{ ok: true; startupMs: number } | { ok: false; why: string }>(
      (resolve) => {
        const timer = setTimeout(
          () => resolve({ ok: false, why: `not ready within ${readyTimeoutMs} ms` }),
          readyTimeoutMs,
        );
        child.on('message', (message: WorkerMessage) => {
          if (message.type === 'ready') {
            clearTimeout(timer);
            handle.startupCpuMs = processCpuMs(child.pid);
            resolve({ ok: true, startupMs: message.startupMs });
          } else if (message.type === 'error') {
            clearTimeout(timer);
            resolve({ ok: false, why: message.message });
          }
        });
        child.once('exit', (code) => {
          clearTimeout(timer);
          resolve({ ok: false, why: `exited with ${code}` });
        });
      },
    );
    if (!ready.ok) {
      child.kill('SIGKILL');
      throw new Error(`bench worker ${config.instanceId}: ${ready.why} (log: ${logFile})`);
    }
    handle.startupMs = ready.startupMs;
    return handle;
  }

  /** Opens a measurement window (resets counters and samples). */
  begin(): void {
    this.child.send({ type: 'begin' });
  }

  /** Closes the window. @returns what the process measured. */
  end(): Promise<WorkerMeasurement> {
    return new Promise((resolve) => {
      this.#pending.push(resolve);
      this.child.send({ type: 'end' });
    });
  }

  /** Graceful stop; kills it after `timeoutMs` (default 30000). */
  async stop(timeoutMs = 30_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.send({ type: 'stop' });
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/**
 * Measures `processes` over `seconds` whole fires: opens the window 500 ms after a second
 * boundary, closes it `seconds` s later (so exactly `seconds` fires start inside it).
 *
 * @param processes - the processes.
 * @param seconds - window length in s.
 * @returns one measurement per process, in order.
 */
export async function measureWindow(
  processes: readonly BenchProcess[],
  seconds: number,
): Promise<WorkerMeasurement[]> {
  await alignToSecond(500);
  for (const process of processes) process.begin();
  await sleep(seconds * 1000);
  return Promise.all(processes.map((process) => process.end()));
}
