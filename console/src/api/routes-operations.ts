/**
 * Operation endpoints: trigger, disable/enable, shutdown (per job, per server of a job, per server,
 * per sharding item), job and server removal, and the configuration replace with compare-and-set.
 * Every operation runs over the live registry client through core's lifecycle API.
 *
 * @module
 */
import type { JobInstanceTarget, JobServerTarget } from '@elasticjob-ts/core';
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { requirePermission } from '../security/access.js';
import { type ApiContext, type ConsoleEnv, namespaceOf } from './api-context.js';
import { json, problems, SECURED } from './openapi-helpers.js';
import { invalidInput, ProblemError, problem } from './problem.js';
import {
  ItemParams,
  JobConfigurationSchema,
  JobParams,
  JobServerParams,
  OperationResultSchema,
  RegistryQuery,
  ServerParams,
  StoredConfigurationSchema,
} from './schemas.js';

type ServerOperation = 'disable' | 'enable' | 'shutdown';

const SERVER_OPERATIONS: readonly ServerOperation[] = ['disable', 'enable', 'shutdown'];

const DESCRIPTIONS: Readonly<Record<ServerOperation, string>> = {
  disable:
    'Writes DISABLED to the servers/{ip} nodes (ElasticJob `JobOperateAPI.disable`): their instances get no items; the leader reshards.',
  enable:
    'Writes ENABLED to the servers/{ip} nodes (ElasticJob `JobOperateAPI.enable`); the leader reshards.',
  shutdown:
    'Sends the shutdown command to the live instances (`shutdown/{instanceId}`); they stop the job and leave the cluster.',
};

interface Target {
  readonly jobName?: string;
  readonly serverIp?: string;
}

function result(
  operation: string,
  target: Target & { item?: number },
  instances: readonly JobInstanceTarget[] | readonly string[],
  servers: readonly JobServerTarget[],
) {
  return {
    operation,
    jobName: target.jobName ?? null,
    serverIp: target.serverIp ?? null,
    item: target.item ?? null,
    instances: instances.map((each) => (typeof each === 'string' ? each : each.instanceId)),
    servers: servers.map((each) => ({ jobName: each.jobName, serverIp: each.serverIp })),
  };
}

async function serverOperation(
  context: ApiContext,
  registry: string | undefined,
  operation: ServerOperation,
  target: Target,
) {
  const gateway = namespaceOf(context, registry).gateway;
  if (operation === 'shutdown')
    return result(operation, target, await gateway.shutdown(target.jobName, target.serverIp), []);
  const servers = await gateway.setServerEnabled(operation === 'enable', target.jobName, target.serverIp);
  return result(operation, target, [], servers);
}

/** `If-Match: "<version>"` (quotes and a weak prefix tolerated). */
function expectedVersion(header: string | undefined): string {
  if (header === undefined || header.trim() === '') {
    throw new ProblemError(
      problem(
        428,
        'precondition-required',
        'If-Match required',
        'Send the version from GET .../config as If-Match',
        {
          field: 'header.If-Match',
          errors: [
            { field: 'header.If-Match', message: 'required: the version from GET /api/v1/jobs/{job}/config' },
          ],
        },
      ),
    );
  }
  return header
    .trim()
    .replace(/^W\//, '')
    .replace(/^"(.*)"$/, '$1');
}

/** Registers the operation endpoints. */
export function registerOperationRoutes(app: OpenAPIHono<ConsoleEnv>, context: ApiContext): void {
  const operate = requirePermission(context.policy, 'operate');
  const configure = requirePermission(context.policy, 'configure');
  const ok = json(OperationResultSchema, 'What the operation reached.');

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/jobs/{job}/trigger',
      tags: ['operations'],
      summary: 'Run the job once now on every live instance',
      description: 'ElasticJob `JobOperateAPI.trigger`: writes trigger/{instanceId} for every live instance.',
      security: SECURED,
      middleware: [operate] as const,
      request: { params: JobParams, query: RegistryQuery },
      responses: { 200: ok, ...problems(400, 401, 403, 404, 503) },
    }),
    async (c) => {
      const { job } = c.req.valid('param');
      const instances = await namespaceOf(context, c.req.valid('query').registry).gateway.trigger(job);
      return c.json(result('trigger', { jobName: job }, instances, []), 200);
    },
  );

  for (const operation of SERVER_OPERATIONS) {
    app.openapi(
      createRoute({
        method: 'post',
        path: `/api/v1/jobs/{job}/${operation}`,
        tags: ['operations'],
        summary: `${operation} the job on every server`,
        description: DESCRIPTIONS[operation],
        security: SECURED,
        middleware: [operate] as const,
        request: { params: JobParams, query: RegistryQuery },
        responses: { 200: ok, ...problems(400, 401, 403, 404, 503) },
      }),
      async (c) => {
        const { job } = c.req.valid('param');
        return c.json(
          await serverOperation(context, c.req.valid('query').registry, operation, { jobName: job }),
          200,
        );
      },
    );
    app.openapi(
      createRoute({
        method: 'post',
        path: `/api/v1/jobs/{job}/servers/{ip}/${operation}`,
        tags: ['operations'],
        summary: `${operation} the job on one server`,
        description: DESCRIPTIONS[operation],
        security: SECURED,
        middleware: [operate] as const,
        request: { params: JobServerParams, query: RegistryQuery },
        responses: { 200: ok, ...problems(400, 401, 403, 404, 503) },
      }),
      async (c) => {
        const { job, ip } = c.req.valid('param');
        const target = { jobName: job, serverIp: ip };
        return c.json(await serverOperation(context, c.req.valid('query').registry, operation, target), 200);
      },
    );
    app.openapi(
      createRoute({
        method: 'post',
        path: `/api/v1/servers/{ip}/${operation}`,
        tags: ['operations'],
        summary: `${operation} a server in every job`,
        description: DESCRIPTIONS[operation],
        security: SECURED,
        middleware: [operate] as const,
        request: { params: ServerParams, query: RegistryQuery },
        responses: { 200: ok, ...problems(400, 401, 403, 404, 503) },
      }),
      async (c) => {
        const { ip } = c.req.valid('param');
        return c.json(
          await serverOperation(context, c.req.valid('query').registry, operation, { serverIp: ip }),
          200,
        );
      },
    );
  }

  for (const operation of ['disable', 'enable'] as const) {
    app.openapi(
      createRoute({
        method: 'post',
        path: `/api/v1/jobs/{job}/items/{item}/${operation}`,
        tags: ['operations'],
        summary: `${operation} one sharding item`,
        description:
          'ElasticJob `ShardingOperateAPI`: a disabled item stays assigned but is skipped by every run; no resharding.',
        security: SECURED,
        middleware: [operate] as const,
        request: { params: ItemParams, query: RegistryQuery },
        responses: { 200: ok, ...problems(400, 401, 403, 404, 503) },
      }),
      async (c) => {
        const { job, item } = c.req.valid('param');
        await namespaceOf(context, c.req.valid('query').registry).gateway.setItemEnabled(
          operation === 'enable',
          job,
          item,
        );
        return c.json(result(operation, { jobName: job, item }, [], []), 200);
      },
    );
  }

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/api/v1/servers/{ip}',
      tags: ['operations'],
      summary: 'Remove a server from every job',
      description:
        'ElasticJob `JobOperateAPI.remove(null, ip)`: shuts its instances down and deletes its server nodes.',
      security: SECURED,
      middleware: [configure] as const,
      request: { params: ServerParams, query: RegistryQuery },
      responses: { 200: ok, ...problems(400, 401, 403, 404, 503) },
    }),
    async (c) => {
      const { ip } = c.req.valid('param');
      const removal = await namespaceOf(context, c.req.valid('query').registry).gateway.removeServer(ip);
      return c.json(result('remove', { serverIp: ip }, removal.instances, removal.servers), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/api/v1/jobs/{job}',
      tags: ['operations'],
      summary: 'Remove a job',
      description:
        'Shuts the job down on every instance, then deletes /{job} and its subtree from the registry.',
      security: SECURED,
      middleware: [configure] as const,
      request: { params: JobParams, query: RegistryQuery },
      responses: { 200: ok, ...problems(400, 401, 403, 404, 503) },
    }),
    async (c) => {
      const { job } = c.req.valid('param');
      const instances = await namespaceOf(context, c.req.valid('query').registry).gateway.removeJob(job);
      return c.json(result('remove', { jobName: job }, instances, []), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: '/api/v1/jobs/{job}/config',
      tags: ['configuration'],
      summary: "Replace a job's configuration (compare-and-set)",
      description:
        'Validated completely (every field, cron, time zone) before anything is written. `If-Match` must carry the version ' +
        'from GET .../config; when the stored configuration changed since, nothing is written and the answer is 412 with `currentVersion`. ' +
        'Running instances apply the change (a new cron reschedules, a new sharding total reshards).',
      security: SECURED,
      middleware: [configure] as const,
      request: {
        params: JobParams,
        query: RegistryQuery,
        headers: z.object({
          'if-match': z.string().optional().openapi({ description: 'The version read.' }),
        }),
        body: { required: true, content: { 'application/json': { schema: JobConfigurationSchema } } },
      },
      responses: {
        200: json(StoredConfigurationSchema, 'The configuration now stored and its new version.'),
        ...problems(400, 401, 403, 404, 412, 422, 428, 503),
      },
    }),
    async (c) => {
      const { job } = c.req.valid('param');
      const body = c.req.valid('json');
      if (body.jobName !== undefined && body.jobName !== job) {
        throw new ProblemError(
          invalidInput([
            {
              field: 'body.jobName',
              message: `must equal the job in the path ('${job}'), got '${body.jobName}'`,
            },
          ]),
        );
      }
      const version = expectedVersion(c.req.header('If-Match'));
      const gateway = namespaceOf(context, c.req.valid('query').registry).gateway;
      const stored = await gateway.replaceConfiguration({ ...body, jobName: job }, version);
      c.header('ETag', `"${stored.version}"`);
      return c.json(stored, 200);
    },
  );
}
