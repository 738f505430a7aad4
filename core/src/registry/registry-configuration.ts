/**
 * Registry selection by configuration: `createRegistryCenter({ type, ... })` loads the adapter
 * package named after the type, so switching backends changes configuration, not code.
 *
 * @module
 */
import type { CoordinatorRegistryCenter } from './registry-center.js';

/**
 * Options of the in-memory registry (`@elasticjob-ts/registry-memory`).
 */
export interface MemoryRegistryConfiguration {
  readonly type: 'memory';
  /**
   * Namespace isolating this client's nodes.
   * @defaultValue 'elasticjob'
   */
  readonly namespace?: string;
  /**
   * The shared in-process server (a `MemoryRegistryServer`) the client connects to. Clients of the
   * same server see each other's nodes, like clients of one ZooKeeper ensemble.
   * @defaultValue the process-wide default server
   */
  readonly server?: object;
  /**
   * Session timeout in ms: how long a disconnected client's session (and its ephemeral nodes)
   * survives.
   * @defaultValue 60000
   */
  readonly sessionTimeoutMs?: number;
}

/**
 * Options of the ZooKeeper adapter (`@elasticjob-ts/registry-zookeeper`); names and defaults follow
 * ElasticJob's `ZookeeperConfiguration`, with units in the names.
 */
export interface ZookeeperRegistryConfiguration {
  readonly type: 'zookeeper';
  /** Comma-separated `host:port` list, e.g. `zk1:2181,zk2:2181`. */
  readonly serverLists: string;
  /** Namespace (chroot-style path prefix) isolating this cluster's jobs, e.g. `elasticjob-demo`. */
  readonly namespace: string;
  /**
   * Requested session timeout in ms (the server clamps it to [2, 20] × its tickTime).
   * @defaultValue 60000
   */
  readonly sessionTimeoutMs?: number;
  /**
   * Bounded wait for the first connection in ms; `start()` fails with `TIMEOUT` after it.
   * @defaultValue 15000
   */
  readonly connectionTimeoutMs?: number;
  /** Retry base sleep in ms. @defaultValue 1000 */
  readonly baseSleepTimeMs?: number;
  /** Retry maximum sleep in ms. @defaultValue 3000 */
  readonly maxSleepTimeMs?: number;
  /** Retries of an idempotent operation after a connection loss. @defaultValue 3 */
  readonly maxRetries?: number;
  /** `user:password`: enables digest authentication and creator-only ACLs on created nodes. */
  readonly digest?: string;
  /**
   * How subtree watches learn of changes: `'persistent'` (one persistent recursive watch per
   * subtree, ZooKeeper ≥ 3.6), `'one-shot'` (a data and a child watch per node, re-armed after
   * every change; every version), or `'auto'` (persistent, falling back to one-shot for the
   * client's life when the server refuses persistent watches).
   * @defaultValue `'auto'`
   */
  readonly watchMode?: 'auto' | 'persistent' | 'one-shot';
}

/** TLS material (PEM) for the etcd and Redis adapters. */
export interface EtcdTlsConfiguration {
  /** CA certificate(s) that sign the server certificate. */
  readonly ca?: string | Buffer;
  /** Client certificate for mutual TLS. */
  readonly cert?: string | Buffer;
  /** Client private key for mutual TLS. */
  readonly key?: string | Buffer;
}

/** Options of the etcd v3 adapter (`@elasticjob-ts/registry-etcd`). */
export interface EtcdRegistryConfiguration {
  readonly type: 'etcd';
  /** Client URLs, e.g. `['http://127.0.0.1:2379']`, or a comma-separated string of them. */
  readonly endpoints: string | readonly string[];
  /** Namespace (key prefix) isolating this cluster's jobs. */
  readonly namespace: string;
  /**
   * Session lease TTL in ms (rounded up to whole seconds), kept alive while connected.
   * @defaultValue 60000
   */
  readonly sessionTimeoutMs?: number;
  /** Bounded wait for the first connection in ms. @defaultValue 15000 */
  readonly connectionTimeoutMs?: number;
  /** etcd user name (with `password`). */
  readonly username?: string;
  /** etcd password. */
  readonly password?: string;
  /** TLS settings; required for `https://` endpoints with a private CA. */
  readonly tls?: EtcdTlsConfiguration;
  /**
   * The servers' `--max-txn-ops` (most compares, and most requests, etcd accepts in one Txn). The
   * client sizes its transactions from it: at most `floor(maxTxnOps / 2)` registry operations per
   * Txn (64 by default; etcd bounds the compares and the requests of a Txn separately, and an
   * operation compiles to up to two of each), so that a run of 64 items is admitted in one Txn
   * once the servers allow 1024. Set it to the servers' value: a higher one
   * makes large transactions fail with `TRANSACTION_FAILED` ("too many operations in txn request").
   * An integer from 6 to 1,000,000.
   * @defaultValue 128 (etcd's default)
   */
  readonly maxTxnOps?: number;
}

/**
 * Options of the Redis adapter (`@elasticjob-ts/registry-redis`, on ioredis). The server is chosen
 * by `url`: `redis://` / `rediss://` (TLS) for one server, `redis+sentinel://` for a Sentinel-managed
 * primary, `redis+cluster://` for Redis Cluster (all keys of a namespace share one hash slot).
 */
export interface RedisRegistryConfiguration {
  readonly type: 'redis';
  /**
   * Where the server is: `redis://[user:password@]host:port[/db]`, `rediss://...` (TLS),
   * `redis+sentinel://[user:password@]host:port[,host:port...]/primaryName`, or
   * `redis+cluster://[user:password@]host:port[,host:port...]`.
   */
  readonly url: string;
  /** Namespace isolating this cluster's jobs (the `{namespace}` hash tag of every key). */
  readonly namespace: string;
  /** Session timeout in ms: ephemeral nodes disappear this long after the last heartbeat. @defaultValue 60000 */
  readonly sessionTimeoutMs?: number;
  /** Bounded wait for the first connection in ms. @defaultValue 15000 */
  readonly connectionTimeoutMs?: number;
  /** Redis ACL user name (overrides the URL's). */
  readonly username?: string;
  /** Redis password (overrides the URL's). */
  readonly password?: string;
  /**
   * Bound of one command in ms; a command without an answer by then fails with `CONNECTION_LOSS`.
   * @defaultValue 5000
   */
  readonly commandTimeoutMs?: number;
  /** TLS material (PEM) for `rediss://` with a private CA or mutual TLS. */
  readonly tls?: EtcdTlsConfiguration;
}

/**
 * A third-party adapter: `module` is the package (or path) exporting `registryCenterFactory`.
 */
export interface CustomRegistryConfiguration {
  /** Any type name other than the built-in ones. */
  readonly type: string;
  /** Module specifier exporting `registryCenterFactory: RegistryCenterFactory`. */
  readonly module: string;
  readonly [option: string]: unknown;
}

/** Any registry configuration accepted by {@link createRegistryCenter}. */
export type RegistryCenterConfiguration =
  | MemoryRegistryConfiguration
  | ZookeeperRegistryConfiguration
  | EtcdRegistryConfiguration
  | RedisRegistryConfiguration
  | CustomRegistryConfiguration;

/**
 * What an adapter package exports as `registryCenterFactory` so {@link createRegistryCenter} can
 * build it from configuration.
 */
export interface RegistryCenterFactory {
  /** The configuration `type` this factory handles. */
  readonly type: string;
  /**
   * Builds an unstarted client.
   *
   * @throws {RegistryConfigurationError} for invalid options, naming the field.
   */
  create(configuration: RegistryCenterConfiguration): CoordinatorRegistryCenter;
}

/**
 * Invalid registry configuration: names the field and the accepted values. No client was created.
 */
export class RegistryConfigurationError extends Error {
  /** The configuration field at fault, e.g. `type` or `serverLists`. */
  readonly field: string;

  /**
   * @param field - the offending field.
   * @param message - what is wrong and what is accepted.
   */
  constructor(field: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RegistryConfigurationError';
    this.field = field;
  }
}

/** Package of each built-in registry type. */
export const BUILT_IN_REGISTRY_PACKAGES: Readonly<Record<string, string>> = {
  memory: '@elasticjob-ts/registry-memory',
  zookeeper: '@elasticjob-ts/registry-zookeeper',
  etcd: '@elasticjob-ts/registry-etcd',
  redis: '@elasticjob-ts/registry-redis',
};

/**
 * Builds and starts the registry center a configuration names, loading its adapter package by
 * type (`memory` → `@elasticjob-ts/registry-memory`, `zookeeper` → `@elasticjob-ts/registry-zookeeper`,
 * `etcd` → `@elasticjob-ts/registry-etcd`, `redis` → `@elasticjob-ts/registry-redis`, other types →
 * `module`).
 *
 * @param configuration - `{ type, ...adapter options }`.
 * @returns a started client.
 * @throws {RegistryConfigurationError} for an unknown type (naming the accepted types), a missing
 *   adapter package (naming the package to install), or invalid adapter options.
 * @throws {RegistryError} when the client cannot connect (see `start()`).
 * @example
 * ```ts
 * const registry = await createRegistryCenter({ type: 'zookeeper', serverLists: 'localhost:2181', namespace: 'demo' });
 * ```
 */
export async function createRegistryCenter(
  configuration: RegistryCenterConfiguration,
): Promise<CoordinatorRegistryCenter> {
  const registry = await buildRegistryCenter(configuration);
  await registry.start();
  return registry;
}

/**
 * Like {@link createRegistryCenter} but returns the client unstarted.
 *
 * @param configuration - `{ type, ...adapter options }`.
 * @throws {RegistryConfigurationError} as {@link createRegistryCenter}.
 */
export async function buildRegistryCenter(
  configuration: RegistryCenterConfiguration,
): Promise<CoordinatorRegistryCenter> {
  if (configuration === null || typeof configuration !== 'object') {
    throw new RegistryConfigurationError('type', 'Registry configuration must be an object with a `type`');
  }
  const type: unknown = configuration.type;
  const accepted = `${Object.keys(BUILT_IN_REGISTRY_PACKAGES).join(', ')}, or any type with a 'module'`;
  if (typeof type !== 'string' || type === '') {
    throw new RegistryConfigurationError('type', `Registry 'type' is required; accepted: ${accepted}`);
  }
  const moduleOption = (configuration as { module?: unknown }).module;
  const specifier =
    BUILT_IN_REGISTRY_PACKAGES[type] ?? (typeof moduleOption === 'string' ? moduleOption : undefined);
  if (specifier === undefined) {
    throw new RegistryConfigurationError('type', `Unknown registry type '${type}'; accepted: ${accepted}`);
  }
  let loaded: { registryCenterFactory?: RegistryCenterFactory };
  try {
    loaded = (await import(specifier)) as { registryCenterFactory?: RegistryCenterFactory };
  } catch (cause) {
    const code = (cause as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new RegistryConfigurationError(
        'type',
        `Registry type '${type}' needs the package '${specifier}': install it with \`npm install ${specifier}\``,
        { cause },
      );
    }
    throw cause;
  }
  const factory = loaded.registryCenterFactory;
  if (factory === undefined || typeof factory.create !== 'function') {
    throw new RegistryConfigurationError(
      'module',
      `Module '${specifier}' for registry type '${type}' does not export 'registryCenterFactory'`,
    );
  }
  return factory.create(configuration);
}

/**
 * Validates a namespace: one or more segments of letters, digits, `.`, `_`, `-`, separated by `/`,
 * no leading or trailing `/`.
 *
 * @param namespace - the value to check.
 * @param field - the configuration field name to report (default `namespace`).
 * @returns the namespace.
 * @throws {RegistryConfigurationError} naming the field when invalid.
 */
export function validateNamespace(namespace: unknown, field = 'namespace'): string {
  if (typeof namespace !== 'string' || !/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(namespace)) {
    throw new RegistryConfigurationError(
      field,
      `Registry '${field}' must be a non-empty string of letters, digits, '.', '_', '-' segments separated by '/', got ${JSON.stringify(namespace)}`,
    );
  }
  return namespace;
}
