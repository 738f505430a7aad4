/**
 * Validation of a jobs file's `tracing:` and `monitoring:` sections: their shape here, then the
 * tracing package's own checks (history URL, retention policy, monitoring address), so that the
 * rules live in one place and a bad section starts nothing.
 *
 * @module
 * @internal
 */
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import type { JobsFileIssue } from './jobs-file-error.js';
import { hasIssueUnder, messageOf, zodIssues } from './jobs-file-issues.js';
import type { JobsFileMonitoringConfiguration, JobsFileTracingConfiguration } from './jobs-file-types.js';
import {
  importTracingPackage,
  loadTracingPackage,
  type TracingPackage,
  tracingPackageMissing,
} from './tracing-package.js';

/** A timer bound, in ms (what `setTimeout` accepts). */
const timerMs = z.int().min(1).max(2_147_483_647);
const count = z.int().min(1);

const RETENTION_SCHEMA = z.strictObject({
  maxAgeMs: count.optional(),
  maxRows: count.optional(),
  batchSize: count.optional(),
  intervalMs: timerMs.optional(),
});

const WRITER_SCHEMA = z.strictObject({
  maxQueuedEvents: count.optional(),
  maxBatchSize: count.optional(),
  flushIntervalMs: timerMs.optional(),
  retryInitialDelayMs: timerMs.optional(),
  retryMaxDelayMs: timerMs.optional(),
  dropWarningIntervalMs: timerMs.optional(),
});

const TRACING_SCHEMA = z.strictObject({
  url: z.string().min(1),
  maxConnections: count.optional(),
  connectTimeoutMs: timerMs.optional(),
  statementTimeoutMs: timerMs.optional(),
  retention: RETENTION_SCHEMA.optional(),
  writer: WRITER_SCHEMA.optional(),
});

const MONITORING_SCHEMA = z.strictObject({
  port: z.int().min(0).max(65_535).optional(),
  host: z.string().min(1).optional(),
  bearerToken: z.string().min(1).optional(),
});

/** Keys accepted at each level, for "unknown key" messages. */
const ACCEPTED_KEYS: Readonly<Record<string, readonly string[]>> = {
  tracing: Object.keys(TRACING_SCHEMA.shape),
  'tracing.retention': Object.keys(RETENTION_SCHEMA.shape),
  'tracing.writer': Object.keys(WRITER_SCHEMA.shape),
  monitoring: Object.keys(MONITORING_SCHEMA.shape),
};

/** The validated sections; absent ones are `undefined`. */
export interface ObservabilitySections {
  readonly tracing?: JobsFileTracingConfiguration;
  readonly monitoring?: JobsFileMonitoringConfiguration;
}

/**
 * Validates the `tracing:` and `monitoring:` sections of a jobs file, pushing one issue per
 * problem under `tracing.*` / `monitoring.*`. Imports the tracing package when either is present
 * (a missing package is an issue naming the `npm install` line).
 *
 * @param record - the file's top-level map, environment references resolved.
 * @param baseDir - where a relative `sqlite:` path starts from.
 * @param issues - the file's issues so far (a section with one already, e.g. an unset variable or
 *   not a map, is not checked further; the other section still is); new ones are appended.
 * @param load - imports the tracing package. @defaultValue {@link loadTracingPackage}
 * @returns the sections, or `{}` when any has a problem.
 * @internal
 */
export async function validateObservabilitySections(
  record: Readonly<Record<string, unknown>>,
  baseDir: string,
  issues: JobsFileIssue[],
  load: () => Promise<unknown> = loadTracingPackage,
): Promise<ObservabilitySections> {
  const present = (['tracing', 'monitoring'] as const).filter((name) => record[name] !== undefined);
  if (present.length === 0) return {};
  const before = issues.length;
  // A section is checked further only when its shape is right and its references resolved.
  const shaped = <T>(name: 'tracing' | 'monitoring', schema: z.ZodType<T>): T | undefined => {
    const section = checkShape(schema, record, name, issues);
    return hasIssueUnder(issues, name) ? undefined : section;
  };
  const tracing = shaped('tracing', TRACING_SCHEMA);
  const monitoring = shaped('monitoring', MONITORING_SCHEMA);
  if (tracing === undefined && monitoring === undefined) return {};

  const tracingPackage = await importTracingPackage(load);
  if (tracingPackage === undefined) {
    issues.push({ path: present[0] as string, message: tracingPackageMissing() });
    return {};
  }
  const resolvedTracing = tracing && checkTracing(tracingPackage, tracing, baseDir, issues);
  if (monitoring !== undefined) checkMonitoring(tracingPackage, monitoring, issues);
  if (issues.length > before) return {};
  return {
    ...(resolvedTracing === undefined ? {} : { tracing: resolvedTracing }),
    ...(monitoring === undefined ? {} : { monitoring }),
  };
}

function checkShape<T>(
  schema: z.ZodType<T>,
  record: Readonly<Record<string, unknown>>,
  name: 'tracing' | 'monitoring',
  issues: JobsFileIssue[],
): T | undefined {
  const section = record[name];
  // Not a map: reported with the top-level keys.
  if (section === undefined || section === null || typeof section !== 'object' || Array.isArray(section)) {
    return undefined;
  }
  const parsed = schema.safeParse(section, { reportInput: true });
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues) {
    const at = [name, ...issue.path.map(String)].join('.');
    issues.push(...zodIssues(issue, [name], ACCEPTED_KEYS[at] ?? []));
  }
  return undefined;
}

function checkTracing(
  tracingPackage: TracingPackage,
  tracing: JobsFileTracingConfiguration,
  baseDir: string,
  issues: JobsFileIssue[],
): JobsFileTracingConfiguration | undefined {
  const before = issues.length;
  let url = tracing.url;
  try {
    const location = tracingPackage.parseHistoryUrl(url);
    if (location.backend === 'sqlite' && location.filename !== ':memory:' && !isAbsolute(location.filename)) {
      url = `sqlite:${resolve(baseDir, location.filename)}`;
    }
  } catch (error) {
    issues.push({ path: 'tracing.url', message: messageOf(error) });
  }
  if (tracing.retention !== undefined) {
    try {
      tracingPackage.validateRetentionPolicy(tracing.retention);
    } catch (error) {
      issues.push({ path: 'tracing.retention', message: messageOf(error) });
    }
  }
  return issues.length > before ? undefined : { ...tracing, url };
}

function checkMonitoring(
  tracingPackage: TracingPackage,
  monitoring: JobsFileMonitoringConfiguration,
  issues: JobsFileIssue[],
): void {
  try {
    tracingPackage.validateMonitoringServerOptions(monitoring);
  } catch (error) {
    const field = (error as { field?: unknown }).field;
    issues.push({
      path: typeof field === 'string' ? `monitoring.${field}` : 'monitoring',
      message: messageOf(error),
    });
  }
}
