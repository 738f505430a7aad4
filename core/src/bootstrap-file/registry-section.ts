/**
 * Validation of a jobs file's `registry:` section: per built-in type, then the adapter's own checks.
 *
 * @module
 * @internal
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { describeValue } from '../config/job-configuration-error.js';
import {
  BUILT_IN_REGISTRY_PACKAGES,
  buildRegistryCenter,
  type RegistryCenterConfiguration,
  RegistryConfigurationError,
  validateNamespace,
} from '../registry/registry-configuration.js';
import type { JobsFileIssue } from './jobs-file-error.js';
import { hasIssueUnder, isFilePath, messageOf, zodIssues } from './jobs-file-issues.js';

const ms = z.int().min(1).max(2_147_483_647);
const nonEmpty = z.string().min(1);

/** PEM material inline or from files (etcd and Redis). */
const TLS_SCHEMA = z.strictObject({
  ca: nonEmpty.optional(),
  cert: nonEmpty.optional(),
  key: nonEmpty.optional(),
  caFile: nonEmpty.optional(),
  certFile: nonEmpty.optional(),
  keyFile: nonEmpty.optional(),
});

const REGISTRY_SCHEMAS: Readonly<Record<string, z.ZodType>> = {
  zookeeper: z.strictObject({
    type: z.literal('zookeeper'),
    serverLists: nonEmpty,
    namespace: nonEmpty,
    sessionTimeoutMs: ms.optional(),
    connectionTimeoutMs: ms.optional(),
    baseSleepTimeMs: ms.optional(),
    maxSleepTimeMs: ms.optional(),
    maxRetries: z.int().min(0).max(100).optional(),
    digest: nonEmpty.optional(),
    watchMode: z.enum(['auto', 'persistent', 'one-shot']).optional(),
  }),
  etcd: z.strictObject({
    type: z.literal('etcd'),
    endpoints: z.union([nonEmpty, z.array(nonEmpty).min(1)]),
    namespace: nonEmpty,
    sessionTimeoutMs: ms.optional(),
    connectionTimeoutMs: ms.optional(),
    username: nonEmpty.optional(),
    password: z.string().optional(),
    tls: TLS_SCHEMA.optional(),
    maxTxnOps: z.int().min(6).max(1_000_000).optional(),
  }),
  redis: z.strictObject({
    type: z.literal('redis'),
    url: nonEmpty,
    namespace: nonEmpty,
    sessionTimeoutMs: ms.optional(),
    connectionTimeoutMs: ms.optional(),
    commandTimeoutMs: ms.optional(),
    username: nonEmpty.optional(),
    password: z.string().optional(),
    tls: TLS_SCHEMA.optional(),
  }),
  memory: z.strictObject({
    type: z.literal('memory'),
    namespace: nonEmpty.optional(),
    sessionTimeoutMs: ms.optional(),
  }),
};

const CUSTOM_REGISTRY_SCHEMA = z.looseObject({ type: nonEmpty, module: nonEmpty });

/**
 * Validates a `registry:` section, pushing one issue per problem under `registry.*`.
 * @returns the configuration to build the client from, or `undefined` when it has problems.
 * @internal
 */
export async function validateRegistry(
  section: unknown,
  baseDir: string,
  issues: JobsFileIssue[],
  overrides?: Readonly<Record<string, unknown>>,
): Promise<RegistryCenterConfiguration | undefined> {
  const builtIn = Object.keys(BUILT_IN_REGISTRY_PACKAGES);
  if (section === null || typeof section !== 'object' || Array.isArray(section)) {
    issues.push({ path: 'registry', message: `expected a map with a 'type', got ${describeValue(section)}` });
    return undefined;
  }
  const record = section as Record<string, unknown>;
  // An unresolved environment reference was reported already; the adapter would only repeat it.
  const unresolved = hasIssueUnder(issues, 'registry');
  const type = record.type;
  if (typeof type !== 'string' || type === '') {
    issues.push({
      path: 'registry.type',
      message: `${type === undefined ? 'is required' : `${describeValue(type)} is invalid`}; accepted: ${builtIn.join(', ')}, or any type with a 'module'`,
    });
    return undefined;
  }
  if (REGISTRY_SCHEMAS[type] === undefined && record.module === undefined) {
    // Not built in and no module to load it from: most likely a misspelled built-in type.
    issues.push({
      path: 'registry.type',
      message: `unknown registry type '${type}'; accepted: ${builtIn.join(', ')}, or any type with a 'module'`,
    });
    return undefined;
  }
  const schema = REGISTRY_SCHEMAS[type] ?? CUSTOM_REGISTRY_SCHEMA;
  const parsed = schema.safeParse(record, { reportInput: true });
  const before = issues.length;
  if (!parsed.success) {
    const accepted = schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
    issues.push(...parsed.error.issues.flatMap((issue) => zodIssues(issue, ['registry'], accepted)));
  }
  if (typeof record.namespace === 'string') {
    try {
      validateNamespace(record.namespace);
    } catch (error) {
      issues.push({ path: 'registry.namespace', message: messageOf(error) });
    }
  }
  if (issues.length > before) return undefined;

  const configuration: Record<string, unknown> = { ...record };
  if (typeof configuration.module === 'string' && isFilePath(configuration.module)) {
    configuration.module = pathToFileURL(resolve(baseDir, configuration.module)).href;
  }
  const tls = configuration.tls as Record<string, string | undefined> | undefined;
  if (tls !== undefined) {
    const material: Record<string, string> = {};
    for (const name of ['ca', 'cert', 'key'] as const) {
      const inline = tls[name];
      const fromFile = tls[`${name}File`];
      if (inline !== undefined && fromFile !== undefined) {
        issues.push({
          path: `registry.tls.${name}File`,
          message: `give either '${name}' or '${name}File', not both`,
        });
      } else if (fromFile !== undefined) {
        const path = resolve(baseDir, fromFile);
        try {
          material[name] = await readFile(path, 'utf8');
        } catch (cause) {
          issues.push({
            path: `registry.tls.${name}File`,
            message: `cannot read '${path}': ${messageOf(cause)}`,
          });
        }
      } else if (inline !== undefined) {
        material[name] = inline;
      }
    }
    configuration.tls = material;
  }
  if (issues.length > before || unresolved) return undefined;
  const result = { ...configuration, ...(overrides ?? {}) } as unknown as RegistryCenterConfiguration;
  try {
    // The adapter validates its own options; building a client connects nothing.
    await buildRegistryCenter(result);
  } catch (error) {
    const field = error instanceof RegistryConfigurationError ? error.field : 'type';
    issues.push({ path: `registry.${field}`, message: messageOf(error) });
    return undefined;
  }
  return result;
}
