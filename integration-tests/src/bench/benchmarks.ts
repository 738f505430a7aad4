/**
 * `npm run bench`: every benchmark of BENCHMARKS.md on loopback ZooKeeper, etcd and Redis (started like
 * the test servers): 1 trigger latency (with the node-cron and BullMQ peers), 2 registry cost per
 * run, 3 failover latency, 4 resharding convergence, 5 scale. Prints one markdown table per
 * benchmark and writes `bench-results/benchmarks.json` (figures plus the machine).
 *
 * Environment: `BENCH_ONLY=trigger,cost,failover,resharding,scale` (subset; `takeover`, 10,000 jobs in 2
 * processes and a kill -9 of one, runs only when named), `BENCH_BACKENDS=zookeeper,etcd,redis`,
 * `BENCH_QUICK=1` (short windows, for development), `BENCH_FIRES` (trigger fires per configuration),
 * `BENCH_REPS` (failover/resharding repetitions), `BENCH_SCALE=1x1,1x100,1x1000,1x1000i,3x100` (processes × jobs, `i` = idle-scheduled;
 * `3x1000` does not fit the 15-minute budget on a 2-core machine: run it on its own),
 * `BENCH_BASELINE=<dir>` (another built checkout of this repository: the trigger, cost and scale benchmarks
 * also run its build, row beside row, as a baseline in the same run), `BENCH_NODE_FLAGS='--max-semi-space-size=2'`
 * (the cost and scale benchmarks also run this build with those Node.js flags, in rows of their own); takeover: `BENCH_TAKEOVER_JOBS`
 * (10000), `BENCH_TAKEOVER_PERIOD_SECONDS` (60, a divisor of 60), `BENCH_TAKEOVER_PERIODS` (steady
 * periods, 2), `BENCH_TAKEOVER_SESSION_MS` (10000), `BENCH_TAKEOVER_ITEM_MS` (5000),
 * `BENCH_TAKEOVER_CONCURRENCY` (jobs started at once per process, 25), `BENCH_TAKEOVER_MARGIN_MS` (added to session + period for the takeover bound, 20000), `BENCH_KEEP_STARTS=1` (keep
 * the item-start logs in `bench-results/logs/`), `BENCH_ETCD_MAX_TXN_OPS` (etcd's `--max-txn-ops`, and
 * the clients' `maxTxnOps`). Every value is checked before any server starts: a bad one ends the run
 * with exit code 2 and a line naming the variable and what it accepts (`bench-env.ts`).
 *
 * @module
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, freemem, loadavg, totalmem } from 'node:os';
import { BACKEND_NAMES, type Backend, type BackendName, findRedisServer, startBackend } from './backends.js';
import {
  type BenchEnv,
  BenchEnvError,
  etcdMaxTxnOps,
  listEnv,
  positiveNumberEnv,
  scaleEnv,
} from './bench-env.js';
import { benchFailover } from './failover.js';
import { benchRegistryCost } from './registry-cost.js';
import { benchResharding } from './resharding.js';
import { benchScale, type ScaleConfiguration } from './scale.js';
import { benchTakeover } from './scale-takeover.js';
import { type BenchTable, renderTable } from './stats.js';
import { benchTriggerLatency } from './trigger-latency.js';

type BenchId = 'trigger' | 'cost' | 'failover' | 'resharding' | 'scale' | 'takeover';
/** What `npm run bench` runs when `BENCH_ONLY` is unset. */
const ALL: BenchId[] = ['trigger', 'cost', 'failover', 'resharding', 'scale'];
/** Run only when `BENCH_ONLY` names them (they take minutes). */
const OPTIONAL: BenchId[] = ['takeover'];

/** The default scale configurations (quick: the small ones only). */
function scaleFallback(quick: boolean): string {
  return quick ? '1x1,1x100' : '1x1,1x100,1x1000,1x1000i,3x100';
}

/**
 * Every setting of the run, read and checked before any server starts.
 *
 * @throws {BenchEnvError} naming the first variable with a value it does not accept.
 */
function readSettings(env: BenchEnv) {
  const quick = env.BENCH_QUICK === '1';
  return {
    quick,
    only: listEnv<BenchId>(env, 'BENCH_ONLY', [...ALL, ...OPTIONAL], ALL),
    backendNames: listEnv<BackendName>(env, 'BENCH_BACKENDS', BACKEND_NAMES, BACKEND_NAMES),
    fires: positiveNumberEnv(env, 'BENCH_FIRES', quick ? 10 : 30),
    reps: positiveNumberEnv(env, 'BENCH_REPS', quick ? 1 : 3),
    scale: scaleEnv(env, scaleFallback(quick)) satisfies ScaleConfiguration[],
    takeover: {
      jobs: positiveNumberEnv(env, 'BENCH_TAKEOVER_JOBS', 10_000),
      periodSeconds: takeoverPeriodSeconds(env),
      steadyPeriods: positiveNumberEnv(env, 'BENCH_TAKEOVER_PERIODS', 2),
      sessionTimeoutMs: positiveNumberEnv(env, 'BENCH_TAKEOVER_SESSION_MS', 10_000),
      itemDurationMs: positiveNumberEnv(env, 'BENCH_TAKEOVER_ITEM_MS', 5000),
      marginMs: positiveNumberEnv(env, 'BENCH_TAKEOVER_MARGIN_MS', 20_000),
      startConcurrency: positiveNumberEnv(env, 'BENCH_TAKEOVER_CONCURRENCY', 25),
    },
    etcdMaxTxnOps: etcdMaxTxnOps(env),
  };
}

/** `BENCH_TAKEOVER_PERIOD_SECONDS`: a divisor of 60 (job `i` fires at second `i mod period`). */
function takeoverPeriodSeconds(env: BenchEnv): number {
  const period = positiveNumberEnv(env, 'BENCH_TAKEOVER_PERIOD_SECONDS', 60);
  if (60 % period !== 0)
    throw new BenchEnvError(
      'BENCH_TAKEOVER_PERIOD_SECONDS',
      'a divisor of 60 (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60)',
      String(env.BENCH_TAKEOVER_PERIOD_SECONDS),
    );
  return period;
}

function javaVersion(): string {
  const result = spawnSync('java', ['-version'], { encoding: 'utf8' });
  return `${result.stderr ?? ''}${result.stdout ?? ''}`.split('\n')[0]?.trim() || '?';
}

function redisVersion(): string {
  const executable = findRedisServer();
  if (executable === undefined) return 'not installed';
  return /v=([\d.]+)/.exec(execFileSync(executable, ['--version'], { encoding: 'utf8' }))?.[1] ?? '?';
}

async function main(): Promise<void> {
  let settings: ReturnType<typeof readSettings>;
  try {
    settings = readSettings(process.env);
  } catch (error) {
    if (!(error instanceof BenchEnvError)) throw error;
    console.error(`bench: ${error.message}`);
    process.exitCode = 2;
    return;
  }
  const { quick, only, backendNames, fires, reps } = settings;
  const startedAt = new Date();
  const loadBefore = loadavg();
  const backends: Backend[] = [];
  const tables: BenchTable[] = [];
  const errors: Record<string, string> = {};
  try {
    for (const name of backendNames)
      backends.push(await startBackend(name, { etcdMaxTxnOps: settings.etcdMaxTxnOps }));
    const machine = {
      date: startedAt.toISOString(),
      nproc: availableParallelism(),
      cpu: cpus()[0]?.model ?? '?',
      memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
      freeMemoryGiB: Math.round((freemem() / 1024 ** 3) * 10) / 10,
      node: process.version,
      java: javaVersion(),
      servers: Object.fromEntries(backends.map((backend) => [backend.name, backend.version])),
      redisServer: redisVersion(),
      loadAverageBefore: loadBefore.map((value) => Math.round(value * 100) / 100),
    };
    console.log(
      `\nElasticJob-TS benchmarks — ${machine.date}; ${machine.nproc} CPUs (${machine.cpu}), ` +
        `${machine.memoryGiB} GiB, Node ${machine.node}; ` +
        `${backends.map((b) => `${b.name} ${b.version}`).join(', ')}; load average ${machine.loadAverageBefore.join(' ')}` +
        (quick ? ' [QUICK]' : ''),
    );
    const steps: Record<BenchId, () => Promise<BenchTable>> = {
      trigger: () => benchTriggerLatency(backends, { fires }),
      cost: () => benchRegistryCost(backends, { fires: quick ? 3 : 6 }),
      failover: () => benchFailover(backends, { repetitions: reps }),
      resharding: () => benchResharding(backends, { repetitions: reps }),
      scale: () => benchScale(backends, { windowSeconds: quick ? 5 : 10, configurations: settings.scale }),
      takeover: () => benchTakeover(backends, settings.takeover),
    };
    for (const id of [...ALL, ...OPTIONAL]) {
      if (!only.includes(id)) continue;
      const t0 = Date.now();
      try {
        const table = await steps[id]();
        tables.push(table);
        console.log(`\n${renderTable(table)}\n(${id}: ${Math.round((Date.now() - t0) / 1000)} s)`);
      } catch (error) {
        errors[id] = error instanceof Error ? (error.stack ?? error.message) : String(error);
        console.error(`\nbenchmark '${id}' failed after ${Math.round((Date.now() - t0) / 1000)} s:`, error);
      }
    }
    const result = {
      machine: { ...machine, loadAverageAfter: loadavg().map((value) => Math.round(value * 100) / 100) },
      durationS: Math.round((Date.now() - startedAt.getTime()) / 1000),
      quick,
      tables,
      errors,
    };
    await mkdir('bench-results', { recursive: true });
    await writeFile('bench-results/benchmarks.json', `${JSON.stringify(result, null, 2)}\n`);
    console.log(`\nwritten: bench-results/benchmarks.json (total ${result.durationS} s)`);
    if (Object.keys(errors).length > 0) process.exitCode = 1;
  } finally {
    for (const backend of backends) await backend.stop().catch(() => {});
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
