/**
 * Steady-state resident memory of one benchmark process (`bench-worker.ts`) running N jobs that
 * fire every second, sampled from outside the process for minutes, not once.
 *
 * The scale benchmark reads RSS once, inside the process after a full GC, about 9–14 s after the
 * jobs are scheduled: before V8's first old-generation collection of the run, so it shows startup
 * garbage on etcd and not yet the grown old generation on ZooKeeper and Redis. This program reads
 * `VmRSS` and the CPU time of the process from procfs every second for `RSS_SECONDS` (no GC is
 * forced, nothing runs in the process for the sampling) and reports the median and the maximum
 * over the second half of the run, per backend and per Node.js flag set.
 *
 * Environment: `BENCH_BACKENDS=zookeeper,etcd,redis`, `RSS_JOBS` (100), `RSS_SECONDS` (120),
 * `RSS_FLAG_SETS` (flag sets separated by `;`, each space-separated; the empty set is the default
 * process; default `;--optimize-for-size`), `RSS_PARALLEL=1` (run one backend's flag sets at the
 * same time, so that they share the machine's load alike), `BENCH_BASELINE` (as in
 * `benchmarks.ts`: also run that checkout's worker, default flags). Linux only (procfs).
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { BACKEND_NAMES, type BackendName, processCpuMs, startBackend } from './backends.js';
import { BenchEnvError, etcdMaxTxnOps, listEnv, positiveNumberEnv } from './bench-env.js';
import { type BenchBuild, BenchProcess, benchBuilds, everySecondJobs, sleep } from './processes.js';

/** One per-second sample of a process. */
interface Sample {
  readonly atMs: number;
  readonly rssBytes: number;
  readonly cpuMs: number;
}

/** What one run measured. */
export interface SteadyRssRow {
  readonly backend: string;
  readonly build: string;
  /** Resident memory right after every job was scheduled, MB. */
  readonly readyRssMb: number;
  /** Median and maximum resident memory over the second half of the run, MB. */
  readonly medianRssMb: number;
  readonly maxRssMb: number;
  /** CPU of the process over the second half, % of one core. */
  readonly cpuPercent: number;
}

const MB = 1024 * 1024;

/**
 * Resident set size of a process from `/proc/{pid}/status`.
 *
 * @param pid - the process.
 * @returns bytes, or NaN when unavailable.
 */
export function processRssBytes(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const line = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return line === null ? Number.NaN : Number(line[1]) * 1024;
  } catch {
    return Number.NaN;
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

async function measure(
  backendName: string,
  connection: Parameters<typeof BenchProcess.start>[0]['registry'],
  build: BenchBuild,
  jobs: number,
  seconds: number,
): Promise<SteadyRssRow> {
  const handle = await BenchProcess.start(
    {
      registry: connection,
      namespace: `bench-rss-${jobs}-${Date.now()}-${Math.floor(Math.random() * 1e6)}`,
      sessionTimeoutMs: 30_000,
      instanceId: '127.0.0.1@-@s0',
      jobs: everySecondJobs('rss', 1, true, jobs),
      startConcurrency: 25,
    },
    180_000,
    build,
  );
  const pid = handle.child.pid;
  const samples: Sample[] = [];
  try {
    const readyRssBytes = processRssBytes(pid);
    for (let second = 0; second < seconds; second++) {
      await sleep(1000);
      samples.push({ atMs: Date.now(), rssBytes: processRssBytes(pid), cpuMs: processCpuMs(pid) });
    }
    const steady = samples.slice(Math.floor(samples.length / 2));
    const first = steady[0] as Sample;
    const last = steady[steady.length - 1] as Sample;
    return {
      backend: backendName,
      build: build.label,
      readyRssMb: round(readyRssBytes / MB),
      medianRssMb: round(median(steady.map((s) => s.rssBytes)) / MB),
      maxRssMb: round(Math.max(...steady.map((s) => s.rssBytes)) / MB),
      cpuPercent: round(((last.cpuMs - first.cpuMs) / Math.max(1, last.atMs - first.atMs)) * 100),
    };
  } finally {
    await handle.stop(60_000);
  }
}

function builds(): BenchBuild[] {
  const [current, ...rest] = benchBuilds();
  const baseline = rest.filter((build) => build.label.startsWith('baseline'));
  const flagSets = (process.env.RSS_FLAG_SETS ?? ';--optimize-for-size')
    .split(';')
    .map((set) => set.split(/\s+/).filter((flag) => flag !== ''));
  const own = flagSets.map((flags) =>
    flags.length === 0
      ? (current as BenchBuild)
      : { ...(current as BenchBuild), label: `this ${flags.join(' ')}`, nodeFlags: flags },
  );
  return [...own, ...baseline];
}

async function main(): Promise<void> {
  let backendNames: BackendName[];
  let jobs: number;
  let seconds: number;
  let maxTxnOps: number | undefined;
  try {
    backendNames = listEnv<BackendName>(process.env, 'BENCH_BACKENDS', BACKEND_NAMES, BACKEND_NAMES);
    jobs = positiveNumberEnv(process.env, 'RSS_JOBS', 100);
    seconds = positiveNumberEnv(process.env, 'RSS_SECONDS', 120);
    maxTxnOps = etcdMaxTxnOps(process.env);
  } catch (error) {
    if (!(error instanceof BenchEnvError)) throw error;
    console.error(`bench:rss: ${error.message}`);
    process.exitCode = 2;
    return;
  }
  const parallel = process.env.RSS_PARALLEL === '1';
  const rows: SteadyRssRow[] = [];
  for (const name of backendNames) {
    const backend = await startBackend(name, { etcdMaxTxnOps: maxTxnOps });
    try {
      const runs = builds().map((build) => () => measure(name, backend.connection, build, jobs, seconds));
      if (parallel) rows.push(...(await Promise.all(runs.map((run) => run()))));
      else for (const run of runs) rows.push(await run());
    } finally {
      await backend.stop();
    }
  }
  console.log(
    `\nSteady-state RSS: ${jobs} jobs firing every second in one process, sampled every second for ${seconds} s ` +
      `from procfs (no forced GC); median / max over the second half${parallel ? '; flag sets run side by side' : ''}.\n`,
  );
  console.log('| backend | build | RSS at ready MB | RSS median MB | RSS max MB | CPU % |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const row of rows) {
    console.log(
      `| ${row.backend} | ${row.build} | ${row.readyRssMb} | ${row.medianRssMb} | ${row.maxRssMb} | ${row.cpuPercent} |`,
    );
  }
}

main()
  .then(() => process.exit(process.exitCode ?? 0))
  .catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
