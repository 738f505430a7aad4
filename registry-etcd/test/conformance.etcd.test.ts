/**
 * The conformance suite against real etcd servers: a plain one for everything, and a dedicated
 * auth-enabled one for the authentication tests (etcd authentication is server-wide, so the
 * clients of those tests — including the one *without* credentials — are routed to it by the
 * suite's `authentication` factory flag). Every client talks through its own TCP proxy, which
 * implements the `disconnect`/`reconnect` controls honestly (connections are dropped and refused).
 */
import type { CoordinatorRegistryCenter } from '@elasticjob-ts/core';
import { registryConformanceSuite } from '@elasticjob-ts/registry-conformance';
import { type EtcdTestServer, startEtcdServer } from '@elasticjob-ts/test-support';
import type { Etcd3 } from 'etcd3';
import { afterAll, beforeAll } from 'vitest';
import {
  adminClient,
  ProxiedEtcdRegistryCenter,
  proxiedClient,
  revokeSession,
  startAuthEtcdServer,
} from './support/etcd-fixture.js';

/** Session timeout of clients for which the suite asks none, in ms (keep-alive every 2 s). */
const DEFAULT_TEST_SESSION_TIMEOUT_MS = 6_000;

let server: EtcdTestServer;
let authServer: EtcdTestServer;
let admin: Etcd3;
let authAdmin: Etcd3;

beforeAll(async () => {
  [server, authServer] = await Promise.all([startEtcdServer(), startAuthEtcdServer()]);
  admin = adminClient(server);
  authAdmin = adminClient(authServer, true);
}, 60_000);

afterAll(async () => {
  admin?.close();
  authAdmin?.close();
  await Promise.all([server?.stop(), authServer?.stop()]);
});

function proxied(client: CoordinatorRegistryCenter): ProxiedEtcdRegistryCenter {
  if (!(client instanceof ProxiedEtcdRegistryCenter)) throw new Error('not a client of this test file');
  return client;
}

registryConformanceSuite({
  name: 'etcd',
  capabilities: { authentication: true, registryCenterTimeResolutionMs: 1000, maxTransactionOperations: 64 },
  create: ({ namespace, digest, sessionTimeoutMs, authentication }) =>
    proxiedClient(authentication === true ? authServer : server, {
      namespace,
      digest,
      sessionTimeoutMs: sessionTimeoutMs ?? DEFAULT_TEST_SESSION_TIMEOUT_MS,
    }),
  controls: {
    expireSession: async (client) => {
      const target = proxied(client);
      await revokeSession(target.server === authServer ? authAdmin : admin, target);
    },
    disconnect: async (client) => proxied(client).proxy.cut(),
    blackhole: async (client) => proxied(client).proxy.cut('blackhole'),
    reconnect: async (client) => proxied(client).proxy.restore(),
    restartServer: () => server.restart(),
  },
});
