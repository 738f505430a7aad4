/**
 * Read endpoints: jobs, one job, servers, instances, a job's stored configuration. Served from the
 * namespace mirror (no registry round trip), except the configuration, which is read directly so
 * its version is the server's.
 *
 * @module
 */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { requirePermission } from '../security/access.js';
import { type ApiContext, type ConsoleEnv, namespaceOf } from './api-context.js';
import { json, problems, SECURED } from './openapi-helpers.js';
import {
  InstanceSchema,
  JobDetailSchema,
  JobParams,
  JobSummarySchema,
  RegistryQuery,
  ServerSchema,
  StoredConfigurationSchema,
} from './schemas.js';

/** Registers the read endpoints. */
export function registerReadRoutes(app: OpenAPIHono<ConsoleEnv>, context: ApiContext): void {
  const read = requirePermission(context.policy, 'read');

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/jobs',
      tags: ['jobs'],
      summary: 'Every job with its status',
      description:
        'ElasticJob `JobStatisticsAPI.getAllJobsBriefInfo`, sorted by name; a job whose stored configuration does not parse is listed as INVALID_CONFIG with its error.',
      security: SECURED,
      middleware: [read] as const,
      request: { query: RegistryQuery },
      responses: { 200: json(z.array(JobSummarySchema), 'The jobs.'), ...problems(401, 404, 503) },
    }),
    async (c) => {
      const ns = namespaceOf(context, c.req.valid('query').registry);
      return c.json(await ns.gateway.listJobs(), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/jobs/{job}',
      tags: ['jobs'],
      summary: 'One job: configuration, servers, instances, sharding items, leader',
      security: SECURED,
      middleware: [read] as const,
      request: { params: JobParams, query: RegistryQuery },
      responses: { 200: json(JobDetailSchema, 'The job.'), ...problems(400, 401, 404, 503) },
    }),
    async (c) => {
      const ns = namespaceOf(context, c.req.valid('query').registry);
      const detail = await ns.gateway.jobDetail(c.req.valid('param').job);
      return c.json(
        {
          ...detail,
          configuration: detail.configuration as Record<string, unknown> | null,
          servers: detail.servers.map((server) => ({ ...server })),
          instances: [...detail.instances],
          items: [...detail.items],
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/jobs/{job}/config',
      tags: ['configuration'],
      summary: "A job's stored configuration and its version",
      description: 'Read directly from the registry. The `ETag` header carries the version for `If-Match`.',
      security: SECURED,
      middleware: [read] as const,
      request: { params: JobParams, query: RegistryQuery },
      responses: {
        200: json(StoredConfigurationSchema, 'The stored configuration.'),
        ...problems(400, 401, 404, 503),
      },
    }),
    async (c) => {
      const ns = namespaceOf(context, c.req.valid('query').registry);
      const stored = await ns.gateway.storedConfiguration(c.req.valid('param').job);
      c.header('ETag', `"${stored.version}"`);
      return c.json(stored, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/servers',
      tags: ['servers'],
      summary: 'Every server (IP) with its instances and jobs',
      description: 'ElasticJob `ServerStatisticsAPI.getAllServersBriefInfo`.',
      security: SECURED,
      middleware: [read] as const,
      request: { query: RegistryQuery },
      responses: { 200: json(z.array(ServerSchema), 'The servers.'), ...problems(401, 404, 503) },
    }),
    async (c) => {
      const ns = namespaceOf(context, c.req.valid('query').registry);
      const servers = await ns.gateway.servers();
      return c.json(
        servers.map((server) => ({
          ...server,
          instances: [...server.instances],
          jobNames: [...server.jobNames],
        })),
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/instances',
      tags: ['servers'],
      summary: 'Every live job instance',
      security: SECURED,
      middleware: [read] as const,
      request: { query: RegistryQuery },
      responses: { 200: json(z.array(InstanceSchema), 'The instances, by job.'), ...problems(401, 404) },
    }),
    (c) => {
      const ns = namespaceOf(context, c.req.valid('query').registry);
      return c.json(ns.gateway.instances(), 200);
    },
  );
}
