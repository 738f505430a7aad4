/**
 * Per-client-session fault injection for the memory registry: request latency, delayed and
 * batched watch delivery, and network partitions (the server stops hearing the client; requests in
 * flight are lost; the server expires the session after its timeout; the client learns of the loss
 * only when it notices the broken connection, and of an expiry only when it reconnects, as with
 * ZooKeeper). Used by the deterministic simulator; every control is off until called, and a client
 * whose controls were never touched behaves exactly as before (operations complete synchronously).
 *
 * Ordering guarantees kept under every fault (ZooKeeper's):
 * - per session FIFO: requests reach the server in the order they were sent, responses come back
 *   in that order;
 * - one ordered channel from the server to the client: a watch event of a change committed before
 *   a request was served is delivered before that request's response, and events arrive in commit
 *   order;
 * - a request sent on a session that ended before it reached the server fails `SESSION_EXPIRED`.
 *
 * @module
 */
import { type Clock, type ClockTimer, RegistryError } from '@elasticjob-ts/core/adapter';
import type { SessionRecord } from './server-state.js';

/** A delay in ms: a constant, or a function sampled once per message (e.g. a seeded PRNG). */
export type FaultDelay = number | (() => number);

/** What the controls need from their client (a `MemoryRegistryCenter`). Internal. */
export interface FaultHost {
  /** The client's clock (frozen with its process in a simulation). */
  readonly clientClock: Clock;
  /** The server's clock (session expiry while partitioned). */
  readonly serverClock: Clock;
  /** The client's session timeout, in ms. */
  readonly sessionTimeoutMs: number;
  /** The client's current session. */
  currentSession(): SessionRecord | undefined;
  /** Whether the client is started, not closed, and has not noticed a disconnection. */
  isConnected(): boolean;
  /** The client notices the broken connection: status disconnected, `SUSPENDED` reported. */
  noticeDisconnect(): void;
  /** The connection is back: `RECONNECTED`, or `LOST` then `RECONNECTED` on a new session. */
  reconnect(): void;
  /** Ends `session` on the server without telling the client (ephemerals deleted). */
  endSessionOnServer(session: SessionRecord): void;
  /** Delivers buffered watch events if delivery is possible. */
  flush(): void;
}

interface InFlightRequest {
  readonly reject: (error: unknown) => void;
  settled: boolean;
}

interface DownstreamEntry {
  readonly dueMs: number;
  /** `true` for a response (dropped when the connection breaks), `false` for watch events. */
  readonly response: boolean;
  readonly run: () => void;
}

function sample(delay: FaultDelay | undefined): number {
  if (delay === undefined) return 0;
  const value = typeof delay === 'number' ? delay : delay();
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new RangeError(`fault delay must be a finite number of ms >= 0, got ${String(value)}`);
  }
  return value;
}

function assertDelay(delay: FaultDelay, field: string): void {
  if (typeof delay === 'function') return;
  if (typeof delay !== 'number' || !Number.isFinite(delay) || delay < 0) {
    throw new TypeError(`${field} must be a finite number of ms >= 0 or a function returning one`);
  }
}

/**
 * Fault-injection controls of one {@link MemoryRegistryCenter} client (its `faults` property).
 * Test-only: production code never calls them. Delays are measured on the client's clock for what
 * the client receives (so a frozen simulated process receives nothing) and on the server's clock
 * for what the server does (requests arriving, session expiry).
 *
 * @example
 * ```ts
 * registry.faults.setRequestLatency(() => 5 + rng() * 20); // 5-25 ms each way
 * registry.faults.setWatchDelay(50, 100); // events 50 ms late, released in 100 ms batches
 * registry.faults.partition({ detectAfterMs: 1000 }); // SUSPENDED 1 s later
 * registry.faults.heal(); // RECONNECTED, or LOST + RECONNECTED if the session expired meanwhile
 * ```
 */
export class MemoryRegistryFaults {
  readonly #host: FaultHost;
  #enabled = false;
  #requestLatency: FaultDelay | undefined;
  #watchDelay: FaultDelay | undefined;
  #batchWindowMs = 0;
  /** Whether watch events travel on a channel of their own (etcd, Redis), not behind responses. */
  #separateEventChannel = false;
  #partitioned = false;
  /** Incremented whenever the connection breaks: requests sent before are lost. */
  #generation = 0;
  #lastArrivalMs = Number.NEGATIVE_INFINITY;
  #lastDueMs = Number.NEGATIVE_INFINITY;
  /** Due time of the last watch event on a separate event channel. */
  #lastEventDueMs = Number.NEGATIVE_INFINITY;
  readonly #inFlight = new Set<InFlightRequest>();
  #downstream: DownstreamEntry[] = [];
  #downstreamTimer: ClockTimer | undefined;
  #armedDueMs: number | undefined;
  #expiryTimer: ClockTimer | undefined;
  #detectTimer: ClockTimer | undefined;
  #noticed = false;

  /** @internal Built by `MemoryRegistryCenter`. */
  constructor(host: FaultHost) {
    this.#host = host;
  }

  /** Whether any control was used: from then on every request goes through the fault channel. */
  get enabled(): boolean {
    return this.#enabled;
  }

  /** Whether the client is cut off from the server by {@link partition}. */
  get partitioned(): boolean {
    return this.#partitioned;
  }

  /** Number of requests sent and not yet answered. */
  get inFlightCount(): number {
    return this.#inFlight.size;
  }

  /**
   * Sets the one-way latency of requests: a request reaches the server `latency` ms (server
   * clock) after it is sent, and its response reaches the client `latency` ms (sampled again)
   * after it was served. Requests keep their send order and responses their order (FIFO), so a
   * sample smaller than the previous one waits for the previous message.
   *
   * @param latency - ms >= 0, or a function sampled per message. 0 still makes every request
   *   asynchronous (answered from a clock timer).
   * @throws {TypeError} for a negative or non-finite constant.
   */
  setRequestLatency(latency: FaultDelay): void {
    assertDelay(latency, 'request latency');
    this.#enabled = true;
    this.#requestLatency = latency;
  }

  /**
   * Delays watch events: each is delivered `delay` ms (client clock) after the server dispatched
   * it, in commit order. With `batchWindowMs > 0`, delivery times are rounded up to the next
   * multiple of the window, so events arrive in bursts.
   *
   * By default events share one ordered channel with responses, as on ZooKeeper: an event of a
   * change committed before a request was served arrives before that request's response. With
   * `separateChannel: true` they travel on a channel of their own, as etcd's watch stream and
   * Redis's subscriber connection do: still in commit order among themselves, but a response may
   * arrive before the event of a change made before it (even the client's own write).
   *
   * @param delay - ms >= 0, or a function sampled per event.
   * @param batchWindowMs - batching window in ms, >= 0. @defaultValue 0 (no batching)
   * @param options - `separateChannel`: events on their own channel. @defaultValue false
   * @throws {TypeError} for a negative or non-finite constant or window.
   */
  setWatchDelay(
    delay: FaultDelay,
    batchWindowMs = 0,
    options: { readonly separateChannel?: boolean } = {},
  ): void {
    assertDelay(delay, 'watch delay');
    if (!Number.isFinite(batchWindowMs) || batchWindowMs < 0) {
      throw new TypeError('watch batch window must be a finite number of ms >= 0');
    }
    this.#enabled = true;
    this.#watchDelay = delay;
    this.#batchWindowMs = batchWindowMs;
    this.#separateEventChannel = options.separateChannel ?? false;
  }

  /**
   * Cuts the client off from the server, as a network partition or a frozen process would:
   * requests in flight and responses not yet received are lost; watch events are held. The server
   * expires the session `sessionTimeoutMs` later (server clock) unless {@link heal} comes first.
   * The client notices `detectAfterMs` later on its own clock (reports `SUSPENDED`, and requests
   * in flight reject with `CONNECTION_LOSS`); it does not guess `LOST` by itself. No-op when
   * already partitioned or when the client is not connected.
   *
   * @param options - `detectAfterMs`: ms >= 0 before the client notices. @defaultValue 0
   * @throws {TypeError} for a negative or non-finite `detectAfterMs`.
   */
  partition(options: { readonly detectAfterMs?: number } = {}): void {
    const detectAfterMs = options.detectAfterMs ?? 0;
    if (!Number.isFinite(detectAfterMs) || detectAfterMs < 0) {
      throw new TypeError('partition detectAfterMs must be a finite number of ms >= 0');
    }
    if (this.#partitioned || !this.#host.isConnected()) return;
    this.#enabled = true;
    this.#partitioned = true;
    this.#noticed = false;
    this.#breakConnection();
    const session = this.#host.currentSession();
    if (session !== undefined) {
      this.#expiryTimer = this.#host.serverClock.setTimeout(() => {
        this.#expiryTimer = undefined;
        this.#host.endSessionOnServer(session);
      }, this.#host.sessionTimeoutMs);
    }
    this.#detectTimer = this.#host.clientClock.setTimeout(() => {
      this.#detectTimer = undefined;
      this.#notice();
    }, detectAfterMs);
  }

  /**
   * Ends a {@link partition}: the server hears the client again (its session survives if it has
   * not expired). On the client's clock (so after a frozen process resumes), the client first
   * notices the broken connection if it had not yet (`SUSPENDED`), then reconnects: `RECONNECTED`
   * with the same session, or `LOST` then `RECONNECTED` on a new one. No-op when not partitioned.
   */
  heal(): void {
    if (!this.#partitioned) return;
    this.#partitioned = false;
    this.#expiryTimer?.cancel();
    this.#expiryTimer = undefined;
    this.#host.clientClock.setTimeout(() => {
      if (this.#partitioned) return; // partitioned again before the client could reconnect
      this.#detectTimer?.cancel();
      this.#detectTimer = undefined;
      if (!this.#noticed) this.#notice();
      this.#noticed = false;
      this.#host.reconnect();
    }, 0);
  }

  /** Whether watch delivery is blocked (partitioned). @internal */
  get blocksDelivery(): boolean {
    return this.#partitioned;
  }

  /**
   * Sends one request through the channel. @internal
   *
   * @param session - the session the request is sent on.
   * @param apply - performs it on the server (synchronously); its result or error is the response.
   */
  send<T>(session: SessionRecord, apply: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const request: InFlightRequest = { reject, settled: false };
      this.#inFlight.add(request);
      const generation = this.#generation;
      const server = this.#host.serverClock;
      const arrivalMs = Math.max(this.#lastArrivalMs, server.now() + sample(this.#requestLatency));
      this.#lastArrivalMs = arrivalMs;
      server.setTimeout(() => {
        if (request.settled || generation !== this.#generation || this.#partitioned) return; // lost
        let outcome: { ok: true; value: T } | { ok: false; error: unknown };
        if (!session.alive || session !== this.#host.currentSession()) {
          outcome = {
            ok: false,
            error: new RegistryError('SESSION_EXPIRED', 'The memory registry session expired'),
          };
        } else {
          try {
            outcome = { ok: true, value: apply() };
          } catch (error) {
            outcome = { ok: false, error };
          }
        }
        this.#pushDownstream(sample(this.#requestLatency), true, () => {
          if (request.settled) return;
          request.settled = true;
          this.#inFlight.delete(request);
          if (outcome.ok) resolve(outcome.value);
          else reject(outcome.error);
        });
      }, arrivalMs - server.now());
    });
  }

  /**
   * Routes one dispatched watch event (already turned into inbox items by `enqueue`) through the
   * channel. @internal
   */
  deliverEvent(enqueue: () => void): void {
    this.#pushDownstream(sample(this.#watchDelay), false, enqueue);
  }

  /**
   * The client lost the connection by another control (`simulateDisconnect`): requests in flight
   * fail now. @internal
   */
  onDisconnect(): void {
    this.#breakConnection();
    this.#rejectInFlight(
      new RegistryError('CONNECTION_LOSS', 'The connection to the memory registry was lost'),
    );
  }

  /** Cancels every timer and fails the requests in flight with `NOT_STARTED` (client closed). @internal */
  close(): void {
    this.#expiryTimer?.cancel();
    this.#detectTimer?.cancel();
    this.#downstreamTimer?.cancel();
    this.#expiryTimer = undefined;
    this.#detectTimer = undefined;
    this.#downstreamTimer = undefined;
    this.#armedDueMs = undefined;
    this.#downstream = [];
    this.#rejectInFlight(
      new RegistryError(
        'NOT_STARTED',
        'The memory registry client was closed before the request was answered',
      ),
    );
  }

  #notice(): void {
    this.#noticed = true;
    this.#rejectInFlight(
      new RegistryError('CONNECTION_LOSS', 'The connection to the memory registry was lost'),
    );
    if (this.#host.isConnected()) this.#host.noticeDisconnect();
  }

  #breakConnection(): void {
    this.#generation++;
    this.#downstream = this.#downstream.filter((entry) => !entry.response);
  }

  #rejectInFlight(error: RegistryError): void {
    for (const request of [...this.#inFlight]) {
      if (request.settled) continue;
      request.settled = true;
      request.reject(error);
    }
    this.#inFlight.clear();
  }

  #pushDownstream(delayMs: number, response: boolean, run: () => void): void {
    const clock = this.#host.clientClock;
    const separate = !response && this.#separateEventChannel;
    let dueMs = Math.max(separate ? this.#lastEventDueMs : this.#lastDueMs, clock.now() + delayMs);
    if (!response && this.#batchWindowMs > 0)
      dueMs = Math.ceil(dueMs / this.#batchWindowMs) * this.#batchWindowMs;
    if (separate) this.#lastEventDueMs = dueMs;
    else this.#lastDueMs = dueMs;
    // Ordered by due time; each channel keeps its own order (its due times never decrease), and
    // at equal due times the earlier message goes first.
    let index = this.#downstream.length;
    while (index > 0 && (this.#downstream[index - 1] as DownstreamEntry).dueMs > dueMs) index--;
    this.#downstream.splice(index, 0, { dueMs, response, run });
    this.#armDownstream();
  }

  #armDownstream(): void {
    const head = this.#downstream[0];
    if (head === undefined || this.#armedDueMs === head.dueMs) return;
    this.#downstreamTimer?.cancel();
    const clock = this.#host.clientClock;
    this.#armedDueMs = head.dueMs;
    this.#downstreamTimer = clock.setTimeout(() => {
      this.#downstreamTimer = undefined;
      this.#armedDueMs = undefined;
      const now = clock.now();
      let delivered = false;
      while (this.#downstream.length > 0 && (this.#downstream[0] as DownstreamEntry).dueMs <= now) {
        const entry = this.#downstream.shift() as DownstreamEntry;
        entry.run();
        delivered = true;
      }
      if (delivered) this.#host.flush();
      this.#armDownstream();
    }, head.dueMs - clock.now());
  }
}
