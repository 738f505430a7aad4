/**
 * Connection-state fencing, driven by the memory registry's fault controls:
 * SUSPENDED starts nothing new, LOST aborts running items and fences their registry writes, a new
 * session re-registers, and a vanished own instance node never shuts the job down.
 */
import { MemoryRegistryCenter, MemoryRegistryServer } from '@elasticjob-ts/registry-memory';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type JobConfiguration,
  type Logger,
  ManualClock,
  type RegistryTransactionOperation,
  ScheduleJobBootstrap,
  type ShardingContext,
  TimerService,
} from '../src/index.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const waitFor = <T>(assertion: () => T) => vi.waitFor(assertion, { timeout: 5000, interval: 5 });

/** A transaction held back by {@link StallingRegistry.stallNext}. */
interface Stall {
  /** Lets the transaction go to the registry. */
  release(): void;
  /** The held transaction (settled once released and sent); undefined until one was held. */
  sent: Promise<void> | undefined;
}

interface HeldStall {
  readonly stall: Stall;
  readonly gate: Promise<void>;
  matches(op: RegistryTransactionOperation): boolean;
}

/**
 * A client that holds back the next transaction writing a given node until the test releases it,
 * then runs it on whatever session is current: the ZooKeeper adapter's reads before a transaction,
 * retried with backoff through a blackhole and a session loss, land after the reconnect the same way.
 */
class StallingRegistry extends MemoryRegistryCenter {
  readonly #stalls: HeldStall[] = [];

  /**
   * Holds back the next transaction that deletes a `running` node (a run's completion), creates
   * a `misfire` flag (a fire during a run), creates a `running` node (`admission`), or creates
   * the server node of 10.0.0.1 (`server`, a start).
   */
  stallNext(node: 'running' | 'misfire' | 'admission' | 'server'): Stall {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const stall: Stall = { release, sent: undefined };
    const type = node === 'running' ? 'delete' : 'create';
    const key = { running: 'running', misfire: 'misfire', admission: 'running', server: 'servers/10.0.0.1' }[
      node
    ];
    this.#stalls.push({ stall, gate, matches: (op) => op.type === type && op.key.endsWith(`/${key}`) });
    return stall;
  }

  override executeInTransaction(operations: readonly RegistryTransactionOperation[]): Promise<void> {
    const index = this.#stalls.findIndex(({ matches }) => operations.some(matches));
    if (index < 0) return super.executeInTransaction(operations);
    const [{ stall, gate }] = this.#stalls.splice(index, 1) as [HeldStall];
    stall.sent = gate.then(() => super.executeInTransaction(operations));
    return stall.sent;
  }
}

/** A logger keeping the messages of the job (the test waits on the kernel's own reports). */
function messageLogger(messages: string[]): Logger {
  const record = (first: unknown, second?: unknown) => {
    messages.push(typeof first === 'string' ? first : String(second ?? ''));
  };
  const logger: Logger = { debug: record, info: record, warn: record, error: record, child: () => logger };
  return logger;
}

async function setUp(
  body?: (ctx: ShardingContext) => Promise<void>,
  overrides: Partial<JobConfiguration> = {},
) {
  const server = new MemoryRegistryServer();
  const clock = new ManualClock(Date.parse('2026-03-01T00:00:00.000Z'));
  const timers = new TimerService(clock);
  const client = new StallingRegistry({ server, namespace: 'fencing', sessionTimeoutMs: 60_000 });
  const admin = new MemoryRegistryCenter({ server, namespace: 'fencing' });
  await client.start();
  await admin.start();
  const runs: number[] = [];
  const messages: string[] = [];
  const bootstrap = new ScheduleJobBootstrap(
    client,
    {
      async execute(ctx) {
        runs.push(ctx.shardingItem);
        if (body) await body(ctx);
      },
    },
    { jobName: 'fenced', cron: '* * * * * ?', shardingTotalCount: 1, ...overrides },
    {
      instanceId: '10.0.0.1@-@1',
      serverIp: '10.0.0.1',
      timerService: timers,
      ...(process.env.KERNEL_TEST_LOG ? {} : { logger: messageLogger(messages) }),
    },
  );
  cleanups.push(async () => {
    await bootstrap.shutdown();
    await client.close();
    await admin.close();
  });
  await bootstrap.schedule();
  await waitFor(async () =>
    expect(await admin.getDirectly('/fenced/sharding/0/instance')).toBe('10.0.0.1@-@1'),
  );
  const fire = async () => clock.advanceTo(bootstrap.nextFireTimeMs as number);
  return { server, clock, client, admin, runs, messages, bootstrap, fire };
}

describe('kernel connection states on memory', () => {
  it('starts no run while SUSPENDED and runs the missed fire once after RECONNECTED', async () => {
    const { client, runs, fire } = await setUp();
    await fire();
    await waitFor(() => expect(runs).toHaveLength(1));
    client.simulateDisconnect();
    await fire();
    await fire();
    expect(runs).toHaveLength(1);
    client.simulateReconnect();
    await waitFor(() => expect(runs).toHaveLength(2)); // two missed fires, one misfire run
    await fire();
    await waitFor(() => expect(runs).toHaveLength(3));
  });

  it('does not run missed fires after RECONNECTED when misfire is off', async () => {
    const { client, runs, fire, admin } = await setUp(undefined, { misfire: false });
    client.simulateDisconnect();
    await fire();
    client.simulateReconnect();
    await waitFor(async () => expect(await admin.isExisted('/fenced/instances/10.0.0.1@-@1')).toBe(true));
    await fire();
    await waitFor(() => expect(runs).toHaveLength(1));
  });

  it('aborts running items on LOST and re-registers in the new session', async () => {
    let aborted: unknown;
    const { client, admin, runs, fire } = await setUp(
      (ctx) =>
        new Promise<void>((resolve) => {
          if (runs.length > 1) return resolve();
          ctx.signal.addEventListener('abort', () => {
            aborted = ctx.signal.reason;
            resolve();
          });
        }),
    );
    await fire();
    await waitFor(() => expect(runs).toHaveLength(1));
    client.expireSession(); // LOST, then a new session (RECONNECTED)
    await waitFor(() => expect(String(aborted)).toMatch(/session lost/));
    await waitFor(async () => {
      expect(await admin.getDirectly('/fenced/instances/10.0.0.1@-@1')).toContain(
        'jobInstanceId: 10.0.0.1@-@1',
      );
      expect(await admin.isExisted('/fenced/leader/election/instance')).toBe(true);
      expect(await admin.isExisted('/fenced/sharding/0/running')).toBe(false);
    });
    await fire();
    await waitFor(() => expect(runs.length).toBeGreaterThanOrEqual(2));
  });

  it('never deletes a running node another instance owns after its own session was lost', async () => {
    let release!: () => void;
    const { client, admin, runs, fire } = await setUp(
      () =>
        new Promise<void>((resolve) => {
          release = resolve; // ignores the abort: a slow job that finishes after the session loss
        }),
    );
    await fire();
    await waitFor(() => expect(runs).toHaveLength(1));
    client.simulateDisconnect();
    await admin.persist('/fenced/sharding/0/running', 'other@-@2'); // taken over meanwhile
    client.expireSession();
    client.simulateReconnect();
    release();
    await waitFor(async () => expect(await admin.isExisted('/fenced/instances/10.0.0.1@-@1')).toBe(true));
    expect(await admin.getDirectly('/fenced/sharding/0/running')).toBe('other@-@2');
  });

  it('runs the first fire after a session loss although the last run is still clearing its running node, and that late clearance keeps the node of the new run', async () => {
    const releases: Array<() => void> = [];
    const { client, admin, runs, messages, fire } = await setUp(() =>
      runs.length === 1 ? Promise.resolve() : new Promise<void>((resolve) => releases.push(resolve)),
    );
    const completion = client.stallNext('running');
    cleanups.push(async () => {
      completion.release(); // before the shutdown, when the test failed midway
      for (const release of releases) release();
    });
    await fire();
    await waitFor(() => expect(completion.sent).toBeDefined()); // item 0 ran; its completion hangs
    expect(runs).toEqual([0]);
    client.expireSession(); // LOST, then RECONNECTED on a new session, with the completion in flight
    await waitFor(() => expect(messages).toContain('re-registered after reconnecting'));
    await waitFor(async () => {
      expect(await admin.isExisted('/fenced/leader/sharding/necessary')).toBe(false);
      expect(await admin.getDirectly('/fenced/sharding/0/instance')).toBe('10.0.0.1@-@1');
    });
    await fire(); // the assignment including this instance is committed: this fire runs item 0
    await waitFor(() => expect(runs).toEqual([0, 0]));
    expect(messages).not.toContain('previous run still in progress: misfire');
    expect(await admin.getDirectly('/fenced/sharding/0/running')).toBe('10.0.0.1@-@1');
    completion.release(); // the old run's completion reaches the registry during the new run
    await completion.sent?.catch(() => {});
    expect(await admin.getDirectly('/fenced/sharding/0/running')).toBe('10.0.0.1@-@1');
    releases[0]?.();
    await waitFor(async () => expect(await admin.isExisted('/fenced/sharding/0/running')).toBe(false));
  });

  it('runs the missed fires at once after a session loss although misfire flags of the lost session are still being written', async () => {
    const { client, admin, runs, messages, fire } = await setUp((ctx) =>
      runs.length === 1
        ? new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve()))
        : Promise.resolve(),
    );
    const flag = client.stallNext('misfire');
    cleanups.push(async () => flag.release());
    await fire();
    await waitFor(() => expect(runs).toEqual([0])); // a long run: the next fire is a misfire
    await fire();
    await waitFor(() => expect(flag.sent).toBeDefined()); // its flag write hangs
    client.expireSession(); // LOST aborts the long run, then RECONNECTED on a new session
    await waitFor(() => expect(messages).toContain('re-registered after reconnecting'));
    // The missed fire runs as soon as the assignment after the return is committed.
    await waitFor(() => expect(runs).toEqual([0, 0]));
    flag.release(); // the flag lands late: it is run (once more) and cleared, never left behind
    await flag.sent?.catch(() => {});
    await waitFor(async () => expect(await admin.isExisted('/fenced/sharding/0/misfire')).toBe(false));
  });

  it('clears the running marks an admission wrote after its session was lost, and runs nothing on them', async () => {
    const { client, admin, runs, messages, fire } = await setUp();
    const admission = client.stallNext('admission');
    cleanups.push(async () => admission.release());
    await fire();
    await waitFor(() => expect(admission.sent).toBeDefined()); // the fire's admission hangs
    client.expireSession(); // LOST, then RECONNECTED on a new session
    await waitFor(() => expect(messages).toContain('re-registered after reconnecting'));
    admission.release(); // the marks land on the new session: refused, and not left behind
    await admission.sent;
    expect(await admin.getDirectly('/fenced/sharding/0/running')).toBe('10.0.0.1@-@1');
    await waitFor(async () => expect(await admin.isExisted('/fenced/sharding/0/running')).toBe(false));
    expect(runs).toEqual([]);
  });

  it('a queued item of a run waits while SUSPENDED and is dropped when the session turns out lost', async () => {
    const releases: Array<() => void> = [];
    const { client, admin, runs, fire } = await setUp(
      () => new Promise<void>((resolve) => releases.push(resolve)),
      { shardingTotalCount: 2, jobExecutorThreadPoolSizeProviderType: 'SINGLE_THREAD' },
    );
    await waitFor(async () =>
      expect(await admin.getDirectly('/fenced/sharding/1/instance')).toBe('10.0.0.1@-@1'),
    );
    await fire();
    await waitFor(() => expect(runs).toEqual([0])); // item 1 waits for the single slot
    client.simulateDisconnect(); // SUSPENDED: the session may be gone already
    releases[0]?.();
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(runs).toEqual([0]); // the slot is free, but item 1 does not start while suspended
    client.expireSession();
    client.simulateReconnect(); // LOST, then RECONNECTED on a new session
    await waitFor(async () => expect(await admin.isExisted('/fenced/sharding/1/running')).toBe(false));
    expect(runs).toEqual([0]);
  });

  it('a queued item of a run never starts once the job is shutting down', async () => {
    const releases: Array<() => void> = [];
    const { admin, runs, fire, bootstrap } = await setUp(
      () => new Promise<void>((resolve) => releases.push(resolve)), // ignores the abort
      { shardingTotalCount: 2, jobExecutorThreadPoolSizeProviderType: 'SINGLE_THREAD' },
    );
    await waitFor(async () =>
      expect(await admin.getDirectly('/fenced/sharding/1/instance')).toBe('10.0.0.1@-@1'),
    );
    await fire();
    await waitFor(() => expect(runs).toEqual([0])); // item 1 waits for the single slot
    const shutdown = bootstrap.shutdown();
    releases[0]?.(); // item 0 ends after the abort: the slot is free while the job shuts down
    await new Promise<void>((resolve) => setImmediate(resolve));
    releases[1]?.();
    await shutdown;
    expect(runs).toEqual([0]);
  });

  it('applies a configuration changed in the registry while the job was starting', async () => {
    const server = new MemoryRegistryServer();
    const clock = new ManualClock(Date.parse('2026-03-01T00:00:00.000Z'));
    const client = new StallingRegistry({ server, namespace: 'fencing' });
    const admin = new MemoryRegistryCenter({ server, namespace: 'fencing' });
    await client.start();
    await admin.start();
    const runs: number[] = [];
    const bootstrap = new ScheduleJobBootstrap(
      client,
      { execute: async (ctx) => void runs.push(ctx.shardingItem) },
      { jobName: 'fenced', cron: '* * * * * ?', shardingTotalCount: 1 },
      {
        instanceId: '10.0.0.1@-@1',
        serverIp: '10.0.0.1',
        timerService: new TimerService(clock),
        logger: messageLogger([]),
      },
    );
    cleanups.push(async () => {
      await bootstrap.shutdown();
      await client.close();
      await admin.close();
    });
    const registration = client.stallNext('server');
    cleanups.push(async () => registration.release());
    const started = bootstrap.schedule();
    await waitFor(() => expect(registration.sent).toBeDefined()); // configuration read, watch begun
    const yaml = (await admin.getDirectly('/fenced/config')) as string;
    await admin.update('/fenced/config', yaml.replace(/^shardingTotalCount: .*$/m, 'shardingTotalCount: 2'));
    registration.release();
    await started;
    expect(bootstrap.configuration?.shardingTotalCount).toBe(2);
    await waitFor(async () =>
      expect(await admin.getDirectly('/fenced/sharding/1/instance')).toBe('10.0.0.1@-@1'),
    );
    await clock.advanceTo(bootstrap.nextFireTimeMs as number);
    await waitFor(() => expect(runs.sort()).toEqual([0, 1]));
  });

  it('re-creates its instance node when it vanishes instead of shutting the job down', async () => {
    const { admin, runs, fire, bootstrap } = await setUp();
    await admin.remove('/fenced/instances/10.0.0.1@-@1');
    await waitFor(async () => expect(await admin.isExisted('/fenced/instances/10.0.0.1@-@1')).toBe(true));
    await fire();
    await waitFor(() => expect(runs).toHaveLength(1));
    expect(bootstrap.nextFireTimeMs).toBeDefined();
  });
});
