/**
 * Who is calling and what they may do: API tokens (`Authorization: Bearer`), session cookies with a
 * CSRF token, the anonymous local user when no users are configured, roles, the read-only switch,
 * and the host/origin checks that keep other web pages (and DNS rebinding) out.
 *
 * @module
 */
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context, MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import { type Problem, problem, sendProblem } from '../api/problem.js';
import { hashApiToken, safeEqual } from './credentials.js';
import {
  clientAddressKey,
  type LoginThrottle,
  type ThrottleLock,
  type ThrottleRefusal,
} from './login-throttle.js';
import { grants, type Permission, type Role } from './roles.js';
import type { Session, SessionStore } from './sessions.js';
import type { ConsoleUsers } from './users-file.js';

/** Name of the session cookie. */
export const SESSION_COOKIE = 'ejc_session';
/** Header carrying the session's CSRF token on state-changing requests. */
export const CSRF_HEADER = 'X-CSRF-Token';

/** The caller of a request. */
export interface Principal {
  /** How it authenticated. */
  readonly via: 'session' | 'token' | 'anonymous';
  /** User name, token name, or `anonymous`. */
  readonly name: string;
  readonly role: Role;
  /** The browser session (`via: 'session'`). */
  readonly session?: Session;
}

/** Hono variables set by {@link authenticate}. */
export interface AccessVariables {
  principal: Principal | undefined;
}

/** What the access checks need. */
export interface AccessPolicy {
  /** Users and tokens; `undefined` when the console runs without auth (loopback only). */
  readonly users: ConsoleUsers | undefined;
  readonly sessions: SessionStore;
  /** The global read-only switch (the users file's `readOnly`, or the option). */
  readonly readOnly: boolean;
  /** Host names (without port) the console answers to when it runs without auth. */
  readonly allowedHosts: ReadonlySet<string>;
  /** Failed sign-ins and API-token attempts per username and client address. */
  readonly loginThrottle: LoginThrottle;
  /** Called when a failure locks a username or an address (the audit log). */
  readonly onLockout: (lock: ThrottleLock, via: 'sign-in' | 'token') => void;
}

/**
 * The client address of a request as the throttle keys it (see `clientAddressKey`): the TCP
 * peer, so behind a reverse proxy every client shares the proxy's address.
 */
export function clientAddress(c: Context): string {
  try {
    return clientAddressKey(getConnInfo(c).remote.address);
  } catch {
    return clientAddressKey(undefined);
  }
}

/**
 * The 429 problem of a refused attempt; send it with `Retry-After: <retryAfterSeconds>`.
 *
 * @param refusal - what the throttle answered.
 * @param field - the input the attempt was judged by (`body.username`, `header.Authorization`).
 */
export function tooManyAttempts(refusal: ThrottleRefusal, field: string): Problem {
  const what = refusal.kind === 'username' ? 'this user' : 'this client address';
  const detail = `Too many failed attempts for ${what}; try again in ${refusal.retryAfterSeconds} s`;
  return problem(429, 'too-many-attempts', 'Too many failed attempts', detail, {
    field,
    errors: [{ field, message: detail }],
    retryAfterSeconds: refusal.retryAfterSeconds,
  });
}

/** Sends {@link tooManyAttempts} with its `Retry-After` header. */
export function sendTooManyAttempts(c: Context, refusal: ThrottleRefusal, field: string): Response {
  c.header('Retry-After', String(refusal.retryAfterSeconds));
  return sendProblem(c, tooManyAttempts(refusal, field));
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function hostName(host: string): string {
  const bracket = /^\[([^\]]+)\]/.exec(host);
  if (bracket) return `[${bracket[1]}]`;
  return host.replace(/:\d+$/, '');
}

/** The request's `Origin` is absent or the console's own (same host header). */
function sameOriginOrNone(c: Context): boolean {
  const origin = c.req.header('Origin');
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === c.req.header('Host');
  } catch {
    return false;
  }
}

/**
 * Identifies the caller and enforces CSRF protection on state-changing requests:
 * - a Bearer API token authenticates a script (no cookie, so no CSRF exposure); wrong tokens count
 *   against the client address in the login throttle, and a locked address gets 429 with
 *   `Retry-After` before its token is looked at;
 * - a session cookie needs `X-CSRF-Token` equal to the session's token on POST/PUT/DELETE;
 * - without users (loopback only), an unauthenticated caller is the anonymous admin, and its
 *   state-changing requests must not come from another origin; the `Host` header must be a
 *   loopback name (DNS rebinding protection).
 * Rejections are problem+json: 401 for a bad token, 429 for a locked address, 403 for a failed
 * CSRF, origin or host check.
 */
export function authenticate(policy: AccessPolicy): MiddlewareHandler<{ Variables: AccessVariables }> {
  return async (c, next) => {
    c.set('principal', undefined);
    if (policy.users === undefined) {
      const host = hostName(c.req.header('Host') ?? '');
      if (!policy.allowedHosts.has(host)) {
        return sendProblem(
          c,
          problem(
            403,
            'host-not-allowed',
            'Host not allowed',
            `This console answers only to ${[...policy.allowedHosts].join(', ')}`,
            {
              field: 'header.Host',
            },
          ),
        );
      }
    }
    const unsafe = !SAFE_METHODS.has(c.req.method);
    const authorization = c.req.header('Authorization');
    if (authorization !== undefined) {
      const attempt = policy.loginThrottle.begin(undefined, clientAddress(c));
      if (attempt.refused) return sendTooManyAttempts(c, attempt, 'header.Authorization');
      const match = /^Bearer\s+(\S+)$/i.exec(authorization);
      const tokenHash = match ? hashApiToken(match[1]!) : undefined;
      const token = policy.users?.tokens.find(
        (candidate) => tokenHash !== undefined && safeEqual(candidate.tokenHash, tokenHash),
      );
      if (token === undefined) {
        for (const lock of attempt.failed()) policy.onLockout(lock, 'token');
        return sendProblem(
          c,
          problem(
            401,
            'unauthenticated',
            'Invalid API token',
            'The Authorization header carries no valid API token',
            {
              field: 'header.Authorization',
            },
          ),
        );
      }
      attempt.succeeded();
      c.set('principal', { via: 'token', name: token.name, role: token.role });
      return next();
    }
    // Cookie-borne or anonymous: a state-changing request must come from the console's own origin.
    if (unsafe && !sameOriginOrNone(c)) {
      return sendProblem(
        c,
        problem(
          403,
          'csrf',
          'Cross-origin request refused',
          'State-changing requests from other origins are refused',
          {
            field: 'header.Origin',
          },
        ),
      );
    }
    const sessionId = getCookie(c, SESSION_COOKIE);
    const session = sessionId === undefined ? undefined : policy.sessions.touch(sessionId);
    if (session !== undefined) {
      if (unsafe && !safeEqual(c.req.header(CSRF_HEADER) ?? '', session.csrfToken)) {
        return sendProblem(
          c,
          problem(
            403,
            'csrf',
            'CSRF check failed',
            `State-changing requests need the session's ${CSRF_HEADER} header`,
            {
              field: `header.${CSRF_HEADER}`,
            },
          ),
        );
      }
      c.set('principal', { via: 'session', name: session.username, role: session.role, session });
      return next();
    }
    if (policy.users === undefined)
      c.set('principal', { via: 'anonymous', name: 'anonymous', role: 'admin' });
    return next();
  };
}

/**
 * Route guard: 401 without a principal, 403 when the role lacks `permission`, 403 for `operate`
 * and `configure` while the console is read-only.
 */
export function requirePermission(
  policy: AccessPolicy,
  permission: Permission,
): MiddlewareHandler<{ Variables: AccessVariables }> {
  return async (c, next) => {
    const principal = c.get('principal');
    if (principal === undefined) {
      return sendProblem(
        c,
        problem(
          401,
          'unauthenticated',
          'Sign-in required',
          'Sign in, or send an API token as Authorization: Bearer',
          {
            field: 'header.Authorization',
          },
        ),
      );
    }
    if (permission !== 'read' && policy.readOnly) {
      return sendProblem(
        c,
        problem(
          403,
          'read-only',
          'Console is read-only',
          'The console runs read-only: no operation or edit is accepted',
        ),
      );
    }
    if (!grants(principal.role, permission)) {
      return sendProblem(
        c,
        problem(
          403,
          'forbidden',
          'Not allowed',
          `Role '${principal.role}' may not ${permission === 'operate' ? 'operate jobs' : 'change or remove configuration'}`,
          { requiredPermission: permission },
        ),
      );
    }
    return next();
  };
}
