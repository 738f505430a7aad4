/**
 * Real jobs for the tracing tests: job instances on the memory registry (a real implementation),
 * cron fires driven by a ManualClock, registry work awaited by conditions.
 */
import {
  type CoordinatorRegistryCenter,
  type JobConfiguration,
  type JobEvent,
  ManualClock,
  ScheduleJobBootstrap,
  type ShardingContext,
  silentLogger,
  TimerService,
} from '@elasticjob-ts/core';
import { MemoryRegistryCenter, MemoryRegistryServer } from '@elasticjob-ts/registry-memory';
import { expect, vi } from 'vitest';

export const WAIT_TIMEOUT_MS = 10_000;

export const waitFor = <T>(assertion: () => T | Promise<T>) =>
  vi.waitFor(assertion, { timeout: WAIT_TIMEOUT_MS, interval: 10 });

let namespaceSeq = 0;

/** A job cluster in one process. */
export class TestCluster {
  readonly clock = new ManualClock(Date.parse('2026-03-01T08:00:00.000Z'));
  readonly timers = new TimerService(this.clock);
  readonly server = new MemoryRegistryServer();
  readonly namespace = `tracing-${process.pid}-${namespaceSeq++}`;
  /** Every event of every instance, in post order per instance. */
  readonly events: JobEvent[] = [];
  readonly bootstraps: ScheduleJobBootstrap[] = [];
  readonly #registries = new Map<ScheduleJobBootstrap, CoordinatorRegistryCenter>();
  readonly #clients: CoordinatorRegistryCenter[] = [];

  /** A started registry client of this cluster's namespace. */
  async client(): Promise<CoordinatorRegistryCenter> {
    const client = new MemoryRegistryCenter({ server: this.server, namespace: this.namespace });
    await client.start();
    this.#clients.push(client);
    return client;
  }

  /** Starts instance `n` (`10.0.0.n@-@100n`) of `configuration` running `body` per item. */
  async start(
    n: number,
    configuration: JobConfiguration,
    body: (ctx: ShardingContext) => Promise<void>,
  ): Promise<{ bootstrap: ScheduleJobBootstrap; registry: CoordinatorRegistryCenter }> {
    const registry = await this.client();
    const bootstrap = new ScheduleJobBootstrap(registry, { execute: body }, configuration, {
      instanceId: `10.0.0.${n}@-@${1000 + n}`,
      serverIp: `10.0.0.${n}`,
      timerService: this.timers,
      reshardingWaitTimeoutMs: WAIT_TIMEOUT_MS,
      shutdownTimeoutMs: WAIT_TIMEOUT_MS,
      logger: silentLogger,
    });
    bootstrap.subscribe((event) => {
      this.events.push(event);
    });
    this.bootstraps.push(bootstrap);
    this.#registries.set(bootstrap, registry);
    await bootstrap.schedule();
    return { bootstrap, registry };
  }

  /** Advances the clock to the next cron fire of any instance. */
  async fire(): Promise<void> {
    const due = this.bootstraps.map((b) => b.nextFireTimeMs).filter((ms): ms is number => ms !== undefined);
    if (due.length === 0) throw new Error('no fire scheduled');
    await this.clock.advanceTo(Math.min(...due));
  }

  /** A crash: the instance's registry session ends while its job runs. */
  async crash(bootstrap: ScheduleJobBootstrap): Promise<void> {
    await this.#registries.get(bootstrap)?.close();
  }

  /** Waits until the leader assigned `total` items to exactly `instanceIds`. */
  async waitForSharding(jobName: string, total: number, instanceIds: readonly string[]): Promise<void> {
    const admin = await this.client();
    await waitFor(async () => {
      expect(await admin.isExisted(`/${jobName}/leader/sharding/necessary`)).toBe(false);
      const owners = new Set<string>();
      for (let item = 0; item < total; item++) {
        owners.add((await admin.getDirectly(`/${jobName}/sharding/${item}/instance`)) as string);
      }
      expect([...owners].sort()).toEqual([...instanceIds].sort());
    });
  }

  /** Shuts every instance down and closes every client. */
  async close(): Promise<void> {
    for (const bootstrap of this.bootstraps) await bootstrap.shutdown();
    for (const client of this.#clients) await client.close();
  }
}

/** The job of {@link runFailoverAndMisfire}. */
export const FAILOVER_JOB: JobConfiguration = {
  jobName: 'orders',
  cron: '* * * * * ?',
  shardingTotalCount: 2,
  failover: true,
  misfire: true,
};

/**
 * Two instances; instance 1 overruns its first run (the next fire misfires), instance 2 crashes
 * mid-run (its item fails over to instance 1). Instance 1 then runs: NORMAL_TRIGGER, FAILOVER,
 * MISFIRE; its failover execution fails. `attach` is called for each instance right after it started.
 *
 * @returns the survivor (instance 1) and its registry.
 */
export async function runFailoverAndMisfire(
  cluster: TestCluster,
  attach: (bootstrap: ScheduleJobBootstrap, registry: CoordinatorRegistryCenter) => void,
): Promise<{ bootstrap: ScheduleJobBootstrap; registry: CoordinatorRegistryCenter }> {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  let survivorRuns = 0;
  const victimRuns = 0;
  const survivor = await cluster.start(1, FAILOVER_JOB, async (ctx) => {
    const run = ++survivorRuns;
    if (run === 1) await gate;
    // The second item execution is the failover run (it goes before the deferred misfire).
    if (run === 2) throw new Error(`item ${ctx.shardingItem} failed over and failed`);
  });
  attach(survivor.bootstrap, survivor.registry);
  const victim = await cluster.start(
    2,
    FAILOVER_JOB,
    (ctx) => new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve())),
  );
  attach(victim.bootstrap, victim.registry);
  await cluster.waitForSharding('orders', 2, ['10.0.0.1@-@1001', '10.0.0.2@-@1002']);
  const admin = await cluster.client();
  await cluster.fire();
  await waitFor(async () => {
    expect(await admin.getDirectly('/orders/sharding/0/running')).toBeDefined();
    expect(await admin.getDirectly('/orders/sharding/1/running')).toBeDefined();
  });
  await cluster.fire(); // instance 1 is still running: a misfire
  await cluster.crash(victim.bootstrap);
  await waitFor(async () =>
    expect(await admin.getChildrenKeys('/orders/leader/failover/items')).toHaveLength(1),
  );
  release();
  await waitFor(() => {
    const sources = cluster.events.flatMap((e) =>
      e.kind === 'status' && e.state === 'TASK_RUNNING' && e.slaveId === '10.0.0.1' ? [e.source] : [],
    );
    expect(sources).toEqual(['NORMAL_TRIGGER', 'FAILOVER', 'MISFIRE']);
  });
  // Every execution the survivor started has completed (the crashed instance's stays open).
  await waitFor(() => {
    const open = new Set<string>();
    for (const e of cluster.events) {
      if (e.kind !== 'execution' || e.ip !== '10.0.0.1') continue;
      if (e.completeTimeMs === undefined) open.add(e.id);
      else open.delete(e.id);
    }
    expect(open.size).toBe(0);
  });
  return survivor;
}
