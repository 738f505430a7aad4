/**
 * `@elasticjob-ts/registry-etcd`: the ElasticJob-TS registry contract on etcd v3 (`etcd3`).
 *
 * - Nodes are real keys below `/{namespace}`; parents are real keys too; children are the keys
 *   below `key + '/'`; `remove` deletes `key` and the range `key + '/'` in one Txn.
 * - The session is one lease (TTL = `ceil(sessionTimeoutMs / 1000)` s) kept alive every TTL/3;
 *   ephemeral nodes are attached to it. `SUSPENDED` on the first failed keep-alive, `LOST` once the
 *   TTL ran out since the last acknowledged one, then a new lease and `RECONNECTED`.
 * - Transactions are one Txn with create-revision compares; the latch is a fair lease-backed queue;
 *   watches share one prev-KV etcd watcher per client over the namespace, dispatched by path, and
 *   resume from the last delivered revision.
 * - Server time comes from the `Date` header of etcd's HTTP gateway (1 s resolution).
 * - Authentication: pass `username`/`password`; the user needs read-write rights on the key
 *   prefix `/{namespace}/` (`etcdctl role grant-permission <role> --prefix=true readwrite /{namespace}/`).
 *   Missing or refused credentials reject with `NO_AUTH`.
 *
 * @example
 * ```ts
 * import { createRegistryCenter } from '@elasticjob-ts/core/adapter';
 *
 * const registry = await createRegistryCenter({
 *   type: 'etcd',
 *   endpoints: ['http://127.0.0.1:2379'],
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
  EtcdRegistryConfiguration,
  RegistryCenterConfiguration,
  RegistryCenterFactory,
} from '@elasticjob-ts/core/adapter';
import { EtcdRegistryCenter } from './etcd-registry-center.js';

export { EtcdRegistryCenter, type EtcdRegistryCenterOptions } from './etcd-registry-center.js';
export { DEFAULT_LATCH_WAIT_TIMEOUT_MS } from './leader-latch.js';
export { DEFAULT_CONNECTION_TIMEOUT_MS, DEFAULT_SESSION_TIMEOUT_MS } from './options.js';

/**
 * What `createRegistryCenter({ type: 'etcd', ... })` loads: builds an unstarted
 * {@link EtcdRegistryCenter}.
 *
 * @throws {RegistryConfigurationError} from `create` for invalid options, naming the field.
 */
export const registryCenterFactory: RegistryCenterFactory = {
  type: 'etcd',
  create: (configuration: RegistryCenterConfiguration) =>
    new EtcdRegistryCenter(configuration as EtcdRegistryConfiguration),
};
