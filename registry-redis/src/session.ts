/**
 * The client's session on the server and the connection-state machine built on it.
 *
 * A session is an entry of the namespace's `s` sorted set: id → deadline in server epoch ms.
 * Heartbeats (a script, every `sessionTimeoutMs / 3`) push the deadline to `TIME + timeout`.
 * Every script first removes the sessions whose deadline passed, with their ephemeral nodes
 * (server-side handling in Lua, not key TTLs: a TTL'd key expires silently, and keyspace
 * notifications of the expiry are fire-and-forget, so nothing would reliably delete the
 * ephemerals and tell the watchers). An expired session is never revived.
 *
 * States, with ZooKeeper's meaning:
 * - `SUSPENDED`: the connection dropped or a heartbeat failed; the session may still be alive.
 * - `RECONNECTED`: a heartbeat succeeded again (same session), or a new session was opened after
 *   `LOST`.
 * - `LOST`: the session is gone by the server's rule. Reported when a heartbeat answers that it is
 *   gone, or, while the server cannot be reached, once the latest possible deadline has passed:
 *   each heartbeat carries a validity bound in server time (`notAfter`) and the server refuses
 *   one that arrives later, so the deadline can never exceed
 *   `max(acknowledged heartbeat's answer, unanswered heartbeat's send + round trip + window) + timeout`
 *   on this client's clock. After that the server treats the session as expired whatever happens.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { type RegistryConnectionState, RegistryError } from '@elasticjob-ts/core/adapter';
import { callScript, type RedisConnection } from './connection.js';
import { HEARTBEAT, OPEN_SESSION } from './lua.js';
import { toRegistryError } from './to-registry-error.js';

/** What the session needs from the registry center. */
export interface SessionContext {
  readonly connection: RedisConnection;
  readonly keyPrefix: string;
  readonly maxFeedLength: number;
  readonly sessionTimeoutMs: number;
  /** Reports a state change to the listeners. */
  readonly report: (state: RegistryConnectionState) => void;
  /** Reports background failures. */
  readonly onError: (message: string, error: unknown) => void;
  /** Receives the change feed's revision every answered heartbeat read (see `ChangeFeed`). */
  readonly onRevision?: (revision: number) => void;
}

type Phase = 'live' | 'suspended' | 'lost' | 'closed';

/** A session and its heartbeat loop. */
export class RedisSession {
  private sessionIdValue: string | undefined;
  private epochValue: string | undefined;
  private phase: Phase = 'lost';
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private lostTimer: NodeJS.Timeout | undefined;
  private inFlight = false;
  /** Local time (performance.now) after which the server has certainly expired the session. */
  private expiredBy = 0;
  /**
   * The last answered heartbeat: the server time it reported, its local send time and its round
   * trip. `serverMs - sentAt` bounds the server clock's offset from above, `serverMs - sentAt -
   * roundTripMs` from below.
   */
  private calibration: { serverMs: number; sentAt: number; roundTripMs: number } | undefined;
  /**
   * Local time (performance.now) until which the server certainly holds the session: the send
   * time of the latest heartbeat (or open) the server accepted, plus the timeout (the server set
   * the deadline to its time of processing plus the timeout, which is no earlier).
   */
  private provenUntil = 0;
  private confirming: Promise<void> | undefined;
  private readonly endListeners = new Set<(sessionId: string) => void>();
  private readonly onReady = () => this.beat();
  private readonly onClose = () => this.suspend();

  constructor(private readonly context: SessionContext) {}

  /** The live session's id, `undefined` while none (before start, after LOST, after close). */
  get sessionId(): string | undefined {
    return this.sessionIdValue;
  }

  /** The namespace's epoch (a random id written by the first session ever opened). */
  get epoch(): string | undefined {
    return this.epochValue;
  }

  /** Validity window of a heartbeat on the server, in ms. */
  private get windowMs(): number {
    return Math.max(1, Math.floor(this.context.sessionTimeoutMs / 3));
  }

  /**
   * Opens the first session and starts heartbeats and connection tracking.
   *
   * @throws {RegistryError} when the session cannot be opened.
   */
  async open(): Promise<void> {
    await this.openSession();
    this.phase = 'live';
    this.context.connection.on('ready', this.onReady);
    this.context.connection.on('close', this.onClose);
    this.schedule(this.windowMs);
  }

  /**
   * The live session id, for an operation that needs one.
   *
   * @throws {RegistryError} `SESSION_EXPIRED` when there is none right now.
   */
  require(path: string): string {
    const id = this.sessionIdValue;
    if (id === undefined || this.phase === 'lost') {
      throw new RegistryError(
        'SESSION_EXPIRED',
        `No live Redis session for '${path}' (the session was lost)`,
        {
          path,
        },
      );
    }
    return id;
  }

  /** Whether {@link confirm} would resolve at once now (live, and proven by a recent heartbeat). */
  proven(): boolean {
    return this.sessionIdValue !== undefined && this.phase === 'live' && performance.now() < this.provenUntil;
  }

  /**
   * Resolves once the server is known to hold the current session: at once while the latest
   * accepted heartbeat proves it, else after one more heartbeat.
   *
   * @param path - for the error.
   * @throws {RegistryError} `SESSION_EXPIRED` when the session is lost or was replaced meanwhile;
   *   `CONNECTION_LOSS` when suspended or no heartbeat was accepted.
   */
  async confirm(path: string): Promise<void> {
    const id = this.require(path);
    if (this.proven()) return;
    if (this.phase === 'live') {
      this.confirming ??= this.extend().finally(() => {
        this.confirming = undefined;
      });
      await this.confirming;
    }
    if (this.require(path) !== id) {
      throw new RegistryError(
        'SESSION_EXPIRED',
        'The Redis session was replaced while it was being confirmed',
        { path },
      );
    }
    if (this.phase !== 'live' || performance.now() >= this.provenUntil) {
      throw new RegistryError(
        'CONNECTION_LOSS',
        'The Redis server did not confirm the session (no heartbeat accepted)',
        {
          path,
        },
      );
    }
  }

  /**
   * Registers a listener called with the id of a session that ended (LOST or close).
   *
   * @returns a function that removes it.
   */
  onSessionEnd(listener: (sessionId: string) => void): () => void {
    this.endListeners.add(listener);
    return () => this.endListeners.delete(listener);
  }

  /** Stops heartbeats and tracking; the caller ends the session on the server. */
  stop(): string | undefined {
    this.phase = 'closed';
    clearTimeout(this.heartbeatTimer);
    clearTimeout(this.lostTimer);
    this.context.connection.off('ready', this.onReady);
    this.context.connection.off('close', this.onClose);
    const id = this.sessionIdValue;
    this.sessionIdValue = undefined;
    if (id !== undefined) this.notifyEnd(id);
    return id;
  }

  private async openSession(): Promise<void> {
    const sentAt = performance.now();
    let reply: [string, string, string];
    try {
      reply = (await callScript(
        this.context.connection,
        OPEN_SESSION,
        this.context.keyPrefix,
        this.context.maxFeedLength,
        [this.context.sessionTimeoutMs, randomUUID(), randomUUID()],
      )) as [string, string, string];
    } catch (error) {
      throw toRegistryError(error, 'open session');
    }
    const answeredAt = performance.now();
    this.sessionIdValue = reply[0];
    this.epochValue = reply[1];
    this.calibration = { serverMs: Number(reply[2]), sentAt, roundTripMs: answeredAt - sentAt };
    this.expiredBy = answeredAt + this.context.sessionTimeoutMs;
    this.provenUntil = sentAt + this.context.sessionTimeoutMs;
  }

  private schedule(delayMs: number): void {
    if (this.phase === 'closed') return;
    clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = setTimeout(() => this.beat(), delayMs);
  }

  private beat(): void {
    if (this.phase === 'closed' || this.inFlight) return;
    this.inFlight = true;
    const attempt = this.phase === 'lost' ? this.renew() : this.extend();
    attempt.finally(() => {
      this.inFlight = false;
      if (this.phase === 'closed') return;
      this.schedule(this.phase === 'live' ? this.windowMs : Math.min(this.windowMs, 500));
    });
  }

  /** Extends the current session; reports SUSPENDED/RECONNECTED/LOST as the answer says. */
  private async extend(): Promise<void> {
    const id = this.sessionIdValue;
    const calibration = this.calibration;
    if (id === undefined || calibration === undefined) return;
    if (this.context.connection.status !== 'ready') {
      // Not sent at all (no offline queue): it cannot extend anything.
      this.suspend();
      return;
    }
    const sentAt = performance.now();
    // The server refuses this heartbeat after `notAfter` (server ms) = this send time plus the
    // largest possible clock offset plus the window; on this client's clock that is at most
    // `sentAt + roundTripMs + window`, so until answered it may extend the deadline up to there.
    const notAfter = Math.floor(calibration.serverMs + (sentAt - calibration.sentAt) + this.windowMs);
    this.expiredBy = Math.max(
      this.expiredBy,
      sentAt + calibration.roundTripMs + this.windowMs + this.context.sessionTimeoutMs,
    );
    let reply: [number, string, string];
    try {
      reply = (await callScript(
        this.context.connection,
        HEARTBEAT,
        this.context.keyPrefix,
        this.context.maxFeedLength,
        [id, this.context.sessionTimeoutMs, notAfter],
      )) as [number, string, string];
    } catch (error) {
      if (this.sessionIdValue !== id || this.phase === 'closed') return;
      this.suspend();
      if (toRegistryError(error, 'heartbeat').code !== 'CONNECTION_LOSS') {
        this.context.onError('Redis session heartbeat failed', error);
      }
      return;
    }
    if (this.sessionIdValue !== id || this.phase === 'closed') return;
    this.context.onRevision?.(Number(reply[2]));
    const answeredAt = performance.now();
    const [status, serverMs] = [Number(reply[0]), Number(reply[1])];
    const next = { serverMs, sentAt, roundTripMs: answeredAt - sentAt };
    if (status === 0) {
      this.lose();
      await this.renew();
      return;
    }
    if (status === -1) {
      // Arrived too late: the session is unchanged; the next heartbeat recalibrates.
      this.calibration = next;
      this.suspend();
      return;
    }
    this.calibration = next;
    this.expiredBy = Math.max(this.expiredBy, answeredAt + this.context.sessionTimeoutMs);
    this.provenUntil = Math.max(this.provenUntil, sentAt + this.context.sessionTimeoutMs);
    if (this.phase === 'suspended') {
      this.phase = 'live';
      clearTimeout(this.lostTimer);
      this.context.report('RECONNECTED');
    }
  }

  /** After LOST: opens a new session and reports RECONNECTED. */
  private async renew(): Promise<void> {
    if (this.context.connection.status !== 'ready') return;
    try {
      await this.openSession();
    } catch (error) {
      if (toRegistryError(error, 'open session').code !== 'CONNECTION_LOSS') {
        this.context.onError('Could not open a new Redis session', error);
      }
      return;
    }
    if (this.phase === 'closed') return;
    this.phase = 'live';
    clearTimeout(this.lostTimer);
    this.context.report('RECONNECTED');
  }

  /** Connection trouble: SUSPENDED once, and LOST when the latest possible deadline has passed. */
  private suspend(): void {
    if (this.phase !== 'live') return;
    this.phase = 'suspended';
    this.context.report('SUSPENDED');
    this.armLostTimer();
  }

  private armLostTimer(): void {
    clearTimeout(this.lostTimer);
    const delay = Math.max(0, this.expiredBy - performance.now());
    this.lostTimer = setTimeout(() => {
      if (this.phase !== 'suspended') return;
      // A heartbeat answered or sent meanwhile may have moved the bound.
      if (this.expiredBy > performance.now()) {
        this.armLostTimer();
        return;
      }
      this.lose();
    }, delay);
  }

  private lose(): void {
    if (this.phase === 'lost' || this.phase === 'closed') return;
    this.phase = 'lost';
    clearTimeout(this.lostTimer);
    const id = this.sessionIdValue;
    this.sessionIdValue = undefined;
    this.context.report('LOST');
    if (id !== undefined) this.notifyEnd(id);
    this.schedule(0);
  }

  private notifyEnd(id: string): void {
    for (const listener of [...this.endListeners]) {
      try {
        listener(id);
      } catch (error) {
        this.context.onError('session end listener threw', error);
      }
    }
  }
}
