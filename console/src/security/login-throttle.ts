/**
 * {@link LoginThrottle}: brute-force protection of sign-in and API tokens. Failed attempts are
 * counted per username and per client address within a sliding window; a key that reaches its
 * limit is locked for a fixed time, during which attempts are refused before any credential is
 * checked (the caller answers 429 with `Retry-After`).
 *
 * Memory is bounded: a key keeps at most its limit of failure times, keys with nothing left to
 * remember are dropped, and at most `maxTrackedKeys` keys are kept (the least recently failed go
 * first).
 *
 * @module
 */

/** Limits of a {@link LoginThrottle}; every member has a default. */
export interface LoginThrottleOptions {
  /** Failed sign-ins of one username within the window that lock it. Default 5. */
  readonly maxFailures?: number;
  /** Failed sign-ins and API-token attempts from one client address within the window that lock it. Default 20. */
  readonly maxFailuresPerAddress?: number;
  /** The sliding window failures are counted in, ms. Default 15 minutes. */
  readonly windowMs?: number;
  /** How long a locked username or address stays locked, ms. Default 15 minutes. */
  readonly lockoutMs?: number;
  /** Most usernames and addresses remembered at once. Default 10,000. */
  readonly maxTrackedKeys?: number;
  /** The clock, epoch ms. Default `Date.now`. */
  readonly now?: () => number;
}

/** The defaults of {@link LoginThrottleOptions}. */
export const LOGIN_THROTTLE_DEFAULTS = {
  maxFailures: 5,
  maxFailuresPerAddress: 20,
  windowMs: 15 * 60_000,
  lockoutMs: 15 * 60_000,
  maxTrackedKeys: 10_000,
} as const;

/** What a lock applies to. */
export type ThrottleKeyKind = 'username' | 'address';

/** An attempt was refused: the username or address is locked (or its budget is taken by attempts in flight). */
export interface ThrottleRefusal {
  readonly refused: true;
  /** Which key refused (the username's when both do). */
  readonly kind: ThrottleKeyKind;
  /** Whole seconds until an attempt may be accepted again (at least 1), for `Retry-After`. */
  readonly retryAfterSeconds: number;
}

/** A lock that a failure has just set. */
export interface ThrottleLock {
  readonly kind: ThrottleKeyKind;
  /** The username or the client address (as keyed, see {@link clientAddressKey}). */
  readonly key: string;
  /** Epoch ms when the lock ends. */
  readonly lockedUntilMs: number;
}

/** An accepted attempt; report its outcome exactly once. */
export interface ThrottleAttempt {
  readonly refused: false;
  /** The credential was right: the username's failures and lock are forgotten (the address's are kept). */
  succeeded(): void;
  /** The credential was wrong: counts a failure; returns the locks this failure set. */
  failed(): ThrottleLock[];
}

interface Entry {
  /** Times of the failures within the window, oldest first (at most the key's limit). */
  failures: number[];
  /** Attempts accepted but not yet reported: they count against the limit, so parallel guesses cannot overshoot it. */
  pending: number;
  lockedUntilMs: number;
}

/**
 * The key of a client address: IPv4 (also IPv4-mapped IPv6) as is, IPv6 by its /64 prefix (one
 * host usually has a whole /64 to pick addresses from).
 */
export function clientAddressKey(address: string | undefined): string {
  if (address === undefined || address === '') return 'unknown';
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!address.includes(':')) return address;
  const [head = '', tail = ''] = address.toLowerCase().split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === '' ? [] : tail.split(':');
  const groups = address.includes('::')
    ? [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((group) => group.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`${name} must be a positive integer, got ${value}`);
  }
  return value;
}

/**
 * Counts failed credential checks and locks usernames and client addresses that fail too often.
 *
 * A successful sign-in resets its username only: the address keeps its failures, so an attacker
 * holding one valid account cannot clear the address count between guesses.
 */
export class LoginThrottle {
  readonly #entries = new Map<string, Entry>();
  readonly #maxFailures: number;
  readonly #maxFailuresPerAddress: number;
  readonly #windowMs: number;
  readonly #lockoutMs: number;
  readonly #maxTrackedKeys: number;
  readonly #now: () => number;

  /** @throws {RangeError} naming a limit that is not a positive integer. */
  constructor(options: LoginThrottleOptions = {}) {
    const limits = { ...LOGIN_THROTTLE_DEFAULTS, ...withoutUndefined(options) };
    this.#maxFailures = positiveInteger('maxFailures', limits.maxFailures);
    this.#maxFailuresPerAddress = positiveInteger('maxFailuresPerAddress', limits.maxFailuresPerAddress);
    this.#windowMs = positiveInteger('windowMs', limits.windowMs);
    this.#lockoutMs = positiveInteger('lockoutMs', limits.lockoutMs);
    this.#maxTrackedKeys = positiveInteger('maxTrackedKeys', limits.maxTrackedKeys);
    this.#now = options.now ?? Date.now;
  }

  /** How many usernames and addresses are remembered now. */
  get trackedKeys(): number {
    return this.#entries.size;
  }

  /**
   * Asks to check a credential.
   *
   * @param username - the username of a sign-in; omitted for an API token.
   * @param address - the client address key ({@link clientAddressKey}).
   * @returns a refusal with the seconds to wait, or the attempt to report the outcome on.
   */
  begin(username: string | undefined, address: string): ThrottleRefusal | ThrottleAttempt {
    const keys: [ThrottleKeyKind, string, number][] = [];
    if (username !== undefined) keys.push(['username', `u:${username}`, this.#maxFailures]);
    keys.push(['address', `a:${address}`, this.#maxFailuresPerAddress]);
    const now = this.#now();
    for (const [kind, key, limit] of keys) {
      const waitMs = this.#waitMs(key, limit, now);
      if (waitMs > 0)
        return { refused: true, kind, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
    }
    for (const [, key] of keys) this.#entry(key).pending++;
    let reported = false;
    const settle = () => {
      if (reported) throw new Error('the outcome of a throttle attempt is reported once');
      reported = true;
      for (const [, key] of keys) {
        const entry = this.#entries.get(key);
        if (entry !== undefined && entry.pending > 0) entry.pending--;
      }
    };
    return {
      refused: false,
      succeeded: () => {
        settle();
        if (username !== undefined) this.#entries.delete(`u:${username}`);
        this.#forgetIfIdle(`a:${address}`, this.#now());
      },
      failed: () => {
        settle();
        const at = this.#now();
        const locks: ThrottleLock[] = [];
        for (const [kind, key, limit] of keys) {
          const entry = this.#entry(key);
          this.#prune(entry, at);
          entry.failures.push(at);
          if (entry.failures.length >= limit) {
            entry.failures = [];
            entry.lockedUntilMs = at + this.#lockoutMs;
            locks.push({ kind, key: key.slice(2), lockedUntilMs: entry.lockedUntilMs });
          }
        }
        return locks;
      },
    };
  }

  /** Ms until `key` accepts an attempt; 0 when it does now. */
  #waitMs(key: string, limit: number, now: number): number {
    const entry = this.#entries.get(key);
    if (entry === undefined) return 0;
    if (entry.lockedUntilMs > now) return entry.lockedUntilMs - now;
    this.#prune(entry, now);
    if (entry.failures.length + entry.pending < limit) {
      this.#forgetIfIdle(key, now);
      return 0;
    }
    // The budget is taken by attempts still being checked: they settle within a moment.
    return entry.pending > 0 ? 1000 : entry.failures[0]! + this.#windowMs - now;
  }

  #prune(entry: Entry, now: number): void {
    const oldest = now - this.#windowMs;
    let drop = 0;
    while (drop < entry.failures.length && entry.failures[drop]! <= oldest) drop++;
    if (drop > 0) entry.failures.splice(0, drop);
  }

  #idle(entry: Entry, now: number): boolean {
    this.#prune(entry, now);
    return entry.pending === 0 && entry.failures.length === 0 && entry.lockedUntilMs <= now;
  }

  #forgetIfIdle(key: string, now: number): void {
    const entry = this.#entries.get(key);
    if (entry !== undefined && this.#idle(entry, now)) this.#entries.delete(key);
  }

  /** The entry of `key`, created when missing, moved to the most recent end of the eviction order. */
  #entry(key: string): Entry {
    let entry = this.#entries.get(key);
    if (entry !== undefined) {
      this.#entries.delete(key);
    } else {
      entry = { failures: [], pending: 0, lockedUntilMs: 0 };
      if (this.#entries.size >= this.#maxTrackedKeys) this.#makeRoom();
    }
    this.#entries.set(key, entry);
    return entry;
  }

  /** Drops idle keys; when every key is in use, the least recently failed one. */
  #makeRoom(): void {
    const now = this.#now();
    for (const [key, entry] of this.#entries) if (this.#idle(entry, now)) this.#entries.delete(key);
    if (this.#entries.size >= this.#maxTrackedKeys) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
  }
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, member]) => member !== undefined)) as Partial<T>;
}
