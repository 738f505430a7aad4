/**
 * {@link EtcdRegistryCenter}: the registry contract on etcd v3 through `etcd3`.
 *
 * @module
 */
import { performance } from 'node:perf_hooks';
import {
  assertRegistryPath,
  type CoordinatorRegistryCenter,
  createDefaultLogger,
  type EtcdRegistryConfiguration,
  type LeaderLatchOptions,
  type Logger,
  parentRegistryPath,
  REGISTRY_CLOSE_GRACE_MS,
  type RegistryCapabilities,
  type RegistryConnectionState,
  type RegistryConnectionStateListener,
  RegistryError,
  type RegistryTransactionOperation,
  type RegistryUnwatch,
  type RegistryWatchListener,
  settledWithinMs,
  sortChildrenDescending,
  TransactionCoalescer,
  type TransactionMeter,
} from '@elasticjob-ts/core/adapter';
import {
  Etcd3,
  type ICompare,
  type IOptions,
  type IRangeResponse,
  type IRequestOp,
  type IResponseOp,
  type Watcher,
} from 'etcd3';
import { cancelWatcher } from './cancel-watcher.js';
import { cappedExponentialBackoff, passthroughPolicy, retryUnavailablePolicy } from './fault-handling.js';
import { KeyCodec, prefixEnd } from './keys.js';
import { executeInLatch, type LatchContext } from './leader-latch.js';
import { NamespaceWatch } from './namespace-watch.js';
import { type ResolvedEtcdOptions, resolveEtcdOptions } from './options.js';
import { RaftTermTracker, readAcrossTermChanges } from './raft-term.js';
import { ReadBatcher } from './read-batcher.js';
import { RequestGate } from './request-gate.js';
import { readServerTime } from './server-time.js';
import { LeaseSession } from './session.js';
import { SubtreeWatch } from './subtree-watch.js';
import { registryErrorCodeOf, toRegistryError } from './to-registry-error.js';
import {
  compileTransaction,
  keysToDiagnose,
  type OperationFailure,
  planTransaction,
  prefixesNeedingSnapshots,
  transactionFailedError,
} from './transaction.js';
import { EtcdTransactionMeter } from './transaction-meter.js';

/** Extra, non-configuration options of {@link EtcdRegistryCenter}. */
export interface EtcdRegistryCenterOptions {
  /**
   * Where background failures (a watch re-read, a throwing listener, an unrevokable lease) are
   * logged.
   * @defaultValue core's default pino logger, created on first use
   */
  readonly logger?: Logger;
}

type Lifecycle = 'new' | 'starting' | 'started' | 'closed';

const EMPTY = Buffer.alloc(0);
const SEQUENCE_ATTEMPTS = 100;
const TRANSACTION_ATTEMPTS = 5;

const exists = (key: string): ICompare => ({
  key: Buffer.from(key),
  target: 'Create',
  result: 'Greater',
  create_revision: 0,
});
const absent = (key: string): ICompare => ({
  key: Buffer.from(key),
  target: 'Create',
  result: 'Equal',
  create_revision: 0,
});

function assertValue(value: unknown, method: string): asserts value is string {
  if (typeof value !== 'string') {
    throw new TypeError(`${method}: value must be a string, got ${typeof value}`);
  }
}

function rangeOf(response: { response_range?: IRangeResponse } | undefined): IRangeResponse | undefined {
  return response?.response_range;
}

/**
 * The etcd v3 registry center.
 *
 * Layout: the namespace is the key prefix `/{namespace}`; every node is a real etcd key (parents
 * too, created with value `''`); the children of a node are the keys below `key + '/'`, and keys
 * that exist only as ancestors of deeper keys (written by other tools) count as nodes with value
 * `''`. Ephemeral nodes are attached to the session lease (TTL = `ceil(sessionTimeoutMs / 1000)` s,
 * kept alive every TTL/3). See the package docs for the state machine, transactions, the latch and
 * watches.
 *
 * @example
 * ```ts
 * const registry = new EtcdRegistryCenter({ type: 'etcd', endpoints: 'http://127.0.0.1:2379', namespace: 'demo' });
 * await registry.start();
 * await registry.persistEphemeral('/orders/instances/host@-@1', 'jobInstanceId: host@-@1');
 * await registry.close();
 * ```
 */
export class EtcdRegistryCenter implements CoordinatorRegistryCenter {
  /**
   * Authentication is enforced (etcd users); server time has a 1 s resolution (HTTP `Date`);
   * transactions of at most `floor(maxTxnOps / 2)` operations (64 for etcd's default 128) for
   * callers that count operations ({@link EtcdRegistryCenter.openTransactionMeter} packs more).
   */
  readonly capabilities: RegistryCapabilities;
  /** The namespace (key prefix without the leading `/`). */
  readonly namespace: string;

  private readonly options: ResolvedEtcdOptions;
  private readonly codec: KeyCodec;
  private readonly loggerOption: Logger | undefined;
  private loggerValue: Logger | undefined;
  private lifecycle: Lifecycle = 'new';
  private client: Etcd3 | undefined;
  private session: LeaseSession | undefined;
  /**
   * Follows the raft term of every answer and cancels requests a leader change left unanswered
   * (see `raft-term.ts`).
   */
  private readonly terms = new RaftTermTracker((cancelled, term) =>
    this.logger.warn(
      { term, cancelled },
      'etcd raft term changed: requests in flight cancelled (CONNECTION_LOSS, outcome unknown)',
    ),
  );
  /**
   * An idle watcher held for the client's lifetime, so that `etcd3` never tears its shared watch
   * stream down when the last real watcher goes (it cancels the stream, counts the cancellation as
   * a host failure and resets every gRPC channel of the host). Still needed beside the namespace
   * watcher: that one only exists after the first `watch()` and is cancelled by a compaction, and
   * the latch's watchers come and go.
   */
  private sentinel: Watcher | undefined;
  private readonly stateListeners = new Set<RegistryConnectionStateListener>();
  /** The client's one etcd watcher, shared by every `watch()`; created by the first one. */
  private namespaceWatch: NamespaceWatch | undefined;
  /** Every unary request of this client passes it (see `request-gate.ts`). */
  private readonly gate = new RequestGate();
  /** Point reads waiting for the gate go as one Txn (see `read-batcher.ts`); set by `start()`. */
  private reads: ReadBatcher | undefined;
  private readonly cleanups = new Set<() => void>();
  /** Transactions of one event-loop turn go as one Txn (see `TransactionCoalescer`). */
  readonly #transactions: TransactionCoalescer;

  /**
   * Builds an unstarted client.
   *
   * @param configuration - endpoints, namespace, session and connection timeouts (defaults 60 000
   *   and 15 000 ms), credentials, TLS.
   * @param options - logger.
   * @throws {RegistryConfigurationError} naming the invalid field and the accepted values.
   */
  constructor(configuration: EtcdRegistryConfiguration, options: EtcdRegistryCenterOptions = {}) {
    this.options = resolveEtcdOptions(configuration);
    const { maxTransactionOperations } = this.options;
    this.capabilities = {
      authentication: true,
      registryCenterTimeResolutionMs: 1000,
      maxTransactionOperations,
    };
    this.namespace = this.options.namespace;
    this.codec = new KeyCodec(this.namespace);
    this.#transactions = new TransactionCoalescer(
      (operations) => this.#commitTransaction(operations),
      () => this.openTransactionMeter(),
    );
    this.loggerOption = options.logger;
  }

  /**
   * The etcd lease ID (decimal) of the current session, or `undefined` before `start()`, while a
   * lost session is being replaced, and after `close()`. For operators and tests: revoking this
   * lease from anywhere expires the session (`LOST`, then `RECONNECTED` with a new lease).
   */
  get sessionId(): string | undefined {
    return this.lifecycle === 'started' ? this.session?.leaseId : undefined;
  }

  private get logger(): Logger {
    this.loggerValue ??= (this.loggerOption ?? createDefaultLogger()).child({
      registry: 'etcd',
      namespace: this.namespace,
    });
    return this.loggerValue;
  }

  private readonly reportError = (message: string, error: unknown): void => {
    this.logger.warn({ err: error }, message);
  };

  /**
   * Connects, checks the credentials against the namespace and grants the session lease; then
   * reports `CONNECTED`.
   *
   * @throws {RegistryError} `TIMEOUT` naming the endpoints when no server answers within
   *   `connectionTimeoutMs`; `NO_AUTH` when the credentials are missing or refused;
   *   `INVALID_STATE` when already started or closed.
   */
  async start(): Promise<void> {
    if (this.lifecycle !== 'new') {
      throw new RegistryError('INVALID_STATE', `etcd registry cannot start: it is ${this.lifecycle}`);
    }
    this.lifecycle = 'starting';
    const { options } = this;
    const client = new Etcd3(this.clientOptions(this.terms));
    const session = new LeaseSession({
      leaseClient: client.leaseClient,
      ttlSeconds: options.ttlSeconds,
      requestTimeoutMs: options.connectionTimeoutMs,
      onStateChange: (state) => this.emitState(state),
      onBackgroundError: this.reportError,
      endpointCount: options.endpoints.length,
    });
    this.client = client;
    this.session = session;
    this.reads = new ReadBatcher({
      gate: this.gate,
      send: async (operations, deadline) => {
        const response = await client.kv.txn(
          { compare: [], success: [...operations], failure: [] },
          { deadline },
        );
        return { responses: response.responses, revision: BigInt(response.header.revision) };
      },
      maxOperations: options.maxTxnOps,
      requestTimeoutMs: options.connectionTimeoutMs,
    });
    const deadlineAt = performance.now() + options.connectionTimeoutMs;
    try {
      await this.untilConnected(deadlineAt, (timeoutMs) =>
        client.kv.range(
          { ...this.codec.descendants('/'), keys_only: true, limit: 1 },
          { deadline: Date.now() + timeoutMs },
        ),
      );
      await session.open(deadlineAt);
    } catch (error) {
      await session.close();
      client.close();
      const closed = (this.lifecycle as Lifecycle) === 'closed';
      if (!closed) this.lifecycle = 'new';
      this.client = undefined;
      this.session = undefined;
      if (closed) throw new RegistryError('NOT_STARTED', 'The etcd registry was closed while starting');
      const registryError = toRegistryError(error, 'start');
      if (registryError.code === 'CONNECTION_LOSS') {
        throw new RegistryError(
          'TIMEOUT',
          `Could not connect to etcd at ${options.endpoints.join(', ')} within ${options.connectionTimeoutMs} ms: ${registryError.message}`,
          { cause: registryError },
        );
      }
      throw registryError;
    }
    if (this.lifecycle !== 'starting') {
      await session.close();
      client.close();
      throw new RegistryError('NOT_STARTED', 'The etcd registry was closed while starting');
    }
    this.lifecycle = 'started';
    this.sentinel = this.createSentinel(client);
    this.emitState('CONNECTED');
  }

  /**
   * Revokes the session lease (every ephemeral node disappears for everyone at once), cancels
   * watches, latch waits and timers, and closes the connections. Waits at most
   * `min(connectionTimeoutMs, REGISTRY_CLOSE_GRACE_MS)` for the server: a lease that cannot be
   * revoked in time (server unreachable) expires after its TTL. Calls still waiting then reject
   * with `NOT_STARTED`. Idempotent; reports no state change.
   */
  async close(): Promise<void> {
    if (this.lifecycle === 'closed') return;
    this.lifecycle = 'closed';
    for (const cleanup of [...this.cleanups]) cleanup();
    this.cleanups.clear();
    const namespaceWatch = this.namespaceWatch;
    this.namespaceWatch = undefined;
    const sentinel = this.sentinel;
    this.sentinel = undefined;
    // The watches stop delivering at once; the lease is revoked while their cancellations travel.
    // An unresponsive server gets the grace, then the lease is left to expire after its TTL.
    const graceMs = Math.min(this.options.connectionTimeoutMs, REGISTRY_CLOSE_GRACE_MS);
    await settledWithinMs(
      [
        this.session?.close(graceMs),
        namespaceWatch?.close(),
        sentinel === undefined ? undefined : cancelWatcher(sentinel),
      ],
      graceMs,
    );
    // Every call still waiting fails now, not at its deadline; later ones fail at once too.
    this.gate.close(
      new RegistryError('NOT_STARTED', 'the etcd registry client was closed before the request was answered'),
    );
    this.client?.close();
  }

  /**
   * A node's value, read from the server (this adapter does not serve reads from its watch cache,
   * so `get` is as fresh as {@link getDirectly}).
   *
   * @param key - node path.
   * @returns the value, `''` for a node that exists only as the parent of deeper keys, or
   *   `undefined` when absent.
   * @throws {RegistryError} `NOT_STARTED`, connection codes, `NO_AUTH`.
   */
  get(key: string): Promise<string | undefined> {
    return this.getDirectly(key);
  }

  /**
   * A node's value, read from the server.
   *
   * @param key - node path.
   * @returns the value, `''` for an implicit parent, `undefined` when absent.
   * @throws {RegistryError} `NOT_STARTED`, connection codes, `NO_AUTH`.
   */
  async getDirectly(key: string): Promise<string | undefined> {
    assertRegistryPath(key);
    this.requireClient(key);
    if (key === '/') return '';
    const { own, child } = await this.readNode('getDirectly', key, false);
    const kv = own.kvs[0];
    if (kv !== undefined) return kv.value.toString();
    return child.kvs.length > 0 ? '' : undefined;
  }

  /**
   * Resolves once the server is known to hold the session's lease: at once while the last answered
   * keep-alive (or grant) proves it, else after one keep-alive round trip
   * (`LeaseSession.confirmLease`, the same check every write makes).
   *
   * @throws {RegistryError} `SESSION_EXPIRED` when the lease is gone or was replaced meanwhile;
   *   `CONNECTION_LOSS` when no keep-alive was answered; `NOT_STARTED`.
   */
  async confirmSession(): Promise<void> {
    const session = this.requireSession();
    const lease = session.requireLease();
    await session.confirmLease();
    if (session.requireLease() !== lease) {
      throw new RegistryError(
        'SESSION_EXPIRED',
        'The etcd session lease was replaced while it was being confirmed',
      );
    }
  }

  /**
   * Whether {@link confirmSession} would resolve at once now: started, and the session's lease is
   * known to be held (`LeaseSession.leaseProven`). Never throws.
   */
  isSessionProven(): boolean {
    return this.lifecycle === 'started' && this.client !== undefined && this.session?.leaseProven() === true;
  }

  /**
   * Whether a node exists (as a key, or implicitly as the parent of deeper keys).
   *
   * @param key - node path.
   * @throws {RegistryError} `NOT_STARTED`, connection codes, `NO_AUTH`.
   */
  async isExisted(key: string): Promise<boolean> {
    assertRegistryPath(key);
    this.requireClient(key);
    if (key === '/') return true;
    const { own, child } = await this.readNode('isExisted', key, true);
    return own.kvs.length > 0 || child.kvs.length > 0;
  }

  /**
   * Names of the direct children of `key` (including implicit parents of deeper keys), sorted
   * descending by UTF-16 code units (ElasticJob's order).
   *
   * @param key - parent path.
   * @returns child names; `[]` when absent.
   * @throws {RegistryError} `NOT_STARTED`, connection codes, `NO_AUTH`.
   */
  async getChildrenKeys(key: string): Promise<string[]> {
    assertRegistryPath(key);
    this.requireClient(key);
    return sortChildrenDescending(await this.childNames('getChildrenKeys', key));
  }

  /**
   * Number of direct children of `key`; 0 when absent.
   *
   * @param key - parent path.
   * @throws {RegistryError} `NOT_STARTED`, connection codes, `NO_AUTH`.
   */
  async getNumChildren(key: string): Promise<number> {
    assertRegistryPath(key);
    this.requireClient(key);
    return (await this.childNames('getNumChildren', key)).size;
  }

  /**
   * Insert-or-update a persistent node in one Txn: an existing node keeps its lease (an ephemeral
   * stays ephemeral, as with ZooKeeper's `setData`); a new one is created with its missing parents.
   *
   * @param key - node path (not `/`).
   * @param value - new value.
   * @throws {RegistryError} `SESSION_EXPIRED` when the server says the session's lease is gone (after a silence longer than
   *   the TTL a write first waits for a keep-alive's answer; see `LeaseSession.confirmLease`);
   *   `NOT_STARTED`, connection codes, `NO_AUTH`.
   */
  async persist(key: string, value: string): Promise<void> {
    assertRegistryPath(key, false);
    assertValue(value, 'persist');
    const client = this.requireClient(key);
    const etcdKey = Buffer.from(this.codec.toKey(key));
    await this.write('persist', key, () =>
      client.kv.txn(
        {
          compare: [exists(this.codec.toKey(key))],
          success: [{ request_put: { key: etcdKey, value: Buffer.from(value), ignore_lease: true } }],
          failure: [...this.createParents(key), { request_put: { key: etcdKey, value: Buffer.from(value) } }],
        },
        this.callOptions(),
      ),
    );
  }

  /**
   * Sets the value of an existing node atomically (compare on its existence, put keeping its lease).
   *
   * @param key - node path.
   * @param value - new value.
   * @throws {RegistryError} `SESSION_EXPIRED` when the server says the session's lease is gone (after a silence longer than
   *   the TTL a write first waits for a keep-alive's answer; see `LeaseSession.confirmLease`);
   *   `NO_NODE` when absent; `NOT_STARTED`, connection codes, `NO_AUTH`.
   */
  async update(key: string, value: string): Promise<void> {
    assertRegistryPath(key, false);
    assertValue(value, 'update');
    const client = this.requireClient(key);
    const etcdKey = this.codec.toKey(key);
    const response = await this.write('update', key, () =>
      client.kv.txn(
        {
          compare: [exists(etcdKey)],
          success: [
            { request_put: { key: Buffer.from(etcdKey), value: Buffer.from(value), ignore_lease: true } },
          ],
          failure: [],
        },
        this.callOptions(),
      ),
    );
    if (!response.succeeded) {
      throw new RegistryError('NO_NODE', `update: node '${key}' does not exist`, { path: key });
    }
  }

  /**
   * Creates or replaces a node attached to the session lease, in one Txn that also creates missing
   * (persistent) parents and removes an existing subtree below it (ElasticJob deletes an existing
   * node recursively before re-creating it).
   *
   * @param key - node path (not `/`).
   * @param value - value.
   * @throws {RegistryError} `SESSION_EXPIRED` while a lost session is being replaced;
   *   `NOT_STARTED`, connection codes, `NO_AUTH`.
   */
  async persistEphemeral(key: string, value: string): Promise<void> {
    assertRegistryPath(key, false);
    assertValue(value, 'persistEphemeral');
    const client = this.requireClient(key);
    const leaseId = this.requireSession(key).requireLease(key);
    const descendants = this.codec.descendants(key);
    await this.write(
      'persistEphemeral',
      key,
      () =>
        client.kv.txn(
          {
            compare: [],
            success: [
              ...this.createParents(key),
              { request_delete_range: { key: descendants.key, range_end: descendants.range_end } },
              {
                request_put: {
                  key: Buffer.from(this.codec.toKey(key)),
                  value: Buffer.from(value),
                  lease: leaseId,
                },
              },
            ],
            failure: [],
          },
          this.callOptions(),
        ),
      leaseId,
    );
  }

  /**
   * Creates a persistent node named `key` + a 10-digit suffix from a per-parent counter key
   * (incremented in the same Txn under a version compare, so suffixes are unique and increasing
   * across all clients). Missing parents are created.
   *
   * @param key - path prefix, e.g. `/jobs/seq-`.
   * @param value - value.
   * @returns the created path.
   * @throws {RegistryError} `NOT_STARTED`, connection codes, `NO_AUTH`.
   */
  persistSequential(key: string, value: string): Promise<string> {
    assertRegistryPath(key, false);
    assertValue(value, 'persistSequential');
    return this.createSequential('persistSequential', key, value, undefined);
  }

  /**
   * Like {@link persistSequential}, with an empty value and the node attached to the session lease.
   *
   * @param key - path prefix.
   * @returns the created path.
   * @throws {RegistryError} `SESSION_EXPIRED` while a lost session is being replaced;
   *   `NOT_STARTED`, connection codes, `NO_AUTH`.
   */
  persistEphemeralSequential(key: string): Promise<string> {
    assertRegistryPath(key, false);
    const leaseId = this.requireSession(key).requireLease(key);
    return this.createSequential('persistEphemeralSequential', key, '', leaseId);
  }

  /**
   * Deletes `key` and the range `key + '/'` in one Txn (prefix-safe: `/a/bc` survives removing
   * `/a/b`). Removing an absent node is not an error.
   *
   * @param key - node path (not `/`).
   * @throws {RegistryError} `SESSION_EXPIRED` when the server says the session's lease is gone (after a silence longer than
   *   the TTL a write first waits for a keep-alive's answer; see `LeaseSession.confirmLease`);
   *   `NOT_STARTED`, connection codes, `NO_AUTH`.
   */
  async remove(key: string): Promise<void> {
    assertRegistryPath(key, false);
    const client = this.requireClient(key);
    const descendants = this.codec.descendants(key);
    await this.write('remove', key, () =>
      client.kv.txn(
        {
          compare: [],
          success: [
            { request_delete_range: { key: Buffer.from(this.codec.toKey(key)) } },
            { request_delete_range: { key: descendants.key, range_end: descendants.range_end } },
          ],
          failure: [],
        },
        this.callOptions(),
      ),
    );
  }

  /**
   * Writes `key` (as ElasticJob does) and returns the etcd server's clock, read from the `Date`
   * header of its HTTP gateway (`GET /version`): epoch ms with a 1 s resolution.
   *
   * @param key - scratch node, e.g. `/orders/systemTime/current`.
   * @throws {RegistryError} `CONNECTION_LOSS` when no endpoint answers; `NOT_STARTED`, `NO_AUTH`.
   */
  async getRegistryCenterTime(key: string): Promise<number> {
    await this.persist(key, '');
    return readServerTime(this.options.endpoints, this.options.tls, this.options.connectionTimeoutMs);
  }

  /**
   * Runs the operations as ONE etcd Txn: existence requirements become create-revision compares,
   * a `check` with a `value` also a value compare, the net writes its requests (see
   * `transaction.ts`). All or nothing. Transactions asked for in the same event-loop turn are sent
   * as one Txn, with the semantics of running them one after another (see `TransactionCoalescer`
   * in core).
   *
   * @param operations - `check` / `create` / `update` / `delete` operations, applied in order.
   * @throws {RegistryError} `TRANSACTION_FAILED` with `failedOperationIndex`, the op's `path` and a
   *   `NO_NODE`/`NODE_EXISTS`/`VALUE_MISMATCH` cause; connection codes when the outcome is unknown.
   *   `SESSION_EXPIRED` when the server says the session's lease is gone (after a silence longer than
   *   the TTL a write first waits for a keep-alive's answer; see `LeaseSession.confirmLease`);
   * @throws {TypeError} for a malformed operation.
   */
  async executeInTransaction(operations: readonly RegistryTransactionOperation[]): Promise<void> {
    validateOperations(operations);
    this.requireClient();
    if (operations.length === 0) return;
    await this.#transactions.execute(operations);
  }

  /**
   * A meter that sizes one Txn as this client builds it: at most the servers' `--max-txn-ops`
   * (option `maxTxnOps`, 128 by default) compares and as many requests (see `transaction-meter.ts`).
   * At the default a 64-item run is admitted in 2 Txns and cleared in 1 (9 Txns per fire when
   * operations were counted against `floor(maxTxnOps / 2)`).
   */
  openTransactionMeter(): TransactionMeter {
    return new EtcdTransactionMeter(this.codec, this.options.maxTxnOps);
  }

  /** One Txn (planned again after a race) for validated operations, of one or more transactions. */
  async #commitTransaction(operations: readonly RegistryTransactionOperation[]): Promise<void> {
    const client = this.requireClient();
    for (let attempt = 1; attempt <= TRANSACTION_ATTEMPTS; attempt++) {
      const plan = planTransaction(operations, this.codec);
      if (plan.staticFailure !== undefined) {
        const failure = (await this.diagnose(client, operations)) ?? plan.staticFailure;
        throw transactionFailedError(failure, operations);
      }
      const snapshots = new Map<string, { keys: string[]; revision: bigint }>();
      for (const prefix of prefixesNeedingSnapshots(plan)) {
        const key = Buffer.from(prefix);
        const response = await this.read('executeInTransaction', undefined, (options) =>
          client.kv.range({ key, range_end: prefixEnd(key), keys_only: true }, options),
        );
        snapshots.set(prefix, {
          keys: response.kvs.map((kv) => kv.key.toString()),
          revision: BigInt(response.header.revision),
        });
      }
      const compiled = compileTransaction(plan, snapshots);
      const response = await this.write('executeInTransaction', undefined, () =>
        client.kv.txn(
          { compare: compiled.compare, success: compiled.success, failure: [] },
          this.callOptions(),
        ),
      );
      if (response.succeeded) return;
      const failure = await this.diagnose(client, operations);
      if (failure !== undefined) throw transactionFailedError(failure, operations);
      // The server changed between our Txn and the re-read so that nothing fails now: try again.
    }
    throw new RegistryError(
      'TRANSACTION_FAILED',
      `Transaction of ${operations.length} operation(s) committed nothing: concurrent changes kept invalidating it`,
    );
  }

  /**
   * Runs `callback` while holding the distributed latch `latchKey`: a fair queue of lease-attached
   * keys below it (see `leader-latch.ts`).
   *
   * @param latchKey - latch path.
   * @param callback - work done while holding the latch.
   * @param options - `waitTimeoutMs` (default 30 000 ms) and an abort signal.
   * @returns the callback's result.
   * @throws {RegistryError} `TIMEOUT` when not acquired in time; `SESSION_EXPIRED` when the session
   *   ends while waiting; connection codes; the signal's reason; whatever the callback throws.
   */
  executeInLeader<T>(
    latchKey: string,
    callback: () => Promise<T> | T,
    options?: LeaderLatchOptions,
  ): Promise<T> {
    assertRegistryPath(latchKey);
    if (typeof callback !== 'function') throw new TypeError('executeInLeader: callback must be a function');
    const client = this.requireClient(latchKey);
    const session = this.requireSession(latchKey);
    const context: LatchContext = {
      client,
      codec: this.codec,
      session,
      requestTimeoutMs: this.options.connectionTimeoutMs,
      gate: this.gate,
      reads: this.reads as ReadBatcher,
      putWithParents: async (path, leaseId) => {
        const response = await this.write(
          'executeInLeader',
          latchKey,
          () =>
            client.kv.txn(
              {
                compare: [],
                success: [
                  ...this.createParents(path),
                  { request_put: { key: Buffer.from(this.codec.toKey(path)), value: EMPTY, lease: leaseId } },
                ],
                failure: [],
              },
              this.callOptions(),
            ),
          leaseId,
        );
        return BigInt(response.header.revision);
      },
      onError: this.reportError,
      track: (cleanup) => {
        this.cleanups.add(cleanup);
        return () => this.cleanups.delete(cleanup);
      },
    };
    return executeInLatch(context, latchKey, callback, options);
  }

  /**
   * Watches `key` and its subtree: delivers the current nodes as `ADDED` (parents first) before
   * resolving, then every change with prev-KV (`UPDATED` for a put over an existing key, `ADDED`
   * otherwise, `DELETED` with the last value). Every watch of this client shares one etcd watcher
   * over the namespace (created by the first call, see `namespace-watch.ts`). Reconnects resume
   * from the last delivered revision; a cancelled watcher (compaction) re-reads every watched
   * subtree and delivers the differences.
   *
   * @param key - subtree root (may be `/`).
   * @param listener - receives the events.
   * @returns a function that stops the watch.
   * @throws {RegistryError} `NOT_STARTED`, connection codes, `NO_AUTH`.
   */
  async watch(key: string, listener: RegistryWatchListener): Promise<RegistryUnwatch> {
    assertRegistryPath(key);
    if (typeof listener !== 'function') throw new TypeError('watch: listener must be a function');
    const client = this.requireClient(key);
    this.namespaceWatch ??= new NamespaceWatch({ client, codec: this.codec, onError: this.reportError });
    const namespaceWatch = this.namespaceWatch;
    const watch = new SubtreeWatch({
      client,
      codec: this.codec,
      path: key,
      listener,
      requestTimeoutMs: this.options.connectionTimeoutMs,
      gate: this.gate,
      onError: this.reportError,
    });
    try {
      await namespaceWatch.add(watch);
    } catch (error) {
      throw toRegistryError(error, 'watch', key);
    }
    if (this.lifecycle !== 'started') {
      namespaceWatch.remove(watch);
      throw new RegistryError('NOT_STARTED', 'The etcd registry was closed', { path: key });
    }
    return async () => {
      namespaceWatch.remove(watch);
    };
  }

  /**
   * Registers a connection state listener.
   *
   * @param listener - called on `CONNECTED`, `SUSPENDED`, `LOST`, `RECONNECTED`, in order.
   * @returns a function that removes it (synchronous, idempotent).
   */
  addConnectionStateListener(listener: RegistryConnectionStateListener): () => void {
    if (typeof listener !== 'function')
      throw new TypeError('addConnectionStateListener: listener must be a function');
    this.stateListeners.add(listener);
    return () => {
      this.stateListeners.delete(listener);
    };
  }

  // ---- internals ----

  private clientOptions(terms: RaftTermTracker): IOptions {
    const { options } = this;
    const tls = options.tls;
    const streamInterceptors = [terms.streamInterceptor];
    const unaryInterceptors = [terms.unaryInterceptor];
    const toBuffer = (value: string | Buffer | undefined) =>
      value === undefined ? undefined : Buffer.isBuffer(value) ? value : Buffer.from(value);
    return {
      hosts: [...options.endpoints],
      ...(options.auth === undefined ? {} : { auth: { ...options.auth } }),
      ...(tls === undefined
        ? {}
        : {
            credentials: {
              rootCertificate: toBuffer(tls.ca) as Buffer,
              privateKey: toBuffer(tls.key),
              certChain: toBuffer(tls.cert),
            },
          }),
      grpcOptions: {
        'grpc.initial_reconnect_backoff_ms': 100,
        'grpc.min_reconnect_backoff_ms': 100,
        'grpc.max_reconnect_backoff_ms': 1000,
        // A private subchannel pool: closing the client closes its HTTP/2 connections at once
        // (the global pool keeps them up to 10 s after the last channel closed).
        'grpc.use_local_subchannel_pool': 1,
      },
      // Asked for on every call: the interceptor lists are built once.
      defaultCallOptions: (context) =>
        context.isStream
          ? { interceptors: streamInterceptors }
          : { deadline: Date.now() + options.connectionTimeoutMs, interceptors: unaryInterceptors },
      faultHandling: {
        host: () => passthroughPolicy(),
        global: retryUnavailablePolicy(options.endpoints.length),
        watchBackoff: cappedExponentialBackoff(100, 1000),
      },
    };
  }

  /** See {@link EtcdRegistryCenter.sentinel}; it needs no history, so it never resumes from a revision. */
  private createSentinel(client: Etcd3): Watcher {
    const sentinel = client.watch().key(this.codec.sentinel).watcher();
    sentinel.on('disconnected', () => {
      delete sentinel.request.start_revision;
    });
    sentinel.on('error', (error: Error) => {
      if (this.sentinel !== sentinel || this.lifecycle !== 'started') return;
      this.reportError('idle sentinel watch was cancelled; re-creating it', error);
      this.sentinel = this.createSentinel(client);
    });
    return sentinel;
  }

  private callOptions(): { deadline: number } {
    return { deadline: Date.now() + this.options.connectionTimeoutMs };
  }

  private async untilConnected<T>(
    deadlineAt: number,
    attempt: (timeoutMs: number) => Promise<T>,
  ): Promise<T> {
    for (;;) {
      const remaining = Math.max(1, deadlineAt - performance.now());
      try {
        return await attempt(remaining);
      } catch (error) {
        if (registryErrorCodeOf(error) !== 'CONNECTION_LOSS' || performance.now() >= deadlineAt) throw error;
        await new Promise((resolve) =>
          setTimeout(resolve, Math.min(250, Math.max(0, deadlineAt - performance.now()))),
        );
      }
    }
  }

  private emitState(state: RegistryConnectionState): void {
    if (this.lifecycle === 'closed') return;
    for (const listener of [...this.stateListeners]) {
      try {
        listener(state);
      } catch (error) {
        this.reportError(`connection state listener threw on ${state}`, error);
      }
    }
  }

  private requireClient(path?: string): Etcd3 {
    if (this.lifecycle !== 'started' || this.client === undefined) {
      throw new RegistryError(
        'NOT_STARTED',
        `The etcd registry is ${this.lifecycle === 'closed' ? 'closed' : 'not started'}`,
        {
          path,
        },
      );
    }
    return this.client;
  }

  private requireSession(path?: string): LeaseSession {
    this.requireClient(path);
    return this.session as LeaseSession;
  }

  /**
   * Runs a vendor call that writes, like {@link call}, once the session's lease is known to be held
   * ({@link LeaseSession.confirmLease}): nothing is written on a lease the server has expired but
   * not yet revoked.
   */
  private async write<T>(
    operation: string,
    path: string | undefined,
    fn: () => Promise<T>,
    leaseId?: string,
  ): Promise<T> {
    await this.requireSession(path).confirmLease(path);
    return this.call(operation, path, fn, leaseId);
  }

  /**
   * Runs a vendor call that only reads, like {@link call}. A read a raft leader change cancelled
   * (see `raft-term.ts`) is sent again until `connectionTimeoutMs` after the first attempt: it
   * changed nothing, so only a read no server answered in time fails with `CONNECTION_LOSS`.
   */
  private read<T>(
    operation: string,
    path: string | undefined,
    fn: (callOptions: { deadline: number }) => Promise<T>,
  ): Promise<T> {
    return this.call(operation, path, () =>
      readAcrossTermChanges((deadline) => fn({ deadline }), Date.now() + this.options.connectionTimeoutMs),
    );
  }

  /**
   * Runs a vendor call through the {@link RequestGate} (its deadline starts when it is sent),
   * mapping its error; a refused lease ends the session at once.
   */
  private async call<T>(
    operation: string,
    path: string | undefined,
    fn: () => Promise<T>,
    leaseId?: string,
  ): Promise<T> {
    try {
      return await this.gate.run(fn);
    } catch (error) {
      throw this.registryErrorOf(error, operation, path, leaseId);
    }
  }

  /** The registry error of a failed vendor call; a refused lease ends the session at once. */
  private registryErrorOf(
    error: unknown,
    operation: string,
    path: string | undefined,
    leaseId?: string,
  ): RegistryError {
    const registryError = toRegistryError(error, operation, path);
    if (registryError.code === 'SESSION_EXPIRED' && leaseId !== undefined)
      this.session?.leaseInvalid(leaseId);
    if (this.lifecycle === 'closed' && registryError.code === 'CONNECTION_LOSS') {
      return new RegistryError('NOT_STARTED', `etcd ${operation} interrupted: the registry was closed`, {
        path,
        cause: error,
      });
    }
    return registryError;
  }

  /** Nested Txns creating each missing ancestor of `path` with value `''`. */
  private createParents(path: string): IRequestOp[] {
    return KeyCodec.ancestors(path).map((ancestor) => {
      const key = this.codec.toKey(ancestor);
      return {
        request_txn: {
          compare: [absent(key)],
          success: [{ request_put: { key: Buffer.from(key), value: EMPTY } }],
          failure: [],
        },
      };
    });
  }

  /**
   * Reads a node and whether it has descendants (two ranges), through the {@link ReadBatcher}:
   * with the other point reads waiting for the gate, in one Txn.
   */
  private async readNode(
    operation: string,
    path: string,
    keysOnly: boolean,
  ): Promise<{ own: IRangeResponse; child: IRangeResponse }> {
    const reads = this.reads as ReadBatcher;
    const descendants = this.codec.descendants(path);
    let responses: readonly IResponseOp[];
    try {
      ({ responses } = await reads.read([
        { request_range: { key: Buffer.from(this.codec.toKey(path)), keys_only: keysOnly } },
        {
          request_range: {
            key: descendants.key,
            range_end: descendants.range_end,
            keys_only: true,
            limit: 1,
          },
        },
      ]));
    } catch (error) {
      throw this.registryErrorOf(error, operation, path);
    }
    const own = rangeOf(responses[0]);
    const child = rangeOf(responses[1]);
    if (own === undefined || child === undefined) {
      throw new RegistryError('CONNECTION_LOSS', `etcd answered a read of '${path}' without range results`, {
        path,
      });
    }
    return { own, child };
  }

  /** Names of the direct children of `path`: one range of its descendants' keys, through the {@link ReadBatcher}. */
  private async childNames(operation: string, path: string): Promise<Set<string>> {
    const reads = this.reads as ReadBatcher;
    const descendants = this.codec.descendants(path);
    let response: IRangeResponse | undefined;
    try {
      const { responses } = await reads.read([
        { request_range: { key: descendants.key, range_end: descendants.range_end, keys_only: true } },
      ]);
      response = rangeOf(responses[0]);
    } catch (error) {
      throw this.registryErrorOf(error, operation, path);
    }
    if (response === undefined) {
      throw new RegistryError('CONNECTION_LOSS', `etcd answered a read of '${path}' without a range result`, {
        path,
      });
    }
    const prefixLength = descendants.key.length;
    const names = new Set<string>();
    for (const kv of response.kvs) {
      const rest = kv.key.subarray(prefixLength).toString();
      const slash = rest.indexOf('/');
      const name = slash === -1 ? rest : rest.slice(0, slash);
      if (KeyCodec.isNodeName(name)) names.add(name);
    }
    return names;
  }

  private async createSequential(
    operation: string,
    prefixPath: string,
    value: string,
    leaseId: string | undefined,
  ): Promise<string> {
    const client = this.requireClient(prefixPath);
    parentRegistryPath(prefixPath);
    const counter = Buffer.from(this.codec.sequenceCounter(prefixPath));
    const readCounter = (responses: readonly { response_range?: IRangeResponse }[]) =>
      BigInt(rangeOf(responses[0])?.kvs[0]?.version ?? '0');
    let version = await this.read(operation, prefixPath, async (options) =>
      BigInt((await client.kv.range({ key: counter, keys_only: true }, options)).kvs[0]?.version ?? '0'),
    );
    for (let attempt = 1; attempt <= SEQUENCE_ATTEMPTS; attempt++) {
      const path = `${prefixPath}${(version + 1n).toString().padStart(10, '0')}`;
      const key = this.codec.toKey(path);
      const versionCompare: ICompare = {
        key: counter,
        target: 'Version',
        result: 'Equal',
        version: version.toString(),
      };
      const put: IRequestOp = {
        request_put:
          leaseId === undefined
            ? { key: Buffer.from(key), value: Buffer.from(value) }
            : { key: Buffer.from(key), value: Buffer.from(value), lease: leaseId },
      };
      const response = await this.write(
        operation,
        prefixPath,
        () =>
          client.kv.txn(
            {
              compare: [versionCompare, absent(key)],
              success: [...this.createParents(path), { request_put: { key: counter, value: EMPTY } }, put],
              failure: [{ request_range: { key: counter, keys_only: true } }],
            },
            this.callOptions(),
          ),
        leaseId,
      );
      if (response.succeeded) return path;
      const current = readCounter(response.responses);
      if (current === version) {
        // The counter is ours but the name is taken (written by other means): skip past it.
        await this.write(operation, prefixPath, () =>
          client.kv.txn(
            {
              compare: [versionCompare],
              success: [{ request_put: { key: counter, value: EMPTY } }],
              failure: [],
            },
            this.callOptions(),
          ),
        );
        version = current + 1n;
      } else {
        version = current;
      }
    }
    throw new RegistryError(
      'CONNECTION_LOSS',
      `${operation}: could not claim a sequence number for '${prefixPath}' after ${SEQUENCE_ATTEMPTS} attempts`,
      { path: prefixPath },
    );
  }

  /** Re-reads the keys a transaction depends on (atomically) and names the first failing op. */
  private async diagnose(
    client: Etcd3,
    operations: readonly RegistryTransactionOperation[],
  ): Promise<OperationFailure | undefined> {
    const keys = keysToDiagnose(operations, this.codec);
    const response = await this.read('executeInTransaction', undefined, (options) =>
      client.kv.txn(
        {
          compare: [],
          success: keys.map((key) => ({ request_range: { key: Buffer.from(key) } })),
          failure: [],
        },
        options,
      ),
    );
    const values = new Map<string, string>();
    keys.forEach((key, index) => {
      const kv = rangeOf(response.responses[index])?.kvs[0];
      if (kv !== undefined) values.set(key, kv.value.toString('utf8'));
    });
    return planTransaction(operations, this.codec, (key) => values.get(key)).staticFailure;
  }
}

const OPERATION_TYPES = new Set(['check', 'create', 'update', 'delete']);

function validateOperations(operations: readonly RegistryTransactionOperation[]): void {
  if (!Array.isArray(operations)) throw new TypeError('executeInTransaction: operations must be an array');
  operations.forEach((operation: RegistryTransactionOperation, index) => {
    if (operation === null || typeof operation !== 'object' || !OPERATION_TYPES.has(operation.type)) {
      throw new TypeError(
        `executeInTransaction: operation ${index} must be { type: 'check' | 'create' | 'update' | 'delete', key }`,
      );
    }
    assertRegistryPath(operation.key, operation.type === 'check');
    if (operation.type === 'update') assertValue(operation.value, `executeInTransaction: operation ${index}`);
    if ((operation.type === 'create' || operation.type === 'check') && operation.value !== undefined) {
      assertValue(operation.value, `executeInTransaction: operation ${index}`);
    }
  });
}
