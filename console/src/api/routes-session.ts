/**
 * Sign-in, sign-out, the current session, and the registries the console shows.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { type Principal, requirePermission, SESSION_COOKIE } from '../security/access.js';
import { hashPassword, verifyPassword } from '../security/credentials.js';
import type { ApiContext, ConsoleEnv } from './api-context.js';
import { json, problems, SECURED } from './openapi-helpers.js';
import { ProblemError, problem } from './problem.js';
import { LoginSchema, RegistryInfoSchema, SessionSchema } from './schemas.js';

/** A hash of a random password, verified when the username is unknown, so timing does not tell. */
let decoyHash: Promise<string> | undefined;

function decoy(): Promise<string> {
  decoyHash ??= hashPassword(randomBytes(16).toString('hex'));
  return decoyHash;
}

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
      description: 'Sets the HttpOnly, SameSite=Strict session cookie and returns the CSRF token.',
      request: { body: { required: true, content: { 'application/json': { schema: LoginSchema } } } },
      responses: { 200: json(SessionSchema, 'Signed in.'), ...problems(400, 401) },
    }),
    async (c) => {
      const { username, password } = c.req.valid('json');
      const user = context.policy.users?.users.find((candidate) => candidate.username === username);
      const valid = await verifyPassword(password, user?.passwordHash ?? (await decoy()));
      if (user === undefined || !valid) {
        context.auditLog.info(
          { audit: true, action: 'sign-in', user: username, outcome: 'refused' },
          'sign-in refused',
        );
        throw new ProblemError(
          problem(401, 'unauthenticated', 'Sign-in failed', 'Unknown user or wrong password', {
            field: 'body.password',
          }),
        );
      }
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
