/**
 * A {@link CoordinatorRegistryCenter} that delegates every call to a real client and counts the
 * calls, per method, plus the operations inside transactions and the watch registrations and
 * events: the "registry requests per fire" of the benchmarks are read at this adapter boundary.
 * Several wrappers may share one client (one per job), so each job's calls are counted apart.
 *
 * @module
 */
import type {
  CoordinatorRegistryCenter,
  LeaderLatchOptions,
  RegistryCapabilities,
  RegistryConnectionStateListener,
  RegistryTransactionOperation,
  RegistryUnwatch,
  RegistryWatchListener,
  TransactionMeter,
} from '@elasticjob-ts/core';

/** Methods of the contract that talk to the registry (counted). */
export const COUNTED_METHODS = [
  'get',
  'getDirectly',
  'isExisted',
  'getChildrenKeys',
  'getNumChildren',
  'persist',
  'update',
  'persistEphemeral',
  'persistSequential',
  'persistEphemeralSequential',
  'remove',
  'getRegistryCenterTime',
  'executeInTransaction',
  'executeInLeader',
  'watch',
  'confirmSession',
] as const;

/** One counted method name. */
export type CountedMethod = (typeof COUNTED_METHODS)[number];

/** What a {@link CountingRegistryCenter} counted since its last reset. */
export interface RegistryCallCounts {
  /** Calls per method (a transaction is one call; a latch is one call). */
  readonly calls: Readonly<Record<CountedMethod, number>>;
  /**
   * Sum of {@link calls} over every method except `watch` and `confirmSession` (answered locally
   * while an earlier proof of the session lasts; its round trips show in the server's counters).
   */
  readonly requests: number;
  /** Operations inside all transactions (`check`/`create`/`update`/`delete`). */
  readonly transactionOps: number;
  /** Watches currently registered through this wrapper (not reset). */
  readonly activeWatches: number;
  /** Watch events delivered to listeners registered through this wrapper. */
  readonly watchEvents: number;
}

function zeroCounts(): Record<CountedMethod, number> {
  return Object.fromEntries(COUNTED_METHODS.map((method) => [method, 0])) as Record<CountedMethod, number>;
}

/**
 * Counting decorator over a started registry client. `start()`/`close()` are passed through
 * only when `ownsDelegate` is set, so per-job wrappers over a shared client never close it.
 *
 * @example
 * ```ts
 * const counting = new CountingRegistryCenter(await createRegistryCenter(config));
 * const job = new ScheduleJobBootstrap(counting, handler, { jobName: 'j', cron: '* * * * * ?', shardingTotalCount: 8 });
 * await job.schedule();
 * counting.reset(); // exclude startup
 * // ... N fires later
 * console.log(counting.snapshot().requests / N);
 * ```
 */
export class CountingRegistryCenter implements CoordinatorRegistryCenter {
  readonly #delegate: CoordinatorRegistryCenter;
  readonly #ownsDelegate: boolean;
  #calls = zeroCounts();
  #transactionOps = 0;
  #activeWatches = 0;
  #watchEvents = 0;

  /**
   * @param delegate - the real client (started, or started through this wrapper when owned).
   * @param ownsDelegate - pass `start()`/`close()` through (default `false`).
   */
  constructor(delegate: CoordinatorRegistryCenter, ownsDelegate = false) {
    this.#delegate = delegate;
    this.#ownsDelegate = ownsDelegate;
  }

  get capabilities(): RegistryCapabilities {
    return this.#delegate.capabilities;
  }

  get namespace(): string {
    return this.#delegate.namespace;
  }

  /** Sets every counter back to zero (active watches excepted). */
  reset(): void {
    this.#calls = zeroCounts();
    this.#transactionOps = 0;
    this.#watchEvents = 0;
  }

  /** @returns a copy of the counters. */
  snapshot(): RegistryCallCounts {
    const calls = { ...this.#calls };
    const requests = COUNTED_METHODS.filter(
      (method) => method !== 'watch' && method !== 'confirmSession',
    ).reduce((sum, method) => sum + calls[method], 0);
    return {
      calls,
      requests,
      transactionOps: this.#transactionOps,
      activeWatches: this.#activeWatches,
      watchEvents: this.#watchEvents,
    };
  }

  #count(method: CountedMethod): void {
    this.#calls[method] += 1;
  }

  start(): Promise<void> {
    return this.#ownsDelegate ? this.#delegate.start() : Promise.resolve();
  }

  close(): Promise<void> {
    return this.#ownsDelegate ? this.#delegate.close() : Promise.resolve();
  }

  get(key: string): Promise<string | undefined> {
    this.#count('get');
    return this.#delegate.get(key);
  }

  getDirectly(key: string): Promise<string | undefined> {
    this.#count('getDirectly');
    return this.#delegate.getDirectly(key);
  }

  isExisted(key: string): Promise<boolean> {
    this.#count('isExisted');
    return this.#delegate.isExisted(key);
  }

  getChildrenKeys(key: string): Promise<string[]> {
    this.#count('getChildrenKeys');
    return this.#delegate.getChildrenKeys(key);
  }

  getNumChildren(key: string): Promise<number> {
    this.#count('getNumChildren');
    return this.#delegate.getNumChildren(key);
  }

  persist(key: string, value: string): Promise<void> {
    this.#count('persist');
    return this.#delegate.persist(key, value);
  }

  update(key: string, value: string): Promise<void> {
    this.#count('update');
    return this.#delegate.update(key, value);
  }

  persistEphemeral(key: string, value: string): Promise<void> {
    this.#count('persistEphemeral');
    return this.#delegate.persistEphemeral(key, value);
  }

  persistSequential(key: string, value: string): Promise<string> {
    this.#count('persistSequential');
    return this.#delegate.persistSequential(key, value);
  }

  persistEphemeralSequential(key: string): Promise<string> {
    this.#count('persistEphemeralSequential');
    return this.#delegate.persistEphemeralSequential(key);
  }

  remove(key: string): Promise<void> {
    this.#count('remove');
    return this.#delegate.remove(key);
  }

  getRegistryCenterTime(key: string): Promise<number> {
    this.#count('getRegistryCenterTime');
    return this.#delegate.getRegistryCenterTime(key);
  }

  executeInTransaction(operations: readonly RegistryTransactionOperation[]): Promise<void> {
    this.#count('executeInTransaction');
    this.#transactionOps += operations.length;
    return this.#delegate.executeInTransaction(operations);
  }

  /** The delegate's meter (not counted: it makes no request). */
  get openTransactionMeter(): (() => TransactionMeter) | undefined {
    return this.#delegate.openTransactionMeter?.bind(this.#delegate);
  }

  executeInLeader<T>(
    latchKey: string,
    callback: () => Promise<T> | T,
    options?: LeaderLatchOptions,
  ): Promise<T> {
    this.#count('executeInLeader');
    return this.#delegate.executeInLeader(latchKey, callback, options);
  }

  async watch(key: string, listener: RegistryWatchListener): Promise<RegistryUnwatch> {
    this.#count('watch');
    const unwatch = await this.#delegate.watch(key, (event) => {
      this.#watchEvents += 1;
      listener(event);
    });
    this.#activeWatches += 1;
    let stopped = false;
    return async () => {
      if (!stopped) {
        stopped = true;
        this.#activeWatches -= 1;
      }
      await unwatch();
    };
  }

  confirmSession(): Promise<void> {
    this.#count('confirmSession');
    return this.#delegate.confirmSession();
  }

  /** The delegate's answer, not counted (no request); `false` when the delegate has no such call. */
  isSessionProven(): boolean {
    return this.#delegate.isSessionProven?.() ?? false;
  }

  addConnectionStateListener(listener: RegistryConnectionStateListener): () => void {
    return this.#delegate.addConnectionStateListener(listener);
  }
}
