/**
 * A namespace with real job instances for the lifecycle behaviour suites: registry clients of the
 * fixture, instances started with a shared ManualClock-driven TimerService, every execution
 * recorded, everything shut down and closed by the suite's cleanup.
 */
import {
  type CoordinatorRegistryCenter,
  createJobOperationAPIs,
  type JobConfiguration,
  ManualClock,
  ScheduleJobBootstrap,
  type ShardingContext,
  silentLogger,
  TimerService,
} from '@elasticjob-ts/core';

/** How the suites get registry clients. */
export interface LifecycleRegistryFixture {
  readonly name: string;
  /** A started client of the shared server, confined to `namespace`. */
  createClient(namespace: string): Promise<CoordinatorRegistryCenter>;
  /** Bound for conditions, in ms. */
  readonly waitTimeoutMs: number;
}

/** One execution of one sharding item. */
export interface Execution {
  readonly instanceId: string;
  readonly item: number;
}

/** Server IP of instance `n`. */
export const ip = (n: number) => `10.0.0.${n}`;
/** Instance id of instance `n` (ElasticJob's `{ip}@-@{pid}` form). */
export const id = (n: number) => `10.0.0.${n}@-@${1000 + n}`;

let namespaceSeq = 0;

/**
 * A fresh namespace.
 *
 * @param fixture - the registry.
 * @param prefix - namespace prefix (one per suite).
 * @param cleanups - where the cluster registers its teardown.
 */
export async function lifecycleCluster(
  fixture: LifecycleRegistryFixture,
  prefix: string,
  cleanups: Array<() => Promise<void>>,
) {
  const namespace = `${prefix}-${process.pid}-${namespaceSeq++}`;
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

  /** Starts instance `n` of a job on its own client; `body` runs after the execution is recorded. */
  async function start(
    n: number,
    configuration: JobConfiguration,
    body?: (ctx: ShardingContext) => Promise<void>,
  ): Promise<ScheduleJobBootstrap> {
    const bootstrap = new ScheduleJobBootstrap(
      await client(),
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

  return { namespace, clock, executions, bootstraps, admin, apis, client, start };
}
