/**
 * {@link createConsoleApp}: the console's Hono application — security headers, authentication,
 * the audit log, the REST API with its OpenAPI document, and the pages.
 *
 * @module
 */

import { serveStatic } from '@hono/node-server/serve-static';
import { OpenAPIHono } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { secureHeaders } from 'hono/secure-headers';
import { authenticate } from '../security/access.js';
import type { ApiContext, ConsoleEnv } from './api-context.js';
import { invalidInput, problem, sendProblem, toProblem } from './problem.js';
import { registerEventRoutes } from './routes-events.js';
import { registerHistoryRoutes } from './routes-history.js';
import { registerOperationRoutes } from './routes-operations.js';
import { registerReadRoutes } from './routes-read.js';
import { registerSessionRoutes } from './routes-session.js';

const TARGET_PREFIX: Readonly<Record<string, string>> = {
  param: 'path',
  query: 'query',
  json: 'body',
  header: 'header',
  cookie: 'cookie',
};

function fieldOf(target: string, path: readonly PropertyKey[]): string {
  return [TARGET_PREFIX[target] ?? target, ...path.map(String)].join('.');
}

/** Audit line for every state-changing request: who, what, outcome (never a body, token or password). */
function auditTrail(context: ApiContext): MiddlewareHandler<ConsoleEnv> {
  return async (c, next) => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD' || c.req.method === 'OPTIONS') return next();
    await next();
    const principal = c.get('principal');
    const url = new URL(c.req.url);
    context.auditLog.info(
      {
        user: principal?.name ?? null,
        role: principal?.role ?? null,
        via: principal?.via ?? null,
        method: c.req.method,
        path: url.pathname,
        registry: url.searchParams.get('registry') ?? undefined,
        status: c.res.status,
        outcome: c.res.status < 400 ? 'done' : 'refused',
      },
      `${c.req.method} ${url.pathname} -> ${c.res.status}`,
    );
  };
}

/**
 * Builds the application.
 *
 * @param context - registries, history, access policy, logs.
 * @param webRoot - directory of the built pages (`index.html` and assets).
 */
export function createConsoleApp(context: ApiContext, webRoot: string): OpenAPIHono<ConsoleEnv> {
  const app = new OpenAPIHono<ConsoleEnv>({
    defaultHook: (result, c) => {
      if (result.success) return;
      const errors = result.error.issues.map((issue) => ({
        field: fieldOf(result.target, issue.path),
        message: issue.message,
      }));
      return sendProblem(c as Context, invalidInput(errors));
    },
  });

  app.use(
    '*',
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        fontSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
      referrerPolicy: 'no-referrer',
      crossOriginResourcePolicy: 'same-origin',
      crossOriginOpenerPolicy: 'same-origin',
      permissionsPolicy: { camera: [], microphone: [], geolocation: [] },
    }),
  );
  app.use('/api/*', authenticate(context.policy));
  app.use('/api/*', auditTrail(context));
  app.use('/api/*', async (c, next) => {
    await next();
    if (!c.res.headers.has('Cache-Control')) c.res.headers.set('Cache-Control', 'no-store');
  });

  registerSessionRoutes(app, context);
  registerReadRoutes(app, context);
  registerOperationRoutes(app, context);
  registerHistoryRoutes(app, context);
  registerEventRoutes(app, context);

  app.openAPIRegistry.registerComponent('securitySchemes', 'session', {
    type: 'apiKey',
    in: 'cookie',
    name: 'ejc_session',
    description: 'Browser session from POST /api/v1/session; state-changing requests also need X-CSRF-Token.',
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'apiToken', {
    type: 'http',
    scheme: 'bearer',
    description:
      'An API token from the users file (`elasticjob-console new-token`). Wrong tokens count against the client address like failed sign-ins; while the address is locked every Bearer request gets 429 problem+json with `Retry-After` (seconds).',
  });
  app.doc31('/api/v1/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'ElasticJob-TS console API',
      version: '1.0.0',
      description:
        'Jobs, servers, sharding and operations of an ElasticJob-TS (or ElasticJob) registry namespace, the execution history, and live events. Errors are application/problem+json naming the field.',
    },
  });

  app.all('/api/*', (c) =>
    sendProblem(
      c,
      problem(404, 'not-found', 'Not found', `No endpoint ${c.req.method} ${new URL(c.req.url).pathname}`),
    ),
  );
  app.use('/*', serveStatic({ root: webRoot }));
  app.get('/*', serveStatic({ root: webRoot, path: 'index.html' }));

  app.onError((error, c) => {
    const value = toProblem(error);
    if (value.status >= 500)
      context.log.error({ err: error, path: new URL(c.req.url).pathname }, 'console request failed');
    return sendProblem(c, value);
  });
  return app;
}
