/**
 * `@elasticjob-ts/registry-redis`: the ElasticJob-TS registry contract on Redis (ioredis).
 *
 * - Nodes are fields of one hash per namespace; child names are sets; every write is one Lua
 *   script (`EVALSHA`), atomic, that also appends its changes to the namespace's change-feed stream.
 * - Sessions are entries of a sorted set with a deadline in server time, extended by heartbeats;
 *   every script first removes expired sessions with their ephemeral nodes.
 * - Watches get the change feed pushed (`SSUBSCRIBE` to the namespace's shard channel, which
 *   every script `SPUBLISH`es its entries to) and read the stream after the last id seen whenever
 *   a push is missing (a gap in the revisions, a reconnect); on Redis Cluster they read it with a
 *   blocking `XREAD`.
 * - All keys of a namespace share the hash tag `{namespace}`: the adapter works on Redis Cluster.
 * - Redis replicates asynchronously: a failover can lose acknowledged writes (see the README).
 *
 * @example
 * ```ts
 * import { createRegistryCenter } from '@elasticjob-ts/core/adapter';
 *
 * const registry = await createRegistryCenter({
 *   type: 'redis',
 *   url: 'redis://127.0.0.1:6379',
 *   namespace: 'elasticjob-demo',
 *   sessionTimeoutMs: 10_000,
 * });
 * await registry.persist('/orders/config', 'cron: 0/5 * * * * ?');
 * await registry.close();
 * ```
 *
 * @module
 */
import type {
  RedisRegistryConfiguration,
  RegistryCenterConfiguration,
  RegistryCenterFactory,
} from '@elasticjob-ts/core/adapter';
import { RedisRegistryCenter } from './redis-registry-center.js';

export { DEFAULT_LATCH_WAIT_TIMEOUT_MS } from './leader-latch.js';
export {
  DEFAULT_COMMAND_TIMEOUT_MS,
  DEFAULT_CONNECTION_TIMEOUT_MS,
  DEFAULT_SESSION_TIMEOUT_MS,
} from './options.js';
export { RedisRegistryCenter, type RedisRegistryCenterOptions } from './redis-registry-center.js';

/**
 * What `createRegistryCenter({ type: 'redis', ... })` loads: builds an unstarted
 * {@link RedisRegistryCenter}.
 *
 * @throws {RegistryConfigurationError} from `create` for invalid options, naming the field.
 */
export const registryCenterFactory: RegistryCenterFactory = {
  type: 'redis',
  create: (configuration: RegistryCenterConfiguration) =>
    new RedisRegistryCenter(configuration as RedisRegistryConfiguration),
};
