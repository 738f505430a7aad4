/**
 * {@link demoHistoryEvents}: three days of job events for the screenshots of the History page, as
 * the job instances of the screenshot script would have written them — runs on every cron fire,
 * per-instance tasks with their status traces, a database outage, scattered failures, an instance
 * crash with failover, and a misfire after a slow run. Deterministic for a given `nowMs`.
 *
 * @module
 */
import {
  createJobExecutionEvent,
  createJobStatusTraceEvent,
  type ExecutionSource,
  type JobExecutionEvent,
  type JobRunState,
  type JobStatusTraceEvent,
  jobExecutionFailed,
  jobExecutionSucceeded,
  jobStatusMessages,
} from '@elasticjob-ts/core';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** A small seeded generator (mulberry32), so the same `nowMs` gives the same history. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** An error with a short stack, as a job's item would throw it. */
function failure(message: string, frame: string): Error {
  const error = new Error(message);
  error.stack = `Error: ${message}\n    at ${frame}\n    at runItem (kernel/execution/run-executor.js:231:15)`;
  return error;
}

interface DemoJob {
  readonly name: string;
  /** Instance IPs, each with its pid (part of the instance id). */
  readonly instances: readonly (readonly [ip: string, pid: number])[];
  readonly items: number;
  /** Fire times within [fromMs, toMs). */
  readonly fires: (fromMs: number, toMs: number) => number[];
  /** Duration of one item, ms, at a time of day. */
  readonly durationMs: (at: number, next: () => number) => number;
  /** Chance that an item fails outside incidents. */
  readonly failureRate: number;
  readonly failure: () => Error;
}

function every(periodMs: number, offsetMs = 0) {
  return (fromMs: number, toMs: number) => {
    const fires: number[] = [];
    for (let at = Math.ceil((fromMs - offsetMs) / periodMs) * periodMs + offsetMs; at < toMs; at += periodMs)
      fires.push(at);
    return fires;
  };
}

/** Busier in the shop's day hours: item durations grow between 09:00 and 18:00 UTC. */
function busy(at: number): number {
  const hour = new Date(at).getUTCHours();
  return hour >= 9 && hour < 18 ? 2.5 + Math.sin(((hour - 9) / 9) * Math.PI) : 1;
}

const JOBS: readonly DemoJob[] = [
  {
    name: 'orders-sync',
    instances: [
      ['10.0.0.11', 4100],
      ['10.0.0.12', 4101],
      ['10.0.0.13', 4102],
    ],
    items: 8,
    fires: every(5 * MINUTE),
    durationMs: (at, next) => Math.round((180 + next() * 420) * busy(at) + (next() < 0.03 ? 2500 : 0)),
    failureRate: 0.006,
    failure: () =>
      failure('deadlock detected while updating orders', 'OrdersSync.upsert (orders-sync.js:88:11)'),
  },
  {
    name: 'stock-levels',
    instances: [
      ['10.0.0.12', 4100],
      ['10.0.0.13', 4101],
    ],
    items: 6,
    fires: every(HOUR),
    durationMs: (at, next) => Math.round((4_000 + next() * 9_000) * busy(at)),
    failureRate: 0.01,
    failure: () => failure('warehouse API answered 503', 'StockLevels.fetch (stock-levels.js:41:9)'),
  },
  {
    name: 'invoice-mailer',
    instances: [
      ['10.0.0.11', 4101],
      ['10.0.0.12', 4102],
    ],
    items: 4,
    fires: every(DAY, 6 * HOUR + 30 * MINUTE),
    durationMs: (_at, next) => Math.round(40_000 + next() * 50_000),
    failureRate: 0.05,
    failure: () => failure('SMTP 451 4.7.1 try again later', 'Mailer.send (invoice-mailer.js:67:13)'),
  },
  {
    name: 'search-index',
    instances: [['10.0.0.13', 4103]],
    items: 2,
    fires: every(DAY, 2 * HOUR + 15 * MINUTE),
    durationMs: (_at, next) => Math.round(300_000 + next() * 200_000),
    failureRate: 0,
    failure: () => failure('index locked', 'SearchIndex.rebuild (search-index.js:20:5)'),
  },
];

/** Items of instance `index` of `count` (ElasticJob's average allocation: the first ones get the rest). */
function itemsOf(items: number, count: number, index: number): number[] {
  const base = Math.floor(items / count);
  const extra = items % count;
  const start = index * base + Math.min(index, extra);
  return Array.from({ length: base + (index < extra ? 1 : 0) }, (_, offset) => start + offset);
}

/** What happened in the three days, relative to `nowMs`. */
export interface DemoHistoryIncidents {
  /** orders-sync's database was down: every item failed with ECONNREFUSED. */
  readonly outage: { readonly fromMs: number; readonly toMs: number };
  /** 10.0.0.13 crashed during an orders-sync run; its items were failed over to the other instances. */
  readonly crashMs: number;
  /** stock-levels ran long; the next fire misfired and ran after it. */
  readonly misfireMs: number;
  /** The taskId of the failover run on 10.0.0.11. */
  readonly failoverTaskId: string;
}

/**
 * The events of three days before `nowMs`.
 *
 * @param nowMs - the end of the history, epoch ms.
 * @returns the events (item executions and status traces) and what happened when.
 */
export function demoHistoryEvents(nowMs: number): {
  events: (JobExecutionEvent | JobStatusTraceEvent)[];
  incidents: DemoHistoryIncidents;
} {
  const next = random(20_250_101);
  const fromMs = nowMs - 3 * DAY;
  const hourOf = (daysAgo: number, hour: number) =>
    Math.floor((nowMs - daysAgo * DAY) / DAY) * DAY + hour * HOUR;
  const outage = { fromMs: hourOf(2, 13) + 40 * MINUTE, toMs: hourOf(2, 15) + 5 * MINUTE };
  const crashMs = hourOf(1, 10) + 20 * MINUTE + 1_000;
  const misfireMs = hourOf(1, 3);
  const events: (JobExecutionEvent | JobStatusTraceEvent)[] = [];
  let failoverTaskId = '';

  const runTask = (
    job: DemoJob,
    [ip, pid]: readonly [string, number],
    items: readonly number[],
    startMs: number,
    source: ExecutionSource,
    options: { crashed?: boolean; outage?: boolean; extraMs?: number } = {},
  ): { taskId: string; endMs: number } => {
    const taskId = `${job.name}@-@${items.join(',')}@-@READY@-@${ip}@-@${pid}`;
    const status = (state: JobRunState, message: string, at: number) =>
      events.push(
        createJobStatusTraceEvent({
          jobName: job.name,
          taskId,
          source,
          shardingItems: items,
          state,
          message,
          creationTimeMs: at,
        }),
      );
    status('TASK_STAGING', jobStatusMessages.begin(job.name), startMs);
    status('TASK_RUNNING', '', startMs + 4 + Math.floor(next() * 10));
    let endMs = startMs;
    const errors = new Map<number, string>();
    for (const item of items) {
      const itemStart = startMs + 15 + Math.floor(next() * 40);
      const start = createJobExecutionEvent({
        jobName: job.name,
        taskId,
        source,
        shardingItem: item,
        startTimeMs: itemStart,
        ip,
        hostname: `shop-worker-${ip.split('.').at(-1)}`,
      });
      if (options.crashed) {
        events.push(start); // the instance died: no completion was ever written
        continue;
      }
      let error: Error | undefined;
      let duration = job.durationMs(itemStart, next) + (options.extraMs ?? 0);
      if (options.outage) {
        error = failure('connect ECONNREFUSED 10.0.1.20:5432', 'Pool.connect (pg-pool.js:45:11)');
        duration = 3_000 + Math.floor(next() * 2_000);
      } else if (next() < job.failureRate) {
        error = job.failure();
      }
      const completeMs = itemStart + Math.round(duration);
      endMs = Math.max(endMs, completeMs);
      events.push(
        error === undefined
          ? jobExecutionSucceeded(start, completeMs)
          : jobExecutionFailed(start, error, completeMs),
      );
      if (error !== undefined) errors.set(item, `Error: ${error.message}`);
    }
    if (options.crashed) return { taskId, endMs: startMs };
    if (errors.size > 0) status('TASK_ERROR', jobStatusMessages.error(errors), endMs + 2);
    else status('TASK_FINISHED', jobStatusMessages.finished(), endMs + 2);
    return { taskId, endMs };
  };

  for (const job of JOBS) {
    let busyUntilMs = 0;
    for (const fire of job.fires(fromMs, nowMs)) {
      // The search index job was disabled on 10.0.0.13 yesterday evening: no runs since.
      if (job.name === 'search-index' && fire > hourOf(1, 20)) continue;
      let instances = job.instances;
      // 10.0.0.13 is gone from the crash until it is restarted 15 minutes later: resharded onto the others.
      if (fire > crashMs && fire < crashMs + 15 * MINUTE)
        instances = instances.filter(([ip]) => ip !== '10.0.0.13');
      // The run before the misfire waits on a warehouse reindex: over an hour per item.
      const extraMs = job.name === 'stock-levels' && fire === misfireMs - HOUR ? 62 * MINUTE : 0;
      if (fire < busyUntilMs) {
        // Misfire: the previous run still runs; this fire runs right after it, as MISFIRE.
        instances.forEach((instance, index) => {
          const items = itemsOf(job.items, instances.length, index);
          const taskId = `${job.name}@-@${items.join(',')}@-@READY@-@${instance[0]}@-@${instance[1]}`;
          events.push(
            createJobStatusTraceEvent({
              jobName: job.name,
              taskId,
              source: 'NORMAL_TRIGGER',
              shardingItems: items,
              state: 'TASK_FINISHED',
              message: jobStatusMessages.stillRunning(job.name, items),
              creationTimeMs: fire,
            }),
          );
          runTask(job, instance, items, busyUntilMs + 1_000, 'MISFIRE');
        });
        continue;
      }
      const inOutage = job.name === 'orders-sync' && fire >= outage.fromMs && fire < outage.toMs;
      instances.forEach((instance, index) => {
        const items = itemsOf(job.items, instances.length, index);
        const crashed =
          job.name === 'orders-sync' &&
          instance[0] === '10.0.0.13' &&
          fire <= crashMs &&
          crashMs < fire + 5 * MINUTE;
        const { endMs } = runTask(job, instance, items, fire, 'NORMAL_TRIGGER', {
          crashed,
          outage: inOutage,
          extraMs,
        });
        busyUntilMs = Math.max(busyUntilMs, endMs);
        if (crashed) {
          // The other instances take the crashed one's items over, as FAILOVER, one item each in turn.
          items.forEach((item, turn) => {
            const taker = job.instances[turn % 2]!;
            const run = runTask(job, taker, [item], crashMs + 12_000 + turn * 400, 'FAILOVER');
            if (taker[0] === '10.0.0.11' && failoverTaskId === '') failoverTaskId = run.taskId;
          });
        }
      });
    }
  }
  events.sort((a, b) => timeOf(a) - timeOf(b));
  return { events, incidents: { outage, crashMs, misfireMs, failoverTaskId } };
}

function timeOf(event: JobExecutionEvent | JobStatusTraceEvent): number {
  if (event.kind === 'execution') return event.completeTimeMs ?? event.startTimeMs;
  return event.creationTimeMs;
}
