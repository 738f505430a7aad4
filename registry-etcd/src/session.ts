/**
 * The client's session: one etcd lease with TTL = `ceil(sessionTimeoutMs / 1000)` s, kept alive by
 * our own loop (not `etcd3`'s `Lease`, which declares the lease lost on a local timer after
 * 2 × TTL):
 *
 * - a keep-alive every TTL/3 (from the previous one's sending) over one bidirectional stream; a
 *   failed keep-alive or a broken stream ⇒ `SUSPENDED` at once; a keep-alive not answered ⇒
 *   `SUSPENDED` after TTL/3, or later if the lease is known held longer (see below): an answer
 *   that is merely late (a server or an event loop busy with a burst of work) suspends nothing
 *   while the server holds the lease whatever happens. While `SUSPENDED`, keep-alives are retried
 *   (on a new stream, to any endpoint) every 250 ms for as long as it takes; a keep-alive whose
 *   endpoint was unavailable (`UNAVAILABLE`:
 *   it reached no server, e.g. a dead cluster member) is sent again at once on a new stream, up
 *   to one endpoint count in a row, so that a dead member picked at random costs no retry delay;
 * - `LOST` is a fact the server states, never a local guess: a keep-alive answered with TTL ≤ 0
 *   (etcd's answer for a lease it does not hold: expired or revoked), or any request refused with
 *   "lease not found". No local timer ends the session: after an event-loop stall, a partition or
 *   a registry leader change longer than the TTL, the session goes on if the server still holds
 *   the lease (etcd extends every lease when a new leader takes over);
 * - a keep-alive answered with TTL > 0 while `SUSPENDED` ⇒ `RECONNECTED` (same session, same
 *   lease, ephemeral keys intact);
 * - after `LOST`, a new lease is granted as soon as a server answers ⇒ `RECONNECTED` (new
 *   session). A lease is revoked only by `close()`: the adapter never revokes a lease it merely
 *   believes expired.
 *
 * While `SUSPENDED` the server may expire the lease at any moment (one TTL after the last
 * keep-alive it received); the adapter learns it at the next keep-alive that gets an answer. Job
 * logic that must stop work when its session may have ended therefore treats a `SUSPENDED` that
 * lasts longer than the session timeout as "others may have taken over".
 *
 * Writes are fenced by {@link LeaseSession.confirmLease}: etcd revokes an expired lease lazily (a
 * background loop, then a raft round), and until it has, the lease's keys still exist and puts
 * bound to it still succeed. So a write is sent only while the lease is known to be held: less
 * than one TTL (minus a margin) since a keep-alive the server answered was sent, measured on the
 * monotonic clock, which also runs while the process is stopped or its event loop stalls. After
 * a longer silence (`SIGSTOP`, a stall, a partition) the first write waits for a keep-alive's
 * answer: renewed, it goes on; the lease gone, the session is `LOST` and the write fails with
 * `SESSION_EXPIRED`, so nothing is written on a session the server has already ended.
 *
 * @module
 */
import { type RegistryConnectionState, RegistryError } from '@elasticjob-ts/core/adapter';
import {
  castGrpcError,
  GRPCUnavailableError,
  type IDuplexStream,
  type ILeaseKeepAliveRequest,
  type ILeaseKeepAliveResponse,
  type LeaseClient,
} from 'etcd3';
import { registryErrorCodeOf, toRegistryError } from './to-registry-error.js';

/** Internal session state. */
export type SessionState = 'idle' | 'alive' | 'suspended' | 'lost' | 'closed';

type KeepAliveStream = IDuplexStream<ILeaseKeepAliveRequest, ILeaseKeepAliveResponse>;

/** Options of {@link LeaseSession}. */
export interface LeaseSessionOptions {
  readonly leaseClient: LeaseClient;
  /** Lease TTL, in whole seconds. */
  readonly ttlSeconds: number;
  /** Deadline of one lease RPC (grant, revoke), in ms. */
  readonly requestTimeoutMs: number;
  /** Receives state changes (`SUSPENDED`, `LOST`, `RECONNECTED`). */
  readonly onStateChange: (state: RegistryConnectionState) => void;
  /** Receives background failures worth a log line. */
  readonly onBackgroundError: (message: string, error: unknown) => void;
  /**
   * Number of server endpoints: how many keep-alives in a row are sent again at once after their
   * endpoint was unavailable, before the retry delay applies again.
   */
  readonly endpointCount: number;
}

/** Monotonic time, in ms (the global `performance`, which tests can fake). */
const now = () => performance.now();
const RETRY_DELAY_MS = 250;
/**
 * A write is sent without asking the server first only while the lease is known held for at least
 * this long after the write leaves, in ms: room for the request to reach the server.
 */
const CONFIRM_MARGIN_MS = 500;
/** Bound of one keep-alive while `SUSPENDED`, in ms. */
const SUSPENDED_PROBE_TIMEOUT_MS = 500;

/** A lease-backed session with its keep-alive loop and state machine (see the module docs). */
export class LeaseSession {
  private stateValue: SessionState = 'idle';
  private lease: string | undefined;
  private stream: KeepAliveStream | undefined;
  private pendingAck: ((result: Error | ILeaseKeepAliveResponse) => void) | undefined;
  private tickTimer: NodeJS.Timeout | undefined;
  private recoverTimer: NodeJS.Timeout | undefined;
  private currentTick: Promise<void> | undefined;
  private acknowledged = 0;
  /** Keep-alives in a row that failed `UNAVAILABLE` and were sent again without delay. */
  private unavailableInARow = 0;
  /**
   * Monotonic time (`performance.now()`) until which the server holds the lease for sure: when the
   * last keep-alive it answered (or the grant) was sent, plus the TTL it answered. 0 when unknown.
   */
  private heldUntil = 0;
  private readonly intervalMs: number;
  private readonly lossListeners = new Set<(leaseId: string) => void>();

  constructor(private readonly options: LeaseSessionOptions) {
    this.intervalMs = Math.max(100, Math.floor((options.ttlSeconds * 1000) / 3));
  }

  /** Current state. */
  get state(): SessionState {
    return this.stateValue;
  }

  /**
   * How many keep-alives the server answered with TTL > 0 since `open` (diagnostics: a test can
   * wait for the server to have renewed the lease after a fault).
   */
  get acknowledgedKeepAlives(): number {
    return this.acknowledged;
  }

  /** The lease of the current session, or `undefined` while `LOST`, before `open` or after `close`. */
  get leaseId(): string | undefined {
    return this.lease;
  }

  /**
   * The lease to attach ephemeral keys to.
   *
   * @throws {RegistryError} `SESSION_EXPIRED` while the session is lost (a new one is being
   *   established), `NOT_STARTED` before `open`/after `close`.
   */
  requireLease(path?: string): string {
    if (this.lease !== undefined && (this.stateValue === 'alive' || this.stateValue === 'suspended')) {
      return this.lease;
    }
    if (this.stateValue === 'lost') {
      throw new RegistryError(
        'SESSION_EXPIRED',
        'The etcd session expired; a new session is being established',
        {
          path,
        },
      );
    }
    throw new RegistryError('NOT_STARTED', 'The etcd registry is not started', { path });
  }

  /**
   * Resolves once the server is known to hold the current lease long enough for a write sent now:
   * at once in steady state (keep-alives every TTL/3 keep it known), else after one keep-alive
   * round trip. Called before every write, so that no write is sent on a lease the server has
   * expired but not yet revoked (see the module docs).
   *
   * @param path - the key being written, for the error.
   * @throws {RegistryError} `SESSION_EXPIRED` when the server says the lease is gone (the session
   *   is then `LOST`); `CONNECTION_LOSS` when no keep-alive was answered (the session is
   *   `SUSPENDED`); `NOT_STARTED` before `open`/after `close`.
   */
  async confirmLease(path?: string): Promise<void> {
    this.requireLease(path);
    if (this.leaseProven()) return;
    await this.tick();
    this.requireLease(path);
    if (this.leaseProven()) return;
    throw new RegistryError(
      'CONNECTION_LOSS',
      'The etcd server did not confirm the session lease (no keep-alive answered); nothing was written',
      { path },
    );
  }

  /**
   * Whether {@link confirmLease} would resolve at once now: a lease is held and the server is known
   * to keep it long enough for a write sent now. Never throws.
   */
  leaseProven(): boolean {
    return (
      this.lease !== undefined &&
      (this.stateValue === 'alive' || this.stateValue === 'suspended') &&
      now() + CONFIRM_MARGIN_MS < this.heldUntil
    );
  }

  /**
   * Registers a listener called when the session with the given lease ends (`LOST` or `close`).
   *
   * @returns a function removing the listener.
   */
  onSessionEnd(listener: (leaseId: string) => void): () => void {
    this.lossListeners.add(listener);
    return () => this.lossListeners.delete(listener);
  }

  /**
   * Grants the first lease, retrying until `deadlineAt` (a `performance.now()` time) while no
   * server answers, then starts the keep-alive loop.
   *
   * @throws {RegistryError} with the code of the last failure (`NO_AUTH` at once) when no lease
   *   could be granted in time; the caller turns connection failures into `TIMEOUT`.
   */
  async open(deadlineAt: number): Promise<void> {
    for (;;) {
      try {
        const remaining = Math.max(1, deadlineAt - now());
        const sentAt = now();
        const id = await this.grant(Math.min(remaining, this.options.requestTimeoutMs));
        if (this.stateValue === 'closed') {
          await this.revoke(id, this.options.requestTimeoutMs);
          throw new RegistryError('NOT_STARTED', 'The etcd registry was closed while starting');
        }
        this.activate(id, sentAt);
        return;
      } catch (error) {
        const registryError = toRegistryError(error, 'lease grant');
        if (registryError.code !== 'CONNECTION_LOSS' || now() >= deadlineAt) throw registryError;
        await new Promise((resolve) => setTimeout(resolve, Math.min(RETRY_DELAY_MS, deadlineAt - now())));
      }
    }
  }

  /**
   * Called when the server refused an operation because our lease is gone (`requested lease not
   * found`): the server says the session ended, so it is lost at once.
   */
  leaseInvalid(leaseId: string): void {
    if (leaseId === this.lease) this.loseSession();
  }

  /**
   * Stops the keep-alive loop and revokes the lease, so ephemeral keys disappear for everyone at
   * once. A revoke that fails (server unreachable) is not an error: the lease then expires after
   * its TTL. Idempotent.
   *
   * @param revokeTimeoutMs - deadline of the revoke, in ms (default: the request timeout).
   */
  async close(revokeTimeoutMs = this.options.requestTimeoutMs): Promise<void> {
    if (this.stateValue === 'closed') return;
    const lease = this.lease;
    this.stateValue = 'closed';
    this.lease = undefined;
    this.heldUntil = 0;
    this.clearTimers();
    // A keep-alive in flight holds a timer of its own: settle it so nothing outlives close().
    this.pendingAck?.(new RegistryError('NOT_STARTED', 'the etcd session was closed'));
    this.dropStream();
    if (lease === undefined) return;
    this.notifySessionEnd(lease);
    await this.revoke(lease, revokeTimeoutMs).catch((error: unknown) => {
      this.options.onBackgroundError(
        `could not revoke lease ${lease} on close; it expires after its TTL`,
        error,
      );
    });
  }

  private async grant(timeoutMs: number): Promise<string> {
    const response = await this.options.leaseClient.leaseGrant(
      { TTL: this.options.ttlSeconds },
      { deadline: Date.now() + timeoutMs },
    );
    return response.ID;
  }

  private async revoke(id: string, timeoutMs: number): Promise<void> {
    try {
      await this.options.leaseClient.leaseRevoke({ ID: id }, { deadline: Date.now() + timeoutMs });
    } catch (error) {
      if (registryErrorCodeOf(error) !== 'SESSION_EXPIRED') throw error;
    }
  }

  private activate(id: string, grantSentAt: number): void {
    this.lease = id;
    this.heldUntil = grantSentAt + this.options.ttlSeconds * 1000;
    this.stateValue = 'alive';
    // Open the keep-alive stream at once: a broken stream is how an outage between two
    // keep-alives is noticed.
    this.scheduleTick(0);
  }

  private emit(state: RegistryConnectionState): void {
    this.options.onStateChange(state);
  }

  private notifySessionEnd(leaseId: string): void {
    for (const listener of [...this.lossListeners]) {
      try {
        listener(leaseId);
      } catch (error) {
        this.options.onBackgroundError('session-end listener threw', error);
      }
    }
  }

  private clearTimers(): void {
    clearTimeout(this.tickTimer);
    clearTimeout(this.recoverTimer);
    this.tickTimer = undefined;
    this.recoverTimer = undefined;
  }

  private scheduleTick(delayMs: number): void {
    clearTimeout(this.tickTimer);
    this.tickTimer = setTimeout(() => void this.tick(), delayMs);
  }

  /** Runs one keep-alive round, or joins the one running (which schedules the next). */
  private tick(): Promise<void> {
    if (this.currentTick === undefined) {
      this.currentTick = this.tickOnce().finally(() => {
        this.currentTick = undefined;
      });
    }
    return this.currentTick;
  }

  private async tickOnce(): Promise<void> {
    const lease = this.lease;
    if (lease === undefined || (this.stateValue !== 'alive' && this.stateValue !== 'suspended')) return;
    let response: ILeaseKeepAliveResponse;
    let sentAt: number;
    try {
      // While suspended, probe quickly: a probe stuck on a dead member must not delay the next
      // one (each probe opens a new stream, to any endpoint). While alive, wait for the answer
      // TTL/3, and longer as long as the lease is known held: until then a late answer is no
      // reason to suspend.
      sentAt = now();
      const timeoutMs =
        this.stateValue === 'suspended'
          ? SUSPENDED_PROBE_TIMEOUT_MS
          : Math.max(
              SUSPENDED_PROBE_TIMEOUT_MS,
              this.intervalMs,
              this.heldUntil - CONFIRM_MARGIN_MS - sentAt,
            );
      response = await this.keepAliveOnce(lease, timeoutMs);
    } catch (error) {
      if (lease !== this.lease) return;
      this.dropStream();
      if (registryErrorCodeOf(error) === 'SESSION_EXPIRED') {
        this.loseSession(); // the server says the lease is gone
        return;
      }
      if (this.stateValue === 'alive') {
        this.stateValue = 'suspended';
        this.emit('SUSPENDED');
      }
      // An endpoint that was unavailable saw nothing: try another one at once (each new stream
      // goes to an endpoint picked at random), up to one endpoint count in a row.
      const unavailable = castGrpcError(error as Error) instanceof GRPCUnavailableError;
      this.unavailableInARow = unavailable ? this.unavailableInARow + 1 : 0;
      if (unavailable && this.unavailableInARow < this.options.endpointCount) {
        this.scheduleTick(0);
      } else {
        this.unavailableInARow = 0;
        this.scheduleTick(Math.min(RETRY_DELAY_MS, this.intervalMs));
      }
      return;
    }
    this.unavailableInARow = 0;
    if (lease !== this.lease) return;
    if (Number(response.TTL) <= 0) {
      this.loseSession(); // the server does not hold the lease (expired or revoked)
      return;
    }
    this.acknowledged += 1;
    this.heldUntil = Math.max(this.heldUntil, sentAt + Number(response.TTL) * 1000);
    if (this.stateValue === 'suspended') {
      this.stateValue = 'alive';
      this.emit('RECONNECTED');
    }
    // TTL/3 after this keep-alive was sent: a late answer does not push the next one back.
    this.scheduleTick(Math.max(0, sentAt + this.intervalMs - now()));
  }

  private async keepAliveOnce(lease: string, timeoutMs: number): Promise<ILeaseKeepAliveResponse> {
    const stream = this.stream ?? (await this.openStream());
    return new Promise<ILeaseKeepAliveResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pendingAck = undefined;
        reject(new RegistryError('CONNECTION_LOSS', `etcd keep-alive not answered within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pendingAck = (result) => {
        clearTimeout(timer);
        this.pendingAck = undefined;
        if (result instanceof Error) reject(result);
        else resolve(result);
      };
      try {
        stream.write({ ID: lease });
      } catch (error) {
        this.pendingAck(error instanceof Error ? error : new Error(String(error)));
      }
    });
  }

  private async openStream(): Promise<KeepAliveStream> {
    const stream = await this.options.leaseClient.leaseKeepAlive();
    const fail = (error: Error) => {
      if (this.stream !== stream) return; // dropped on purpose
      this.stream = undefined;
      if (this.pendingAck !== undefined) {
        this.pendingAck(error); // the running tick reports it
        return;
      }
      // The connection broke between keep-alives: report it now and probe again soon.
      if (this.stateValue === 'alive') {
        this.stateValue = 'suspended';
        this.emit('SUSPENDED');
      }
      if (this.stateValue === 'suspended') this.scheduleTick(Math.min(RETRY_DELAY_MS, this.intervalMs));
    };
    stream.on('data', (response) => {
      if (this.stream === stream) this.pendingAck?.(response);
    });
    stream.on('error', (error) => fail(error));
    stream.on('end', () => fail(new RegistryError('CONNECTION_LOSS', 'etcd keep-alive stream ended')));
    this.stream = stream;
    return stream;
  }

  private dropStream(): void {
    const stream = this.stream;
    this.stream = undefined;
    this.pendingAck = undefined;
    if (stream !== undefined) {
      try {
        // Half-close first: etcd3 then sees a non-writable stream and does not treat the
        // cancellation below as a host failure (which would reset every channel of the host).
        stream.end();
        stream.cancel();
      } catch {
        // already closed by the transport: nothing left to release
      }
    }
  }

  private loseSession(): void {
    if (this.stateValue !== 'alive' && this.stateValue !== 'suspended') return;
    const lease = this.lease;
    this.lease = undefined;
    this.heldUntil = 0;
    this.clearTimers();
    this.dropStream();
    this.stateValue = 'lost';
    if (lease !== undefined) this.notifySessionEnd(lease);
    this.emit('LOST');
    void this.recover(RETRY_DELAY_MS);
  }

  private async recover(nextDelayMs: number): Promise<void> {
    if (this.stateValue !== 'lost') return;
    try {
      const sentAt = now();
      const id = await this.grant(this.options.requestTimeoutMs);
      if (this.stateValue !== 'lost') {
        await this.revoke(id, this.options.requestTimeoutMs).catch(() => undefined);
        return;
      }
      this.activate(id, sentAt);
      this.emit('RECONNECTED');
    } catch (error) {
      if (this.stateValue !== 'lost') return;
      if (registryErrorCodeOf(error) === 'NO_AUTH') {
        this.options.onBackgroundError('etcd refused a new session lease; retrying', error);
      }
      this.recoverTimer = setTimeout(() => void this.recover(Math.min(2000, nextDelayMs * 2)), nextDelayMs);
    }
  }
}
