/**
 * The optional `@elasticjob-ts/tracing` package, imported on demand: core does not depend on it
 * (it depends on core), so neither its database drivers nor prom-client are loaded unless a jobs
 * file's `tracing:`/`monitoring:` section or `elasticjob history` asks for them.
 *
 * @module
 * @internal
 */

import type { Logger } from '../logging/logger.js';
import type { CoordinatorRegistryCenter } from '../registry/registry-center.js';
import type { FileJobBootstrap } from './jobs-file-types.js';

/** The package that implements event tracing, metrics and `elasticjob history`. */
export const TRACING_PACKAGE = '@elasticjob-ts/tracing';

/** The command line that installs {@link TRACING_PACKAGE}. */
export const TRACING_INSTALL = `npm install ${TRACING_PACKAGE}`;

/** The problem of a jobs file whose `tracing:`/`monitoring:` section needs the missing package. */
export function tracingPackageMissing(): string {
  return `needs the ${TRACING_PACKAGE} package (event tracing and metrics), which is not installed: ${TRACING_INSTALL}`;
}

/** A started event tracing of the package (`EventTracing`). */
export interface TracingHandle {
  /** The queue whose drops the metrics count. */
  readonly writer: { readonly stats: { readonly droppedEvents: number } };
  attach(job: FileJobBootstrap): () => void;
  close(timeoutMs?: number): Promise<void>;
}

/** The package's `ElasticJobMetrics`. */
export interface MetricsHandle {
  observeRegistryCenter(registryCenter: CoordinatorRegistryCenter): () => void;
  observeJob(
    job: FileJobBootstrap,
    options: { readonly registryCenter: CoordinatorRegistryCenter },
  ): () => void;
  observeTracing(writer: TracingHandle['writer']): () => void;
}

/** The address options of the package's monitoring listener. */
export interface MonitoringAddress {
  readonly port?: number;
  readonly host?: string;
  readonly bearerToken?: string;
}

/**
 * The part of `@elasticjob-ts/tracing` core uses, by its exported names. The tracing package's
 * tests check that its module satisfies this shape.
 */
export interface TracingPackage {
  parseHistoryUrl(
    url: string,
  ):
    | { readonly backend: 'sqlite'; readonly filename: string }
    | { readonly backend: 'postgres'; readonly connectionString: string };
  maskPassword(url: string): string;
  validateRetentionPolicy(policy: { readonly maxAgeMs?: number; readonly maxRows?: number }): void;
  validateMonitoringServerOptions(options: MonitoringAddress): {
    readonly host: string;
    readonly port: number;
  };
  startEventTracing(options: {
    readonly url: string;
    readonly logger: Logger;
    readonly maxConnections?: number;
    readonly connectTimeoutMs?: number;
    readonly statementTimeoutMs?: number;
    readonly retention?: object;
    readonly writer?: object;
  }): Promise<TracingHandle>;
  readonly ElasticJobMetrics: new (options: { readonly logger: Logger }) => MetricsHandle;
  startMonitoringServer(
    options: MonitoringAddress & { readonly metrics: MetricsHandle },
  ): Promise<{ readonly url: string; close(): Promise<void> }>;
  runHistoryCli(
    argv: readonly string[],
    io: {
      readonly stdout: (text: string) => void;
      readonly stderr: (text: string) => void;
      readonly env: Readonly<Record<string, string | undefined>>;
    },
  ): Promise<number>;
}

/** Imports {@link TRACING_PACKAGE} (a variable specifier: core is not type-checked against it). */
export function loadTracingPackage(): Promise<unknown> {
  const specifier = TRACING_PACKAGE;
  return import(specifier);
}

/**
 * Imports the tracing package.
 *
 * @param load - the import. @defaultValue {@link loadTracingPackage}
 * @returns the package, or `undefined` when it is not installed.
 * @throws the import error when the package is installed but fails to load.
 */
export async function importTracingPackage(
  load: () => Promise<unknown> = loadTracingPackage,
): Promise<TracingPackage | undefined> {
  try {
    return (await load()) as TracingPackage;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (
      (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') &&
      String(error).includes(TRACING_PACKAGE)
    ) {
      return undefined;
    }
    throw error;
  }
}
