/**
 * Sign-in, sign-out, the current session, and the registries the console shows.
 *
 * @module
 */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import {
  clientAddress,
  type Principal,
  requirePermission,
  SESSION_COOKIE,
  tooManyAttempts,
} from '../security/access.js';
import { decoyPasswordHash, verifyPassword } from '../security/credentials.js';
import type { ApiContext, ConsoleEnv } from './api-context.js';
import { json, problems, SECURED } from './openapi-helpers.js';
import { ProblemError, ProblemSchema, problem } from './problem.js';
import { LoginSchema, RegistryInfoSchema, SessionSchema } from './schemas.js';

function sessionView(context: ApiContext, principal: Principal | undefined) {
  return {
    authenticated: principal !== undefined,
    authRequired: context.policy.users !== undefined,
    username: principal?.name ?? null,
    role: principal?.role ?? null,
    csrfToken: principal?.session?.csrfToken ?? null,
    readOnly: context.policy.readOnly,
    historyAvailable: context.history !== undefined,
  };
}

function startSession(
  c: Context<ConsoleEnv>,
  context: ApiContext,
  name: string,
  role: Principal['role'],
): Principal {
  const session = context.policy.sessions.create(name, role);
  setCookie(c, SESSION_COOKIE, session.id, {
    httpOnly: true,
    sameSite: 'Strict',
    secure: context.secureCookies,
    path: '/',
    maxAge: context.policy.sessions.cookieMaxAgeSeconds,
  });
  return { via: 'session', name, role, session };
}

/** Registers `/api/v1/session` and `/api/v1/registries`. */
export function registerSessionRoutes(app: OpenAPIHono<ConsoleEnv>, context: ApiContext): void {
  // Verified when the username is unknown, so the time of a refusal does not tell whether the user
  // exists: made now (not on the first unknown name, which would then take twice as long), with
  // the scrypt cost of the first user's hash.
  const decoy = decoyPasswordHash(context.policy.users?.users[0]?.passwordHash);
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/session',
      tags: ['session'],
      summary: 'The current session (and its CSRF token)',
      description:
        'Without configured users the console is local-only and the caller is the anonymous admin; this call then starts its browser session.',
      responses: { 200: json(SessionSchema, 'The session.') },
    }),
    (c) => {
      let principal = c.get('principal');
      if (principal?.via === 'anonymous') principal = startSession(c, context, 'anonymous', 'admin');
      return c.json(sessionView(context, principal), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/session',
      tags: ['session'],
      summary: 'Sign in',
      description:
        "Sets the HttpOnly, SameSite=Strict session cookie and returns the CSRF token. Failed sign-ins are counted per username and per client address: after `loginMaxFailures` failures of one username (default 5) or `loginMaxFailuresPerAddress` failures from one address (default 20, wrong API tokens included) within `loginWindowMs` (default 15 min), that username or address is refused with 429 and `Retry-After` for `loginLockoutMs` (default 15 min), whatever the password. Unknown usernames are counted the same way. A successful sign-in clears its username's count.",
      request: { body: { required: true, content: { 'application/json': { schema: LoginSchema } } } },
      responses: {
        200: json(SessionSchema, 'Signed in.'),
        ...problems(400, 401),
        429: {
          description:
            'Too many failed attempts for this username or client address; the password was not checked. `retryAfterSeconds` and the `Retry-After` header say when to try again.',
          headers: {
            'Retry-After': {
              description: 'Seconds until the lock ends.',
              schema: { type: 'integer', minimum: 1 },
            },
          },
          content: { 'application/problem+json': { schema: ProblemSchema } },
        },
      },
    }),
    async (c) => {
      const { username, password } = c.req.valid('json');
      const address = clientAddress(c);
      const attempt = context.policy.loginThrottle.begin(username, address);
      if (attempt.refused) {
        c.header('Retry-After', String(attempt.retryAfterSeconds));
        throw new ProblemError(tooManyAttempts(attempt, 'body.username'));
      }
      const user = context.policy.users?.users.find((candidate) => candidate.username === username);
      const valid = await verifyPassword(password, user?.passwordHash ?? (await decoy));
      if (user === undefined || !valid) {
        const locks = attempt.failed();
        context.auditLog.info({ action: 'sign-in', user: username, outcome: 'refused' }, 'sign-in refused');
        for (const lock of locks) context.policy.onLockout(lock, 'sign-in');
        throw new ProblemError(
          problem(401, 'unauthenticated', 'Sign-in failed', 'Unknown user or wrong password', {
            field: 'body.password',
          }),
        );
      }
      attempt.succeeded();
      const principal = startSession(c, context, user.username, user.role);
      return c.json(sessionView(context, principal), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/api/v1/session',
      tags: ['session'],
      summary: 'Sign out',
      responses: { 200: json(SessionSchema, 'Signed out.') },
    }),
    (c) => {
      const id = getCookie(c, SESSION_COOKIE);
      if (id !== undefined) context.policy.sessions.delete(id);
      deleteCookie(c, SESSION_COOKIE, { path: '/', secure: context.secureCookies });
      return c.json(sessionView(context, undefined), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/registries',
      tags: ['session'],
      summary: 'The registries (namespaces) the console shows',
      description: 'Ids for `?registry=`. Addresses and credentials are never sent.',
      security: SECURED,
      middleware: [requirePermission(context.policy, 'read')] as const,
      responses: { 200: json(z.array(RegistryInfoSchema), 'The registries.'), ...problems(401) },
    }),
    (c) =>
      c.json(
        context.namespaces.map((ns) => ({
          id: ns.id,
          label: ns.label,
          namespace: ns.gateway.live.namespace,
          type: ns.type,
        })),
        200,
      ),
  );
}
