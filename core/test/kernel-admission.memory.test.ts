/**
 * Regression tests for the kernel's admission gate, failover, resharding, session and shutdown
 * defects. Every test runs on the memory registry with a ManualClock shared by the registry
 * server, the clients and the jobs: registry faults (session expiry, partitions, late watch
 * delivery) happen at exact clock times, so each scenario is deterministic and needs no sleep.
 */
import { MemoryRegistryCenter, MemoryRegistryServer } from '@elasticjob-ts/registry-memory';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type Clock,
  type ClockTimer,
  type JobBootstrapOptions,
  type JobConfiguration,
  type JobEvent,
  type Logger,
  ManualClock,
  RegistryError,
  ScheduleJobBootstrap,
  type ShardingContext,
  TimerService,
} from '../src/index.js';

const SESSION_TIMEOUT_MS = 3000;
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const waitFor = <T>(assertion: () => T) => vi.waitFor(assertion, { timeout: 5000, interval: 5 });

interface Execution {
  readonly instanceId: string;
  readonly item: number;
  readonly fencingToken: number | undefined;
  readonly signalAborted: boolean;
  readonly scheduledFireTimeMs: number | undefined;
  done: boolean;
}

/** Records log calls by level, to check what is logged at error level. */
function recordingLogger(lines: Array<{ level: string; msg: string }>): Logger {
  const at =
    (level: string) =>
    (obj: unknown, msg?: string): void => {
      lines.push({ level, msg: typeof obj === 'string' ? obj : (msg ?? '') });
    };
  const logger: Logger = {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: () => logger,
  } as Logger;
  return logger;
}

const noop = () => {};
const consoleLogger = (n: number): Logger => {
  const at =
    (level: string) =>
    (obj: unknown, msg?: string): void => {
      console.log(n, level, typeof obj === 'string' ? obj : `${msg ?? ''} ${JSON.stringify(obj)}`);
    };
  const logger = { debug: noop, info: at('info'), warn: at('warn'), error: at('error'), child: () => logger };
  return logger as unknown as Logger;
};
const silent = { debug: noop, info: noop, warn: noop, error: noop, child: () => silent } as unknown as Logger;

/** A releasable gate per call. */
class Gates {
  readonly #pending: Array<() => void> = [];
  wait(): Promise<void> {
    return new Promise((resolve) => this.#pending.push(resolve));
  }
  get waiting(): number {
    return this.#pending.length;
  }
  releaseAll(): void {
    for (const release of this.#pending.splice(0)) release();
  }
}

async function harness() {
  const clock = new ManualClock(Date.parse('2026-03-01T00:00:00.000Z'));
  const server = new MemoryRegistryServer({ clock });
  const timers = new TimerService(clock);
  const namespace = 'admission';
  const executions: Execution[] = [];
  const events: JobEvent[] = [];
  const clients = new Map<number, MemoryRegistryCenter>();
  const bootstraps = new Map<number, ScheduleJobBootstrap>();
  const admin = new MemoryRegistryCenter({ server, namespace, clock });
  await admin.start();
  cleanups.push(async () => {
    // Shutdown drains running items for up to shutdownTimeoutMs on the clock: let it pass.
    let done = false;
    const shutdowns = Promise.all([...bootstraps.values()].map((b) => b.shutdown())).finally(() => {
      done = true;
    });
    for (let i = 0; i < 20 && !done; i++) await clock.advance(500);
    await shutdowns;
    for (const client of clients.values()) await client.close();
    await admin.close();
  });
  const id = (n: number) => `10.0.0.${n}@-@${1000 + n}`;
  async function start(
    n: number,
    configuration: JobConfiguration,
    body?: (ctx: ShardingContext, execution: Execution) => Promise<void>,
    extra: Partial<JobBootstrapOptions> = {},
  ): Promise<ScheduleJobBootstrap> {
    const client = new MemoryRegistryCenter({
      server,
      namespace,
      clock,
      sessionTimeoutMs: SESSION_TIMEOUT_MS,
    });
    await client.start();
    clients.set(n, client);
    const bootstrap = new ScheduleJobBootstrap(
      client,
      {
        async execute(ctx) {
          const execution: Execution = {
            instanceId: id(n),
            item: ctx.shardingItem,
            fencingToken: (ctx as { fencingToken?: number }).fencingToken,
            signalAborted: ctx.signal.aborted,
            scheduledFireTimeMs: ctx.scheduledFireTimeMs,
            done: false,
          };
          executions.push(execution);
          try {
            if (body) await body(ctx, execution);
          } finally {
            execution.done = true;
          }
        },
      },
      configuration,
      {
        instanceId: id(n),
        serverIp: `10.0.0.${n}`,
        timerService: timers,
        shutdownTimeoutMs: 5000,
        onEvent: (event) => {
          events.push(event);
        },
        logger: process.env.KERNEL_TEST_LOG ? consoleLogger(n) : silent,
        ...extra,
      },
    );
    bootstraps.set(n, bootstrap);
    await bootstrap.schedule();
    return bootstrap;
  }
  /** Kills instance n as `kill -9` would: its session ends at once, its job never finishes. */
  async function crash(n: number): Promise<void> {
    const client = clients.get(n);
    clients.delete(n);
    bootstraps.delete(n);
    await client?.close();
  }
  async function owners(jobName: string, total: number): Promise<Array<string | undefined>> {
    return Promise.all(
      Array.from({ length: total }, (_, item) => admin.getDirectly(`/${jobName}/sharding/${item}/instance`)),
    );
  }
  async function settled(jobName: string, total: number, ids: readonly string[]): Promise<void> {
    await waitFor(async () => {
      expect(await admin.isExisted(`/${jobName}/leader/sharding/necessary`)).toBe(false);
      const assigned = new Set(await owners(jobName, total));
      expect([...assigned].sort()).toEqual([...ids].sort());
    });
  }
  /** Advances the clock to the earliest next cron fire of the running bootstraps. */
  async function fire(): Promise<void> {
    const due = [...bootstraps.values()]
      .map((b) => b.nextFireTimeMs)
      .filter((ms): ms is number => ms !== undefined);
    await clock.advanceTo(Math.min(...due));
  }
  const itemsOf = async (jobName: string, total: number, n: number) =>
    (await owners(jobName, total)).flatMap((owner, item) => (owner === id(n) ? [item] : []));
  const bootstrapOf = (n: number) => bootstraps.get(n) as ScheduleJobBootstrap;
  return {
    bootstrapOf,
    clock,
    server,
    admin,
    executions,
    events,
    clients,
    start,
    crash,
    fire,
    settled,
    owners,
    itemsOf,
    id,
  };
}

/**
 * A clock whose timers can be held back, as a process's timers are while its event loop is stalled
 * (a long GC pause, a CPU-starved host): held callbacks run on {@link release}, late.
 */
class StallableClock implements Clock {
  #held: Array<() => void> | undefined;
  constructor(private readonly clock: Clock) {}
  now(): number {
    return this.clock.now();
  }
  setTimeout(callback: () => void, delayMs: number): ClockTimer {
    return this.clock.setTimeout(() => {
      if (this.#held === undefined) callback();
      else this.#held.push(callback);
    }, delayMs);
  }
  stall(): void {
    this.#held ??= [];
  }
  release(): void {
    const held = this.#held ?? [];
    this.#held = undefined;
    for (const callback of held) callback();
  }
}

const job = (overrides: Partial<JobConfiguration> = {}): JobConfiguration => ({
  jobName: 'orders',
  cron: '* * * * * ?',
  shardingTotalCount: 2,
  failover: true,
  ...overrides,
});

/**
 * Instance 1 owns both items of `orders` and runs item 0 (held by `gates`) with no failover
 * capacity left; instance 2 is live and idle (its server is disabled: no items, full capacity).
 */
async function busyOwnerAndIdlePeer(h: Awaited<ReturnType<typeof harness>>, gates: Gates): Promise<void> {
  const config = job({ shardingTotalCount: 2 });
  await h.start(1, config, (ctx) => (ctx.shardingItem === 0 ? gates.wait() : Promise.resolve()), {
    failoverReservedSlots: 0,
  });
  await h.settled('orders', 2, [h.id(1)]);
  await h.fire();
  await waitFor(() => expect(gates.waiting).toBe(1));
  await h.start(2, { ...config, disabled: true });
}

describe('failover capacity and starvation', () => {
  it("busy survivor: a dead instance's items start while the survivor's single slot runs its own long item", async () => {
    const h = await harness();
    const gates = new Gates();
    const config = job({ jobExecutorThreadPoolSizeProviderType: 'SINGLE_THREAD' });
    await h.start(1, config, async (ctx) => {
      if (!ctx.signal.aborted && h.executions.filter((e) => e.instanceId === h.id(1)).length === 1)
        await gates.wait();
    });
    await h.start(2, config, () => new Promise<void>(() => {})); // never finishes: it will crash
    await h.settled('orders', 2, [h.id(1), h.id(2)]);
    const victimItems = await h.itemsOf('orders', 2, 2);
    await h.fire();
    await waitFor(() => expect(h.executions).toHaveLength(2));
    expect(gates.waiting).toBe(1);
    await h.crash(2);
    // No clock time passes: the item must start at once, on capacity reserved for failover.
    await waitFor(() =>
      expect(
        h.executions
          .filter((e) => e.instanceId === h.id(1) && victimItems.includes(e.item))
          .map((e) => e.item),
      ).toEqual(victimItems),
    );
    expect(gates.waiting).toBe(1); // the survivor's own run is still in progress
    gates.releaseAll();
  });

  it('a claimed failover item never waits behind a misfire loop', async () => {
    const h = await harness();
    const gates = new Gates();
    const config = job();
    await h.start(1, config, async () => {
      await gates.wait(); // every run of the survivor overruns the next fire
    });
    await h.start(2, config, () => new Promise<void>(() => {}));
    await h.settled('orders', 2, [h.id(1), h.id(2)]);
    const victimItems = await h.itemsOf('orders', 2, 2);
    await h.fire();
    await waitFor(() => expect(h.executions).toHaveLength(2));
    // The crash and the next fire arrive together; the survivor's run overruns fire after fire.
    const crashed = h.crash(2);
    await h.fire();
    await crashed;
    await h.fire();
    await h.fire();
    await waitFor(() =>
      expect(h.executions.some((e) => e.instanceId === h.id(1) && victimItems.includes(e.item))).toBe(true),
    );
    // It started while the survivor's first run was still overrunning (no release happened).
    expect(
      h.executions.filter((e) => e.instanceId === h.id(1) && !victimItems.includes(e.item)),
    ).toHaveLength(1);
    gates.releaseAll();
  });
});

describe('failover claims', () => {
  it('never claims a queued item that a live instance is running: the queue entry is dropped', async () => {
    const h = await harness();
    const gates = new Gates();
    const config = job({ shardingTotalCount: 1 });
    // Instance 1 runs item 0 (long) and has no failover capacity left while it does.
    await h.start(1, config, () => gates.wait(), { failoverReservedSlots: 0 });
    await h.settled('orders', 1, [h.id(1)]);
    await h.fire();
    await waitFor(() => expect(gates.waiting).toBe(1));
    // Instance 2 is live and idle (its server is disabled: no items of its own, full capacity).
    await h.start(2, { ...config, disabled: true });
    // A queue entry left by an earlier orphaning; instance 1 now runs the item as its owner.
    await h.admin.persist('/orders/leader/failover/items/0', '');
    await waitFor(async () => expect(await h.admin.isExisted('/orders/leader/failover/items/0')).toBe(false));
    expect(await h.admin.getDirectly('/orders/sharding/0/running')).toBe(h.id(1));
    expect(await h.admin.isExisted('/orders/sharding/0/failover')).toBe(false);
    expect(h.executions.filter((e) => e.instanceId === h.id(2))).toEqual([]);
    gates.releaseAll();
  });

  it('never claims an item a live instance is running, and clears what a dead claimer left on it', async () => {
    const h = await harness();
    const gates = new Gates();
    await busyOwnerAndIdlePeer(h, gates);
    const gone = '10.0.0.9@-@1009';
    // Item 0 runs on instance 1 and still names a dead claimer; item 1 is an orphan of that claimer.
    await h.admin.persist('/orders/sharding/0/failovering', gone);
    await h.admin.persist('/orders/sharding/1/running', gone);
    await h.admin.persistEphemeral(`/orders/instances/${gone}`, '');
    await h.admin.remove(`/orders/instances/${gone}`); // its departure asks for a claim
    await waitFor(() =>
      expect(h.executions.some((e) => e.instanceId === h.id(2) && e.item === 1)).toBe(true),
    );
    expect(await h.admin.getDirectly('/orders/sharding/0/running')).toBe(h.id(1));
    expect(h.executions.filter((e) => e.item === 0).map((e) => e.instanceId)).toEqual([h.id(1)]);
    // The live run covers item 0: what the dead claimer left on it is cleared by the same claim.
    expect(await h.admin.isExisted('/orders/sharding/0/failovering')).toBe(false);
    gates.releaseAll();
  });
});

describe('failover claims take the latch only for something to claim', () => {
  const FAILOVER_LATCH = '/orders/leader/failover/latch';
  /** Each client's calls of `executeInLeader` on the failover latch: how many, and their ends. */
  function watchFailoverLatches(h: Awaited<ReturnType<typeof harness>>) {
    const spy = vi.spyOn(MemoryRegistryCenter.prototype, 'executeInLeader');
    cleanups.push(async () => spy.mockRestore());
    const callsOf = (n: number) =>
      spy.mock.results.filter(
        (_, i) => spy.mock.calls[i]?.[0] === FAILOVER_LATCH && spy.mock.contexts[i] === h.clients.get(n),
      );
    return {
      count: (n: number) => callsOf(n).length,
      /** Resolves once every claim instance `n` has begun so far has ended. */
      ended: async (n: number) => {
        await Promise.allSettled(callsOf(n).map((result) => result.value as Promise<unknown>));
      },
    };
  }

  it("a start beside live instances' running marks takes no latch; a crashed instance's item is still claimed", async () => {
    const h = await harness();
    const latches = watchFailoverLatches(h);
    const gates = new Gates();
    const config = job({ shardingTotalCount: 2 });
    // Instance 1 runs its item (long) with no failover capacity; instance 3 runs the other one.
    await h.start(1, config, () => gates.wait(), { failoverReservedSlots: 0 });
    await h.start(3, config, () => new Promise<void>(() => {})); // never finishes: it will crash
    await h.settled('orders', 2, [h.id(1), h.id(3)]);
    const victimItems = await h.itemsOf('orders', 2, 3);
    await h.fire();
    await waitFor(() => expect(h.executions).toHaveLength(2));
    for (const n of [1, 3])
      for (const item of await h.itemsOf('orders', 2, n))
        expect(await h.admin.getDirectly(`/orders/sharding/${item}/running`)).toBe(h.id(n));
    // Instance 2 (idle: its server is disabled) starts while both items run on live instances.
    await h.start(2, { ...config, disabled: true });
    expect(latches.count(2)).toBe(0);
    await h.crash(3);
    await waitFor(() =>
      expect(h.executions.filter((e) => e.instanceId === h.id(2)).map((e) => e.item)).toEqual(victimItems),
    );
    expect(latches.count(2)).toBeGreaterThan(0);
    gates.releaseAll();
  });

  it('a running mark of an instance the cache does not show live asks for a claim by itself', async () => {
    const h = await harness();
    const latches = watchFailoverLatches(h);
    const gates = new Gates();
    await busyOwnerAndIdlePeer(h, gates);
    await latches.ended(2); // whatever its start claimed has been read and decided
    // A mark whose owner's deletion was delivered before the mark itself: no instance event follows.
    await h.admin.persist('/orders/sharding/1/running', '10.0.0.9@-@1009');
    await waitFor(() =>
      expect(h.executions.some((e) => e.instanceId === h.id(2) && e.item === 1)).toBe(true),
    );
    gates.releaseAll();
  });
});

describe('assignment', () => {
  it('an assignment read that overlaps a resharding is not kept: an item moved here runs at the next fire', async () => {
    const h = await harness();
    const config = job({ shardingTotalCount: 2, failover: false });
    await h.start(1, config);
    await h.start(2, config);
    await h.settled('orders', 2, [h.id(1), h.id(2)]);
    const assign = (owners: readonly string[]) =>
      h.admin.executeInTransaction(
        owners.map((owner, item) => ({
          type: 'update',
          key: `/orders/sharding/${item}/instance`,
          value: owner,
        })),
      );
    await assign([h.id(1), h.id(2)]);
    await new Promise<void>((resolve) => setImmediate(resolve)); // event delivery
    // Instance 2 reads the assignment item by item; between its reads of item 0 and item 1 the
    // assignment changes: item 0 moves to instance 2, item 1 to instance 1.
    const client = h.clients.get(2) as MemoryRegistryCenter;
    const read = client.getDirectly.bind(client);
    let moved = false;
    client.getDirectly = async (key: string) => {
      if (!moved && key === '/orders/sharding/1/instance') {
        moved = true;
        await assign([h.id(2), h.id(1)]);
        await new Promise<void>((resolve) => setImmediate(resolve)); // event delivery
      }
      return read(key);
    };
    await h.fire();
    await waitFor(() => expect(moved).toBe(true));
    await h.fire();
    await waitFor(() =>
      expect(h.executions.some((e) => e.instanceId === h.id(2) && e.item === 0)).toBe(true),
    );
  });
});

describe('late fires', () => {
  it('a fire served late runs only the items nobody ran for it: items moved here meanwhile, run on time by their previous owner, are refused', async () => {
    const h = await harness();
    const config = job({ cron: '0/10 * * * * ?', shardingTotalCount: 4, failover: false });
    const stallable = new StallableClock(h.clock);
    await h.start(1, config);
    await h.start(2, config, undefined, { timerService: new TimerService(stallable) });
    await h.settled('orders', 4, [h.id(1), h.id(2)]);
    const itemsOf1 = await h.itemsOf('orders', 4, 1);
    const itemsOf2 = await h.itemsOf('orders', 4, 2);
    const ranOn = (n: number, from: number) =>
      h.executions
        .slice(from)
        .filter((e) => e.instanceId === h.id(n))
        .map((e) => e.item)
        .sort();
    const finishedOn2 = (from: number) =>
      h.events
        .slice(from)
        .some((e) => e.kind === 'status' && e.slaveId === '10.0.0.2' && e.state === 'TASK_FINISHED');

    stallable.stall(); // instance 2's event loop stalls just before the fire
    await h.fire();
    const fireTimeMs = h.clock.now();
    await waitFor(() => expect(ranOn(1, 0)).toEqual(itemsOf1));
    // Instance 1 leaves; the resharding gives its items, already run for this fire, to instance 2.
    await h.bootstrapOf(1).shutdown();
    await h.settled('orders', 4, [h.id(2)]);
    await h.clock.advance(5000); // half a period late
    const executionsMark = h.executions.length;
    const eventsMark = h.events.length;
    stallable.release(); // the fire is served late
    await waitFor(() => expect(finishedOn2(eventsMark)).toBe(true));
    expect(ranOn(2, executionsMark)).toEqual(itemsOf2);
    // Every run of this fire, on time or late, says which fire it serves.
    expect(new Set(h.executions.map((e) => e.scheduledFireTimeMs))).toEqual(new Set([fireTimeMs]));

    // The next fire runs every item on instance 2.
    const nextMark = h.events.length;
    const nextExecutions = h.executions.length;
    await h.fire();
    await waitFor(() => expect(finishedOn2(nextMark)).toBe(true));
    expect(ranOn(2, nextExecutions)).toEqual([0, 1, 2, 3]);
  });

  it('a cron run held back past its next fire serves its own fire, then the misfire re-run of the next one follows: their start events tell them apart', async () => {
    const h = await harness();
    await h.start(1, job({ cron: '0/10 * * * * ?', shardingTotalCount: 1, failover: false }));
    await h.settled('orders', 1, [h.id(1)]);
    // The fire's admission transaction is held (a registry slow to answer, as under load).
    const client = h.clients.get(1) as MemoryRegistryCenter;
    const transact = client.executeInTransaction.bind(client);
    const gates = new Gates();
    let hold = true;
    client.executeInTransaction = async (operations) => {
      if (hold) {
        hold = false;
        await gates.wait();
      }
      return transact(operations);
    };
    await h.fire();
    const fireTimeMs = h.clock.now();
    await waitFor(() => expect(gates.waiting).toBe(1));
    await h.fire(); // the next fire finds the run in progress: misfire
    expect(h.clock.now()).toBe(fireTimeMs + 10_000);
    await waitFor(async () => expect(await h.admin.isExisted('/orders/sharding/0/misfire')).toBe(true));
    gates.releaseAll();
    const starts = () =>
      h.events.flatMap((e) =>
        e.kind === 'execution' && e.completeTimeMs === undefined
          ? [{ source: e.source, fireMs: e.scheduledFireTimeMs, atMs: e.startTimeMs }]
          : [],
      );
    await waitFor(() => expect(starts()).toHaveLength(2));
    // Both start after the second fire; only the first serves a fire, and it is the first one.
    expect(starts()).toEqual([
      { source: 'NORMAL_TRIGGER', fireMs: fireTimeMs, atMs: fireTimeMs + 10_000 },
      { source: 'MISFIRE', fireMs: undefined, atMs: fireTimeMs + 10_000 },
    ]);
    expect(h.executions.map((e) => e.scheduledFireTimeMs)).toEqual([fireTimeMs, undefined]);
  });
});

describe('runs prepared ahead of the fire', () => {
  /** Starts of user code: the clock when called, and the fire the run serves. */
  const startsOf = (h: Awaited<ReturnType<typeof harness>>) => {
    const starts: Array<{ atMs: number; fireMs: number | undefined }> = [];
    return {
      starts,
      body: async (ctx: ShardingContext) => {
        starts.push({ atMs: h.clock.now(), fireMs: ctx.scheduledFireTimeMs });
      },
    };
  };

  it('with 40 ms registry requests, user code starts at the scheduled time once the lead is learnt, never before it', async () => {
    const h = await harness();
    const { starts, body } = startsOf(h);
    await h.start(1, job({ shardingTotalCount: 2 }), body);
    await h.settled('orders', 2, [h.id(1)]);
    (h.clients.get(1) as MemoryRegistryCenter).faults.setRequestLatency(40);
    for (let fire = 1; fire <= 4; fire++) {
      await h.fire();
      await h.clock.advance(400);
      await waitFor(() => expect(starts).toHaveLength(2 * fire));
    }
    const lateness = starts.map((start) => start.atMs - (start.fireMs as number));
    // The first fire pays the admission's round trip after the fire (nothing learnt yet); the
    // later ones were admitted ahead and start on the dot.
    expect(lateness[0]).toBeGreaterThanOrEqual(40);
    expect(lateness.slice(4)).toEqual([0, 0, 0, 0]);
    expect(Math.min(...lateness)).toBeGreaterThanOrEqual(0);
  });

  it('a fire whose lane is still busy when its timer goes off ahead is handed over at its time: no misfire when the run ends before it', async () => {
    const h = await harness();
    const { starts, body } = startsOf(h);
    let slow = false;
    await h.start(1, job({ shardingTotalCount: 1 }), async (ctx) => {
      await body(ctx);
      // Ends 20 ms before the next fire: inside the learnt lead, before the fire itself.
      if (slow) await new Promise<void>((resolve) => h.clock.setTimeout(resolve, 980));
    });
    await h.settled('orders', 1, [h.id(1)]);
    const client = h.clients.get(1) as MemoryRegistryCenter;
    client.faults.setRequestLatency(40); // the lead learnt: more than 60 ms
    for (let fire = 1; fire <= 2; fire++) {
      await h.fire();
      await h.clock.advance(400);
      await waitFor(() => expect(starts).toHaveLength(fire));
    }
    client.faults.setRequestLatency(2); // the slow run's completion is written well before the fire
    slow = true;
    await h.fire(); // admitted ahead, starts on the dot, runs 980 ms
    await waitFor(() => expect(starts).toHaveLength(3));
    slow = false;
    await h.fire();
    await h.clock.advance(400);
    await waitFor(() => expect(starts).toHaveLength(4));
    const [third, fourth] = starts.slice(2) as [(typeof starts)[0], (typeof starts)[0]];
    expect(third.atMs).toBe(third.fireMs);
    // Handed over at its time (the lane was busy at the lead), then admitted.
    expect(fourth.fireMs).toBe((third.fireMs as number) + 1000);
    expect(fourth.atMs).toBeGreaterThan(fourth.fireMs as number);
    expect(h.events.filter((e) => e.kind === 'status' && e.source === 'MISFIRE')).toEqual([]);
  });
});

describe('one admission gate for every run', () => {
  it('a process restarted with the instance id of a crashed one clears its leftover running marks and runs its items', async () => {
    const h = await harness();
    const config = job({ failover: false });
    await h.start(1, config);
    await h.start(2, config, () => new Promise<void>(() => {})); // never finishes: it will crash
    await h.settled('orders', 2, [h.id(1), h.id(2)]);
    const items = await h.itemsOf('orders', 2, 2);
    await h.fire();
    await waitFor(() =>
      expect(h.executions.filter((e) => e.instanceId === h.id(2))).toHaveLength(items.length),
    );
    for (const item of items)
      expect(await h.admin.getDirectly(`/orders/sharding/${item}/running`)).toBe(h.id(2));
    await h.crash(2);
    await h.start(2, config); // the same instance id, as a restarted pod keeps it
    await h.settled('orders', 2, [h.id(1), h.id(2)]);
    const mine = await h.itemsOf('orders', 2, 2);
    await waitFor(async () => {
      for (const item of mine)
        expect(await h.admin.isExisted(`/orders/sharding/${item}/running`)).toBe(false);
    });
    const before = h.executions.length;
    await h.fire();
    await waitFor(() =>
      expect(
        h.executions
          .slice(before)
          .filter((e) => e.instanceId === h.id(2))
          .map((e) => e.item),
      ).toEqual(mine),
    );
  });

  it('a misfire re-run skips items disabled or failed over to another live instance meanwhile', async () => {
    const h = await harness();
    const gates = new Gates();
    const config = job({ failover: true });
    await h.start(1, config, async () => {
      if (h.executions.length <= 2) await gates.wait();
    });
    // A live instance on a disabled server: no items of its own, but it can hold a failover claim.
    await h.start(2, { ...config, disabled: true });
    await h.settled('orders', 2, [h.id(1)]);
    await h.fire();
    await waitFor(() => expect(h.executions).toHaveLength(2));
    await h.fire(); // overrun: misfire
    await waitFor(async () => expect(await h.admin.isExisted('/orders/sharding/0/misfire')).toBe(true));
    await h.admin.persist('/orders/sharding/0/disabled', '');
    await h.admin.persist('/orders/sharding/1/failover', h.id(2));
    await new Promise<void>((resolve) => setImmediate(resolve)); // event delivery to instance 1
    gates.releaseAll();
    // The next normal run is admitted only after the misfire re-run (runs of one kind are serial).
    const before = h.events.length;
    await h.fire();
    await waitFor(() =>
      expect(h.events.slice(before).some((e) => e.kind === 'status' && e.state === 'TASK_FINISHED')).toBe(
        true,
      ),
    );
    await waitFor(() => expect(gates.waiting).toBe(0));
    expect(h.executions.map((e) => e.item).sort()).toEqual([0, 1]); // only the first run
  });

  it('a misfire re-run runs once: late watch events of its own flags and marks start no second run', async () => {
    // Redis and etcd deliver watch events on a channel apart from responses: a client can see its
    // own writes answered before their events reach its cache. Held events model that order.
    const h = await harness();
    const gates = new Gates();
    await h.start(1, job({ failover: false }), async () => {
      if (h.executions.length <= 2) await gates.wait();
    });
    await h.settled('orders', 2, [h.id(1)]);
    await h.fire();
    await waitFor(() => expect(h.executions).toHaveLength(2));
    await h.fire(); // overrun: misfire
    await waitFor(async () => expect(await h.admin.isExisted('/orders/sharding/1/misfire')).toBe(true));
    await new Promise<void>((resolve) => setImmediate(resolve)); // the flags reach instance 1's cache
    h.server.holdEvents();
    gates.releaseAll();
    await waitFor(() => expect(h.executions).toHaveLength(4)); // the re-run of the misfired fire
    await waitFor(async () => {
      expect(await h.admin.isExisted('/orders/sharding/0/misfire')).toBe(false);
      expect(await h.admin.isExisted('/orders/sharding/1/misfire')).toBe(false);
      expect(await h.admin.isExisted('/orders/sharding/1/running')).toBe(false);
    });
    h.server.releaseEvents();
    // The next fire runs on the normal lane, after any run the late events started.
    await h.fire();
    await waitFor(() => {
      const completed = h.events.filter((e) => e.kind === 'execution' && e.completeTimeMs !== undefined);
      expect(completed.length).toBeGreaterThanOrEqual(6);
      expect(h.executions.every((e) => e.done)).toBe(true);
    });
    const sources = h.events.flatMap((e) =>
      e.kind === 'execution' && e.completeTimeMs !== undefined ? [e.source] : [],
    );
    expect(sources).toEqual([
      'NORMAL_TRIGGER',
      'NORMAL_TRIGGER',
      'MISFIRE',
      'MISFIRE',
      'NORMAL_TRIGGER',
      'NORMAL_TRIGGER',
    ]);
    expect(h.executions.map((e) => e.item)).toEqual([0, 1, 0, 1, 0, 1]);
  });
  it('with monitorExecution off, admits from the cache and writes nothing on the fire path (ElasticJob behaviour)', async () => {
    const h = await harness();
    const gates = new Gates();
    await h.start(1, job({ failover: false, monitorExecution: false }), async () => {
      await gates.wait();
    });
    await h.settled('orders', 2, [h.id(1)]);
    const writes: string[] = [];
    await h.admin.watch('/orders/sharding', (event) => writes.push(`${event.type} ${event.key}`));
    writes.length = 0; // the snapshot
    await h.fire();
    await waitFor(() => expect(gates.waiting).toBe(2));
    expect(await h.admin.isExisted('/orders/sharding/0/running')).toBe(false);
    gates.releaseAll();
    await h.fire();
    await waitFor(() => expect(gates.waiting).toBe(2));
    gates.releaseAll();
    await waitFor(() => expect(h.executions.filter((e) => e.done)).toHaveLength(4));
    expect(h.executions.map((e) => [e.item, e.fencingToken])).toEqual([
      [0, 0],
      [1, 0],
      [0, 0],
      [1, 0],
    ]);
    expect(writes).toEqual([]);
  });

  it("treats a running node with an empty value (a Java ElasticJob peer's) as live and never takes it over", async () => {
    const h = await harness();
    const config = job({ shardingTotalCount: 2 });
    await h.start(1, config);
    await h.settled('orders', 2, [h.id(1)]);
    await h.admin.persist('/orders/sharding/1/running', '');
    await new Promise<void>((resolve) => setImmediate(resolve)); // event delivery to instance 1
    const mark = h.events.length;
    await h.fire();
    await waitFor(() =>
      expect(h.events.slice(mark).some((e) => e.kind === 'status' && e.state === 'TASK_FINISHED')).toBe(true),
    );
    expect(h.executions.map((e) => e.item)).toEqual([0]);
    expect(await h.admin.getDirectly('/orders/sharding/1/running')).toBe('');
    expect(h.bootstrapOf(1).failoverBacklog).toBe(0);
  });

  it('resharding never commits an assignment naming an instance that is gone', async () => {
    const h = await harness();
    const config = job({ shardingTotalCount: 6, failover: false });
    await h.start(1, config); // the leader
    await h.start(2, config);
    await h.settled('orders', 6, [h.id(1), h.id(2)]);
    const seen: string[] = [];
    const unwatch = await h.admin.watch('/orders/sharding', (event) => {
      if (event.key.endsWith('/instance') && event.type !== 'DELETED') seen.push(event.value);
    });
    cleanups.push(unwatch);
    // The leader's requests are slow: instance 2 dies while the leader is resharding for 3's join.
    h.clients.get(1)?.faults.setRequestLatency(5);
    const joined = h.start(3, config);
    let crashed = false;
    for (let step = 0; step < 2000 && !crashed; step++) {
      await h.clock.advance(1);
      if (await h.admin.isExisted('/orders/leader/sharding/processing')) {
        await h.crash(2);
        crashed = true;
      }
    }
    expect(crashed).toBe(true);
    await joined;
    for (let step = 0; step < 400; step++) await h.clock.advance(5);
    await h.settled('orders', 6, [h.id(1), h.id(3)]);
    const afterCrash = seen.slice(seen.indexOf(h.id(3)));
    expect(afterCrash).not.toContain(h.id(2));
  });

  it('a leader that abdicates while its resharding is in flight never commits over its successor', async () => {
    const h = await harness();
    const lines: Array<{ level: string; msg: string }> = [];
    const config = job({ shardingTotalCount: 6, failover: false });
    await h.start(1, config, undefined, { logger: recordingLogger(lines) }); // the leader
    await h.start(2, config, undefined, { logger: recordingLogger(lines) });
    await h.settled('orders', 6, [h.id(1), h.id(2)]);
    // Interleaving: 1 reshards for 3's join; before its commit the operator disables 1's server,
    // 1 abdicates, 2 is elected and reshards; 1's commit is sent while 2's is about to be.
    const isCommit = (ops: readonly { type: string; key: string }[]) =>
      ops.some((op) => op.type === 'delete' && op.key === '/orders/leader/sharding/necessary');
    const one = h.clients.get(1) as MemoryRegistryCenter;
    const two = h.clients.get(2) as MemoryRegistryCenter;
    const commitOfOne = one.executeInTransaction.bind(one);
    const commitOfTwo = two.executeInTransaction.bind(two);
    let twoAtCommit = false;
    let oneCommitted = false;
    let interleaved = false;
    one.executeInTransaction = async (ops) => {
      if (isCommit(ops) && !interleaved) {
        interleaved = true;
        await h.admin.update('/orders/servers/10.0.0.1', 'DISABLED');
        await waitFor(() => expect(twoAtCommit).toBe(true));
        try {
          return await commitOfOne(ops);
        } finally {
          oneCommitted = true;
        }
      }
      return commitOfOne(ops);
    };
    two.executeInTransaction = async (ops) => {
      if (isCommit(ops) && !oneCommitted) {
        twoAtCommit = true;
        await waitFor(() => expect(oneCommitted).toBe(true));
      }
      return commitOfTwo(ops);
    };
    await h.start(3, config, undefined, { logger: recordingLogger(lines) });
    // Well within the 1 s backoff of a failed resharding: the successor's commit must not fail.
    for (let step = 0; step < 100; step++) await h.clock.advance(5);
    expect(interleaved).toBe(true);
    await h.settled('orders', 6, [h.id(2), h.id(3)]);
    expect(await h.admin.getDirectly('/orders/leader/election/instance')).toBe(h.id(2));
    expect(await h.admin.isExisted('/orders/leader/sharding/processing')).toBe(false);
    expect(lines.filter((line) => line.level === 'error')).toEqual([]);
  });

  it('a running node whose clear failed on a lost connection is cleared later, so its next owner runs the item', async () => {
    const h = await harness();
    const config = job({ shardingTotalCount: 2, failover: false, misfire: false });
    await h.start(1, config);
    await h.settled('orders', 2, [h.id(1)]);
    // The connection drops exactly when the run's bookkeeping clears its running nodes (the session
    // lives on): the nodes stay, naming a live instance, which no other instance takes over.
    const one = h.clients.get(1) as MemoryRegistryCenter;
    const transaction = one.executeInTransaction.bind(one);
    let dropped = false;
    one.executeInTransaction = async (ops) => {
      if (!dropped && ops.some((op) => op.type === 'delete' && op.key.endsWith('/running'))) {
        dropped = true;
        throw new RegistryError('CONNECTION_LOSS', 'connection lost (test)');
      }
      return transaction(ops);
    };
    await h.fire();
    await waitFor(() => expect(dropped).toBe(true));
    expect(await h.admin.getDirectly('/orders/sharding/0/running')).toBe(h.id(1));
    await h.start(2, config);
    await h.settled('orders', 2, [h.id(1), h.id(2)]);
    const [moved] = await h.itemsOf('orders', 2, 2);
    // Instance 1's next run retries the failed clear; from the fire after it, 2 runs its item.
    for (let fire = 0; fire < 3; fire++) {
      await h.fire();
      for (let step = 0; step < 40; step++) await h.clock.advance(5);
    }
    await waitFor(() =>
      expect(h.executions.filter((e) => e.instanceId === h.id(2)).map((e) => e.item)).toContain(moved),
    );
  });

  it("reassigns a dead instance's items at once, without waiting for other instances' running items", async () => {
    const h = await harness();
    const gates = new Gates();
    const config = job({ shardingTotalCount: 3, failover: false });
    await h.start(1, config); // the leader, idle
    await h.start(2, config, () => gates.wait()); // long runs, misfiring at every fire
    await h.start(3, config);
    await h.settled('orders', 3, [h.id(1), h.id(2), h.id(3)]);
    await h.fire();
    await waitFor(() => expect(gates.waiting).toBe(1));
    await h.fire(); // instance 2 overruns: misfire
    await h.crash(3);
    // Far less clock time than any wait for running items: the dead instance's item moves now.
    await h.clock.advance(100);
    await h.settled('orders', 3, [h.id(1), h.id(2)]);
    gates.releaseAll();
  });

  it('after LOST an instance runs nothing from its cached assignment', async () => {
    const h = await harness();
    const gates = new Gates();
    let target = -1;
    const config = job({ failover: false });
    const b = await h.start(1, config, async (ctx) => {
      if (ctx.shardingItem === target) await gates.wait();
    });
    await h.start(2, config);
    await h.settled('orders', 2, [h.id(1), h.id(2)]);
    expect(b.isLeader()).toBe(true);
    target = (await h.itemsOf('orders', 2, 2))[0] as number;
    // Instance 2 is cut off longer than its session; the leader takes its item and runs it (long).
    h.clients.get(2)?.faults.partition({ detectAfterMs: 100 });
    await h.clock.advance(SESSION_TIMEOUT_MS + 100);
    await h.settled('orders', 2, [h.id(1)]);
    await h.fire();
    await waitFor(() => expect(gates.waiting).toBe(1));
    // Instance 2 comes back (LOST, RECONNECTED) and fires arrive at once.
    const mark = h.events.length;
    h.clients.get(2)?.faults.heal();
    await h.clock.advance(0);
    await h.fire();
    await waitFor(async () => expect(await h.admin.isExisted(`/orders/instances/${h.id(2)}`)).toBe(true));
    await h.fire();
    await waitFor(() =>
      expect(
        h.events
          .slice(mark)
          .some((e) => e.kind === 'status' && e.slaveId === '10.0.0.2' && e.state !== 'TASK_STAGING'),
      ).toBe(true),
    );
    // Whatever instance 2 owns now, the item instance 1 is running is not run a second time.
    expect(h.executions.filter((e) => e.instanceId === h.id(2) && e.item === target)).toEqual([]);
    gates.releaseAll();
  });

  it('a run staged before a session loss never calls user code, and says why', async () => {
    const h = await harness();
    const gate = new Gates();
    const config = job({ shardingTotalCount: 2, failover: false });
    await h.start(1, config, undefined, {
      listeners: [
        {
          type: 'slow-before',
          beforeJobExecuted: () => gate.wait(),
          afterJobExecuted: () => {},
        },
      ],
    });
    await h.settled('orders', 2, [h.id(1)]);
    await h.fire();
    await waitFor(() => expect(gate.waiting).toBe(1)); // staged, inside the listener
    h.clients.get(1)?.expireSession(); // LOST, then RECONNECTED on a new session
    await waitFor(async () => expect(await h.admin.isExisted(`/orders/instances/${h.id(1)}`)).toBe(true));
    gate.releaseAll();
    await waitFor(() =>
      expect(
        h.events.some(
          (e) => e.kind === 'status' && (e.state === 'TASK_FINISHED' || e.state === 'TASK_ERROR'),
        ),
      ).toBe(true),
    );
    expect(h.executions).toEqual([]);
    const ended = h.events.filter(
      (e) => e.kind === 'status' && (e.state === 'TASK_FINISHED' || e.state === 'TASK_ERROR'),
    );
    expect(ended.map((e) => e.kind === 'status' && e.state)).toEqual(['TASK_FINISHED']);
    expect(ended[0]).toMatchObject({ message: expect.stringMatching(/session/) });
  });

  it('a stale run resumed after its session ended carries a lower fencing token than its successor', async () => {
    const h = await harness();
    let releaseFrozen!: () => void;
    const frozen = new Promise<void>((resolve) => {
      releaseFrozen = resolve;
    });
    const config = job({ shardingTotalCount: 1 });
    // The first execution ignores the abort and finishes later, as a frozen process would.
    const body = async () => {
      if (h.executions.length === 1) await frozen;
    };
    await h.start(1, config, body);
    await h.start(2, config, body);
    await h.settled('orders', 1, [h.id(2)]);
    await h.fire();
    await waitFor(() => expect(h.executions).toHaveLength(1));
    const first = h.executions[0] as Execution;
    expect(first.instanceId).toBe(h.id(2));
    // Instance 2 freezes past its session: instance 1 takes the item over (failover).
    h.clients.get(2)?.faults.partition({ detectAfterMs: SESSION_TIMEOUT_MS * 10 });
    await h.clock.advance(SESSION_TIMEOUT_MS + 100);
    await waitFor(() => expect(h.executions.some((e) => e.instanceId === h.id(1))).toBe(true));
    const successor = h.executions.find((e) => e.instanceId === h.id(1)) as Execution;
    releaseFrozen();
    expect(typeof first.fencingToken).toBe('number');
    expect(typeof successor.fencingToken).toBe('number');
    expect(first.fencingToken as number).toBeLessThan(successor.fencingToken as number);
  });
});

describe('a failing item', () => {
  it.each([1, 2])(
    'ends a run of %i item(s) TASK_ERROR naming the failed item and its error',
    async (count) => {
      const h = await harness();
      const config = job({ shardingTotalCount: count, failover: false });
      await h.start(1, config, async (ctx) => {
        if (ctx.shardingItem === 0) throw new Error('item 0 broke');
      });
      await h.settled('orders', count, [h.id(1)]);
      await h.fire();
      await waitFor(() =>
        expect(
          h.events.some(
            (e) => e.kind === 'status' && (e.state === 'TASK_ERROR' || e.state === 'TASK_FINISHED'),
          ),
        ).toBe(true),
      );
      const ended = h.events.filter(
        (e) => e.kind === 'status' && (e.state === 'TASK_ERROR' || e.state === 'TASK_FINISHED'),
      );
      expect(ended).toEqual([expect.objectContaining({ state: 'TASK_ERROR', message: '{0=item 0 broke}' })]);
    },
  );
});

describe('shutdown', () => {
  it('an abort the operator asked for is logged at info and traced as a shutdown, not as an error', async () => {
    const h = await harness();
    const lines: Array<{ level: string; msg: string }> = [];
    const config = job({ shardingTotalCount: 2, failover: false });
    const bootstrap = await h.start(
      1,
      config,
      (ctx) =>
        new Promise<void>((_, reject) => {
          ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason));
        }),
      { logger: recordingLogger(lines) },
    );
    await h.settled('orders', 2, [h.id(1)]);
    await h.fire();
    await waitFor(() => expect(h.executions).toHaveLength(2));
    await bootstrap.shutdown();
    expect(lines.filter((line) => line.level === 'error')).toEqual([]);
    const statuses = h.events.filter((e) => e.kind === 'status');
    expect(statuses.some((e) => e.kind === 'status' && e.state === 'TASK_ERROR')).toBe(false);
    expect(statuses.at(-1)).toMatchObject({
      state: 'TASK_FINISHED',
      message: expect.stringMatching(/shut/i),
    });
  });

  it('with the registry unreachable, shutdown ends within 2 s of the drain and says what it skipped', async () => {
    const h = await harness();
    const lines: Array<{ level: string; msg: string }> = [];
    const config = job({ shardingTotalCount: 1, failover: false });
    const bootstrap = await h.start(
      1,
      config,
      (ctx) => new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve())),
      { logger: recordingLogger(lines) },
    );
    await h.settled('orders', 1, [h.id(1)]);
    await h.fire();
    await waitFor(() => expect(h.executions).toHaveLength(1));
    // Requests hang: the client has not noticed the partition yet (a minute, like a dead server).
    h.clients.get(1)?.faults.partition({ detectAfterMs: 60_000 });
    let done = false;
    const shutdown = bootstrap.shutdown().then(() => {
      done = true;
    });
    for (let ms = 0; ms < 2000 && !done; ms += 50) await h.clock.advance(50);
    await waitFor(() => expect(done).toBe(true));
    await shutdown;
    expect(lines.some((line) => /skipped/i.test(line.msg))).toBe(true);
    h.clients.get(1)?.faults.heal();
  });
});

describe('work of a fire nobody asks for', () => {
  it('builds no job events (draws no event ids) while nobody listens, and all of them for a listener', async () => {
    const h = await harness();
    const drawn = { quiet: 0, heard: 0 };
    const config = job({ shardingTotalCount: 1, failover: false });
    await h.start(1, config, undefined, {
      onEvent: undefined,
      idGenerator: () => `quiet-${drawn.quiet++}`,
    });
    await h.start(2, { ...config, jobName: 'heard' }, undefined, {
      idGenerator: () => `heard-${drawn.heard++}`,
    });
    await h.settled('orders', 1, [h.id(1)]);
    await h.settled('heard', 1, [h.id(2)]);
    await h.fire();
    await waitFor(() => expect(h.executions.filter((e) => e.done)).toHaveLength(2));
    // The listened job: resharding, staging, running, finished, and the item's start and end.
    await waitFor(() =>
      expect(h.events.map((e) => e.kind).sort()).toEqual([
        'execution',
        'execution',
        'resharding',
        'status',
        'status',
        'status',
      ]),
    );
    expect(drawn.heard).toBe(new Set(h.events.map((e) => e.id)).size); // an item's end reuses its start's id
    expect(drawn.quiet).toBe(0);
  });

  it("a run's signal read only after the run was aborted is already aborted, with the run's reason", async () => {
    const h = await harness();
    const gates = new Gates();
    let signal: AbortSignal | undefined;
    const bootstrap = await h.start(1, job({ shardingTotalCount: 1, failover: false }), async (ctx) => {
      await gates.wait(); // the signal is not read before the shutdown aborts the run
      signal = ctx.signal;
    });
    await h.settled('orders', 1, [h.id(1)]);
    await h.fire();
    await waitFor(() => expect(gates.waiting).toBe(1));
    const shutdown = bootstrap.shutdown();
    await waitFor(() => expect(h.events.some((e) => e.kind === 'status')).toBe(true));
    gates.releaseAll();
    await shutdown;
    expect(signal?.aborted).toBe(true);
    expect((signal?.reason as { abortCause?: string } | undefined)?.abortCause).toBe('SHUTDOWN');
  });
});
