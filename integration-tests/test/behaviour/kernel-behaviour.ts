/**
 * Kernel behaviour, parameterised by registry: the same tests run on the memory registry (core)
 * and on real ZooKeeper and etcd servers (integration-tests). Cron fires are driven by a
 * ManualClock; registry work is real and awaited by conditions, never by fixed sleeps.
 */

import {
  type CoordinatorRegistryCenter,
  DistributeOnceJobListener,
  type ElasticJobListener,
  type JobBootstrapOptions,
  type JobConfiguration,
  type JobEvent,
  ManualClock,
  OneOffJobBootstrap,
  ScheduleJobBootstrap,
  type ShardingContext,
  TimerService,
} from '@elasticjob-ts/core';
import { afterEach, describe, expect, it, vi } from 'vitest';

/** How the suite gets registry clients. */
export interface KernelRegistryFixture {
  readonly name: string;
  /** A started client of the shared server, confined to `namespace`. */
  createClient(namespace: string): Promise<CoordinatorRegistryCenter>;
  /** Bound for conditions, in ms. */
  readonly waitTimeoutMs: number;
}

interface Execution {
  readonly instanceId: string;
  readonly item: number;
  readonly parameter: string | undefined;
  readonly fireTimeMs: number;
}

let namespaceSeq = 0;

export function kernelBehaviourSuite(fixture: KernelRegistryFixture): void {
  describe(`kernel on ${fixture.name}`, () => {
    const cleanups: Array<() => Promise<void>> = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    const waitFor = <T>(assertion: () => T) =>
      vi.waitFor(assertion, { timeout: fixture.waitTimeoutMs, interval: 10 });

    async function cluster(namespace = `kernel-${process.pid}-${namespaceSeq++}`) {
      const clock = new ManualClock(Date.parse('2026-03-01T00:00:00.000Z'));
      const timers = new TimerService(clock);
      const executions: Execution[] = [];
      const events: JobEvent[] = [];
      const clients: CoordinatorRegistryCenter[] = [];
      const bootstraps: Array<ScheduleJobBootstrap | OneOffJobBootstrap> = [];
      const registryOf = new Map<ScheduleJobBootstrap | OneOffJobBootstrap, CoordinatorRegistryCenter>();
      cleanups.push(async () => {
        for (const bootstrap of bootstraps) await bootstrap.shutdown();
        for (const client of clients) await client.close();
      });
      const client = async () => {
        const c = await fixture.createClient(namespace);
        clients.push(c);
        return c;
      };
      const recordingJob = (instanceId: string, body?: (ctx: ShardingContext) => Promise<void>) => ({
        async execute(ctx: ShardingContext) {
          executions.push({
            instanceId,
            item: ctx.shardingItem,
            parameter: ctx.shardingParameter,
            fireTimeMs: clock.now(),
          });
          if (body) await body(ctx);
        },
      });
      const options = (n: number, extra: Partial<JobBootstrapOptions> = {}): JobBootstrapOptions => ({
        instanceId: `10.0.0.${n}@-@${1000 + n}`,
        serverIp: `10.0.0.${n}`,
        timerService: timers,
        reshardingWaitTimeoutMs: fixture.waitTimeoutMs,
        shutdownTimeoutMs: fixture.waitTimeoutMs,
        onEvent: (event) => {
          events.push(event);
        },
        ...(process.env.KERNEL_TEST_LOG ? {} : { logger: silent }),
        ...extra,
      });
      async function start(
        n: number,
        configuration: JobConfiguration,
        body?: (ctx: ShardingContext) => Promise<void>,
        extra: Partial<JobBootstrapOptions> = {},
      ): Promise<ScheduleJobBootstrap> {
        const registry = await client();
        const bootstrap = new ScheduleJobBootstrap(
          registry,
          recordingJob(`10.0.0.${n}@-@${1000 + n}`, body),
          configuration,
          options(n, extra),
        );
        bootstraps.push(bootstrap);
        registryOf.set(bootstrap, registry);
        await bootstrap.schedule();
        return bootstrap;
      }
      async function startOneOff(
        n: number,
        configuration: JobConfiguration,
        body?: (ctx: ShardingContext) => Promise<void>,
      ) {
        const registry = await client();
        const bootstrap = new OneOffJobBootstrap(
          registry,
          recordingJob(`10.0.0.${n}@-@${1000 + n}`, body),
          configuration,
          options(n),
        );
        bootstraps.push(bootstrap);
        await bootstrap.start();
        return bootstrap;
      }
      /** Advances to the next cron fire. */
      async function fire(): Promise<void> {
        const due = bootstraps
          .map((b) => (b instanceof ScheduleJobBootstrap && b.configuration ? b.nextFireTimeMs : undefined))
          .filter((ms): ms is number => ms !== undefined);
        if (due.length === 0) throw new Error('no fire scheduled');
        await clock.advanceTo(Math.min(...due));
      }
      /** Simulates a crash: the instance's registry session ends while its job is mid-run. */
      async function crash(bootstrap: ScheduleJobBootstrap): Promise<void> {
        await registryOf.get(bootstrap)?.close();
      }
      return { clock, timers, executions, events, client, start, startOneOff, fire, crash, namespace };
    }

    const job = (overrides: Partial<JobConfiguration> = {}): JobConfiguration => ({
      jobName: 'orders',
      cron: '* * * * * ?',
      shardingTotalCount: 6,
      shardingItemParameters: '0=A,1=B,2=C,3=D,4=E,5=F',
      ...overrides,
    });

    async function waitForLeaderAndSharding(
      admin: CoordinatorRegistryCenter,
      jobName: string,
      total: number,
      instanceIds: readonly string[],
    ) {
      await waitFor(async () => {
        expect(await admin.isExisted(`/${jobName}/leader/sharding/necessary`)).toBe(false);
        const owners = new Set<string>();
        for (let item = 0; item < total; item++) {
          const owner = await admin.getDirectly(`/${jobName}/sharding/${item}/instance`);
          expect(owner).toBeDefined();
          owners.add(owner as string);
        }
        expect([...owners].sort()).toEqual(
          [...instanceIds].sort().slice(0, Math.min(total, instanceIds.length)),
        );
      });
    }

    it('shards six items over three instances (AVG_ALLOCATION, highest id first) and runs each once per fire', async () => {
      const c = await cluster();
      await c.start(1, job());
      await c.start(2, job());
      await c.start(3, job());
      const admin = await c.client();
      const ids = ['10.0.0.1@-@1001', '10.0.0.2@-@1002', '10.0.0.3@-@1003'];
      await waitForLeaderAndSharding(admin, 'orders', 6, ids);
      const owners = await Promise.all(
        [0, 1, 2, 3, 4, 5].map((item) => admin.getDirectly(`/orders/sharding/${item}/instance`)),
      );
      // Instances in descending order: 10.0.0.3 gets 0,1; 10.0.0.2 gets 2,3; 10.0.0.1 gets 4,5.
      expect(owners).toEqual([ids[2], ids[2], ids[1], ids[1], ids[0], ids[0]]);

      await c.fire();
      await waitFor(() => expect(c.executions).toHaveLength(6));
      const byItem = new Map(c.executions.map((e) => [e.item, e]));
      expect([...byItem.keys()].sort()).toEqual([0, 1, 2, 3, 4, 5]);
      for (const [item, execution] of byItem) expect(execution.instanceId).toBe(owners[item]);
      expect(byItem.get(2)?.parameter).toBe('C');

      await c.fire();
      await waitFor(() => expect(c.executions).toHaveLength(12));
      const second = c.executions
        .slice(6)
        .map((e) => e.item)
        .sort();
      expect(second).toEqual([0, 1, 2, 3, 4, 5]);
    });

    it('shards and runs a job with more items than one registry transaction may hold', async () => {
      const c = await cluster();
      const big = job({ shardingTotalCount: 150, shardingItemParameters: '' });
      await c.start(1, big);
      await c.start(2, big);
      const admin = await c.client();
      await waitForLeaderAndSharding(admin, 'orders', 150, ['10.0.0.1@-@1001', '10.0.0.2@-@1002']);
      await c.fire();
      await waitFor(() => expect(c.executions).toHaveLength(150));
      expect(new Set(c.executions.map((e) => e.item)).size).toBe(150);
      await waitFor(async () => {
        const running = await Promise.all(
          [0, 74, 149].map((item) => admin.isExisted(`/orders/sharding/${item}/running`)),
        );
        expect(running).toEqual([false, false, false]);
      });
    });

    it('elects exactly one leader and re-elects and reshards when it shuts down', async () => {
      const c = await cluster();
      const first = await c.start(1, job());
      const second = await c.start(2, job());
      const admin = await c.client();
      await waitForLeaderAndSharding(admin, 'orders', 6, ['10.0.0.1@-@1001', '10.0.0.2@-@1002']);
      expect([first.isLeader(), second.isLeader()].filter(Boolean)).toHaveLength(1);
      const leader = first.isLeader() ? first : second;
      const survivor = leader === first ? second : first;
      await leader.shutdown();
      await waitFor(() => expect(survivor.isLeader()).toBe(true));
      await waitForLeaderAndSharding(admin, 'orders', 6, [survivor.instance.jobInstanceId]);
      expect(await admin.isExisted(`/orders/instances/${leader.instance.jobInstanceId}`)).toBe(false);

      c.executions.length = 0;
      await c.fire();
      await waitFor(() => expect(c.executions).toHaveLength(6));
      expect(new Set(c.executions.map((e) => e.instanceId))).toEqual(
        new Set([survivor.instance.jobInstanceId]),
      );
    });

    it('reshards when an instance joins, before the next fire', async () => {
      const c = await cluster();
      await c.start(1, job());
      const admin = await c.client();
      await waitForLeaderAndSharding(admin, 'orders', 6, ['10.0.0.1@-@1001']);
      await c.start(2, job());
      await waitForLeaderAndSharding(admin, 'orders', 6, ['10.0.0.1@-@1001', '10.0.0.2@-@1002']);
      await c.fire();
      await waitFor(() => expect(c.executions).toHaveLength(6));
      expect(new Set(c.executions.map((e) => e.instanceId)).size).toBe(2);
    });

    it('commits one resharding per membership change, none for an event that changes no plan', async () => {
      const c = await cluster();
      const ids = ['10.0.0.1@-@1001', '10.0.0.2@-@1002', '10.0.0.3@-@1003'];
      const admin = await c.client();
      const committedSizes = () =>
        c.events.flatMap((e) => (e.kind === 'resharding' ? [Object.keys(e.assignment).length] : []));
      await c.start(1, job());
      await waitForLeaderAndSharding(admin, 'orders', 6, ids.slice(0, 1));
      // A join comes as two events (server node, instance node); the plan changes once.
      await c.start(2, job());
      await waitForLeaderAndSharding(admin, 'orders', 6, ids.slice(0, 2));
      // A server event that changes nothing: its status written again.
      await admin.persist('/orders/servers/10.0.0.2', 'ENABLED');
      await c.start(3, job());
      await waitForLeaderAndSharding(admin, 'orders', 6, ids);
      await waitFor(() => expect(committedSizes()).toEqual([1, 2, 3]));
    });

    it('writes every configuration key, lets the registry copy win, and honours overwrite', async () => {
      const c = await cluster();
      const first = await c.start(1, job({ description: 'first' }));
      const admin = await c.client();
      const yaml = (await admin.getDirectly('/orders/config')) as string;
      for (const key of [
        'cron',
        'description',
        'disabled',
        'failover',
        'jobErrorHandlerType',
        'jobExecutorThreadPoolSizeProviderType',
        'jobName',
        'jobParameter',
        'jobShardingStrategyType',
        'maxTimeDiffSeconds',
        'misfire',
        'monitorExecution',
        'overwrite',
        'reconcileIntervalMinutes',
        'shardingItemParameters',
        'shardingTotalCount',
        'staticSharding',
      ]) {
        expect(yaml).toMatch(new RegExp(`^${key}:`, 'm'));
      }
      expect(await admin.getDirectly('/orders')).toBe('SimpleJob');
      const second = await c.start(
        2,
        job({ description: 'second', shardingTotalCount: 2, shardingItemParameters: '' }),
      );
      expect(second.configuration.description).toBe('first');
      expect(second.configuration.shardingTotalCount).toBe(6);
      const third = await c.start(3, job({ description: 'third', overwrite: true }));
      expect(third.configuration.description).toBe('third');
      await waitFor(() => expect(first.configuration.description).toBe('third'));
    });

    it('reschedules when the cron changes in the registry', async () => {
      const c = await cluster();
      const bootstrap = await c.start(1, job({ cron: '0 0 * * * ?' }));
      const start = c.clock.now();
      expect(bootstrap.nextFireTimeMs).toBe(start + 3_600_000);
      const admin = await c.client();
      const yaml = (await admin.getDirectly('/orders/config')) as string;
      await admin.update('/orders/config', yaml.replace(/^cron: .*$/m, "cron: '*/5 * * * * ?'"));
      await waitFor(() => expect(bootstrap.nextFireTimeMs).toBe(start + 5000));
    });

    it("keeps a removed item's fencing counter, so its token continues when a larger count brings it back", async () => {
      const c = await cluster();
      const tokens: Array<[number, number]> = [];
      await c.start(1, job({ shardingTotalCount: 3, shardingItemParameters: '' }), async (ctx) => {
        tokens.push([ctx.shardingItem, ctx.fencingToken]);
      });
      const admin = await c.client();
      const setTotal = async (total: number) => {
        const yaml = (await admin.getDirectly('/orders/config')) as string;
        await admin.update(
          '/orders/config',
          yaml.replace(/^shardingTotalCount: .*$/m, `shardingTotalCount: ${total}`),
        );
      };
      await waitForLeaderAndSharding(admin, 'orders', 3, ['10.0.0.1@-@1001']);
      await c.fire();
      await waitFor(() => expect(tokens.filter(([item]) => item === 2)).toEqual([[2, 1]]));
      await c.fire();
      await waitFor(() =>
        expect(tokens.filter(([item]) => item === 2)).toEqual([
          [2, 1],
          [2, 2],
        ]),
      );
      await setTotal(2);
      // The item is gone from the assignment; only its fencing counter stays.
      await waitFor(async () => {
        expect(await admin.isExisted('/orders/leader/sharding/necessary')).toBe(false);
        expect(await admin.getChildrenKeys('/orders/sharding/2')).toEqual(['fencing']);
      });
      // The counter, and the scheduled time of the last cron fire a run of the item served.
      expect(await admin.getDirectly('/orders/sharding/2/fencing')).toMatch(/^2@\d+$/);
      tokens.length = 0;
      await c.fire();
      await waitFor(() => expect(tokens.map(([item]) => item).sort()).toEqual([0, 1]));
      await setTotal(3);
      await waitForLeaderAndSharding(admin, 'orders', 3, ['10.0.0.1@-@1001']);
      await c.fire();
      await waitFor(() => expect(tokens.filter(([item]) => item === 2)).toEqual([[2, 3]]));
    });

    it('keeps an operator-disabled server disabled across restarts and moves its items away', async () => {
      const c = await cluster();
      const one = await c.start(1, job());
      await c.start(2, job());
      const admin = await c.client();
      await waitForLeaderAndSharding(admin, 'orders', 6, ['10.0.0.1@-@1001', '10.0.0.2@-@1002']);
      await admin.update('/orders/servers/10.0.0.1', 'DISABLED');
      await waitForLeaderAndSharding(admin, 'orders', 6, ['10.0.0.2@-@1002']);
      await waitFor(() => expect(one.isLeader()).toBe(false));
      await one.shutdown();
      await c.start(1, job());
      expect(await admin.getDirectly('/orders/servers/10.0.0.1')).toBe('DISABLED');
      await c.fire();
      await waitFor(() => expect(c.executions).toHaveLength(6));
      expect(new Set(c.executions.map((e) => e.instanceId))).toEqual(new Set(['10.0.0.2@-@1002']));
    });

    it('starts a server disabled by local configuration only when the registry has no state for it', async () => {
      const c = await cluster();
      await c.start(1, job({ disabled: true }));
      const admin = await c.client();
      expect(await admin.getDirectly('/orders/servers/10.0.0.1')).toBe('DISABLED');
      await c.fire();
      // Nothing can run: the only server is disabled, so no items are assigned.
      await waitFor(async () => {
        const statuses = c.events.filter((e) => e.kind === 'status' && e.state === 'TASK_FINISHED');
        expect(statuses.length).toBeGreaterThan(0);
      });
      expect(c.executions).toHaveLength(0);
    });

    it('skips operator-disabled items', async () => {
      const c = await cluster();
      await c.start(1, job({ shardingTotalCount: 3, shardingItemParameters: '' }));
      const admin = await c.client();
      await waitForLeaderAndSharding(admin, 'orders', 3, ['10.0.0.1@-@1001']);
      await admin.persist('/orders/sharding/1/disabled', '');
      // One fire, awaited until its whole run finished (its TASK_FINISHED status), so that a late
      // item of one run is never read as part of the next: the items that run ran.
      const finishedRuns = () =>
        c.events.filter((e) => e.kind === 'status' && e.state === 'TASK_FINISHED').length;
      const runOnce = async () => {
        const before = c.executions.length;
        const finished = finishedRuns();
        await c.fire();
        await waitFor(() => expect(finishedRuns()).toBeGreaterThan(finished));
        return c.executions
          .slice(before)
          .map((e) => e.item)
          .sort();
      };
      // The instance sees the operator's node one event delivery later: fire until it does...
      await waitFor(async () => expect(await runOnce()).not.toContain(1));
      // ...and from then on item 1 stays skipped.
      expect(await runOnce()).toEqual([0, 2]);
    });

    it('writes running nodes during a run (monitorExecution) and clears them after', async () => {
      const c = await cluster();
      let release!: () => void;
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      await c.start(1, job({ shardingTotalCount: 2, shardingItemParameters: '' }), () => gate);
      const admin = await c.client();
      await waitForLeaderAndSharding(admin, 'orders', 2, ['10.0.0.1@-@1001']);
      await c.fire();
      await waitFor(async () => {
        expect(await admin.getDirectly('/orders/sharding/0/running')).toBe('10.0.0.1@-@1001');
        expect(await admin.getDirectly('/orders/sharding/1/running')).toBe('10.0.0.1@-@1001');
      });
      release();
      await waitFor(async () => {
        expect(await admin.isExisted('/orders/sharding/0/running')).toBe(false);
        expect(await admin.isExisted('/orders/sharding/1/running')).toBe(false);
      });
    });

    it('misfires a fire that arrives during an overrun and re-runs once right after it', async () => {
      const c = await cluster();
      let release!: () => void;
      let calls = 0;
      await c.start(1, job({ shardingTotalCount: 1, shardingItemParameters: '' }), async () => {
        calls++;
        if (calls === 1) {
          await new Promise<void>((resolve) => {
            release = resolve;
          });
        }
      });
      const admin = await c.client();
      await waitForLeaderAndSharding(admin, 'orders', 1, ['10.0.0.1@-@1001']);
      await c.fire();
      await waitFor(() => expect(calls).toBe(1));
      await c.fire();
      await c.fire();
      await waitFor(async () => expect(await admin.isExisted('/orders/sharding/0/misfire')).toBe(true));
      release();
      await waitFor(() => expect(calls).toBe(2));
      await waitFor(async () => expect(await admin.isExisted('/orders/sharding/0/misfire')).toBe(false));
      await waitFor(() =>
        expect(
          c.events.flatMap((e) => (e.kind === 'execution' && e.success === true ? [e.source] : [])),
        ).toEqual(['NORMAL_TRIGGER', 'MISFIRE']),
      );
    });

    it('runs every instance once on a one-off trigger and keeps a trigger that arrives during a run', async () => {
      const c = await cluster();
      let release!: () => void;
      let calls = 0;
      const oneOff = { jobName: 'report', shardingTotalCount: 2 } satisfies JobConfiguration;
      const first = await c.startOneOff(1, oneOff, async (ctx) => {
        calls++;
        if (calls === 1 && ctx.shardingItem >= 0) {
          await new Promise<void>((resolve) => {
            release = resolve;
          });
        }
      });
      await c.startOneOff(2, oneOff);
      const admin = await c.client();
      await waitForLeaderAndSharding(admin, 'report', 2, ['10.0.0.1@-@1001', '10.0.0.2@-@1002']);
      await first.execute();
      await waitFor(() => expect(c.executions).toHaveLength(2));
      await first.execute();
      await waitFor(() => expect(c.executions).toHaveLength(3)); // instance 2 ran again; 1 is busy
      release();
      await waitFor(() => expect(c.executions).toHaveLength(4)); // the pending trigger of instance 1
      expect(await admin.getChildrenKeys('/report/trigger')).toEqual([]);
    });

    it('calls listeners around runs and reports item failures to the error handler and events', async () => {
      const c = await cluster();
      const calls: string[] = [];
      const listener: ElasticJobListener = {
        type: 'test',
        beforeJobExecuted: (ctx) => {
          calls.push(`before:${[...ctx.shardingItemParameters.keys()].join(',')}`);
        },
        afterJobExecuted: () => {
          calls.push('after');
        },
      };
      await c.start(
        1,
        job({ shardingTotalCount: 2, shardingItemParameters: '', jobErrorHandlerType: 'IGNORE' }),
        async (ctx) => {
          if (ctx.shardingItem === 1) throw new Error('boom');
        },
        { listeners: [listener] },
      );
      const admin = await c.client();
      await waitForLeaderAndSharding(admin, 'orders', 2, ['10.0.0.1@-@1001']);
      await c.fire();
      await waitFor(() => expect(calls).toEqual(['before:0,1', 'after']));
      await waitFor(() => {
        const failed = c.events.filter((e) => e.kind === 'execution' && e.success === false);
        expect(failed).toHaveLength(1);
        expect(failed[0]).toMatchObject({ shardingItem: 1, failureCause: expect.stringContaining('boom') });
        const error = c.events.find((e) => e.kind === 'status' && e.state === 'TASK_ERROR');
        expect(error).toMatchObject({ message: expect.stringContaining('1=boom') });
      });
      // A failed item does not keep its running node (it would block later runs and resharding).
      await waitFor(async () => expect(await admin.isExisted('/orders/sharding/1/running')).toBe(false));
    });

    it('shuts down cleanly: no timers, no instance node, leadership released', async () => {
      const c = await cluster();
      const bootstrap = await c.start(1, job());
      const admin = await c.client();
      await waitForLeaderAndSharding(admin, 'orders', 6, ['10.0.0.1@-@1001']);
      expect(c.timers.size).toBe(2); // the next fire and the next reconcile
      await bootstrap.shutdown();
      expect(c.timers.size).toBe(0);
      expect(await admin.isExisted('/orders/instances/10.0.0.1@-@1001')).toBe(false);
      expect(await admin.isExisted('/orders/leader/election/instance')).toBe(false);
      await bootstrap.shutdown(); // idempotent
    });

    it('aborts the signal of running items on shutdown', async () => {
      const c = await cluster();
      let aborted = false;
      const bootstrap = await c.start(
        1,
        job({ shardingTotalCount: 1, shardingItemParameters: '' }),
        (ctx) =>
          new Promise<void>((resolve) => {
            ctx.signal.addEventListener('abort', () => {
              aborted = true;
              resolve();
            });
          }),
      );
      const admin = await c.client();
      await waitForLeaderAndSharding(admin, 'orders', 1, ['10.0.0.1@-@1001']);
      await c.fire();
      await waitFor(() => expect(c.executions).toHaveLength(1));
      await bootstrap.shutdown();
      expect(aborted).toBe(true);
    });

    it("fails over a crashed instance's in-flight items to the survivor in one run", async () => {
      const c = await cluster();
      const gate = new Promise<void>(() => {}); // instance 2 never finishes: it "crashes" mid-run
      const failoverJob = job({ shardingTotalCount: 4, shardingItemParameters: '', failover: true });
      const survivor = await c.start(1, failoverJob);
      const victim = await c.start(2, failoverJob, async (ctx) => {
        if (
          c.executions.filter((e) => e.instanceId === '10.0.0.2@-@1002').length > 0 &&
          ctx.shardingItem >= 0
        ) {
          await Promise.race([gate, new Promise((resolve) => ctx.signal.addEventListener('abort', resolve))]);
        }
      });
      const admin = await c.client();
      await waitForLeaderAndSharding(admin, 'orders', 4, ['10.0.0.1@-@1001', '10.0.0.2@-@1002']);
      const victimItems: number[] = [];
      for (let item = 0; item < 4; item++) {
        if ((await admin.getDirectly(`/orders/sharding/${item}/instance`)) === '10.0.0.2@-@1002')
          victimItems.push(item);
      }
      expect(victimItems).toHaveLength(2);
      const survivorItems = [0, 1, 2, 3].filter((item) => !victimItems.includes(item));
      const fireStart = c.executions.length;
      await c.fire();
      await waitFor(async () => {
        for (const item of victimItems) {
          expect(await admin.getDirectly(`/orders/sharding/${item}/running`)).toBe('10.0.0.2@-@1002');
        }
        // The survivor's own runs of this fire are recorded before the crash, so that every run
        // it records after the crash is a failover run.
        const own = c.executions.slice(fireStart).filter((e) => e.instanceId === '10.0.0.1@-@1001');
        expect(own.map((e) => e.item).sort()).toEqual(survivorItems);
      });
      const before = c.executions.length;
      await c.crash(victim);
      await waitFor(() => {
        const failedOver = c.executions.slice(before).filter((e) => e.instanceId === '10.0.0.1@-@1001');
        expect(failedOver.map((e) => e.item).sort()).toEqual(victimItems);
      });
      // One claim, one run for the whole backlog (ElasticJob: one item per claim, one trigger each).
      await waitFor(() => {
        const staging = c.events.filter(
          (e) => e.kind === 'status' && e.source === 'FAILOVER' && e.state === 'TASK_STAGING',
        );
        expect(staging).toHaveLength(1);
        expect(staging[0]).toMatchObject({ shardingItems: victimItems });
      });
      await waitFor(async () => {
        for (const item of victimItems) {
          expect(await admin.isExisted(`/orders/sharding/${item}/failover`)).toBe(false);
          expect(await admin.isExisted(`/orders/sharding/${item}/failovering`)).toBe(false);
          expect(await admin.isExisted(`/orders/sharding/${item}/running`)).toBe(false);
        }
      });
      await waitForLeaderAndSharding(admin, 'orders', 4, ['10.0.0.1@-@1001']);
      await waitFor(() => expect(survivor.failoverBacklog).toBe(0));
    });

    it("a busy survivor runs the dead instance's items at once, beside its overrunning run, then its misfire", async () => {
      const c = await cluster();
      let releaseSurvivor!: () => void;
      const survivorGate = new Promise<void>((resolve) => {
        releaseSurvivor = resolve;
      });
      let survivorRuns = 0;
      const failoverJob = job({ shardingTotalCount: 2, shardingItemParameters: '', failover: true });
      await c.start(1, failoverJob, async (ctx) => {
        if (ctx.shardingItem >= 0 && survivorRuns++ === 0) await survivorGate; // first run overruns
      });
      const victim = await c.start(
        2,
        failoverJob,
        (ctx) => new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve())),
      );
      const admin = await c.client();
      await waitForLeaderAndSharding(admin, 'orders', 2, ['10.0.0.1@-@1001', '10.0.0.2@-@1002']);
      await c.fire();
      await waitFor(async () => {
        expect(await admin.getDirectly('/orders/sharding/0/running')).toBeDefined();
        expect(await admin.getDirectly('/orders/sharding/1/running')).toBeDefined();
      });
      await c.fire(); // the survivor is still running: a misfire
      await c.crash(victim);
      const sources = () =>
        c.events.flatMap((e) =>
          e.kind === 'status' && e.state === 'TASK_RUNNING' && e.slaveId === '10.0.0.1' ? [e.source] : [],
        );
      // The failover run starts at once, beside the overrunning run (capacity reserved for failover).
      await waitFor(() => expect(sources()).toEqual(['NORMAL_TRIGGER', 'FAILOVER']));
      releaseSurvivor();
      await waitFor(() => expect(sources()).toEqual(['NORMAL_TRIGGER', 'FAILOVER', 'MISFIRE']));
    });

    it('recovers items left running by instances that no longer exist, on a whole-cluster restart', async () => {
      const c = await cluster();
      const failoverJob = job({ shardingTotalCount: 2, shardingItemParameters: '', failover: true });
      const first = await c.start(
        1,
        failoverJob,
        (ctx) => new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve())),
      );
      const admin = await c.client();
      await waitForLeaderAndSharding(admin, 'orders', 2, ['10.0.0.1@-@1001']);
      await c.fire();
      await waitFor(async () => {
        expect(await admin.getDirectly('/orders/sharding/0/running')).toBe('10.0.0.1@-@1001');
        expect(await admin.getDirectly('/orders/sharding/1/running')).toBe('10.0.0.1@-@1001');
      });
      await c.crash(first);
      const before = c.executions.length;
      await c.start(3, failoverJob);
      await waitFor(() => {
        const recovered = c.executions.slice(before).filter((e) => e.instanceId === '10.0.0.3@-@1003');
        expect(recovered.map((e) => e.item).sort()).toEqual([0, 1]);
      });
      await waitFor(async () => {
        expect(await admin.isExisted('/orders/sharding/0/running')).toBe(false);
        expect(await admin.isExisted('/orders/sharding/1/failovering')).toBe(false);
      });
    });

    it('removes failover nodes when failover is switched off', async () => {
      const c = await cluster();
      await c.start(1, job({ shardingTotalCount: 1, shardingItemParameters: '', failover: true }));
      const admin = await c.client();
      await waitForLeaderAndSharding(admin, 'orders', 1, ['10.0.0.1@-@1001']);
      await admin.persist('/orders/sharding/0/failover', 'gone@-@1');
      await admin.persist('/orders/leader/failover/items/0', '');
      const yaml = (await admin.getDirectly('/orders/config')) as string;
      await admin.update('/orders/config', yaml.replace(/^failover: true$/m, 'failover: false'));
      await waitFor(async () => {
        expect(await admin.isExisted('/orders/sharding/0/failover')).toBe(false);
        expect(await admin.isExisted('/orders/leader/failover/items')).toBe(false);
      });
    });

    it('reconciles: reshards items pointing at a gone instance and removes stale running nodes', async () => {
      const c = await cluster();
      const bootstrap = await c.start(
        1,
        job({ shardingTotalCount: 2, shardingItemParameters: '', reconcileIntervalMinutes: 1 }),
      );
      const admin = await c.client();
      await waitForLeaderAndSharding(admin, 'orders', 2, ['10.0.0.1@-@1001']);
      await waitFor(() => expect(bootstrap.isLeader()).toBe(true));
      // State left behind by an instance that is gone, with no resharding flag to repair it.
      await admin.update('/orders/sharding/1/instance', 'ghost@-@9');
      await admin.persist('/orders/sharding/0/running', 'ghost@-@9');
      await waitFor(async () =>
        expect(await admin.getDirectly('/orders/sharding/1/instance')).toBe('ghost@-@9'),
      );
      await c.clock.advance(60_000);
      await waitFor(async () => {
        expect(await admin.getDirectly('/orders/sharding/1/instance')).toBe('10.0.0.1@-@1001');
        expect(await admin.isExisted('/orders/sharding/0/running')).toBe(false);
      });
    });

    it('runs distribute-once listeners once per cluster run, not once per instance', async () => {
      const c = await cluster();
      const calls: string[] = [];
      class Once extends DistributeOnceJobListener {
        readonly type = 'once';
        override readonly order = 1;
        constructor(readonly name: string) {
          super({ startedTimeoutMs: fixture.waitTimeoutMs, completedTimeoutMs: fixture.waitTimeoutMs });
        }
        doBeforeJobExecutedAtLastStarted() {
          calls.push(`before@${this.name}`);
        }
        doAfterJobExecutedAtLastCompleted() {
          calls.push(`after@${this.name}`);
        }
      }
      // Records when each instance has finished its whole run (listeners included), so the next
      // fire is not a misfire on an instance still waiting for the cluster.
      const done: string[] = [];
      const doneListener = (name: string): ElasticJobListener => ({
        type: 'done',
        order: Number.MAX_SAFE_INTEGER,
        beforeJobExecuted: () => {},
        afterJobExecuted: () => {
          done.push(name);
        },
      });
      await c.start(1, job(), undefined, { listeners: [new Once('1'), doneListener('1')] });
      await c.start(2, job(), undefined, { listeners: [new Once('2'), doneListener('2')] });
      await c.start(3, job(), undefined, { listeners: [new Once('3'), doneListener('3')] });
      const admin = await c.client();
      await waitForLeaderAndSharding(admin, 'orders', 6, [
        '10.0.0.1@-@1001',
        '10.0.0.2@-@1002',
        '10.0.0.3@-@1003',
      ]);
      await c.fire();
      await waitFor(() => expect(c.executions).toHaveLength(6));
      await waitFor(() => {
        expect(calls.filter((call) => call.startsWith('before'))).toHaveLength(1);
        expect(calls.filter((call) => call.startsWith('after'))).toHaveLength(1);
      });
      await waitFor(async () => expect(await admin.isExisted('/orders/guarantee/completed')).toBe(false));
      await waitFor(() => expect(done).toHaveLength(3));
      await c.fire();
      await waitFor(() => expect(calls).toHaveLength(4));
    });

    it('times out a distribute-once wait that can never complete and reports it to the error handler', async () => {
      const c = await cluster();
      const calls: string[] = [];
      class Once extends DistributeOnceJobListener {
        readonly type = 'once';
        doBeforeJobExecutedAtLastStarted() {
          calls.push('before');
        }
        doAfterJobExecutedAtLastCompleted() {
          calls.push('after');
        }
      }
      const failures: string[] = [];
      await c.start(1, job({ shardingTotalCount: 2, shardingItemParameters: '' }), undefined, {
        listeners: [new Once({ startedTimeoutMs: 500, completedTimeoutMs: 500 })],
        logger: {
          ...silentLogger,
          error: (obj: object | string) => {
            if (typeof obj === 'object' && 'err' in obj) failures.push(String((obj as { err: unknown }).err));
          },
          child() {
            return this;
          },
        },
      });
      const admin = await c.client();
      await waitForLeaderAndSharding(admin, 'orders', 2, ['10.0.0.1@-@1001']);
      await admin.persist('/orders/sharding/1/disabled', ''); // item 1 never registers
      // The instance sees the operator's node one event delivery later: fire until a run carries
      // item 0 only (an earlier run registers both items and completes normally).
      await waitFor(async () => {
        const from = c.events.length;
        await c.fire();
        const staging = () =>
          c.events.slice(from).find((e) => e.kind === 'status' && e.state === 'TASK_STAGING');
        await vi.waitFor(() => expect(staging()).toBeDefined(), { timeout: 2000, interval: 10 });
        expect(staging()).toMatchObject({ shardingItems: [0] });
      });
      const callsBefore = calls.length;
      // The wait arms its bound once it has checked the registry: advance until it has expired.
      await waitFor(async () => {
        await c.clock.advance(100);
        expect(failures.join('\n')).toMatch(/distribute-once 'started' timed out after 500 ms/);
      });
      expect(calls.slice(callsBefore)).not.toContain('before');
      await waitFor(async () => expect(await admin.isExisted('/orders/guarantee/started')).toBe(false));
    });

    it('checks the clock against the registry (maxTimeDiffSeconds): THROW skips the run, LOG continues', async () => {
      // The suite's ManualClock starts on 2026-03-01, months away from the registry server's clock.
      const c = await cluster();
      await c.start(1, job({ jobName: 'strict', maxTimeDiffSeconds: 60, jobErrorHandlerType: 'THROW' }));
      await c.start(1, job({ jobName: 'lenient', maxTimeDiffSeconds: 60, jobErrorHandlerType: 'IGNORE' }));
      const admin = await c.client();
      await waitForLeaderAndSharding(admin, 'strict', 6, ['10.0.0.1@-@1001']);
      await waitForLeaderAndSharding(admin, 'lenient', 6, ['10.0.0.1@-@1001']);
      await c.fire();
      // The strict job checks the registry's time through its scratch node: wait for that check
      // (the lenient job's items may all run before it), then for one more fire, so that a strict
      // run the first check wrongly admitted has had a whole fire's time to post its status.
      await waitFor(async () => expect(await admin.isExisted('/strict/systemTime/current')).toBe(true));
      await waitFor(() => expect(c.executions).toHaveLength(6));
      await c.fire();
      await waitFor(() => expect(c.executions).toHaveLength(12)); // only the lenient job ran
      const strictRuns = c.events.filter((e) => e.kind === 'status' && e.jobName === 'strict');
      expect(strictRuns).toEqual([]);
    });

    it('rejects invalid configuration before touching the registry', async () => {
      const c = await cluster();
      const registry = await c.client();
      expect(
        () =>
          new ScheduleJobBootstrap(
            registry,
            { execute() {} },
            { jobName: 'bad', cron: 'nonsense', shardingTotalCount: 1 },
          ),
      ).toThrow(/cron|expression/i);
      expect(
        () =>
          new ScheduleJobBootstrap(
            registry,
            { execute() {} },
            { jobName: 'bad', cron: '* * * * * ?', shardingTotalCount: 0 },
          ),
      ).toThrow(/shardingTotalCount/);
      expect(
        () =>
          new ScheduleJobBootstrap(
            registry,
            { execute() {} },
            {
              jobName: 'bad',
              cron: '* * * * * ?',
              shardingTotalCount: 1,
              failover: true,
              monitorExecution: false,
            },
          ),
      ).toThrow(/monitorExecution/);
      expect(
        () => new ScheduleJobBootstrap(registry, { execute() {} }, { jobName: 'bad', shardingTotalCount: 1 }),
      ).toThrow(/cron/);
      expect(
        () =>
          new ScheduleJobBootstrap(
            registry,
            { execute() {} },
            { jobName: 'bad', cron: '* * * * * ?', shardingTotalCount: 1, jobShardingStrategyType: 'NOPE' },
          ),
      ).toThrow(/jobShardingStrategyType/);
      expect(await registry.isExisted('/bad')).toBe(false);
    });
  });
}

const noop = () => {};
const silent = { debug: noop, info: noop, warn: noop, error: noop, child: () => silent };
const silentLogger = silent;
