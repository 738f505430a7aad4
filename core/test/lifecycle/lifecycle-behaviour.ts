/**
 * Lifecycle API behaviour, parameterised by registry: the same tests run on the memory registry
 * (core) and on real ZooKeeper and etcd servers (integration-tests). Real job instances run; cron
 * fires are driven by a ManualClock; registry effects are awaited as conditions, never by sleeps.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type CoordinatorRegistryCenter,
  createJobOperationAPIs,
  type JobConfiguration,
  JobConfigurationError,
  JobDumpService,
  JobNotFoundError,
  ManualClock,
  resolveJobConfiguration,
  ScheduleJobBootstrap,
  type ShardingContext,
  silentLogger,
  TimerService,
  toJobConfigurationYaml,
  toJobInstanceYaml,
} from '../../src/index.js';

/** How the suite gets registry clients. */
export interface LifecycleRegistryFixture {
  readonly name: string;
  /** A started client of the shared server, confined to `namespace`. */
  createClient(namespace: string): Promise<CoordinatorRegistryCenter>;
  /** Bound for conditions, in ms. */
  readonly waitTimeoutMs: number;
}

interface Execution {
  readonly instanceId: string;
  readonly item: number;
}

let namespaceSeq = 0;
const ip = (n: number) => `10.0.0.${n}`;
const id = (n: number) => `10.0.0.${n}@-@${1000 + n}`;

export function lifecycleBehaviourSuite(fixture: LifecycleRegistryFixture): void {
  describe(`lifecycle API on ${fixture.name}`, () => {
    const cleanups: Array<() => Promise<void>> = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    const waitFor = <T>(assertion: () => T | Promise<T>) =>
      vi.waitFor(assertion, { timeout: fixture.waitTimeoutMs, interval: 10 });

    async function cluster() {
      const namespace = `lifecycle-${process.pid}-${namespaceSeq++}`;
      const clock = new ManualClock(Date.parse('2026-03-01T00:00:00.000Z'));
      const timers = new TimerService(clock);
      const executions: Execution[] = [];
      const clients: CoordinatorRegistryCenter[] = [];
      const bootstraps: ScheduleJobBootstrap[] = [];
      cleanups.push(async () => {
        for (const bootstrap of bootstraps) await bootstrap.shutdown();
        for (const client of clients) await client.close();
      });
      const client = async () => {
        const c = await fixture.createClient(namespace);
        clients.push(c);
        return c;
      };
      const admin = await client();
      const apis = createJobOperationAPIs(admin);

      async function start(
        n: number,
        configuration: JobConfiguration,
        body?: (ctx: ShardingContext) => Promise<void>,
      ): Promise<ScheduleJobBootstrap> {
        const registry = await client();
        const bootstrap = new ScheduleJobBootstrap(
          registry,
          {
            async execute(ctx: ShardingContext) {
              executions.push({ instanceId: id(n), item: ctx.shardingItem });
              if (body) await body(ctx);
            },
          },
          configuration,
          {
            instanceId: id(n),
            serverIp: ip(n),
            timerService: timers,
            logger: silentLogger,
            reshardingWaitTimeoutMs: fixture.waitTimeoutMs,
            shutdownTimeoutMs: fixture.waitTimeoutMs,
          },
        );
        bootstraps.push(bootstrap);
        await bootstrap.schedule();
        return bootstrap;
      }

      /** Advances the clock to the earliest next fire of the running instances. */
      async function fire(): Promise<void> {
        const due = bootstraps
          .map((b) => (b.configuration ? b.nextFireTimeMs : undefined))
          .filter((ms): ms is number => ms !== undefined);
        if (due.length === 0) throw new Error('no fire scheduled');
        await clock.advanceTo(Math.min(...due));
      }

      /**
       * Fires until one fire's executions (`expected` of them) satisfy `check`: instances see an
       * operator's write one event delivery after the registry committed it.
       */
      async function fireUntil(expected: number, check: (run: Execution[]) => void): Promise<Execution[]> {
        let last: Execution[] = [];
        await waitFor(async () => {
          const before = executions.length;
          await fire();
          await waitFor(() => expect(executions.length).toBeGreaterThanOrEqual(before + expected));
          last = executions.slice(before);
          check(last);
        });
        return last;
      }

      /** Waits until every item 0..total-1 is owned by one of `owners` and no resharding is pending. */
      async function waitForOwners(jobName: string, total: number, owners: readonly string[]) {
        await waitFor(async () => {
          expect(await admin.isExisted(`/${jobName}/leader/sharding/necessary`)).toBe(false);
          const seen = new Set<string>();
          for (let item = 0; item < total; item++) {
            const owner = await admin.getDirectly(`/${jobName}/sharding/${item}/instance`);
            expect(owners).toContain(owner);
            seen.add(owner as string);
          }
          expect([...seen].sort()).toEqual([...owners].sort().slice(0, Math.min(total, owners.length)));
        });
      }

      return { namespace, clock, executions, admin, apis, client, start, fire, fireUntil, waitForOwners };
    }

    const job = (overrides: Partial<JobConfiguration> = {}): JobConfiguration => ({
      jobName: 'orders',
      cron: '* * * * * ?',
      shardingTotalCount: 4,
      description: 'order sync',
      ...overrides,
    });

    /** Writes a job with live-looking instances directly (states the kernel would only pass through). */
    async function syntheticJob(
      admin: CoordinatorRegistryCenter,
      jobName: string,
      instances: ReadonlyArray<{ readonly n: number }>,
      total: number,
    ) {
      await admin.persist(`/${jobName}`, 'SimpleJob');
      await admin.persist(
        `/${jobName}/config`,
        toJobConfigurationYaml(
          resolveJobConfiguration({ jobName, cron: '0 0 * * * ?', shardingTotalCount: total }),
        ),
      );
      for (const { n } of instances) {
        await admin.persist(`/${jobName}/servers/${ip(n)}`, 'ENABLED');
        await admin.persistEphemeral(
          `/${jobName}/instances/${id(n)}`,
          toJobInstanceYaml({ jobInstanceId: id(n), serverIp: ip(n) }),
        );
      }
    }

    it('disables a server (its items move to the other instance), and enables it again', async () => {
      const c = await cluster();
      await c.start(1, job());
      await c.start(2, job());
      await c.waitForOwners('orders', 4, [id(1), id(2)]);

      expect(await c.apis.jobOperateAPI.disable('orders', ip(1))).toEqual([
        { jobName: 'orders', serverIp: ip(1) },
      ]);
      expect(await c.admin.getDirectly(`/orders/servers/${ip(1)}`)).toBe('DISABLED');
      await c.waitForOwners('orders', 4, [id(2)]);
      await c.fireUntil(4, (run) => expect(new Set(run.map((e) => e.instanceId))).toEqual(new Set([id(2)])));

      expect(await c.apis.jobOperateAPI.enable('orders', ip(1))).toEqual([
        { jobName: 'orders', serverIp: ip(1) },
      ]);
      expect(await c.admin.getDirectly(`/orders/servers/${ip(1)}`)).toBe('ENABLED');
      await c.waitForOwners('orders', 4, [id(1), id(2)]);
      await c.fireUntil(4, (run) =>
        expect(new Set(run.map((e) => e.instanceId))).toEqual(new Set([id(1), id(2)])),
      );
    });

    it('disables by job (every server) and by IP (every job); statuses follow', async () => {
      const c = await cluster();
      await c.start(1, job());
      await c.start(2, job());
      await c.start(1, job({ jobName: 'reports', shardingTotalCount: 2 }));
      await c.waitForOwners('orders', 4, [id(1), id(2)]);
      await c.waitForOwners('reports', 2, [id(1)]);
      await waitFor(async () =>
        expect((await c.apis.jobStatisticsAPI.getJobBriefInfo('orders')).status).toBe('OK'),
      );

      expect(await c.apis.jobOperateAPI.disable('orders')).toEqual([
        { jobName: 'orders', serverIp: ip(1) },
        { jobName: 'orders', serverIp: ip(2) },
      ]);
      expect(await c.apis.jobStatisticsAPI.getJobBriefInfo('orders')).toMatchObject({ status: 'DISABLED' });
      await c.apis.jobOperateAPI.enable('orders');

      expect(await c.apis.jobOperateAPI.disable(undefined, ip(1))).toEqual([
        { jobName: 'orders', serverIp: ip(1) },
        { jobName: 'reports', serverIp: ip(1) },
      ]);
      expect(await c.admin.getDirectly(`/orders/servers/${ip(2)}`)).toBe('ENABLED');
      expect(await c.apis.jobStatisticsAPI.getJobBriefInfo('reports')).toMatchObject({ status: 'DISABLED' });
      const byIp = await c.apis.jobStatisticsAPI.getJobsBriefInfoByIp(ip(1));
      expect(byIp.map((info) => [info.jobName, info.status, info.instanceCount])).toEqual([
        ['orders', 'DISABLED', 1],
        ['reports', 'DISABLED', 1],
      ]);
      const servers = await c.apis.serverStatisticsAPI.getAllServersBriefInfo();
      expect(servers).toEqual([
        {
          serverIp: ip(1),
          instances: [id(1)],
          jobNames: ['orders', 'reports'],
          instancesNum: 1,
          jobsNum: 2,
          disabledJobsNum: 2,
        },
        {
          serverIp: ip(2),
          instances: [id(2)],
          jobNames: ['orders'],
          instancesNum: 1,
          jobsNum: 1,
          disabledJobsNum: 0,
        },
      ]);
      expect(await c.apis.serverStatisticsAPI.getServersTotalCount()).toBe(2);
    });

    it('keeps an operator-disabled server disabled when its instance restarts', async () => {
      const c = await cluster();
      const one = await c.start(1, job());
      await c.start(2, job());
      await c.waitForOwners('orders', 4, [id(1), id(2)]);
      await c.apis.jobOperateAPI.disable('orders', ip(1));
      await c.waitForOwners('orders', 4, [id(2)]);
      await one.shutdown();
      await c.start(1, job({ disabled: false }));
      expect(await c.admin.getDirectly(`/orders/servers/${ip(1)}`)).toBe('DISABLED');
      await c.waitForOwners('orders', 4, [id(2)]);
      await c.fireUntil(4, (run) => expect(new Set(run.map((e) => e.instanceId))).toEqual(new Set([id(2)])));
      expect((await c.apis.jobStatisticsAPI.getJobBriefInfo('orders')).instanceCount).toBe(2);
    });

    it('triggers every live instance once, without a cron fire', async () => {
      const c = await cluster();
      await c.start(1, job({ cron: '0 0 0 1 1 ? 2099' }));
      await c.start(2, job({ cron: '0 0 0 1 1 ? 2099' }));
      await c.waitForOwners('orders', 4, [id(1), id(2)]);
      await c.admin.persist(`/orders/trigger/${id(9)}`, ''); // left by an instance that is gone

      expect(await c.apis.jobOperateAPI.trigger('orders')).toEqual([id(2), id(1)]);
      await waitFor(() => expect(c.executions).toHaveLength(4));
      expect(c.executions.map((e) => e.item).sort()).toEqual([0, 1, 2, 3]);
      expect(new Set(c.executions.map((e) => e.instanceId))).toEqual(new Set([id(1), id(2)]));
      await waitFor(async () => expect(await c.admin.getChildrenKeys('/orders/trigger')).toEqual([]));
      expect(c.executions).toHaveLength(4);
    });

    it('disables and enables a sharding item', async () => {
      const c = await cluster();
      await c.start(1, job({ shardingTotalCount: 3 }));
      await c.waitForOwners('orders', 3, [id(1)]);
      await c.apis.shardingOperateAPI.disable('orders', 1);
      expect(await c.admin.isExisted('/orders/sharding/1/disabled')).toBe(true);
      expect((await c.apis.shardingStatisticsAPI.getShardingInfo('orders')).map((i) => i.status)).toEqual([
        'PENDING',
        'DISABLED',
        'PENDING',
      ]);
      await c.fireUntil(2, (run) => expect(run.map((e) => e.item).sort()).toEqual([0, 2]));
      await c.fireUntil(2, (run) => expect(run.map((e) => e.item).sort()).toEqual([0, 2]));

      await c.apis.shardingOperateAPI.enable('orders', 1);
      expect(await c.admin.isExisted('/orders/sharding/1/disabled')).toBe(false);
      await c.fireUntil(3, (run) => expect(run.map((e) => e.item).sort()).toEqual([0, 1, 2]));
      await c.apis.shardingOperateAPI.enable('orders', 1); // idempotent
    });

    it('updates the configuration: instances reschedule; invalid or unknown-job updates write nothing', async () => {
      const c = await cluster();
      const bootstrap = await c.start(1, job({ cron: '0 0 * * * ?' }));
      const start = c.clock.now();
      expect(bootstrap.nextFireTimeMs).toBe(start + 3_600_000);

      const current = await c.apis.jobConfigurationAPI.getJobConfiguration('orders');
      expect(current).toMatchObject({ jobName: 'orders', cron: '0 0 * * * ?', shardingTotalCount: 4 });
      const written = await c.apis.jobConfigurationAPI.updateJobConfiguration({
        ...current,
        cron: '*/5 * * * * ?',
        description: 'every five seconds',
      });
      expect(written.cron).toBe('*/5 * * * * ?');
      await waitFor(() => expect(bootstrap.nextFireTimeMs).toBe(start + 5000));
      await waitFor(() => expect(bootstrap.configuration.description).toBe('every five seconds'));
      expect(await c.apis.jobConfigurationAPI.getJobConfiguration('orders')).toEqual(written);

      const yaml = await c.admin.getDirectly('/orders/config');
      await expect(
        c.apis.jobConfigurationAPI.updateJobConfiguration({ ...current, shardingTotalCount: 0 }),
      ).rejects.toMatchObject({ name: 'JobConfigurationError', field: 'shardingTotalCount' });
      await expect(
        c.apis.jobConfigurationAPI.updateJobConfiguration({ ...current, cron: '0 0 25 * * ?' }),
      ).rejects.toSatisfy((error) => error instanceof JobConfigurationError && error.field === 'cron');
      await expect(
        c.apis.jobConfigurationAPI.updateJobConfiguration({ ...current, jobName: 'nope' }),
      ).rejects.toBeInstanceOf(JobNotFoundError);
      expect(await c.admin.getDirectly('/orders/config')).toBe(yaml);
      expect(await c.admin.isExisted('/nope')).toBe(false);
    });

    it('reshards when an update changes shardingTotalCount', async () => {
      const c = await cluster();
      await c.start(1, job());
      await c.start(2, job());
      await c.waitForOwners('orders', 4, [id(1), id(2)]);
      const current = await c.apis.jobConfigurationAPI.getJobConfiguration('orders');
      await c.apis.jobConfigurationAPI.updateJobConfiguration({ ...current, shardingTotalCount: 6 });
      await c.waitForOwners('orders', 6, [id(1), id(2)]);
      await waitFor(async () =>
        expect((await c.apis.shardingStatisticsAPI.getShardingInfo('orders')).map((i) => i.status)).toEqual(
          Array(6).fill('PENDING'),
        ),
      );
    });

    it('reports job statuses OK, DISABLED, SHARDING_FLAG and CRASHED', async () => {
      const c = await cluster();
      const one = await c.start(1, job());
      const two = await c.start(2, job());
      await c.waitForOwners('orders', 4, [id(1), id(2)]);
      await waitFor(async () =>
        expect(await c.apis.jobStatisticsAPI.getJobBriefInfo('orders')).toEqual({
          jobName: 'orders',
          status: 'OK',
          description: 'order sync',
          cron: '* * * * * ?',
          instanceCount: 2,
          shardingTotalCount: 4,
        }),
      );

      await c.apis.jobOperateAPI.disable('orders');
      expect((await c.apis.jobStatisticsAPI.getJobBriefInfo('orders')).status).toBe('DISABLED');
      await c.apis.jobOperateAPI.enable('orders');

      // An item owned by an instance that is gone: the leader has not resharded yet.
      await syntheticJob(c.admin, 'reports', [{ n: 3 }], 2);
      await c.admin.persist('/reports/sharding/0/instance', id(3));
      await c.admin.persist('/reports/sharding/1/instance', id(8));
      expect((await c.apis.jobStatisticsAPI.getJobBriefInfo('reports')).status).toBe('SHARDING_FLAG');
      await c.admin.persist('/reports/sharding/1/instance', id(3));
      expect((await c.apis.jobStatisticsAPI.getJobBriefInfo('reports')).status).toBe('OK');
      await c.admin.persist('/reports/leader/sharding/necessary', '');
      expect((await c.apis.jobStatisticsAPI.getJobBriefInfo('reports')).status).toBe('SHARDING_FLAG');

      await one.shutdown();
      await two.shutdown();
      await waitFor(async () =>
        expect(await c.apis.jobStatisticsAPI.getJobBriefInfo('orders')).toMatchObject({
          status: 'CRASHED',
          instanceCount: 0,
        }),
      );
      const all = await c.apis.jobStatisticsAPI.getAllJobsBriefInfo();
      expect(all.map((info) => [info.jobName, info.status])).toEqual([
        ['orders', 'CRASHED'],
        ['reports', 'SHARDING_FLAG'],
      ]);
      expect(await c.apis.jobStatisticsAPI.getJobsTotalCount()).toBe(2);
    });

    it('reports sharding items PENDING, RUNNING, DISABLED, COMPLETED, SHARDING_FLAG with failover', async () => {
      const c = await cluster();
      let release!: () => void;
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      // Item 0 blocks until released (or aborted by shutdown); item 1 returns at once.
      await c.start(1, job({ shardingTotalCount: 2 }), (ctx) =>
        ctx.shardingItem === 0
          ? Promise.race([
              gate,
              new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve())),
            ])
          : Promise.resolve(),
      );
      await c.waitForOwners('orders', 2, [id(1)]);
      expect(await c.apis.shardingStatisticsAPI.getShardingInfo('orders')).toEqual([
        { item: 0, serverIp: ip(1), instanceId: id(1), status: 'PENDING', failover: undefined },
        { item: 1, serverIp: ip(1), instanceId: id(1), status: 'PENDING', failover: undefined },
      ]);
      await c.fire();
      // A run registers the running nodes of all its items together and clears them together.
      await waitFor(async () =>
        expect((await c.apis.shardingStatisticsAPI.getShardingInfo('orders')).map((i) => i.status)).toEqual([
          'RUNNING',
          'RUNNING',
        ]),
      );
      await c.apis.shardingOperateAPI.disable('orders', 0);
      expect((await c.apis.shardingStatisticsAPI.getShardingInfo('orders')).map((i) => i.status)).toEqual([
        'DISABLED',
        'RUNNING',
      ]);
      release();
      await waitFor(async () =>
        expect((await c.apis.shardingStatisticsAPI.getShardingInfo('orders')).map((i) => i.status)).toEqual([
          'DISABLED',
          'PENDING',
        ]),
      );

      await syntheticJob(c.admin, 'reports', [{ n: 3 }], 4);
      await c.admin.persist('/reports/sharding/0/instance', id(3));
      await c.admin.persist('/reports/sharding/0/completed', ''); // ElasticJob 2.x node
      await c.admin.persist('/reports/sharding/1/instance', id(7)); // owner gone
      await c.admin.persist('/reports/sharding/2/instance', id(3));
      await c.admin.persist('/reports/sharding/2/running', id(7)); // stale: owner gone
      await c.admin.persist('/reports/sharding/2/failover', id(3));
      // item 3: not assigned yet
      expect(await c.apis.shardingStatisticsAPI.getShardingInfo('reports')).toEqual([
        { item: 0, serverIp: ip(3), instanceId: id(3), status: 'COMPLETED', failover: undefined },
        { item: 1, serverIp: ip(7), instanceId: id(7), status: 'SHARDING_FLAG', failover: undefined },
        { item: 2, serverIp: ip(3), instanceId: id(3), status: 'PENDING', failover: id(3) },
        { item: 3, serverIp: undefined, instanceId: undefined, status: 'SHARDING_FLAG', failover: undefined },
      ]);
    });

    it('shutdown writes one durable command per matching live instance and leaves instance nodes alone', async () => {
      const c = await cluster();
      await c.start(1, job());
      await c.start(2, job());
      await c.waitForOwners('orders', 4, [id(1), id(2)]);
      await c.admin.persist(`/orders/shutdown/${id(9)}`, ''); // for an instance that is gone
      // The kernel acts on the command at once (and acknowledges it by deleting it), so observe
      // what the API writes through a watch rather than by reading afterwards.
      const seen: string[] = [];
      const unwatch = await c.admin.watch('/orders', (event) => {
        if (event.key.startsWith('/orders/shutdown/') || event.key.startsWith('/orders/instances/')) {
          seen.push(`${event.type} ${event.key}`);
        }
      });
      seen.length = 0;
      expect(await c.apis.jobOperateAPI.shutdown('orders', ip(2))).toEqual([
        { jobName: 'orders', instanceId: id(2), serverIp: ip(2), delivery: 'SHUTDOWN_COMMAND' },
      ]);
      await waitFor(() => {
        expect(seen).toContain(`ADDED /orders/shutdown/${id(2)}`);
        expect(seen).toContain(`DELETED /orders/shutdown/${id(9)}`);
      });
      // The API itself never deletes the instance node: the target's own shutdown removes it after
      // the command arrived.
      const commandAt = seen.indexOf(`ADDED /orders/shutdown/${id(2)}`);
      const instanceGoneAt = seen.indexOf(`DELETED /orders/instances/${id(2)}`);
      expect(instanceGoneAt === -1 || instanceGoneAt > commandAt).toBe(true);
      expect(seen.filter((line) => line.startsWith('ADDED /orders/shutdown/'))).toEqual([
        `ADDED /orders/shutdown/${id(2)}`,
      ]);
      await unwatch();
      await expect(c.apis.jobOperateAPI.shutdown('orders', '10.9.9.9')).rejects.toMatchObject({
        name: 'ServerNotFoundError',
        knownServerIps: [ip(1), ip(2)], // the stopped instance's server node stays (remove deletes it)
      });
    });

    it('shutdown stops the job on the target instance; its items move; the command is acknowledged', async () => {
      const c = await cluster();
      const one = await c.start(1, job());
      const two = await c.start(2, job());
      await c.waitForOwners('orders', 4, [id(1), id(2)]);
      await c.apis.jobOperateAPI.shutdown('orders', ip(2));
      await waitFor(() => expect(two.nextFireTimeMs).toBeUndefined()); // no fire scheduled any more
      await waitFor(async () => expect(await c.admin.isExisted(`/orders/instances/${id(2)}`)).toBe(false));
      await waitFor(async () => expect(await c.admin.getChildrenKeys('/orders/shutdown')).toEqual([]));
      await c.waitForOwners('orders', 4, [id(1)]);
      await c.fireUntil(4, (run) => expect(new Set(run.map((e) => e.instanceId))).toEqual(new Set([id(1)])));
      expect(one.isLeader()).toBe(true);
    });

    it('remove shuts instances down and deletes their server nodes, so their items move', async () => {
      const c = await cluster();
      await c.start(1, job());
      await c.start(2, job());
      await c.waitForOwners('orders', 4, [id(1), id(2)]);
      expect(await c.apis.jobOperateAPI.remove('orders', ip(2))).toEqual({
        instances: [{ jobName: 'orders', instanceId: id(2), serverIp: ip(2), delivery: 'SHUTDOWN_COMMAND' }],
        servers: [{ jobName: 'orders', serverIp: ip(2) }],
      });
      expect(await c.admin.isExisted(`/orders/servers/${ip(2)}`)).toBe(false);
      // The target acts on the shutdown command (and acknowledges it by deleting it).
      await waitFor(async () => expect(await c.admin.isExisted(`/orders/instances/${id(2)}`)).toBe(false));
      await c.waitForOwners('orders', 4, [id(1)]);
      await c.fireUntil(4, (run) => expect(new Set(run.map((e) => e.instanceId))).toEqual(new Set([id(1)])));
    });

    it('removes a job configuration with its whole subtree', async () => {
      const c = await cluster();
      await c.start(1, job());
      await c.start(1, job({ jobName: 'reports', shardingTotalCount: 1 }));
      await c.waitForOwners('orders', 4, [id(1)]);
      expect(await c.apis.jobStatisticsAPI.getJobsTotalCount()).toBe(2);

      await c.apis.jobConfigurationAPI.removeJobConfiguration('orders');
      expect(await c.admin.isExisted('/orders/config')).toBe(false);
      expect(await c.admin.isExisted('/orders/sharding')).toBe(false);
      expect(await c.admin.isExisted('/orders/servers')).toBe(false);
      await expect(c.apis.jobConfigurationAPI.getJobConfiguration('orders')).rejects.toMatchObject({
        name: 'JobNotFoundError',
        jobName: 'orders',
        knownJobNames: ['reports'],
      });
      expect(await c.apis.jobStatisticsAPI.getJobsTotalCount()).toBe(1);
      expect((await c.apis.jobStatisticsAPI.getAllJobsBriefInfo()).map((info) => info.jobName)).toEqual([
        'reports',
      ]);
    });

    it('dumps a running job: every node in tree order, IPs masked', async () => {
      const c = await cluster();
      await c.start(1, job({ shardingTotalCount: 2 }));
      await c.start(2, job({ shardingTotalCount: 2 }));
      await c.waitForOwners('orders', 2, [id(1), id(2)]);
      const text = await new JobDumpService(c.admin).dump('orders');
      expect(text.endsWith('\n')).toBe(true);
      expect(text).not.toMatch(/10\.0\.0\./);
      const nodeLines = text.split('\n').filter((line) => line.startsWith('/orders/'));
      const paths = nodeLines.map((line) => line.split(' | ')[0] as string);
      // Pre-order: a node's parent comes before it; siblings come in descending order.
      for (const [index, path] of paths.entries()) {
        const parent = path.slice(0, path.lastIndexOf('/'));
        if (parent !== '/orders') expect(paths.slice(0, index)).toContain(parent);
      }
      const top = paths.filter((path) => path.split('/').length === 3);
      expect(top).toEqual([...top].sort().reverse());
      expect(top).toEqual(expect.arrayContaining(['/orders/config', '/orders/servers', '/orders/instances']));
      // Consistent masking: the two servers and their instance ids.
      const servers = nodeLines.filter((line) => line.startsWith('/orders/servers/'));
      expect(servers.sort()).toEqual(['/orders/servers/ip1 | ENABLED', '/orders/servers/ip2 | ENABLED']);
      const instances = nodeLines
        .filter((line) => line.startsWith('/orders/instances/'))
        .map((l) => l.split(' | ')[0]);
      expect(instances.sort()).toEqual(
        ['/orders/instances/ip1@-@1001', '/orders/instances/ip2@-@1002'].sort(),
      );
      // The config YAML spans several lines after its node line.
      const configIndex = text.split('\n').findIndex((line) => line.startsWith('/orders/config | '));
      expect(text.split('\n')[configIndex]).toMatch(/^\/orders\/config \| cron: /);
      expect(text.split('\n').slice(configIndex + 1)).toContain('jobName: orders');
    });
  });
}
