/**
 * {@link SessionStore}: browser sessions in memory — a random id in an HttpOnly cookie, a CSRF token
 * per session, idle and absolute expiry.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import type { Role } from './roles.js';

/** One signed-in browser. */
export interface Session {
  readonly id: string;
  /** The user's name (`anonymous` when the console runs without users). */
  readonly username: string;
  readonly role: Role;
  /** Sent back by the page in `X-CSRF-Token` on every state-changing request. */
  readonly csrfToken: string;
  /** Epoch ms. */
  readonly createdAtMs: number;
  lastSeenAtMs: number;
}

/** Expiry of {@link SessionStore} sessions. */
export interface SessionStoreOptions {
  /** A session unused this long ends. Default 30 minutes. */
  readonly idleTimeoutMs?: number;
  /** A session ends this long after sign-in, used or not. Default 12 hours. */
  readonly absoluteTimeoutMs?: number;
  /** The clock, epoch ms. Default `Date.now`. */
  readonly now?: () => number;
}

const token = () => randomBytes(32).toString('base64url');

/**
 * Sessions of one console process. They end when the process ends (ElasticJob-UI's per-process
 * JWT secret has the same effect, without a way to sign out); users sign in again.
 */
export class SessionStore {
  readonly #sessions = new Map<string, Session>();
  readonly #idleMs: number;
  readonly #absoluteMs: number;
  readonly #now: () => number;

  constructor(options: SessionStoreOptions = {}) {
    this.#idleMs = options.idleTimeoutMs ?? 30 * 60_000;
    this.#absoluteMs = options.absoluteTimeoutMs ?? 12 * 60 * 60_000;
    this.#now = options.now ?? Date.now;
  }

  /** Starts a session for a user. */
  create(username: string, role: Role): Session {
    this.#sweep();
    const now = this.#now();
    const session: Session = {
      id: token(),
      username,
      role,
      csrfToken: token(),
      createdAtMs: now,
      lastSeenAtMs: now,
    };
    this.#sessions.set(session.id, session);
    return session;
  }

  /** The live session with this id (its idle timer restarts); `undefined` when unknown or expired. */
  touch(id: string): Session | undefined {
    const session = this.#sessions.get(id);
    if (session === undefined) return undefined;
    const now = this.#now();
    if (now - session.lastSeenAtMs > this.#idleMs || now - session.createdAtMs > this.#absoluteMs) {
      this.#sessions.delete(id);
      return undefined;
    }
    session.lastSeenAtMs = now;
    return session;
  }

  /** Ends a session. */
  delete(id: string): void {
    this.#sessions.delete(id);
  }

  /** Seconds a new session's cookie lives (the absolute timeout). */
  get cookieMaxAgeSeconds(): number {
    return Math.floor(this.#absoluteMs / 1000);
  }

  #sweep(): void {
    const now = this.#now();
    for (const [id, session] of this.#sessions) {
      if (now - session.lastSeenAtMs > this.#idleMs || now - session.createdAtMs > this.#absoluteMs) {
        this.#sessions.delete(id);
      }
    }
  }
}
