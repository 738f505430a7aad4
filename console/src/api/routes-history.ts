/**
 * History endpoints over the execution history (ElasticJob's event tracing): executions, status
 * traces, per-job statistics. 404 `history-not-configured` when the console runs without `--history`.
 *
 * @module
 */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { HistorySource } from '../history/history-source.js';
import { requirePermission } from '../security/access.js';
import type { ApiContext, ConsoleEnv } from './api-context.js';
import { json, problems, SECURED } from './openapi-helpers.js';
import { invalidInput, ProblemError, problem } from './problem.js';
import { JobName, JobParams } from './schemas.js';

const instant = z
  .string()
  .refine((text) => !Number.isNaN(Date.parse(text)), 'an ISO 8601 date-time, e.g. 2026-12-04T17:00:00Z')
  .openapi({ example: '2026-12-04T17:00:00Z' });

const limit = z.coerce.number().int().min(1, 'from 1 to 500').max(500, 'from 1 to 500').default(50);

const ExecutionQuerySchema = z.object({
  job: JobName.optional(),
  item: z.coerce.number().int().min(0, 'an integer sharding item >= 0').optional(),
  ip: z.string().min(1).max(255).optional(),
  success: z.enum(['true', 'false'], 'true or false').optional(),
  from: instant.optional(),
  to: instant.optional(),
  cursor: z.string().max(512).optional(),
  limit,
});

const ExecutionSchema = z
  .object({
    id: z.string(),
    jobName: z.string(),
    taskId: z.string(),
    hostname: z.string(),
    ip: z.string(),
    shardingItem: z.number().int(),
    executionSource: z.string(),
    failureCause: z.string().nullable(),
    success: z.boolean(),
    startTime: z.string(),
    completeTime: z.string().nullable(),
  })
  .openapi('Execution', { description: 'A row of JOB_EXECUTION_LOG.' });

const StatusTraceSchema = z
  .object({
    id: z.string(),
    jobName: z.string(),
    originalTaskId: z.string(),
    taskId: z.string(),
    slaveId: z.string(),
    executionType: z.string(),
    shardingItem: z.string(),
    state: z.string(),
    message: z.string(),
    creationTime: z.string(),
  })
  .openapi('StatusTrace', { description: 'A row of JOB_STATUS_TRACE_LOG.' });

const StatsBucketSchema = z
  .object({
    start: z.string(),
    runs: z.number().int(),
    failures: z.number().int(),
    p50DurationMs: z.number().nullable(),
    p95DurationMs: z.number().nullable(),
  })
  .openapi('JobStatsBucket');

const page = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable() });

function historyOf(context: ApiContext): HistorySource {
  if (context.history === undefined) {
    throw new ProblemError(
      problem(
        404,
        'history-not-configured',
        'History not configured',
        'Start the console with --history <db-url> to search the execution history',
      ),
    );
  }
  return context.history;
}

function timeRange(from: string | undefined, to: string | undefined) {
  const fromMs = from === undefined ? undefined : Date.parse(from);
  const toMs = to === undefined ? undefined : Date.parse(to);
  if (fromMs !== undefined && toMs !== undefined && fromMs >= toMs) {
    throw new ProblemError(
      invalidInput([{ field: 'query.to', message: `must be after from (${from}), got ${to}` }]),
    );
  }
  return { fromMs, toMs };
}

/** Registers the history endpoints. */
export function registerHistoryRoutes(app: OpenAPIHono<ConsoleEnv>, context: ApiContext): void {
  const read = requirePermission(context.policy, 'read');

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/executions',
      tags: ['history'],
      summary: 'Search executions (JOB_EXECUTION_LOG), newest first',
      security: SECURED,
      middleware: [read] as const,
      request: { query: ExecutionQuerySchema },
      responses: { 200: json(page(ExecutionSchema), 'One page.'), ...problems(400, 401, 404, 503) },
    }),
    async (c) => {
      const query = c.req.valid('query');
      const { fromMs, toMs } = timeRange(query.from, query.to);
      const result = await historyOf(context).executions({
        jobName: query.job,
        item: query.item,
        ip: query.ip,
        success: query.success === undefined ? undefined : query.success === 'true',
        fromMs,
        toMs,
        cursor: query.cursor,
        limit: query.limit,
      });
      return c.json({ items: [...result.items], nextCursor: result.nextCursor }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/status-traces',
      tags: ['history'],
      summary: "A task's status trace (JOB_STATUS_TRACE_LOG), oldest first",
      security: SECURED,
      middleware: [read] as const,
      request: {
        query: z.object({
          job: JobName.optional(),
          taskId: z.string().min(1).max(1024).optional(),
          cursor: z.string().max(512).optional(),
          limit,
        }),
      },
      responses: { 200: json(page(StatusTraceSchema), 'One page.'), ...problems(400, 401, 404, 503) },
    }),
    async (c) => {
      const query = c.req.valid('query');
      const result = await historyOf(context).statusTraces({
        jobName: query.job,
        taskId: query.taskId,
        cursor: query.cursor,
        limit: query.limit,
      });
      return c.json({ items: [...result.items], nextCursor: result.nextCursor }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/jobs/{job}/stats',
      tags: ['history'],
      summary: 'Runs, failures and duration percentiles of a job per hour or day',
      security: SECURED,
      middleware: [read] as const,
      request: {
        params: JobParams,
        query: z.object({
          from: instant.optional().openapi({ description: 'Default: 24 hours before `to`.' }),
          to: instant.optional().openapi({ description: 'Default: now.' }),
          bucket: z.enum(['hour', 'day'], 'hour or day').default('hour'),
        }),
      },
      responses: {
        200: json(z.array(StatsBucketSchema), 'The buckets, oldest first.'),
        ...problems(400, 401, 404, 503),
      },
    }),
    async (c) => {
      const query = c.req.valid('query');
      const range = timeRange(query.from, query.to);
      const toMs = range.toMs ?? Date.now();
      const fromMs = range.fromMs ?? toMs - 24 * 3_600_000;
      const buckets = await historyOf(context).jobStats({
        jobName: c.req.valid('param').job,
        fromMs,
        toMs,
        bucket: query.bucket,
      });
      return c.json([...buckets], 200);
    },
  );
}
