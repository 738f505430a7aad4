/**
 * The client's session: one etcd lease with TTL = `ceil(sessionTimeoutMs / 1000)` s, kept alive by
 * our own loop (not `etcd3`'s `Lease`, which reports loss only after 2 × TTL):
 *
 * - a keep-alive every TTL/3 over one bidirectional stream; a failed or unanswered keep-alive ⇒
 *   `SUSPENDED` at once;
 * - TTL elapsed since the *sending* of the last acknowledged keep-alive (the server cannot have
 *   extended the lease past that), or a keep-alive answered with TTL 0 (revoked/expired) ⇒ `LOST`;
 * - after `LOST`, a new lease is granted as soon as a server answers ⇒ `RECONNECTED` (new session),
 *   and the old lease is revoked in case the server still held it;
 * - a keep-alive succeeding again within the TTL ⇒ `RECONNECTED` (same session).
 *
 * @module
 */
import { performance } from 'node:perf_hooks';
import { type RegistryConnectionState, RegistryError } from '@elasticjob-ts/core';
import type { IDuplexStream, ILeaseKeepAliveRequest, ILeaseKeepAliveResponse, LeaseClient } from 'etcd3';
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
}

const now = () => performance.now();
const RETRY_DELAY_MS = 250;

/** A lease-backed session with its keep-alive loop and state machine (see the module docs). */
export class LeaseSession {
  private stateValue: SessionState = 'idle';
  private lease: string | undefined;
  private lastAckSentAt = 0;
  private stream: KeepAliveStream | undefined;
  private pendingAck: ((result: Error | ILeaseKeepAliveResponse) => void) | undefined;
  private tickTimer: NodeJS.Timeout | undefined;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private recoverTimer: NodeJS.Timeout | undefined;
  private ticking = false;
  private readonly staleLeases = new Set<string>();
  private readonly ttlMs: number;
  private readonly intervalMs: number;
  private readonly lossListeners = new Set<(leaseId: string) => void>();

  constructor(private readonly options: LeaseSessionOptions) {
    this.ttlMs = options.ttlSeconds * 1000;
    this.intervalMs = Math.max(100, Math.floor(this.ttlMs / 3));
  }

  /** Current state. */
  get state(): SessionState {
    return this.stateValue;
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
      const sentAt = now();
      try {
        const remaining = Math.max(1, deadlineAt - sentAt);
        const id = await this.grant(Math.min(remaining, this.options.requestTimeoutMs));
        if (this.stateValue === 'closed') {
          await this.revoke(id);
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
   * Called when an operation was refused because our lease is gone (`requested lease not found`):
   * the session is lost at once.
   */
  leaseInvalid(leaseId: string): void {
    if (leaseId === this.lease) this.loseSession();
  }

  /**
   * Stops the keep-alive loop and revokes the lease, so ephemeral keys disappear for everyone at
   * once. A revoke that fails (server unreachable) is not an error: the lease then expires after
   * its TTL. Idempotent.
   */
  async close(): Promise<void> {
    if (this.stateValue === 'closed') return;
    const lease = this.lease;
    this.stateValue = 'closed';
    this.lease = undefined;
    this.clearTimers();
    // A keep-alive in flight holds a timer of its own: settle it so nothing outlives close().
    this.pendingAck?.(new RegistryError('NOT_STARTED', 'the etcd session was closed'));
    this.dropStream();
    if (lease !== undefined) this.notifySessionEnd(lease);
    const revokes = [...this.staleLeases, ...(lease === undefined ? [] : [lease])].map((id) =>
      this.revoke(id).catch((error: unknown) => {
        this.options.onBackgroundError(
          `could not revoke lease ${id} on close; it expires after its TTL`,
          error,
        );
      }),
    );
    this.staleLeases.clear();
    await Promise.all(revokes);
  }

  private async grant(timeoutMs: number): Promise<string> {
    const response = await this.options.leaseClient.leaseGrant(
      { TTL: this.options.ttlSeconds },
      { deadline: Date.now() + timeoutMs },
    );
    return response.ID;
  }

  private async revoke(id: string): Promise<void> {
    try {
      await this.options.leaseClient.leaseRevoke(
        { ID: id },
        { deadline: Date.now() + this.options.requestTimeoutMs },
      );
    } catch (error) {
      if (registryErrorCodeOf(error) !== 'SESSION_EXPIRED') throw error;
    }
  }

  private activate(id: string, sentAt: number): void {
    this.lease = id;
    this.stateValue = 'alive';
    this.lastAckSentAt = sentAt;
    this.armDeadline();
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
    clearTimeout(this.deadlineTimer);
    clearTimeout(this.recoverTimer);
    this.tickTimer = undefined;
    this.deadlineTimer = undefined;
    this.recoverTimer = undefined;
  }

  private scheduleTick(delayMs: number): void {
    clearTimeout(this.tickTimer);
    this.tickTimer = setTimeout(() => void this.tick(), delayMs);
  }

  private armDeadline(): void {
    clearTimeout(this.deadlineTimer);
    const remaining = this.lastAckSentAt + this.ttlMs - now();
    this.deadlineTimer = setTimeout(
      () => {
        if (now() >= this.lastAckSentAt + this.ttlMs) this.loseSession();
        else this.armDeadline();
      },
      Math.max(0, remaining),
    );
  }

  private async tick(): Promise<void> {
    if (this.ticking) return; // the running tick schedules the next one
    this.ticking = true;
    try {
      await this.tickOnce();
    } finally {
      this.ticking = false;
    }
  }

  private async tickOnce(): Promise<void> {
    const lease = this.lease;
    if (lease === undefined || (this.stateValue !== 'alive' && this.stateValue !== 'suspended')) return;
    const sentAt = now();
    let response: ILeaseKeepAliveResponse;
    try {
      response = await this.keepAliveOnce(lease, Math.max(500, this.intervalMs));
    } catch (error) {
      if (lease !== this.lease) return;
      this.dropStream();
      if (registryErrorCodeOf(error) === 'SESSION_EXPIRED') {
        this.loseSession();
        return;
      }
      if (this.stateValue === 'alive') {
        this.stateValue = 'suspended';
        this.emit('SUSPENDED');
      }
      this.scheduleTick(Math.min(RETRY_DELAY_MS, this.intervalMs));
      return;
    }
    if (lease !== this.lease) return;
    if (Number(response.TTL) <= 0) {
      this.loseSession();
      return;
    }
    this.lastAckSentAt = sentAt;
    this.armDeadline();
    if (this.stateValue === 'suspended') {
      this.stateValue = 'alive';
      this.emit('RECONNECTED');
    }
    if (this.staleLeases.size > 0) this.revokeStaleLeases();
    this.scheduleTick(this.intervalMs);
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
    this.clearTimers();
    this.dropStream();
    if (lease !== undefined) this.staleLeases.add(lease);
    this.stateValue = 'lost';
    if (lease !== undefined) this.notifySessionEnd(lease);
    this.emit('LOST');
    void this.recover(RETRY_DELAY_MS);
  }

  private async recover(nextDelayMs: number): Promise<void> {
    if (this.stateValue !== 'lost') return;
    const sentAt = now();
    try {
      const id = await this.grant(this.options.requestTimeoutMs);
      if (this.stateValue !== 'lost') {
        await this.revoke(id).catch(() => undefined);
        return;
      }
      this.activate(id, sentAt);
      this.emit('RECONNECTED');
      this.revokeStaleLeases();
    } catch (error) {
      if (this.stateValue !== 'lost') return;
      if (registryErrorCodeOf(error) === 'NO_AUTH') {
        this.options.onBackgroundError('etcd refused a new session lease; retrying', error);
      }
      this.recoverTimer = setTimeout(() => void this.recover(Math.min(2000, nextDelayMs * 2)), nextDelayMs);
    }
  }

  private revokeStaleLeases(): void {
    for (const id of [...this.staleLeases]) {
      this.revoke(id).then(
        () => this.staleLeases.delete(id),
        () => undefined, // still unreachable: retried after the next successful keep-alive
      );
    }
  }
}
