/**
 * ioredis connections of the adapter: building one for the configured topology, registering the
 * Lua scripts on it, waiting (bounded) for it to be ready, and calling a script.
 *
 * @module
 */
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { ALL_SCRIPTS, type RegistryScript } from './lua.js';
import type { ResolvedRedisOptions } from './options.js';

/** A connection to one server or a cluster. */
export type RedisConnection = Redis | Cluster;

/**
 * Builds an unconnected ioredis client for the configured topology, with every registry script
 * defined on it (`EVALSHA`, loaded on `NOSCRIPT`).
 *
 * @param options - resolved options.
 * @param extraCommandTimeoutMs - added to the command timeout (the change feed's blocking read).
 * @param overrides - ioredis options that win over the configured ones (the feed's subscribed
 *   connection turns `autoResubscribe` off); for a cluster they apply to its node connections.
 */
export function createConnection(
  options: ResolvedRedisOptions,
  extraCommandTimeoutMs = 0,
  overrides: RedisOptions = {},
): RedisConnection {
  const { topology } = options;
  const commandTimeout = options.commandTimeoutMs + extraCommandTimeoutMs;
  // Auto-pipelining sends the commands issued in one event-loop turn in one socket write (in
  // order, replies unchanged): with thousands of jobs per process, a write per command was the
  // largest CPU cost of a start (14 % of a 6,000-job start in one profile). Options given win.
  const connection =
    topology.kind === 'cluster'
      ? new Cluster([...topology.nodes], {
          enableAutoPipelining: true,
          ...topology.options,
          redisOptions: { ...topology.options.redisOptions, ...overrides, commandTimeout },
        })
      : new Redis({ enableAutoPipelining: true, ...topology.options, ...overrides, commandTimeout });
  for (const script of ALL_SCRIPTS) {
    connection.defineCommand(script.name, { numberOfKeys: 1, lua: script.lua });
  }
  // Errors are reported through the commands that fail and the connection events; without a
  // listener ioredis would print every reconnect failure to the console.
  connection.on('error', () => undefined);
  return connection;
}

/**
 * Runs a registry script.
 *
 * @param connection - a connection from {@link createConnection}.
 * @param script - the script.
 * @param keyPrefix - `KEYS[1]`, the namespace's key prefix.
 * @param args - `ARGV[2..]` (`ARGV[1]`, the change feed length, is added).
 * @returns the script's reply.
 */
export function callScript(
  connection: RedisConnection,
  script: RegistryScript,
  keyPrefix: string,
  maxFeedLength: number,
  args: ReadonlyArray<string | number>,
): Promise<unknown> {
  const command = (
    connection as unknown as Record<string, (...a: Array<string | number>) => Promise<unknown>>
  )[script.name];
  if (command === undefined) throw new Error(`script ${script.name} is not defined on the connection`);
  return command.call(connection, keyPrefix, maxFeedLength, ...args);
}

/**
 * Why a connection attempt failed: no ready connection in time, an error that ended the wait (a
 * refused login), or a server certificate that does not verify (`tls`: retrying cannot help).
 */
export type ConnectFailure =
  | { readonly kind: 'timeout' }
  | { readonly kind: 'error'; readonly error: Error }
  | { readonly kind: 'tls'; readonly error: Error };

const AUTH_FAILURE = /NOAUTH|WRONGPASS|NOPERM|invalid username-password pair/;

/**
 * Node's codes for a server certificate that does not verify: OpenSSL's X.509 verification results
 * (`SELF_SIGNED_CERT_IN_CHAIN`, `UNABLE_TO_VERIFY_LEAF_SIGNATURE`, `CERT_HAS_EXPIRED`, ...) and a
 * host name the certificate does not name (`ERR_TLS_CERT_ALTNAME_INVALID`).
 */
const TLS_VERIFICATION_FAILURE = /^(?:ERR_TLS_CERT_ALTNAME_INVALID|UNABLE_TO_[A-Z_]+|[A-Z_]*CERT[A-Z_]*)$/;

/**
 * Whether an error is a server certificate that failed verification. That is a configuration
 * problem (a missing or wrong `tls.ca`, a host the certificate does not name): every retry would
 * fail the same way.
 *
 * @param error - an error of the connection.
 */
export function isTlsVerificationFailure(error: Error): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return typeof code === 'string' && TLS_VERIFICATION_FAILURE.test(code);
}

/**
 * Connects and waits until the connection is ready, at most `timeoutMs`. Authentication errors and
 * server certificates that do not verify end the wait at once (ioredis would otherwise keep
 * retrying what cannot succeed); other errors let ioredis retry until the bound.
 *
 * @param connection - an unconnected client.
 * @param timeoutMs - the bound, in ms.
 * @returns `undefined` when ready, else why not (the client is then disconnected).
 */
export function connectWithin(
  connection: RedisConnection,
  timeoutMs: number,
): Promise<ConnectFailure | undefined> {
  return new Promise((resolve) => {
    let lastError: Error | undefined;
    const finish = (failure: ConnectFailure | undefined) => {
      clearTimeout(timer);
      connection.off('ready', onReady);
      connection.off('error', onError);
      if (failure !== undefined) connection.disconnect();
      resolve(failure);
    };
    const onReady = () => finish(undefined);
    const onError = (error: Error) => {
      lastError = error;
      if (AUTH_FAILURE.test(error.message)) finish({ kind: 'error', error });
      else if (isTlsVerificationFailure(error)) finish({ kind: 'tls', error });
    };
    const timer = setTimeout(
      () => finish(lastError === undefined ? { kind: 'timeout' } : { kind: 'error', error: lastError }),
      timeoutMs,
    );
    connection.on('ready', onReady);
    connection.on('error', onError);
    connection.connect().catch(() => undefined);
  });
}

/**
 * Resolves when `connection` is ready again, or after a short pause (still "ready": a command
 * timed out; or a missed event).
 *
 * @param connection - the connection.
 * @param exposeWake - receives a function that ends the wait early (on close).
 */
export function waitForReady(
  connection: RedisConnection,
  exposeWake: (wake: (() => void) | undefined) => void = () => undefined,
): Promise<void> {
  return new Promise((resolve) => {
    const finish = () => {
      clearTimeout(timer);
      connection.off('ready', finish);
      exposeWake(undefined);
      resolve();
    };
    exposeWake(finish);
    connection.once('ready', finish);
    const timer = setTimeout(finish, connection.status === 'ready' ? 100 : 1_000);
  });
}
