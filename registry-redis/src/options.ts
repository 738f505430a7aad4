/**
 * Validation of {@link RedisRegistryConfiguration} and its translation into ioredis options: which
 * topology the URL names (one server, Sentinel, Cluster) and how ioredis must behave for a
 * coordinator (no offline queue, explicit reconnect backoff, bounded connect and command times).
 *
 * @module
 */
import {
  type RedisRegistryConfiguration,
  RegistryConfigurationError,
  validateNamespace,
} from '@elasticjob-ts/core/adapter';
import type { ClusterOptions, RedisOptions } from 'ioredis';

/** Default session timeout, in ms (ElasticJob's ZooKeeper default). */
export const DEFAULT_SESSION_TIMEOUT_MS = 60_000;
/** Default bound of `start()`, in ms. */
export const DEFAULT_CONNECTION_TIMEOUT_MS = 15_000;
/** Default bound of one command, in ms. */
export const DEFAULT_COMMAND_TIMEOUT_MS = 5_000;
/** Approximate number of change-feed entries kept per namespace (`XADD MAXLEN ~`). */
export const CHANGE_FEED_MAX_LENGTH = 100_000;
/** Upper bound of the reconnect backoff, in ms. */
export const RECONNECT_MAX_DELAY_MS = 1_000;

/** Where the client connects: one server (plain, TLS or via Sentinel) or a Redis Cluster. */
export type RedisTopology =
  | { readonly kind: 'server'; readonly options: RedisOptions }
  | {
      readonly kind: 'cluster';
      readonly nodes: ReadonlyArray<{ host: string; port: number }>;
      readonly options: ClusterOptions;
    };

/** Validated options. */
export interface ResolvedRedisOptions {
  readonly namespace: string;
  /** The URL without credentials, for messages. */
  readonly displayUrl: string;
  readonly topology: RedisTopology;
  readonly sessionTimeoutMs: number;
  readonly connectionTimeoutMs: number;
  readonly commandTimeoutMs: number;
  /** Key prefix of the namespace, with its hash tag: `elasticjob:{namespace}:`. */
  readonly keyPrefix: string;
}

const SCHEMES = ['redis:', 'rediss:', 'redis+sentinel:', 'redis+cluster:'];

function positiveMs(value: unknown, field: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new RegistryConfigurationError(
      field,
      `Redis registry '${field}' must be a positive integer number of ms, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

function optionalString(value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') {
    throw new RegistryConfigurationError(
      field,
      `Redis registry '${field}' must be a string, got ${typeof value}`,
    );
  }
  return value;
}

function isPem(value: unknown): boolean {
  return value === undefined || typeof value === 'string' || Buffer.isBuffer(value);
}

/**
 * Validates the `tls` option: an object of PEM strings or Buffers, `cert` and `key` together.
 *
 * @returns the TLS material, or `undefined` when the option is absent.
 * @throws {RegistryConfigurationError} naming `tls` or `tls.<field>`.
 */
function validateTls(tls: unknown): RedisRegistryConfiguration['tls'] {
  if (tls === undefined) return undefined;
  if (tls === null || typeof tls !== 'object' || Buffer.isBuffer(tls)) {
    throw new RegistryConfigurationError(
      'tls',
      "Redis registry 'tls' must be an object { ca?, cert?, key? } of PEM strings or Buffers",
    );
  }
  const material = tls as Record<string, unknown>;
  for (const field of ['ca', 'cert', 'key'] as const) {
    if (!isPem(material[field])) {
      throw new RegistryConfigurationError(
        `tls.${field}`,
        `Redis registry 'tls.${field}' must be a PEM string or Buffer, got ${typeof material[field]}`,
      );
    }
  }
  if ((material.cert === undefined) !== (material.key === undefined)) {
    throw new RegistryConfigurationError(
      material.cert === undefined ? 'tls.cert' : 'tls.key',
      "Redis registry 'tls.cert' and 'tls.key' must be given together (mutual TLS)",
    );
  }
  return tls as RedisRegistryConfiguration['tls'];
}

function parseHosts(
  hostList: string,
  defaultPort: number,
  url: string,
): Array<{ host: string; port: number }> {
  return hostList.split(',').map((entry) => {
    const match = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(entry.trim());
    if (match === null) {
      throw new RegistryConfigurationError(
        'url',
        `Redis registry 'url' has an invalid host '${entry}' in ${url}`,
      );
    }
    return { host: (match[1] as string).replace(/^\[|\]$/g, ''), port: Number(match[2] ?? defaultPort) };
  });
}

/**
 * The ioredis options every connection of the adapter shares: fail fast while disconnected
 * (`enableOfflineQueue: false`, `maxRetriesPerRequest: 0`, no resend of unanswered commands, whose
 * outcome is unknown), reconnect forever with a capped exponential backoff, and bounded connect and
 * command times.
 */
function coordinatorOptions(connectionTimeoutMs: number, commandTimeoutMs: number): RedisOptions {
  return {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    enableReadyCheck: true,
    connectTimeout: connectionTimeoutMs,
    commandTimeout: commandTimeoutMs,
    keepAlive: 1_000,
    noDelay: true,
    retryStrategy: (attempt: number) => Math.min(50 * 2 ** Math.min(attempt, 10), RECONNECT_MAX_DELAY_MS),
    reconnectOnError: () => false,
  };
}

/**
 * Validates a configuration.
 *
 * @param configuration - the user's options.
 * @returns resolved options.
 * @throws {RegistryConfigurationError} naming the field and the accepted values.
 */
export function resolveRedisOptions(configuration: RedisRegistryConfiguration): ResolvedRedisOptions {
  const namespace = validateNamespace(configuration.namespace);
  const sessionTimeoutMs = positiveMs(
    configuration.sessionTimeoutMs,
    'sessionTimeoutMs',
    DEFAULT_SESSION_TIMEOUT_MS,
  );
  const connectionTimeoutMs = positiveMs(
    configuration.connectionTimeoutMs,
    'connectionTimeoutMs',
    DEFAULT_CONNECTION_TIMEOUT_MS,
  );
  const commandTimeoutMs = positiveMs(
    configuration.commandTimeoutMs,
    'commandTimeoutMs',
    DEFAULT_COMMAND_TIMEOUT_MS,
  );
  const rawUrl: unknown = configuration.url;
  if (typeof rawUrl !== 'string' || rawUrl.trim() === '') {
    throw new RegistryConfigurationError(
      'url',
      `Redis registry 'url' is required: redis://host:port, rediss://host:port, redis+sentinel://host:port,.../primaryName or redis+cluster://host:port,...; got ${JSON.stringify(rawUrl)}`,
    );
  }
  const scheme = SCHEMES.find((candidate) => rawUrl.startsWith(`${candidate}//`));
  if (scheme === undefined) {
    throw new RegistryConfigurationError(
      'url',
      `Redis registry 'url' must start with ${SCHEMES.map((s) => `${s}//`).join(', ')}; got ${JSON.stringify(rawUrl)}`,
    );
  }
  const rest = rawUrl.slice(scheme.length + 2);
  const at = rest.lastIndexOf('@', rest.indexOf('/') === -1 ? rest.length : rest.indexOf('/'));
  const userInfo = at === -1 ? '' : rest.slice(0, at);
  const afterUser = at === -1 ? rest : rest.slice(at + 1);
  const slash = afterUser.indexOf('/');
  const hostList = slash === -1 ? afterUser : afterUser.slice(0, slash);
  const path = slash === -1 ? '' : afterUser.slice(slash + 1);
  const colon = userInfo.indexOf(':');
  const urlUser =
    userInfo === '' ? undefined : decodeURIComponent(colon === -1 ? userInfo : userInfo.slice(0, colon));
  const urlPassword = colon === -1 ? undefined : decodeURIComponent(userInfo.slice(colon + 1));
  const username =
    optionalString(configuration.username, 'username') ?? (urlUser === '' ? undefined : urlUser);
  const password = optionalString(configuration.password, 'password') ?? urlPassword;
  const hosts = parseHosts(hostList, scheme === 'redis+sentinel:' ? 26379 : 6379, rawUrl);
  const tlsMaterial = validateTls(configuration.tls);
  const tls =
    scheme === 'rediss:' || tlsMaterial !== undefined
      ? {
          ...(tlsMaterial?.ca === undefined ? {} : { ca: tlsMaterial.ca }),
          ...(tlsMaterial?.cert === undefined ? {} : { cert: tlsMaterial.cert }),
          ...(tlsMaterial?.key === undefined ? {} : { key: tlsMaterial.key }),
        }
      : undefined;
  const base: RedisOptions = {
    ...coordinatorOptions(connectionTimeoutMs, commandTimeoutMs),
    ...(username === undefined ? {} : { username }),
    ...(password === undefined ? {} : { password }),
    ...(tls === undefined ? {} : { tls }),
  };
  const displayUrl = `${scheme}//${hostList}${path === '' ? '' : `/${path}`}`;
  let topology: RedisTopology;
  if (scheme === 'redis+cluster:') {
    topology = {
      kind: 'cluster',
      nodes: hosts,
      options: {
        redisOptions: base,
        lazyConnect: true,
        enableOfflineQueue: false,
        enableReadyCheck: true,
        maxRedirections: 16,
        clusterRetryStrategy: base.retryStrategy as (times: number) => number,
      },
    };
  } else if (scheme === 'redis+sentinel:') {
    if (path === '') {
      throw new RegistryConfigurationError(
        'url',
        `Redis registry 'url' of a Sentinel setup must name the primary: redis+sentinel://host:port,.../primaryName; got ${JSON.stringify(displayUrl)}`,
      );
    }
    topology = {
      kind: 'server',
      options: {
        ...base,
        sentinels: hosts,
        name: decodeURIComponent(path),
        sentinelRetryStrategy: base.retryStrategy as (times: number) => number,
        // ioredis ignores `tls` behind Sentinels unless told: the same TLS material then serves
        // the Sentinels and the primary they name (never a silent fall-back to plain TCP).
        ...(tls === undefined ? {} : { sentinelTLS: tls, enableTLSForSentinelMode: true }),
      },
    };
  } else {
    if (hosts.length !== 1) {
      throw new RegistryConfigurationError(
        'url',
        `Redis registry 'url' ${scheme}// names one server; use redis+sentinel:// or redis+cluster:// for several; got ${JSON.stringify(displayUrl)}`,
      );
    }
    const db = path === '' ? 0 : Number(path);
    if (!Number.isInteger(db) || db < 0) {
      throw new RegistryConfigurationError(
        'url',
        `Redis registry 'url' database must be a number >= 0, got '${path}'`,
      );
    }
    const host = hosts[0] as { host: string; port: number };
    topology = { kind: 'server', options: { ...base, host: host.host, port: host.port, db } };
  }
  return {
    namespace,
    displayUrl,
    topology,
    sessionTimeoutMs,
    connectionTimeoutMs,
    commandTimeoutMs,
    keyPrefix: `elasticjob:{${namespace}}:`,
  };
}
