/**
 * Recorders that collect what a registry client reports (watch events, connection states) and let
 * tests await a condition over them. Waits resolve on the event that makes the condition true; the
 * bound only matters when the adapter is wrong.
 *
 * @module
 */
import type {
  CoordinatorRegistryCenter,
  RegistryConnectionState,
  RegistryConnectionStateListener,
  RegistryEvent,
  RegistryUnwatch,
  RegistryWatchListener,
} from '@elasticjob-ts/core/adapter';
import { ConditionTimeoutError } from './wait.js';

/** Default wait bound of the recorders, in ms, when none is given. */
export const DEFAULT_RECORDER_TIMEOUT_MS = 10_000;

interface Waiter<T> {
  readonly predicate: (items: readonly T[]) => boolean;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/** Shared machinery: an append-only log plus waiters re-checked on every append. */
abstract class ObservedLog<T> {
  readonly #items: T[] = [];
  readonly #waiters = new Set<Waiter<T>>();
  readonly #defaultTimeoutMs: number;

  protected constructor(defaultTimeoutMs: number) {
    this.#defaultTimeoutMs = defaultTimeoutMs;
  }

  /** Everything recorded so far, oldest first. */
  get all(): readonly T[] {
    return this.#items;
  }

  /** Number of items recorded so far; pass it as `from` to look only at later items. */
  get count(): number {
    return this.#items.length;
  }

  /** Items recorded at or after index `from`. */
  since(from: number): T[] {
    return this.#items.slice(from);
  }

  /**
   * Resolves as soon as `predicate` holds over the recorded items (checked now and after every new
   * item), or rejects with a {@link ConditionTimeoutError} listing what was recorded.
   *
   * @param predicate - condition over all items recorded so far.
   * @param timeoutMs - bound in ms (default: the recorder's `defaultTimeoutMs`).
   * @param description - what is awaited, for the timeout message.
   */
  waitFor(
    predicate: (items: readonly T[]) => boolean,
    timeoutMs: number = this.#defaultTimeoutMs,
    description = 'condition',
  ): Promise<void> {
    if (predicate(this.#items)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter<T> = {
        predicate,
        resolve: () => {
          clearTimeout(timer);
          this.#waiters.delete(waiter);
          resolve();
        },
        reject: (error) => {
          clearTimeout(timer);
          this.#waiters.delete(waiter);
          reject(error);
        },
      };
      const timer = setTimeout(() => {
        waiter.reject(
          new ConditionTimeoutError(
            `${this.constructor.name}: timed out after ${timeoutMs} ms waiting for ${description}; recorded: ${this.describe()}`,
          ),
        );
      }, timeoutMs);
      this.#waiters.add(waiter);
    });
  }

  /** A readable rendering of the recorded items, for failure messages. */
  abstract describe(): string;

  /** Rejects every pending wait (used when a test ends). */
  cancelWaits(reason = 'recorder closed'): void {
    for (const waiter of [...this.#waiters]) waiter.reject(new Error(reason));
  }

  protected append(item: T): void {
    this.#items.push(item);
    for (const waiter of [...this.#waiters]) {
      let holds = false;
      try {
        holds = waiter.predicate(this.#items);
      } catch (error) {
        waiter.reject(error);
        continue;
      }
      if (holds) waiter.resolve();
    }
  }
}

/** Options of {@link EventRecorder}. */
export interface EventRecorderOptions {
  /**
   * Wait bound used when a wait gives none, in ms.
   * @defaultValue 10000
   */
  readonly defaultTimeoutMs?: number;
}

/**
 * Collects the events of one or more watches and lets a test await a condition over them.
 *
 * @example
 * ```ts
 * const recorder = new EventRecorder();
 * const unwatch = await registry.watch('/orders', recorder.listener);
 * await other.persist('/orders/a', '1');
 * await recorder.waitForEvent({ type: 'ADDED', key: '/orders/a', value: '1' });
 * await unwatch();
 * ```
 */
export class EventRecorder extends ObservedLog<RegistryEvent> {
  /** Pass this to `watch()`. It copies each event (adapters may reuse objects). */
  readonly listener: RegistryWatchListener = (event) => {
    this.append({ type: event.type, key: event.key, value: event.value });
  };

  /** @param options - see {@link EventRecorderOptions}. */
  constructor(options: EventRecorderOptions = {}) {
    super(options.defaultTimeoutMs ?? DEFAULT_RECORDER_TIMEOUT_MS);
  }

  /** Every recorded event, oldest first. */
  get events(): readonly RegistryEvent[] {
    return this.all;
  }

  /**
   * Starts a watch on `key` with this recorder's listener.
   *
   * @param client - a started registry client.
   * @param key - subtree root.
   * @returns the disposer `watch()` returned.
   */
  watch(client: CoordinatorRegistryCenter, key: string): Promise<RegistryUnwatch> {
    return client.watch(key, this.listener);
  }

  /** Events concerning `key` exactly, oldest first. */
  eventsFor(key: string): RegistryEvent[] {
    return this.all.filter((event) => event.key === key);
  }

  /**
   * Resolves with the first event at or after index `from` that matches `match` (every given field
   * equal, or the predicate true), as soon as it is recorded.
   *
   * @param match - fields to compare, or a predicate.
   * @param options - `from` (index, default 0) and `timeoutMs`.
   * @returns the matching event.
   */
  async waitForEvent(
    match: Partial<RegistryEvent> | ((event: RegistryEvent) => boolean),
    options: { readonly from?: number; readonly timeoutMs?: number } = {},
  ): Promise<RegistryEvent> {
    const from = options.from ?? 0;
    const test =
      typeof match === 'function'
        ? match
        : (event: RegistryEvent) =>
            (match.type === undefined || event.type === match.type) &&
            (match.key === undefined || event.key === match.key) &&
            (match.value === undefined || event.value === match.value);
    const description = typeof match === 'function' ? 'a matching event' : `event ${JSON.stringify(match)}`;
    await this.waitFor((events) => events.slice(from).some(test), options.timeoutMs, description);
    return this.all.slice(from).find(test)!;
  }

  /**
   * The subtree state implied by applying every recorded event in order: `ADDED`/`UPDATED` set the
   * key's value, `DELETED` removes it. Compare it with the server's state to prove no event was lost.
   */
  mirror(): Map<string, string> {
    const state = new Map<string, string>();
    for (const event of this.all) {
      if (event.type === 'DELETED') state.delete(event.key);
      else state.set(event.key, event.value);
    }
    return state;
  }

  /**
   * Events that contradict the events before them: `ADDED` of a key already present, `UPDATED` or
   * `DELETED` of a key absent, `UPDATED` to the value the key already had. A duplicated or
   * replayed event shows up here (tests that use it only ever write new values).
   *
   * @returns one human-readable line per anomaly; empty when consistent.
   */
  anomalies(): string[] {
    const state = new Map<string, string>();
    const found: string[] = [];
    this.all.forEach((event, index) => {
      const known = state.get(event.key);
      const present = state.has(event.key);
      if (event.type === 'ADDED' && present) found.push(`#${index} ADDED ${event.key} already present`);
      if (event.type === 'UPDATED' && !present) found.push(`#${index} UPDATED ${event.key} not present`);
      if (event.type === 'UPDATED' && present && known === event.value) {
        found.push(`#${index} UPDATED ${event.key} to its current value ${JSON.stringify(event.value)}`);
      }
      if (event.type === 'DELETED' && !present) found.push(`#${index} DELETED ${event.key} not present`);
      if (event.type === 'DELETED') state.delete(event.key);
      else state.set(event.key, event.value);
    });
    return found;
  }

  /**
   * Checks the events recorded for `key` against the states the key went through on the server, as
   * the `watch` contract allows them to be reported: in commit order, never duplicated, with values
   * the node really had, where changes made faster than the adapter's round trip may be merged
   * (intermediate states skipped, a short-lived node not reported at all).
   *
   * Every event from `from` on must stand for a committed state later than the one the previous
   * event stood for (`ADDED`/`UPDATED` its value, `DELETED` the key's absence), with the type the
   * previously reported state implies; a `DELETED` must carry a value the node had between the
   * previous event and the deletion (its last value, or the previously reported one if the last
   * changes were merged). Whether the watch has *converged* (reports the last state) is not checked
   * here: wait for `mirror()` to show it.
   *
   * @param key - the key whose events are checked.
   * @param history - the key's states in commit order (`undefined`: absent). `history[0]` is its
   *   state when event `from` was about to be recorded, which the events before `from` must show;
   *   every further entry is the state after one commit. Use distinct values.
   * @param from - index of the first event to check (e.g. a {@link EventRecorder.mark} taken after
   *   the initial snapshot). @defaultValue 0
   * @returns one human-readable line per violation; empty when consistent.
   */
  commitOrderViolations(key: string, history: readonly (string | undefined)[], from = 0): string[] {
    const show = (state: string | undefined) => (state === undefined ? 'absent' : JSON.stringify(state));
    const found: string[] = [];
    if (history.length === 0) return ['the history is empty: it needs at least the initial state'];
    let reported: string | undefined;
    for (const event of this.all.slice(0, from)) {
      if (event.key === key) reported = event.type === 'DELETED' ? undefined : event.value;
    }
    if (reported !== history[0]) {
      found.push(
        `before #${from}: ${key} was reported ${show(reported)}, but its initial state is ${show(history[0])}`,
      );
    }
    let position = 0;
    this.all.forEach((event, index) => {
      if (index < from || event.key !== key) return;
      const label = `#${index} ${event.type} ${key}=${JSON.stringify(event.value)}`;
      const wasPresent = reported !== undefined;
      if (event.type === 'ADDED' && wasPresent) found.push(`${label}: the key was already reported present`);
      if (event.type !== 'ADDED' && !wasPresent) found.push(`${label}: the key was reported absent`);
      if (event.type === 'UPDATED' && reported === event.value) {
        found.push(`${label}: the key was already reported with this value`);
      }
      const state = event.type === 'DELETED' ? undefined : event.value;
      let match = -1;
      for (let candidate = position + 1; candidate < history.length; candidate += 1) {
        if (history[candidate] !== state) continue;
        if (event.type === 'DELETED' && !history.slice(position, candidate).includes(event.value)) continue;
        match = candidate;
        break;
      }
      if (match < 0) {
        const rest =
          history
            .slice(position + 1)
            .map(show)
            .join(', ') || 'nothing';
        found.push(
          `${label}: matches no state committed after the last reported one (${show(history[position])}, ` +
            `state #${position}); later states: ${rest}` +
            (event.type === 'DELETED' ? '; a DELETED carries a value the node had since then' : ''),
        );
      } else {
        position = match;
      }
      reported = state;
    });
    return found;
  }

  /** Clears nothing; returns the current count so later assertions can look only at newer events. */
  mark(): number {
    return this.count;
  }

  override describe(): string {
    if (this.count === 0) return '(no events)';
    return this.all.map((event) => `${event.type} ${event.key}=${JSON.stringify(event.value)}`).join(', ');
  }
}

/** Options of {@link ConnectionStateRecorder}. */
export interface ConnectionStateRecorderOptions {
  /**
   * Wait bound used when a wait gives none, in ms.
   * @defaultValue 10000
   */
  readonly defaultTimeoutMs?: number;
}

/**
 * Collects the connection states one client reports and lets a test await a state or sequence.
 *
 * @example
 * ```ts
 * const states = new ConnectionStateRecorder().attach(registry); // before start()
 * await registry.start();
 * await states.waitForState('CONNECTED');
 * ```
 */
export class ConnectionStateRecorder extends ObservedLog<RegistryConnectionState> {
  /** Pass this to `addConnectionStateListener()` (or use {@link ConnectionStateRecorder.attach}). */
  readonly listener: RegistryConnectionStateListener = (state) => this.append(state);
  #detach: (() => void) | undefined;

  /** @param options - see {@link ConnectionStateRecorderOptions}. */
  constructor(options: ConnectionStateRecorderOptions = {}) {
    super(options.defaultTimeoutMs ?? DEFAULT_RECORDER_TIMEOUT_MS);
  }

  /** Every recorded state, oldest first. */
  get states(): readonly RegistryConnectionState[] {
    return this.all;
  }

  /** The most recent state, or `undefined`. */
  get last(): RegistryConnectionState | undefined {
    return this.all[this.all.length - 1];
  }

  /**
   * Registers the listener on `client` (call before `start()` to see `CONNECTED`).
   *
   * @returns this recorder.
   */
  attach(client: CoordinatorRegistryCenter): this {
    this.#detach?.();
    this.#detach = client.addConnectionStateListener(this.listener);
    return this;
  }

  /** Removes the listener registered by {@link ConnectionStateRecorder.attach}. Idempotent. */
  detach(): void {
    this.#detach?.();
    this.#detach = undefined;
  }

  /**
   * Resolves once `state` has been reported at or after index `from`.
   *
   * @param state - the awaited state.
   * @param options - `from` (index, default 0) and `timeoutMs`.
   * @returns the index at which it was recorded.
   */
  async waitForState(
    state: RegistryConnectionState,
    options: { readonly from?: number; readonly timeoutMs?: number } = {},
  ): Promise<number> {
    const from = options.from ?? 0;
    await this.waitFor((states) => states.indexOf(state, from) >= 0, options.timeoutMs, `state ${state}`);
    return this.all.indexOf(state, from);
  }

  override describe(): string {
    return this.count === 0 ? '(no states)' : this.all.join(' → ');
  }
}
