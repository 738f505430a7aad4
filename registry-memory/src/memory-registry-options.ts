import type { Logger } from '@elasticjob-ts/core/adapter';
import { type Clock, RegistryConfigurationError, validateNamespace } from '@elasticjob-ts/core/adapter';
import { isMemoryRegistryServer } from './internal/server-state.js';
import type { MemoryRegistryServer } from './memory-registry-server.js';

/** Options of the {@link MemoryRegistryCenter} constructor (and of `{ type: 'memory' }` configuration). */
export interface MemoryRegistryCenterOptions {
  /**
   * The server to connect to. Clients of one server see each other's nodes.
   * @defaultValue {@link getDefaultMemoryRegistryServer}()
   */
  readonly server?: MemoryRegistryServer;
  /**
   * Namespace isolating this client's nodes (stored under `/{namespace}` on the server): letters,
   * digits, `.`, `_`, `-` segments separated by `/`.
   * @defaultValue 'elasticjob'
   */
  readonly namespace?: string;
  /**
   * Session timeout in ms: how long the session (and its ephemeral nodes) survives while the client
   * is disconnected ({@link MemoryRegistryCenter.simulateDisconnect}). A positive number.
   * @defaultValue 60000
   */
  readonly sessionTimeoutMs?: number;
  /**
   * Digest credentials `user:password` (ZooKeeper's digest scheme). Nodes this client creates are
   * then creator-only: clients without the same credentials get `NO_AUTH` reading, writing,
   * deleting them or creating children under them. Without it, created nodes are world-open.
   */
  readonly digest?: string;
  /**
   * Clock for the session-expiry and latch-wait timers.
   * @defaultValue the server's clock
   */
  readonly clock?: Clock;
  /**
   * Where errors thrown by watch and connection-state listeners are reported (they never stop
   * delivery to other listeners).
   * @defaultValue core's default pino logger, created on first use
   */
  readonly logger?: Logger;
}

/** Validated options with defaults applied (the server is resolved by the caller). */
export interface ResolvedMemoryRegistryOptions {
  readonly server: MemoryRegistryServer | undefined;
  readonly namespace: string;
  readonly sessionTimeoutMs: number;
  readonly digest: string | undefined;
  readonly clock: Clock | undefined;
  readonly logger: Logger | undefined;
}

const ACCEPTED_FIELDS = ['type', 'server', 'namespace', 'sessionTimeoutMs', 'digest', 'clock', 'logger'];

/**
 * Validates memory registry options.
 *
 * @param options - constructor options or a `{ type: 'memory', ... }` configuration.
 * @returns the options with defaults applied.
 * @throws {RegistryConfigurationError} naming the offending field and the accepted values.
 */
export function resolveMemoryRegistryOptions(options: unknown): ResolvedMemoryRegistryOptions {
  if (options === null || typeof options !== 'object') {
    throw new RegistryConfigurationError('options', 'Memory registry options must be an object');
  }
  const record = options as Record<string, unknown>;
  for (const field of Object.keys(record)) {
    if (!ACCEPTED_FIELDS.includes(field) && record[field] !== undefined) {
      throw new RegistryConfigurationError(
        field,
        `Unknown memory registry option '${field}'; accepted: ${ACCEPTED_FIELDS.join(', ')}`,
      );
    }
  }
  if (record.type !== undefined && record.type !== 'memory') {
    throw new RegistryConfigurationError(
      'type',
      `The memory registry factory handles type 'memory', got ${JSON.stringify(record.type)}`,
    );
  }
  if (record.server !== undefined && !isMemoryRegistryServer(record.server)) {
    throw new RegistryConfigurationError(
      'server',
      "Memory registry option 'server' must be a MemoryRegistryServer (or be omitted for the process-wide default)",
    );
  }
  const namespace = record.namespace === undefined ? 'elasticjob' : validateNamespace(record.namespace);
  const sessionTimeoutMs = record.sessionTimeoutMs ?? 60_000;
  if (typeof sessionTimeoutMs !== 'number' || !Number.isFinite(sessionTimeoutMs) || sessionTimeoutMs <= 0) {
    throw new RegistryConfigurationError(
      'sessionTimeoutMs',
      `Memory registry option 'sessionTimeoutMs' must be a positive finite number of ms, got ${JSON.stringify(sessionTimeoutMs)}`,
    );
  }
  const digest = record.digest;
  if (digest !== undefined && (typeof digest !== 'string' || !/^[^:]+:/.test(digest))) {
    throw new RegistryConfigurationError(
      'digest',
      "Memory registry option 'digest' must be a string 'user:password' with a non-empty user",
    );
  }
  const clock = record.clock as Clock | undefined;
  if (clock !== undefined && (typeof clock?.now !== 'function' || typeof clock.setTimeout !== 'function')) {
    throw new RegistryConfigurationError(
      'clock',
      "Memory registry option 'clock' must implement Clock (now(), setTimeout()), e.g. systemClock or a ManualClock",
    );
  }
  const logger = record.logger as Logger | undefined;
  if (logger !== undefined && (typeof logger?.error !== 'function' || typeof logger.child !== 'function')) {
    throw new RegistryConfigurationError(
      'logger',
      "Memory registry option 'logger' must be a pino-compatible Logger",
    );
  }
  return {
    server: record.server as MemoryRegistryServer | undefined,
    namespace,
    sessionTimeoutMs,
    digest: digest as string | undefined,
    clock,
    logger,
  };
}
