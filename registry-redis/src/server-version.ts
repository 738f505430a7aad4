/**
 * The Redis server version check of `start()`: the change feed is pushed with `SPUBLISH`, which
 * Redis 7.0 introduced; an older server would fail every write script with an unknown command.
 *
 * @module
 */
import { RegistryError } from '@elasticjob-ts/core/adapter';
import type { RedisConnection } from './connection.js';

/** The oldest Redis major version the registry runs on. */
export const MINIMUM_REDIS_MAJOR_VERSION = 7;

/**
 * Why the server described by an `INFO server` reply cannot hold the registry, or `undefined`
 * when it can (or its version is not in the reply).
 *
 * @param info - the text of `INFO server`.
 * @param displayUrl - the server, for the message.
 */
export function unsupportedServerReason(info: string, displayUrl: string): string | undefined {
  const version = /^redis_version:(\d+)\.(\d+)\.?(\d*)/m.exec(info);
  if (version === null) return undefined;
  const major = Number(version[1]);
  if (major >= MINIMUM_REDIS_MAJOR_VERSION) return undefined;
  const found = version[0].slice('redis_version:'.length);
  return `Redis at ${displayUrl} is version ${found}; the registry needs Redis ${MINIMUM_REDIS_MAJOR_VERSION}.0 or later (its change feed is pushed with SPUBLISH)`;
}

/**
 * Checks the server's version with `INFO server`. A user whose ACL refuses `INFO` is not
 * stopped here (the first script would fail instead).
 *
 * @param connection - the connected command connection.
 * @param displayUrl - the server, for the message.
 * @throws {RegistryError} `NOT_SUPPORTED` naming the version found and the version needed.
 */
export async function assertSupportedServer(connection: RedisConnection, displayUrl: string): Promise<void> {
  let info: string;
  try {
    info = String(await connection.info('server'));
  } catch (error) {
    if (error instanceof Error && error.message.includes('NOPERM')) return;
    throw error;
  }
  const reason = unsupportedServerReason(info, displayUrl);
  if (reason !== undefined) throw new RegistryError('NOT_SUPPORTED', reason);
}
