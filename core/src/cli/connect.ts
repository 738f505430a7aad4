/**
 * How the `elasticjob` CLI finds and connects to the registry: `--registry <url|file>` (or
 * `ELASTICJOB_REGISTRY`), credentials, and a bounded connection wait.
 *
 * @module
 */
import { existsSync } from 'node:fs';
import type { CoordinatorRegistryCenter } from '../registry/registry-center.js';
import { buildRegistryCenter, type RegistryCenterConfiguration } from '../registry/registry-configuration.js';
import { CliError, ExitCode } from './errors.js';
import {
  ACCEPTED_REGISTRY_URL_FORMS,
  looksLikeRegistryUrl,
  parseRegistryUrl,
  type RegistryCredentials,
  redact,
} from './registry-url.js';

/** What the CLI knows about the registry to use. */
export interface RegistryTarget {
  /** `--registry` or `ELASTICJOB_REGISTRY`: a URL or a file path. */
  readonly registry: string | undefined;
  /** `--digest`, `--username`, `--password`. */
  readonly credentials: RegistryCredentials;
  /** Bound of the connection wait, in ms. */
  readonly timeoutMs: number;
  /** The environment (for `${ENV}` references in a registry file). */
  readonly env: Readonly<Record<string, string | undefined>>;
}

/**
 * Turns `--registry` into a registry configuration.
 *
 * @param target - the options.
 * @returns the configuration, with `connectionTimeoutMs` = `timeoutMs`.
 * @throws {CliError} exit code 2 when `--registry` is missing, malformed, names a missing or
 *   invalid file, or a memory registry.
 */
export async function resolveRegistryConfiguration(
  target: RegistryTarget,
): Promise<RegistryCenterConfiguration> {
  const value = target.registry;
  if (value === undefined || value === '') {
    throw new CliError(
      ExitCode.USAGE,
      `No registry given: pass --registry <url|file> or set ELASTICJOB_REGISTRY; accepted: ${ACCEPTED_REGISTRY_URL_FORMS}`,
    );
  }
  let configuration: RegistryCenterConfiguration;
  if (looksLikeRegistryUrl(value)) {
    configuration = parseRegistryUrl(value, target.credentials);
  } else {
    if (!existsSync(value)) {
      throw new CliError(
        ExitCode.USAGE,
        `--registry '${value}' is neither a registry URL nor an existing file; accepted: ${ACCEPTED_REGISTRY_URL_FORMS}`,
      );
    }
    // Loaded only for a file: the jobs-file module brings the kernel, which a URL does not need.
    const { loadRegistryConfigurationFile } = await import('../bootstrap-file/jobs-file.js');
    configuration = await loadRegistryConfigurationFile(value, { env: target.env });
    if (configuration.type === 'memory') {
      throw new CliError(
        ExitCode.USAGE,
        `The registry file '${value}' names a memory registry, which lives inside one process: the CLI cannot reach ` +
          'the jobs of another process; use the ZooKeeper, etcd or Redis registry the jobs use',
      );
    }
    configuration = withFileCredentials(configuration, target.credentials);
  }
  return { ...configuration, connectionTimeoutMs: target.timeoutMs } as RegistryCenterConfiguration;
}

function withFileCredentials(
  configuration: RegistryCenterConfiguration,
  credentials: RegistryCredentials,
): RegistryCenterConfiguration {
  const { digest, username, password } = credentials;
  if (configuration.type === 'zookeeper') {
    if (username !== undefined || password !== undefined) {
      throw new CliError(
        ExitCode.USAGE,
        '--username/--password are for etcd and Redis; ZooKeeper takes --digest user:password',
      );
    }
    return digest === undefined ? configuration : { ...configuration, digest };
  }
  if (configuration.type === 'etcd' || configuration.type === 'redis') {
    if (digest !== undefined) {
      throw new CliError(
        ExitCode.USAGE,
        `--digest is for ZooKeeper; ${configuration.type === 'redis' ? 'Redis' : 'etcd'} takes --username and --password`,
      );
    }
    return {
      ...configuration,
      ...(username === undefined ? {} : { username }),
      ...(password === undefined ? {} : { password }),
    };
  }
  return configuration;
}

/**
 * A short, password-free description of where a configuration points, for messages:
 * `zookeeper://127.0.0.1:2181/shop`, `etcd://127.0.0.1:2379/shop` (`etcds://` when every endpoint is
 * `https://`; endpoints of mixed schemes are listed whole), `redis://127.0.0.1:6379/shop` (a Redis
 * `url` keeps its own scheme: `rediss://`, `redis+sentinel://`, `redis+cluster://`): the URL forms
 * `--registry` accepts.
 *
 * @param configuration - the registry configuration.
 */
export function describeRegistry(configuration: RegistryCenterConfiguration): string {
  const options = configuration as unknown as Record<string, unknown>;
  const namespace = String(options.namespace ?? '');
  if (configuration.type === 'redis' && typeof options.url === 'string')
    return redact(`${options.url.replace(/\/+$/, '')}/${namespace}`);
  if (configuration.type === 'etcd')
    return redact(`${describeEtcdEndpoints(options.endpoints)}/${namespace}`);
  const where =
    configuration.type === 'zookeeper' ? String(options.serverLists) : String(options.module ?? '');
  return redact(`${configuration.type}://${where}/${namespace}`);
}

/** `etcd://a:2379,b:2379` for `http://` endpoints, `etcds://...` for `https://` ones. */
function describeEtcdEndpoints(endpoints: unknown): string {
  const all = [endpoints].flat().map(String);
  for (const [scheme, protocol] of [
    ['etcd', 'http://'],
    ['etcds', 'https://'],
  ] as const) {
    if (all.every((endpoint) => endpoint.startsWith(protocol))) {
      return `${scheme}://${all.map((endpoint) => endpoint.slice(protocol.length).replace(/\/+$/, '')).join(',')}`;
    }
  }
  return `etcd://${all.join(',')}`;
}

/**
 * Builds and starts the registry client within `timeoutMs` (the adapter's own
 * `connectionTimeoutMs` is set to the same bound; this wait adds one second of margin).
 *
 * @param configuration - from {@link resolveRegistryConfiguration}.
 * @param timeoutMs - the bound, in ms.
 * @returns the started client; the caller closes it.
 * @throws {CliError} exit code 4 when no connection was made in time, naming the registry.
 * @throws {RegistryError} when the adapter fails to connect (the caller maps it to exit code 4).
 * @throws {RegistryConfigurationError} for adapter options it rejects (exit code 2).
 */
export async function connectRegistry(
  configuration: RegistryCenterConfiguration,
  timeoutMs: number,
): Promise<CoordinatorRegistryCenter> {
  const registry = await buildRegistryCenter(configuration);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(
        new CliError(
          ExitCode.REGISTRY,
          `Registry unreachable: no connection to ${describeRegistry(configuration)} within ${timeoutMs} ms (--timeout-ms)`,
        ),
      );
    }, timeoutMs + 1_000);
  });
  try {
    await Promise.race([registry.start(), timedOut]);
    return registry;
  } catch (error) {
    void closeQuietly(registry);
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Closes a client, bounded: gives up waiting after `timeoutMs` so the CLI always ends.
 *
 * @param registry - the client.
 * @param timeoutMs - the bound, in ms.
 * @returns the close error (or an error saying it did not finish in time), else `undefined`.
 */
export async function closeRegistry(
  registry: CoordinatorRegistryCenter,
  timeoutMs = 5_000,
): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<Error>((resolve) => {
    timer = setTimeout(
      () => resolve(new Error(`closing the registry client did not finish within ${timeoutMs} ms`)),
      timeoutMs,
    );
    timer.unref();
  });
  try {
    return await Promise.race([
      registry.close().then(
        () => undefined,
        (error: unknown) => error ?? new Error('close failed'),
      ),
      bound,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function closeQuietly(registry: CoordinatorRegistryCenter): Promise<void> {
  // The connection failure is what the CLI reports; a failing close of the half-open client adds nothing.
  await closeRegistry(registry);
}
