/**
 * `GET /api/v1/events`: Server-Sent Events of job, server and sharding changes, pushed from the
 * registry watch behind the namespace mirror (no polling).
 *
 * @module
 */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { streamSSE } from 'hono/streaming';
import type { ConsoleEvent } from '../live/change-feed.js';
import { requirePermission } from '../security/access.js';
import { type ApiContext, type ConsoleEnv, namespaceOf } from './api-context.js';
import { problems, SECURED } from './openapi-helpers.js';
import { RegistryQuery } from './schemas.js';

/** How often an idle stream sends a comment line, so proxies keep it open (ms). */
const KEEP_ALIVE_MS = 25_000;

/** Registers the event stream. */
export function registerEventRoutes(app: OpenAPIHono<ConsoleEnv>, context: ApiContext): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/events',
      tags: ['events'],
      summary: 'Live changes (Server-Sent Events)',
      description:
        'Event `job`: `{ jobName, summary | null, parts }` when a job is added, changed (config, servers, instances, sharding, leader) or removed; ' +
        "event `servers`: `{}` when some job's servers or instances changed; event `ready` once the stream is subscribed. " +
        'Driven by the registry watch; changes in one burst are merged into one event per job.',
      security: SECURED,
      middleware: [requirePermission(context.policy, 'read')] as const,
      request: { query: RegistryQuery },
      responses: {
        200: { description: 'An event stream.', content: { 'text/event-stream': { schema: z.string() } } },
        ...problems(401, 404),
      },
    }),
    (c) => {
      const ns = namespaceOf(context, c.req.valid('query').registry);
      c.header('Cache-Control', 'no-store');
      c.header('X-Accel-Buffering', 'no');
      return streamSSE(c, async (stream) => {
        const queue: ConsoleEvent[] = [];
        let wake: (() => void) | undefined;
        const unsubscribe = ns.feed.subscribe((event) => {
          queue.push(event);
          wake?.();
        });
        let closed = false;
        stream.onAbort(() => {
          closed = true;
          wake?.();
        });
        const keepAlive = setInterval(() => wake?.(), KEEP_ALIVE_MS);
        try {
          await stream.writeSSE({ event: 'ready', data: '{}' });
          while (!closed) {
            if (queue.length === 0) {
              await new Promise<void>((resolve) => {
                wake = resolve;
              });
              wake = undefined;
              if (queue.length === 0 && !closed) await stream.write(': keep-alive\n\n');
              continue;
            }
            const event = queue.shift()!;
            const { type, ...data } = event;
            await stream.writeSSE({ event: type, data: JSON.stringify(data) });
          }
        } finally {
          clearInterval(keepAlive);
          unsubscribe();
        }
      });
    },
  );
}
