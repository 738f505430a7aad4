/**
 * Benchmark `takeover` (not in the default `npm run bench` set, it takes minutes): N jobs (10,000 by
 * default) in each of two processes A and B, 2 items per job (one per process), failover, misfire
 * and monitorExecution on. Measured per backend: each process's startup, memory and CPU at steady
 * state with the registry server's CPU and requests; whether every item of every job ran exactly
 * once per fire over whole fire periods (from the item-start logs, `start-log.ts`); then B is
 * killed with SIGKILL while some of its items run, and measured: kill → B's instance node gone,
 * kill → each job's former B item started on A (failover of the items in flight, resharding at the
 * next fire for the others), items never taken over within session timeout + period + margin, and
 * duplicate starts of an item for one fire.
 *
 * @module
 */
import { rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { type CoordinatorRegistryCenter, createRegistryCenter } from '@elasticjob-ts/core';
import { type Backend, machineBusyPercent, machineCpu } from './backends.js';
import type { BenchJobsConfig } from './bench-worker.js';
import { alignToSecond, BENCH_LOG_DIR, BenchProcess, measureWindow, sleep } from './processes.js';
import { type ItemStart, readStartLog } from './start-log.js';
import { type BenchTable, formatMs, summarize } from './stats.js';

/** Options of {@link benchTakeover}. */
export interface TakeoverOptions {
  /** Jobs per process (both processes schedule the same jobs). */
  readonly jobs: number;
  /**
   * Fire period of every job, in s (a divisor of 60): job `i` fires at second `i mod period` of
   * each period, so the fires are spread evenly.
   */
  readonly periodSeconds: number;
  /** Whole fire periods of the steady window (fire correctness, CPU). */
  readonly steadyPeriods: number;
  /** Registry session timeout / lease TTL of both processes, in ms. */
  readonly sessionTimeoutMs: number;
  /** How long each item handler runs, in ms (so that the kill finds items in flight). */
  readonly itemDurationMs: number;
  /** Added to session timeout + period for the bound of a takeover, in ms. */
  readonly marginMs: number;
  /** Jobs started at once in each process. */
  readonly startConcurrency: number;
  /** Bound of each process's startup, in ms. @defaultValue 120 s + 60 ms per job */
  readonly startupTimeoutMs?: number;
}

/** Instance ids of the two processes. */
const A_ID = '127.0.0.1@-@A';
const B_ID = '127.0.0.1@-@B';
const MB = 1024 * 1024;

/** Kill moment, ms into a whole second. */
const KILL_OFFSET_MS = 500;

/** Examples of anomalies kept for the note and the JSON file. */
const MAX_EXAMPLES = 5;

interface ProcessFigures {
  readonly startupS: number;
  readonly rssMb: number;
  readonly heapUsedMb: number;
  readonly heapTotalMb: number;
  readonly cpuPercent: number;
}

interface Row {
  readonly backend: string;
  readonly jobs: number;
  readonly fitted: boolean;
  readonly note: string;
  readonly a?: ProcessFigures;
  readonly b?: ProcessFigures;
  /** Registry server process over the steady window, % of one core. */
  readonly serverCpuPercent?: number;
  /** Requests the server received over the steady window (both processes), per minute. */
  readonly serverRequestsPerMinute?: number;
  /** All cores over the steady window, % (other users' load included). */
  readonly machineBusyPercent?: number;
  /** 1-minute load average at the start and at the end of the run. */
  readonly loadAverage?: readonly [number, number];
  /** Distinct (job, item, fire) started in the steady window. */
  readonly fired?: number;
  /** jobs × 2 items × fires per job in the steady window. */
  readonly expected?: number;
  /** Item starts beyond the first for one (job, item, fire) in the steady window. */
  readonly steadyDuplicates?: number;
  readonly missingExamples?: readonly string[];
  /** Item start − its fire time, over the steady window. */
  readonly p50Ms?: number;
  readonly p99Ms?: number;
  readonly maxMs?: number;
  /** Jobs of which B ran an item in the steady window (the items to take over). */
  readonly bItems?: number;
  /** B's items started less than the item duration before the kill (in flight). */
  readonly inFlightAtKill?: number;
  /** Of those, started again on A by a FAILOVER run. */
  readonly inFlightTakenByFailover?: number;
  /** Kill → the last FAILOVER start on A of an in-flight item, ms. */
  readonly failoverLastMs?: number;
  /** Kill → B's instance node deleted (watched on the first and the last job), ms. */
  readonly instanceGoneMs?: readonly number[];
  /** Kill → former B item started on A, over every job taken over: median / max, ms. */
  readonly takeoverP50Ms?: number;
  readonly takeoverMaxMs?: number;
  /** Jobs whose B item did not start on A within {@link Row.boundMs} of the kill. */
  readonly notTakenOver?: number;
  readonly notTakenExamples?: readonly string[];
  /** session timeout + period + margin, ms. */
  readonly boundMs?: number;
  /**
   * From the steady window to the end of the run, starts beyond the first for one (job, item,
   * fire), not counting one FAILOVER start on A of an item B had in flight at the kill.
   */
  readonly duplicates?: number;
  readonly duplicateExamples?: readonly string[];
  /**
   * From the steady window to the end of the run, cron item starts at or after the next fire of
   * their job (held back a whole period: a resharding waited for, a slow admission). Each belongs
   * to the fire it serves; a misfire re-run of the next fire usually follows it.
   */
  readonly lateCronStarts?: number;
  readonly lateCronExamples?: readonly string[];
}

function round(value: number, digits = 1): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/**
 * The latest fire of job `jobIndex` at or before `startMs`: the fire a start serves when it does
 * not say (see {@link attributeMisfires}; a cron start says which fire it serves,
 * {@link ItemStart.fireMs}, which may be an earlier one; failover runs are attributed by
 * {@link analyse}).
 *
 * @param jobIndex - the job's index (its fires are at second `jobIndex mod period` of each period).
 * @param startMs - the start, epoch ms.
 * @param periodSeconds - the jobs' period, s.
 */
function fireOf(jobIndex: number, startMs: number, periodSeconds: number): number {
  const periodMs = periodSeconds * 1000;
  const offsetMs = (jobIndex % periodSeconds) * 1000;
  const since = (((startMs - offsetMs) % periodMs) + periodMs) % periodMs;
  return startMs - since;
}

interface TaggedStart extends ItemStart {
  readonly instance: 'A' | 'B';
  readonly fireMs: number;
}

function tag(starts: readonly ItemStart[], instance: 'A' | 'B', periodSeconds: number): TaggedStart[] {
  return starts.map((start) => ({
    ...start,
    instance,
    fireMs: start.fireMs ?? fireOf(start.jobIndex, start.startMs, periodSeconds),
  }));
}

/**
 * Attributes each misfire re-run (it says no fire) to the fire it makes up for: the latest fire of
 * its item at or before its start, back to `fromMs`, that no other start serves, in start order. A
 * re-run held back past the next fire (a resharding waited for) makes up for the earlier fire, and
 * the next fire's own re-run follows it. A re-run finding every such fire served is attributed to
 * the latest one (a duplicate).
 *
 * @param starts - every start, cron and failover ones attributed.
 * @param periodSeconds - the jobs' period, s.
 * @param fromMs - the earliest fire to attribute a re-run to, epoch ms.
 */
function attributeMisfires(
  starts: readonly TaggedStart[],
  periodSeconds: number,
  fromMs: number,
): TaggedStart[] {
  const periodMs = periodSeconds * 1000;
  const served = new Set<string>();
  for (const start of starts)
    if (start.source !== 'MISFIRE') served.add(`${start.jobIndex}/${start.item}/${start.fireMs}`);
  const reruns = starts.filter((start) => start.source === 'MISFIRE').sort((a, b) => a.startMs - b.startMs);
  const attributed = new Map<TaggedStart, number>();
  for (const start of reruns) {
    let fireMs = start.fireMs;
    for (let candidate = start.fireMs; candidate >= fromMs; candidate -= periodMs) {
      if (!served.has(`${start.jobIndex}/${start.item}/${candidate}`)) {
        fireMs = candidate;
        break;
      }
    }
    served.add(`${start.jobIndex}/${start.item}/${fireMs}`);
    attributed.set(start, fireMs);
  }
  return starts.map((start) => {
    const fireMs = attributed.get(start);
    return fireMs === undefined ? start : { ...start, fireMs };
  });
}

function describe(start: TaggedStart): string {
  return `job ${start.jobIndex} item ${start.item} fire ${new Date(start.fireMs).toISOString().slice(11, 19)} on ${start.instance} (${start.source}, +${start.startMs - start.fireMs} ms)`;
}

/** Watches `instances/{B}` of a job and records when it is deleted. */
async function watchInstanceGone(
  admin: CoordinatorRegistryCenter,
  jobName: string,
  deletedAtMs: number[],
  slot: number,
): Promise<() => Promise<void>> {
  return admin.watch(`/${jobName}/instances`, (event) => {
    if (event.type === 'DELETED' && event.key.endsWith(`/${B_ID}`) && Number.isNaN(deletedAtMs[slot]))
      deletedAtMs[slot] = Date.now();
  });
}

function processFigures(
  startupMs: number,
  measurement: Awaited<ReturnType<BenchProcess['end']>>,
): ProcessFigures {
  return {
    startupS: round(startupMs / 1000),
    rssMb: round(measurement.rssBytes / MB),
    heapUsedMb: round(measurement.heapUsedBytes / MB),
    heapTotalMb: round(measurement.heapTotalBytes / MB),
    cpuPercent: round((measurement.cpuMs / measurement.wallMs) * 100),
  };
}

/** The analysis of both start logs. */
function analyse(
  options: TakeoverOptions,
  startsA: readonly ItemStart[],
  startsB: readonly ItemStart[],
  steadyFromMs: number,
  killedAtMs: number,
): Omit<Row, 'backend' | 'jobs' | 'fitted' | 'note'> {
  const { jobs, periodSeconds, steadyPeriods, itemDurationMs } = options;
  const steadyToMs = steadyFromMs + steadyPeriods * periodSeconds * 1000;
  const taggedB = tag(startsB, 'B', periodSeconds);
  const inFlight = (start: TaggedStart) =>
    start.instance === 'B' && start.startMs <= killedAtMs && killedAtMs < start.startMs + itemDurationMs;
  // A FAILOVER run re-runs the interrupted run of B: it belongs to that run's fire, however late.
  const interruptedFire = new Map<string, number>();
  for (const start of taggedB)
    if (inFlight(start)) interruptedFire.set(`${start.jobIndex}/${start.item}`, start.fireMs);
  const taggedA = tag(startsA, 'A', periodSeconds).map((start) => {
    const fireMs =
      start.source === 'FAILOVER' ? interruptedFire.get(`${start.jobIndex}/${start.item}`) : undefined;
    return fireMs === undefined ? start : { ...start, fireMs };
  });
  const all = attributeMisfires([...taggedA, ...taggedB], periodSeconds, steadyFromMs).filter(
    (start) => start.fireMs >= steadyFromMs,
  );
  const byFire = new Map<string, TaggedStart[]>();
  for (const start of all) {
    const key = `${start.jobIndex}/${start.item}/${start.fireMs}`;
    const list = byFire.get(key);
    if (list === undefined) byFire.set(key, [start]);
    else list.push(start);
  }

  // Steady window: every (job, item, fire) once.
  let fired = 0;
  let steadyDuplicates = 0;
  const latencies: number[] = [];
  const bItem = new Map<number, number>();
  for (const starts of byFire.values()) {
    const first = starts[0] as TaggedStart;
    if (first.fireMs >= steadyToMs) continue;
    fired += 1;
    // Before the kill: the FAILOVER re-runs of the items in flight then are counted below.
    steadyDuplicates += Math.max(0, starts.filter((start) => start.startMs < killedAtMs).length - 1);
    latencies.push(Math.min(...starts.map((start) => start.startMs)) - first.fireMs);
    for (const start of starts) if (start.instance === 'B') bItem.set(start.jobIndex, start.item);
  }
  const periodMs = periodSeconds * 1000;
  const expectedPerItem = new Set<string>();
  for (let job = 0; job < jobs; job++) {
    const firstFireMs = fireOf(job, steadyFromMs + periodMs - 1, periodSeconds);
    for (let fire = 0; fire < steadyPeriods; fire++)
      for (const item of [0, 1]) expectedPerItem.add(`${job}/${item}/${firstFireMs + fire * periodMs}`);
  }
  const missingExamples = [...expectedPerItem].filter((key) => !byFire.has(key)).slice(0, MAX_EXAMPLES);

  // Duplicates over the whole run, less one FAILOVER re-run of an item B had in flight at the kill.
  let duplicates = 0;
  const duplicateExamples: string[] = [];
  for (const starts of byFire.values()) {
    const rerunAllowed =
      starts.some(inFlight) && starts.some((start) => start.instance === 'A' && start.source === 'FAILOVER');
    const extra = starts.length - 1 - (rerunAllowed ? 1 : 0);
    if (extra > 0) {
      duplicates += extra;
      if (duplicateExamples.length < MAX_EXAMPLES) duplicateExamples.push(starts.map(describe).join(' | '));
    }
  }

  // Cron runs held back past their job's next fire.
  const late = all.filter(
    (start) => start.source === 'NORMAL_TRIGGER' && start.startMs - start.fireMs >= periodMs,
  );

  // Takeover of each job's B item by A.
  const boundMs = options.sessionTimeoutMs + periodSeconds * 1000 + options.marginMs;
  const firstOnA = new Map<number, TaggedStart>();
  for (const start of all) {
    if (start.instance !== 'A' || start.startMs < killedAtMs || bItem.get(start.jobIndex) !== start.item)
      continue;
    const known = firstOnA.get(start.jobIndex);
    if (known === undefined || start.startMs < known.startMs) firstOnA.set(start.jobIndex, start);
  }
  const takeovers: number[] = [];
  const notTakenExamples: string[] = [];
  let notTakenOver = 0;
  for (const [job, item] of bItem) {
    const start = firstOnA.get(job);
    if (start !== undefined && start.startMs - killedAtMs <= boundMs)
      takeovers.push(start.startMs - killedAtMs);
    else {
      notTakenOver += 1;
      if (notTakenExamples.length < MAX_EXAMPLES)
        notTakenExamples.push(
          `job ${job} item ${item}${start === undefined ? ': never started on A' : `: ${describe(start)}`}`,
        );
    }
  }
  const inFlightStarts = all.filter(inFlight);
  const failoverStarts = inFlightStarts.flatMap((start) =>
    (byFire.get(`${start.jobIndex}/${start.item}/${start.fireMs}`) ?? []).filter(
      (other) => other.instance === 'A' && other.source === 'FAILOVER',
    ),
  );
  const latency = summarize(latencies);
  const takeover = summarize(takeovers);
  return {
    fired,
    expected: expectedPerItem.size,
    steadyDuplicates,
    missingExamples,
    p50Ms: latency.medianMs,
    p99Ms: latency.p99Ms,
    maxMs: latency.maxMs,
    bItems: bItem.size,
    inFlightAtKill: inFlightStarts.length,
    inFlightTakenByFailover: failoverStarts.length,
    failoverLastMs:
      failoverStarts.length === 0
        ? Number.NaN
        : Math.max(...failoverStarts.map((s) => s.startMs)) - killedAtMs,
    takeoverP50Ms: takeover.medianMs,
    takeoverMaxMs: takeover.maxMs,
    notTakenOver,
    notTakenExamples,
    boundMs,
    duplicates,
    duplicateExamples,
    lateCronStarts: late.length,
    lateCronExamples: late.slice(0, MAX_EXAMPLES).map(describe),
  };
}

/** Whether every job's B item has started on A since the kill (read from A's start log). */
function allTakenOver(startsFile: string, startsB: readonly ItemStart[], killedAtMs: number): boolean {
  const wanted = new Map<number, number>();
  for (const start of startsB) wanted.set(start.jobIndex, start.item);
  for (const start of readStartLog(startsFile)) {
    if (start.startMs >= killedAtMs && wanted.get(start.jobIndex) === start.item)
      wanted.delete(start.jobIndex);
  }
  return wanted.size === 0;
}

async function takeoverRow(backend: Backend, options: TakeoverOptions): Promise<Row> {
  const { jobs, periodSeconds, sessionTimeoutMs } = options;
  const base = { backend: backend.name, jobs };
  const loadStart = loadavg()[0] as number;
  const namespace = `bench-takeover-${jobs}-${Date.now()}`;
  const startsFile = (instanceId: string) =>
    join(BENCH_LOG_DIR, `${namespace}-${instanceId.replace(/[^\w.-]/g, '_')}.starts`);
  const jobsConfig: BenchJobsConfig = {
    count: jobs,
    namePrefix: 'takeover',
    cron: '',
    spreadPeriodSeconds: periodSeconds,
    shardingTotalCount: 2,
    monitorExecution: true,
    failover: true,
    misfire: true,
    itemDurationMs: options.itemDurationMs,
  };
  const startupTimeoutMs = options.startupTimeoutMs ?? 120_000 + 60 * jobs;
  const processes: BenchProcess[] = [];
  let admin: CoordinatorRegistryCenter | undefined;
  try {
    const results = await Promise.allSettled(
      [A_ID, B_ID].map((instanceId) =>
        BenchProcess.start(
          {
            registry: backend.connection,
            namespace,
            sessionTimeoutMs,
            instanceId,
            jobs: jobsConfig,
            startConcurrency: options.startConcurrency,
            startsFile: startsFile(instanceId),
          },
          startupTimeoutMs,
        ),
      ),
    );
    for (const result of results) if (result.status === 'fulfilled') processes.push(result.value);
    const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed !== undefined) {
      const reason = failed.reason instanceof Error ? failed.reason.message : String(failed.reason);
      return { ...base, fitted: false, note: `did not start: ${reason.split('\n')[0]}` };
    }
    const [a, b] = processes as [BenchProcess, BenchProcess];
    // One whole period with both instances online: every job fires once and reshards to A and B.
    await sleep(periodSeconds * 1000 + 2000);
    const countersBefore = await backend.counters();
    const machineBefore = machineCpu();
    // measureWindow opens its window 500 ms after the next second: the steady fires are the
    // whole seconds after that.
    const steadyFromMs = Math.floor((await alignToSecond(0)) / 1000) * 1000 + 1000;
    const [measuredA, measuredB] = (await measureWindow(
      processes,
      options.steadyPeriods * periodSeconds,
    )) as [Awaited<ReturnType<BenchProcess['end']>>, Awaited<ReturnType<BenchProcess['end']>>];
    const countersAfter = await backend.counters();
    const machineBusy = machineBusyPercent(machineBefore, machineCpu());
    const windowMs = Math.max(measuredA.wallMs, measuredB.wallMs);

    admin = await createRegistryCenter(backend.configuration(namespace, 30_000));
    const deletedAtMs = [Number.NaN, Number.NaN];
    const unwatch = [
      await watchInstanceGone(admin, 'takeover-0', deletedAtMs, 0),
      await watchInstanceGone(admin, `takeover-${jobs - 1}`, deletedAtMs, 1),
    ];
    await alignToSecond(KILL_OFFSET_MS);
    const killedAtMs = Date.now();
    b.child.kill('SIGKILL');
    await b.exited;
    const startsB = readStartLog(startsFile(B_ID)).filter(
      (start) => (start.fireMs ?? fireOf(start.jobIndex, start.startMs, periodSeconds)) >= steadyFromMs,
    );
    const boundMs = sessionTimeoutMs + periodSeconds * 1000 + options.marginMs;
    while (Date.now() - killedAtMs < boundMs && !allTakenOver(startsFile(A_ID), startsB, killedAtMs)) {
      await sleep(1000);
    }
    for (const stop of unwatch) await stop();
    const analysis = analyse(
      options,
      readStartLog(startsFile(A_ID)),
      readStartLog(startsFile(B_ID)),
      steadyFromMs,
      killedAtMs,
    );
    return {
      ...base,
      fitted: true,
      note: '',
      a: processFigures(a.startupMs, measuredA),
      b: processFigures(b.startupMs, measuredB),
      serverCpuPercent: round(((countersAfter.cpuMs - countersBefore.cpuMs) / windowMs) * 100),
      serverRequestsPerMinute: round(
        ((countersAfter.requests - countersBefore.requests) / windowMs) * 60_000,
      ),
      machineBusyPercent: round(machineBusy),
      loadAverage: [round(loadStart, 2), round(loadavg()[0] as number, 2)],
      instanceGoneMs: deletedAtMs.map((at) => at - killedAtMs),
      ...analysis,
    };
  } finally {
    await admin?.close().catch(() => {});
    await Promise.all(processes.map((process) => process.stop(120_000)));
    if (process.env.BENCH_KEEP_STARTS !== '1') {
      for (const id of [A_ID, B_ID]) rmSync(startsFile(id), { force: true });
    }
  }
}

/**
 * Runs the `takeover` benchmark, one backend after the other.
 *
 * @param backends - started backends.
 * @param options - jobs, period, windows, session, item duration.
 * @returns the table and raw figures.
 */
export async function benchTakeover(
  backends: readonly Backend[],
  options: TakeoverOptions,
): Promise<BenchTable> {
  const rows: Row[] = [];
  for (const backend of backends) {
    const t0 = Date.now();
    const row = await takeoverRow(backend, options);
    rows.push(row);
    // The figures as soon as they are known (a later backend may not finish).
    console.log(JSON.stringify(row));
    console.log(`(takeover ${backend.name}: ${Math.round((Date.now() - t0) / 1000)} s)`);
  }
  const pair = (row: Row, pick: (figures: ProcessFigures) => string) =>
    row.a === undefined || row.b === undefined ? 'n/a' : `${pick(row.a)} / ${pick(row.b)}`;
  const cell = (value: number | undefined, format: (v: number) => string = String) =>
    value === undefined || Number.isNaN(value) ? 'n/a' : format(value);
  const seconds = (ms: number) => (ms / 1000).toFixed(1);
  const { periodSeconds, sessionTimeoutMs, itemDurationMs, jobs } = options;
  const itemRunsPerSecond = Math.round((jobs * 2) / periodSeconds);
  return {
    id: 'takeover',
    title: `Takeover at scale: ${jobs.toLocaleString('en-US')} jobs in each of 2 processes, kill -9 of one`,
    caption:
      `Processes A and B each schedule the same ${jobs} jobs, 2 items each (one per process), failover, misfire ` +
      `and monitorExecution on, items of ${itemDurationMs / 1000} s. Cron: every ${periodSeconds} s, job i at ` +
      `second i mod ${periodSeconds} of the period (\`${periodSeconds >= 60 ? '{i mod 60} * * * * ?' : `{i mod ${periodSeconds}}/${periodSeconds} * * * * ?`}\`): ` +
      `${itemRunsPerSecond} item runs/s over both processes, spread evenly instead of ${jobs * 2} at one ` +
      'second, so that the load is sustainable on 2 shared cores (1,000 one-item jobs every second took ' +
      '80–100 % of a core in benchmark 5). Session timeout ' +
      `${sessionTimeoutMs / 1000} s. Startup: fork → every job scheduled (both processes at once). Steady ` +
      `window: ${options.steadyPeriods} whole periods after one settling period; RSS / heap (used after a full GC / committed) at ` +
      'its end, CPU % of one core per process, server CPU % of one core, server requests per minute (ZooKeeper ' +
      'packets, etcd unary gRPC calls, Redis script calls and change-feed reads), machine busy % of all cores. ' +
      "fired = distinct (job, item, fire) started / jobs × 2 × fires, from the processes' item-start logs; " +
      "latency = item start − fire second. Then B is killed (SIGKILL) 500 ms into a second: in flight = B's " +
      `items started less than ${itemDurationMs / 1000} s before; failover = of those, started again on A ` +
      'by a FAILOVER run (kill → last one); instance gone = kill → `instances/B` DELETED (first / last job); ' +
      "taken over = kill → the job's former B item started on A, median / max over jobs; not taken = jobs " +
      'whose B item did not start on A within session + period + margin; duplicates = starts beyond the ' +
      'first of one (job, item, fire), a cron start counted for the fire it serves, a misfire re-run for ' +
      'the latest fire before it that no other start serves, in the steady window / from then to the end (late cron = cron starts ' +
      'a period or more after their fire, held back past the next one; one FAILOVER re-run of ' +
      'an item in flight at the kill is not counted). Backends one after the other.',
    header: [
      'backend',
      'jobs',
      'startup s A / B',
      'RSS MB A / B',
      'heap used / committed MB (A; B)',
      'CPU % A / B',
      'server CPU %',
      'server requests / min',
      'machine busy %',
      'fired / expected',
      'p50 / p99 / max ms',
      'B items in flight at kill',
      'failover taken, last s',
      'instance gone s',
      'taken over p50 / max s',
      'not taken within bound',
      'duplicates steady / all',
      'load avg start → end',
      'note',
    ],
    rows: rows.map((row) => [
      row.backend,
      String(row.jobs),
      pair(row, (f) => String(f.startupS)),
      pair(row, (f) => String(f.rssMb)),
      row.a === undefined || row.b === undefined
        ? 'n/a'
        : `${row.a.heapUsedMb} / ${row.a.heapTotalMb}; ${row.b.heapUsedMb} / ${row.b.heapTotalMb}`,
      pair(row, (f) => String(f.cpuPercent)),
      cell(row.serverCpuPercent),
      cell(row.serverRequestsPerMinute),
      cell(row.machineBusyPercent),
      row.fired === undefined ? 'n/a' : `${row.fired} / ${row.expected}`,
      row.p50Ms === undefined
        ? 'n/a'
        : `${formatMs(row.p50Ms)} / ${formatMs(row.p99Ms ?? Number.NaN)} / ${formatMs(row.maxMs ?? Number.NaN)}`,
      row.inFlightAtKill === undefined ? 'n/a' : `${row.inFlightAtKill} of ${row.bItems}`,
      row.inFlightTakenByFailover === undefined
        ? 'n/a'
        : `${row.inFlightTakenByFailover}, ${cell(row.failoverLastMs, seconds)}`,
      row.instanceGoneMs === undefined
        ? 'n/a'
        : row.instanceGoneMs.map((ms) => cell(ms, seconds)).join(' / '),
      row.takeoverP50Ms === undefined
        ? 'n/a'
        : `${cell(row.takeoverP50Ms, seconds)} / ${cell(row.takeoverMaxMs, seconds)}`,
      row.notTakenOver === undefined ? 'n/a' : `${row.notTakenOver} (bound ${seconds(row.boundMs ?? 0)} s)`,
      row.duplicates === undefined
        ? 'n/a'
        : `${row.steadyDuplicates} / ${row.duplicates} (late cron ${row.lateCronStarts ?? 'n/a'})`,
      row.loadAverage === undefined ? 'n/a' : row.loadAverage.join(' → '),
      row.note,
    ]),
    data: { options, rows },
  };
}
