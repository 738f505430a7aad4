/**
 * Options of the ZooKeeper adapter and their validation.
 *
 * @module
 */

import type { Logger } from '@elasticjob-ts/core/adapter';
import {
  RegistryConfigurationError,
  validateNamespace,
  type ZookeeperRegistryConfiguration,
} from '@elasticjob-ts/core/adapter';

/**
 * How `watch()` learns of changes in a subtree (option `watchMode`):
 *
 * - `'persistent'`: one persistent recursive watch per client over the namespace (`addWatch`,
 *   ZooKeeper ≥ 3.6), shared by every subtree watch (one per job); a change costs at most one
 *   read. `watch()` fails with `NOT_SUPPORTED` when the server refuses `addWatch`.
 * - `'one-shot'`: a data and a child watch per node, re-armed by reads after every change (every
 *   ZooKeeper version).
 * - `'auto'`: `'persistent'`, unless the server refuses `addWatch` as unimplemented (ZooKeeper
 *   3.4/3.5): then `'one-shot'` for the rest of this client's life.
 */
export type ZookeeperWatchMode = NonNullable<ZookeeperRegistryConfiguration['watchMode']>;

/** Every accepted {@link ZookeeperWatchMode}. */
export const ZOOKEEPER_WATCH_MODES: readonly ZookeeperWatchMode[] = ['auto', 'persistent', 'one-shot'];

/**
 * Options of the {@link ZookeeperRegistryCenter} constructor: core's
 * `ZookeeperRegistryConfiguration` (names and defaults follow ElasticJob's `ZookeeperConfiguration`,
 * with units in the names), with `type` optional, plus a logger.
 */
export interface ZookeeperRegistryCenterOptions extends Omit<ZookeeperRegistryConfiguration, 'type'> {
  /** `'zookeeper'` when given (it is when the options come from `createRegistryCenter`). */
  readonly type?: 'zookeeper';
  /**
   * Where the adapter reports what it cannot throw to a caller: errors thrown by watch and
   * connection-state listeners, background clean-up failures.
   * @defaultValue core's default pino logger, created on first use
   */
  readonly logger?: Logger;
}

/** Digest credentials, split. */
export interface ZookeeperDigest {
  /** The `user:password` string given to ZooKeeper's `addAuthInfo('digest', ...)`. */
  readonly credentials: string;
  /** The user part, for messages (the password is never logged). */
  readonly user: string;
}

/** Validated options with defaults applied. */
export interface ResolvedZookeeperOptions {
  /** Normalised `host:port,host:port` connect string (no chroot). */
  readonly serverLists: string;
  /** Namespace; keys are stored below `/{namespace}`. */
  readonly namespace: string;
  /** Requested session timeout in ms (default 60000; the server clamps it). */
  readonly sessionTimeoutMs: number;
  /** Bound of `start()` and of every single request, in ms (default 15000). */
  readonly connectionTimeoutMs: number;
  /** First retry pause in ms, doubled per retry (default 1000). */
  readonly baseSleepTimeMs: number;
  /** Largest retry pause in ms (default 3000). */
  readonly maxSleepTimeMs: number;
  /** Retries of an idempotent request after a connection loss (default 3). */
  readonly maxRetries: number;
  /** Digest credentials, when configured. */
  readonly digest: ZookeeperDigest | undefined;
  /** The configured logger, if any. */
  readonly logger: Logger | undefined;
  /** How subtree watches learn of changes (default `'auto'`). */
  readonly watchMode: ZookeeperWatchMode;
}

const ACCEPTED_FIELDS = [
  'type',
  'serverLists',
  'namespace',
  'sessionTimeoutMs',
  'connectionTimeoutMs',
  'baseSleepTimeMs',
  'maxSleepTimeMs',
  'maxRetries',
  'digest',
  'logger',
  'watchMode',
];

/** Defaults, from ElasticJob's `ZookeeperConfiguration` (session/connection: Curator's defaults). */
export const ZOOKEEPER_DEFAULTS = {
  sessionTimeoutMs: 60_000,
  connectionTimeoutMs: 15_000,
  baseSleepTimeMs: 1_000,
  maxSleepTimeMs: 3_000,
  maxRetries: 3,
} as const;

function integerField(record: Record<string, unknown>, field: string, fallback: number, min: number): number {
  const value = record[field];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > 2_147_483_647) {
    throw new RegistryConfigurationError(
      field,
      `ZooKeeper option '${field}' must be an integer ≥ ${min} (ms or count, at most 2147483647), got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

function parseServerLists(value: unknown): string {
  const accepted = "a comma-separated list of 'host:port' (e.g. 'zk1:2181,zk2:2181'), without a chroot path";
  if (typeof value !== 'string' || value.trim() === '') {
    throw new RegistryConfigurationError(
      'serverLists',
      `ZooKeeper option 'serverLists' is required: ${accepted}`,
    );
  }
  const servers = value.split(',').map((entry) => entry.trim());
  for (const server of servers) {
    const match = /^(\[[0-9A-Fa-f:.]+\]|[^\s:/[\]]+):(\d{1,5})$/.exec(server);
    const port = match === null ? Number.NaN : Number(match[2]);
    if (match === null || port < 1 || port > 65_535) {
      throw new RegistryConfigurationError(
        'serverLists',
        `ZooKeeper option 'serverLists' has an invalid entry ${JSON.stringify(server)}; expected ${accepted} (use 'namespace' instead of a chroot)`,
      );
    }
  }
  return servers.join(',');
}

function parseWatchMode(value: unknown): ZookeeperWatchMode {
  if (value === undefined) return 'auto';
  if (typeof value !== 'string' || !(ZOOKEEPER_WATCH_MODES as readonly string[]).includes(value)) {
    throw new RegistryConfigurationError(
      'watchMode',
      `ZooKeeper option 'watchMode' must be one of ${ZOOKEEPER_WATCH_MODES.map((mode) => `'${mode}'`).join(', ')}, got ${JSON.stringify(value)}`,
    );
  }
  return value as ZookeeperWatchMode;
}

function parseDigest(value: unknown): ZookeeperDigest | undefined {
  if (value === undefined) return undefined;
  const index = typeof value === 'string' ? value.indexOf(':') : -1;
  if (typeof value !== 'string' || index <= 0 || index === value.length - 1) {
    throw new RegistryConfigurationError(
      'digest',
      "ZooKeeper option 'digest' must be 'user:password' with a non-empty user and password",
    );
  }
  return { credentials: value, user: value.slice(0, index) };
}

/**
 * Validates ZooKeeper adapter options and applies the defaults.
 *
 * @param options - constructor options or a `{ type: 'zookeeper', ... }` configuration.
 * @returns the resolved options.
 * @throws {RegistryConfigurationError} naming the offending field and the accepted values: an
 *   unknown field, a `type` other than `zookeeper`, a missing or malformed `serverLists`, an invalid
 *   `namespace`, a non-integer or out-of-range timeout/retry setting, `maxSleepTimeMs` below
 *   `baseSleepTimeMs`, a `digest` that is not `user:password`, or a `watchMode` other than `'auto'`,
 *   `'persistent'` or `'one-shot'`.
 */
export function resolveZookeeperOptions(options: unknown): ResolvedZookeeperOptions {
  if (options === null || typeof options !== 'object') {
    throw new RegistryConfigurationError('options', 'ZooKeeper registry options must be an object');
  }
  const record = options as Record<string, unknown>;
  for (const field of Object.keys(record)) {
    if (!ACCEPTED_FIELDS.includes(field) && record[field] !== undefined) {
      throw new RegistryConfigurationError(
        field,
        `Unknown ZooKeeper registry option '${field}'; accepted: ${ACCEPTED_FIELDS.join(', ')}`,
      );
    }
  }
  if (record.type !== undefined && record.type !== 'zookeeper') {
    throw new RegistryConfigurationError(
      'type',
      `The ZooKeeper registry factory handles type 'zookeeper', got ${JSON.stringify(record.type)}`,
    );
  }
  const serverLists = parseServerLists(record.serverLists);
  const namespace = validateNamespace(record.namespace);
  const sessionTimeoutMs = integerField(record, 'sessionTimeoutMs', ZOOKEEPER_DEFAULTS.sessionTimeoutMs, 1);
  const connectionTimeoutMs = integerField(
    record,
    'connectionTimeoutMs',
    ZOOKEEPER_DEFAULTS.connectionTimeoutMs,
    1,
  );
  const baseSleepTimeMs = integerField(record, 'baseSleepTimeMs', ZOOKEEPER_DEFAULTS.baseSleepTimeMs, 0);
  const maxSleepTimeMs = integerField(
    record,
    'maxSleepTimeMs',
    Math.max(ZOOKEEPER_DEFAULTS.maxSleepTimeMs, baseSleepTimeMs),
    0,
  );
  if (maxSleepTimeMs < baseSleepTimeMs) {
    throw new RegistryConfigurationError(
      'maxSleepTimeMs',
      `ZooKeeper option 'maxSleepTimeMs' (${maxSleepTimeMs}) must be ≥ 'baseSleepTimeMs' (${baseSleepTimeMs})`,
    );
  }
  const maxRetries = integerField(record, 'maxRetries', ZOOKEEPER_DEFAULTS.maxRetries, 0);
  const digest = parseDigest(record.digest);
  const logger = record.logger as Logger | undefined;
  if (logger !== undefined && (typeof logger !== 'object' || typeof logger.error !== 'function')) {
    throw new RegistryConfigurationError(
      'logger',
      "ZooKeeper option 'logger' must be a pino-compatible logger",
    );
  }
  const watchMode = parseWatchMode(record.watchMode);
  return {
    watchMode,
    serverLists,
    namespace,
    sessionTimeoutMs,
    connectionTimeoutMs,
    baseSleepTimeMs,
    maxSleepTimeMs,
    maxRetries,
    digest,
    logger,
  };
}
