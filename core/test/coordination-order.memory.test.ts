/**
 * The order of a burst of reshardings in one process: when a peer of many jobs disappears, each job
 * the survivor leads reshards, and those that wait for a turn on the process's coordination queue
 * go in the order their jobs fire (see `core/src/kernel/coordination-queue.ts`).
 */
import { MemoryRegistryCenter, MemoryRegistryServer } from '@elasticjob-ts/registry-memory';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type JobEvent, ManualClock, ScheduleJobBootstrap, TimerService } from '../src/index.js';
import { CoordinationQueue } from '../src/kernel/coordination-queue.js';

const T0 = Date.parse('2026-03-01T00:00:00.000Z');
const WAIT_MS = 10_000;
const silent = {
  trace() {},
  debug() {},
  info() {},
  warn() {},
  error() {},
  fatal() {},
  child() {
    return silent;
  },
};

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

describe('a burst of reshardings in one process', () => {
  it('gives the turns that wait to the jobs that fire soonest', async () => {
    const server = new MemoryRegistryServer();
    const namespace = 'coordination-order';
    const timers = new TimerService(new ManualClock(T0));
    const bound = 4;
    CoordinationQueue.use(timers, new CoordinationQueue(bound));
    const jobs = bound + 16;
    // Job j fires at second `jobs - j` of each minute: started (and told of events) in the opposite
    // order of its fires, so arrival order and fire order differ.
    const secondOf = (j: number) => jobs - j;
    const committed: string[] = [];
    const clients = [
      new MemoryRegistryCenter({ server, namespace }),
      new MemoryRegistryCenter({ server, namespace }),
    ];
    const bootstraps: ScheduleJobBootstrap[][] = [[], []];
    for (const client of clients) await client.start();
    stops.push(async () => {
      for (const b of bootstraps.flat()) await b.shutdown();
      for (const client of clients) await client.close();
    });
    for (const n of [0, 1]) {
      for (let j = 0; j < jobs; j++) {
        const bootstrap = new ScheduleJobBootstrap(
          clients[n] as MemoryRegistryCenter,
          { execute: async () => {} },
          { jobName: `job-${j}`, cron: `${secondOf(j)} * * * * ?`, shardingTotalCount: 2 },
          {
            instanceId: `10.0.0.${n}@-@${n}`,
            serverIp: `10.0.0.${n}`,
            timerService: timers,
            logger: silent,
            onEvent: (event: JobEvent) => {
              if (n === 0 && event.kind === 'resharding') committed.push(event.jobName);
            },
          },
        );
        await bootstrap.schedule();
        bootstraps[n]?.push(bootstrap);
      }
    }
    // Instance 0 started every job first and leads them all; instance 1 joined each.
    await vi.waitFor(
      () => {
        for (let j = 0; j < jobs; j++) expect(bootstraps[0]?.[j]?.isLeader()).toBe(true);
        expect(new Set(committed).size).toBe(jobs);
      },
      { timeout: WAIT_MS, interval: 10 },
    );
    for (const b of bootstraps[1] ?? []) {
      await vi.waitFor(() => expect(b.nextFireTimeMs).toBeDefined(), { timeout: WAIT_MS, interval: 10 });
    }

    committed.length = 0;
    await clients[1]?.close(); // instance 1's session ends: every job of instance 0 reshards
    await vi.waitFor(() => expect(committed).toHaveLength(jobs), { timeout: WAIT_MS, interval: 10 });

    // The reshardings that waited for a turn committed last, soonest fire first.
    const waited = committed.slice(bound);
    const seconds = waited.map((name) => secondOf(Number(name.slice('job-'.length))));
    expect(seconds).toEqual([...seconds].sort((a, b) => a - b));
    expect(new Set(committed).size).toBe(jobs);
  });
});
