/**
 * Connection-state fencing, driven by the memory registry's fault controls:
 * SUSPENDED starts nothing new, LOST aborts running items and fences their registry writes, a new
 * session re-registers, and a vanished own instance node never shuts the job down.
 */
import { MemoryRegistryCenter, MemoryRegistryServer } from '@elasticjob-ts/registry-memory';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type JobConfiguration,
  ManualClock,
  ScheduleJobBootstrap,
  type ShardingContext,
  silentLogger,
  TimerService,
} from '../src/index.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const waitFor = <T>(assertion: () => T) => vi.waitFor(assertion, { timeout: 5000, interval: 5 });

async function setUp(
  body?: (ctx: ShardingContext) => Promise<void>,
  overrides: Partial<JobConfiguration> = {},
) {
  const server = new MemoryRegistryServer();
  const clock = new ManualClock(Date.parse('2026-03-01T00:00:00.000Z'));
  const timers = new TimerService(clock);
  const client = new MemoryRegistryCenter({ server, namespace: 'fencing', sessionTimeoutMs: 60_000 });
  const admin = new MemoryRegistryCenter({ server, namespace: 'fencing' });
  await client.start();
  await admin.start();
  const runs: number[] = [];
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
      ...(process.env.KERNEL_TEST_LOG ? {} : { logger: silentLogger }),
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
  return { server, clock, client, admin, runs, bootstrap, fire };
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

  it('re-creates its instance node when it vanishes instead of shutting the job down', async () => {
    const { admin, runs, fire, bootstrap } = await setUp();
    await admin.remove('/fenced/instances/10.0.0.1@-@1');
    await waitFor(async () => expect(await admin.isExisted('/fenced/instances/10.0.0.1@-@1')).toBe(true));
    await fire();
    await waitFor(() => expect(runs).toHaveLength(1));
    expect(bootstrap.nextFireTimeMs).toBeDefined();
  });
});
