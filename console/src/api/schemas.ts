/**
 * The REST API's schemas: one zod schema per shape, used both to validate requests and to write
 * the OpenAPI document (`/api/v1/openapi.json`).
 *
 * @module
 */
import { z } from '@hono/zod-openapi';

const JOB_NAME = /^(?!\.{1,2}$)[\p{L}\p{M}\p{N}_.-]+$/u;

/** `?registry=`: which configured registry/namespace a request addresses. */
export const RegistryQuery = z.object({
  registry: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'a registry id from GET /api/v1/registries')
    .optional()
    .openapi({ description: 'Registry id (GET /api/v1/registries); default: the first one.' }),
});

/** A job name (ElasticJob's rule: letters, digits, `_`, `-`, `.`). */
export const JobName = z
  .string()
  .regex(JOB_NAME, "a job name: letters, digits, '_', '-', '.' (not '.' or '..')");

/** `{job}`. */
export const JobParams = z.object({
  job: JobName.openapi({ param: { name: 'job', in: 'path' }, example: 'orders' }),
});

/** `{job}/items/{item}`. */
export const ItemParams = JobParams.extend({
  item: z.coerce
    .number()
    .int('an integer sharding item >= 0')
    .min(0, 'an integer sharding item >= 0')
    .max(2_147_483_646)
    .openapi({ param: { name: 'item', in: 'path' }, example: 0 }),
});

const SERVER_IP = z
  .string()
  .regex(/^[^/\s]{1,255}$/, 'a server IP (no / or spaces)')
  .openapi({ param: { name: 'ip', in: 'path' }, example: '10.0.0.7' });

/** `{ip}`. */
export const ServerParams = z.object({ ip: SERVER_IP });

/** `{job}/servers/{ip}`. */
export const JobServerParams = JobParams.extend({ ip: SERVER_IP });

export const JobStatusSchema = z
  .enum(['OK', 'DISABLED', 'SHARDING_FLAG', 'CRASHED', 'INVALID_CONFIG'])
  .openapi('JobStatus', {
    description:
      'ElasticJob statuses: CRASHED (no live instance), DISABLED (every live instance on a disabled server), ' +
      'SHARDING_FLAG (resharding pending or an item unassigned), OK; INVALID_CONFIG: the stored configuration does not parse.',
  });

export const JobSummarySchema = z
  .object({
    jobName: z.string(),
    status: JobStatusSchema,
    cron: z.string().openapi({ description: "Quartz cron; '' for a one-off job." }),
    description: z.string(),
    shardingTotalCount: z.number().int(),
    instanceCount: z.number().int().openapi({ description: 'Live job instances.' }),
    error: z.string().optional().openapi({ description: 'Why the stored configuration is invalid.' }),
  })
  .openapi('JobSummary');

export const InstanceSchema = z
  .object({
    jobName: z.string(),
    instanceId: z.string(),
    serverIp: z.string(),
    serverStatus: z
      .string()
      .nullable()
      .openapi({ description: '`servers/{ip}` of the job (ENABLED/DISABLED).' }),
  })
  .openapi('Instance');

export const ItemSchema = z
  .object({
    item: z.number().int(),
    status: z.enum(['RUNNING', 'COMPLETED', 'DISABLED', 'SHARDING_FLAG', 'PENDING']),
    instanceId: z.string().nullable(),
    serverIp: z.string().nullable(),
    running: z.boolean(),
    disabled: z.boolean(),
    failover: z
      .string()
      .nullable()
      .openapi({ description: 'Instance that took the item over after a crash.' }),
  })
  .openapi('ShardingItem');

export const StoredConfigurationSchema = z
  .object({
    yaml: z.string().openapi({ description: 'The stored configuration, as ElasticJob YAML.' }),
    version: z
      .string()
      .openapi({ description: 'Compare-and-set token: send it as `If-Match` with PUT .../config.' }),
  })
  .openapi('StoredConfiguration');

/** A job configuration as the API accepts it (ElasticJob's `JobConfiguration` fields). */
export const JobConfigurationSchema = z
  .strictObject({
    jobName: z.string().optional().openapi({ description: 'Must equal `{job}` when given.' }),
    cron: z.string().optional(),
    timeZone: z.string().optional(),
    shardingTotalCount: z.number().int(),
    shardingItemParameters: z.string().optional(),
    jobParameter: z.string().optional(),
    monitorExecution: z.boolean().optional(),
    failover: z.boolean().optional(),
    misfire: z.boolean().optional(),
    maxTimeDiffSeconds: z.number().int().optional(),
    reconcileIntervalMinutes: z.number().int().optional(),
    jobShardingStrategyType: z.string().optional(),
    jobExecutorThreadPoolSizeProviderType: z.string().optional(),
    jobErrorHandlerType: z.string().optional(),
    jobListenerTypes: z.array(z.string()).optional(),
    extraConfigurations: z.array(z.unknown()).optional(),
    description: z.string().optional(),
    props: z.record(z.string(), z.string()).optional(),
    disabled: z.boolean().optional(),
    overwrite: z.boolean().optional(),
    label: z.string().optional(),
    staticSharding: z.boolean().optional(),
  })
  .openapi('JobConfiguration', {
    description:
      "Every field of ElasticJob's job configuration; omitted fields take their defaults. Validated like core's `resolveJobConfiguration` (cron and time zone included).",
  });

export const JobDetailSchema = z
  .object({
    job: JobSummarySchema,
    configuration: z.record(z.string(), z.unknown()).nullable(),
    stored: StoredConfigurationSchema,
    leader: z.string().nullable(),
    servers: z.array(
      z.object({ serverIp: z.string(), status: z.string().nullable(), instances: z.array(z.string()) }),
    ),
    instances: z.array(InstanceSchema),
    items: z.array(ItemSchema),
  })
  .openapi('JobDetail');

export const ServerSchema = z
  .object({
    serverIp: z.string(),
    instances: z.array(z.string()),
    jobNames: z.array(z.string()),
    instancesNum: z.number().int(),
    jobsNum: z.number().int(),
    disabledJobsNum: z.number().int(),
  })
  .openapi('Server');

export const OperationResultSchema = z
  .object({
    operation: z.string(),
    jobName: z.string().nullable(),
    serverIp: z.string().nullable(),
    item: z.number().int().nullable(),
    instances: z.array(z.string()).openapi({ description: 'Instances the command reached.' }),
    servers: z.array(z.object({ jobName: z.string(), serverIp: z.string() })),
  })
  .openapi('OperationResult');

export const RegistryInfoSchema = z
  .object({
    id: z.string(),
    label: z.string(),
    namespace: z.string(),
    type: z.string(),
  })
  .openapi('Registry', {
    description: 'A registry the console shows; never carries addresses or credentials.',
  });

export const SessionSchema = z
  .object({
    authenticated: z.boolean(),
    authRequired: z.boolean(),
    username: z.string().nullable(),
    role: z.enum(['admin', 'operator', 'viewer']).nullable(),
    csrfToken: z.string().nullable().openapi({ description: 'Send as X-CSRF-Token on POST/PUT/DELETE.' }),
    readOnly: z.boolean(),
    historyAvailable: z.boolean(),
  })
  .openapi('Session');

export const LoginSchema = z
  .strictObject({
    username: z.string().min(1).max(64),
    password: z.string().min(1).max(1024),
  })
  .openapi('Login');
