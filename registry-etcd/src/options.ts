/**
 * Validation and defaults of {@link EtcdRegistryConfiguration}.
 *
 * @module
 */
import {
  type EtcdRegistryConfiguration,
  type EtcdTlsConfiguration,
  RegistryConfigurationError,
  validateNamespace,
} from '@elasticjob-ts/core/adapter';

/** Default session lease TTL, in ms. */
export const DEFAULT_SESSION_TIMEOUT_MS = 60_000;
/** Default bounded wait for the first connection, in ms. */
export const DEFAULT_CONNECTION_TIMEOUT_MS = 15_000;
/** etcd's default `--max-txn-ops`. */
export const DEFAULT_MAX_TXN_OPS = 128;
/** Accepted range of `maxTxnOps`. */
const MAX_TXN_OPS_RANGE = { min: 6, max: 1_000_000 } as const;

/** {@link EtcdRegistryConfiguration} after validation, with defaults applied. */
export interface ResolvedEtcdOptions {
  /** Client URLs without a trailing `/`, e.g. `http://127.0.0.1:2379`. */
  readonly endpoints: readonly string[];
  readonly namespace: string;
  /** Lease TTL in whole seconds (`ceil(sessionTimeoutMs / 1000)`). */
  readonly ttlSeconds: number;
  readonly sessionTimeoutMs: number;
  readonly connectionTimeoutMs: number;
  readonly auth: { readonly username: string; readonly password: string } | undefined;
  readonly tls: EtcdTlsConfiguration | undefined;
  /**
   * Registry operations per Txn: `floor(maxTxnOps / 2)` (64 for etcd's default 128). etcd bounds
   * each of a Txn's compare, success and failure lists by `--max-txn-ops` separately, and an
   * operation compiles to at most two compares (a `create`: its parent present, itself absent) and
   * at most two requests (a `delete`: the key and its subtree range).
   */
  readonly maxTransactionOperations: number;
  /** The servers' `--max-txn-ops` (128 by default): operations per list of one Txn at most. */
  readonly maxTxnOps: number;
}

function maxTxnOpsOf(value: unknown): number {
  if (value === undefined) return DEFAULT_MAX_TXN_OPS;
  const { min, max } = MAX_TXN_OPS_RANGE;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new RegistryConfigurationError(
      'maxTxnOps',
      `etcd registry 'maxTxnOps' must be an integer from ${min} to ${max} (the servers' --max-txn-ops), got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

function positiveMs(value: unknown, field: string, fallback: number, minimum: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < minimum) {
    throw new RegistryConfigurationError(
      field,
      `etcd registry '${field}' must be a finite number of ms >= ${minimum}, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

function parseEndpoints(value: unknown): string[] {
  const raw =
    typeof value === 'string'
      ? value.split(',')
      : Array.isArray(value) && value.every((item) => typeof item === 'string')
        ? (value as string[])
        : undefined;
  const accepted =
    "a non-empty list of 'http://host:port' or 'https://host:port' URLs (array or comma-separated)";
  if (raw === undefined) {
    throw new RegistryConfigurationError(
      'endpoints',
      `etcd registry 'endpoints' must be ${accepted}, got ${JSON.stringify(value)}`,
    );
  }
  const endpoints = raw.map((item) => item.trim()).filter((item) => item !== '');
  if (endpoints.length === 0) {
    throw new RegistryConfigurationError(
      'endpoints',
      `etcd registry 'endpoints' must be ${accepted}, got none`,
    );
  }
  return endpoints.map((endpoint) => {
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch (cause) {
      throw new RegistryConfigurationError(
        'endpoints',
        `etcd registry endpoint '${endpoint}' is not a URL; accepted: ${accepted}`,
        { cause },
      );
    }
    if (
      (url.protocol !== 'http:' && url.protocol !== 'https:') ||
      url.host === '' ||
      url.pathname.length > 1
    ) {
      throw new RegistryConfigurationError(
        'endpoints',
        `etcd registry endpoint '${endpoint}' must be 'http(s)://host:port' without a path; accepted: ${accepted}`,
      );
    }
    return `${url.protocol}//${url.host}`;
  });
}

function isPem(value: unknown): boolean {
  return value === undefined || typeof value === 'string' || Buffer.isBuffer(value);
}

/**
 * Validates a configuration and applies the defaults.
 *
 * @param configuration - what the user passed.
 * @returns the resolved options.
 * @throws {RegistryConfigurationError} naming the offending field and the accepted values.
 */
export function resolveEtcdOptions(configuration: EtcdRegistryConfiguration): ResolvedEtcdOptions {
  if (configuration === null || typeof configuration !== 'object') {
    throw new RegistryConfigurationError(
      'type',
      "etcd registry configuration must be an object with type 'etcd'",
    );
  }
  if (configuration.type !== 'etcd') {
    throw new RegistryConfigurationError(
      'type',
      `etcd registry 'type' must be 'etcd', got ${JSON.stringify(configuration.type)}`,
    );
  }
  const endpoints = parseEndpoints(configuration.endpoints);
  const secure = endpoints.filter((endpoint) => endpoint.startsWith('https:')).length;
  if (secure !== 0 && secure !== endpoints.length) {
    throw new RegistryConfigurationError(
      'endpoints',
      "etcd registry 'endpoints' must be all 'http://' or all 'https://', not a mix",
    );
  }
  const namespace = validateNamespace(configuration.namespace);
  const sessionTimeoutMs = positiveMs(
    configuration.sessionTimeoutMs,
    'sessionTimeoutMs',
    DEFAULT_SESSION_TIMEOUT_MS,
    1,
  );
  const connectionTimeoutMs = positiveMs(
    configuration.connectionTimeoutMs,
    'connectionTimeoutMs',
    DEFAULT_CONNECTION_TIMEOUT_MS,
    1,
  );
  const { username, password } = configuration;
  let auth: ResolvedEtcdOptions['auth'];
  if (username !== undefined || password !== undefined) {
    if (typeof username !== 'string' || username === '') {
      throw new RegistryConfigurationError(
        'username',
        "etcd registry 'username' must be a non-empty string when 'password' is set",
      );
    }
    if (typeof password !== 'string') {
      throw new RegistryConfigurationError(
        'password',
        "etcd registry 'password' must be a string when 'username' is set",
      );
    }
    auth = { username, password };
  }
  const tls = configuration.tls;
  if (tls !== undefined) {
    if (tls === null || typeof tls !== 'object') {
      throw new RegistryConfigurationError(
        'tls',
        "etcd registry 'tls' must be an object { ca?, cert?, key? } of PEM strings or Buffers",
      );
    }
    for (const field of ['ca', 'cert', 'key'] as const) {
      if (!isPem(tls[field])) {
        throw new RegistryConfigurationError(
          `tls.${field}`,
          `etcd registry 'tls.${field}' must be a PEM string or Buffer`,
        );
      }
    }
    if ((tls.cert === undefined) !== (tls.key === undefined)) {
      throw new RegistryConfigurationError(
        tls.cert === undefined ? 'tls.cert' : 'tls.key',
        "etcd registry 'tls.cert' and 'tls.key' must be given together (mutual TLS)",
      );
    }
  }
  const maxTxnOps = maxTxnOpsOf(configuration.maxTxnOps);
  return {
    endpoints,
    namespace,
    ttlSeconds: Math.max(1, Math.ceil(sessionTimeoutMs / 1000)),
    sessionTimeoutMs,
    connectionTimeoutMs,
    auth,
    tls,
    maxTransactionOperations: Math.floor(maxTxnOps / 2),
    maxTxnOps,
  };
}
