/**
 * The conformance suite against real Redis servers: a plain one for everything, and one with ACL
 * users for the authentication tests (Redis authentication is server-wide, so the clients of
 * those tests — including the one *without* credentials — are routed to it by the suite's
 * `authentication` flag). Every client talks through its own TCP proxy, which implements the
 * `disconnect`/`reconnect` controls.
 */
import type { CoordinatorRegistryCenter } from '@elasticjob-ts/core';
import { registryConformanceSuite } from '@elasticjob-ts/registry-conformance';
import { type RedisTestServer, startRedisServer } from '@elasticjob-ts/test-support';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import {
  adminClient,
  expireSession,
  ProxiedRedisRegistryCenter,
  proxiedClient,
  startAuthRedisServer,
} from './support/redis-fixture.js';

/** Session timeout of clients for which the suite asks none, in ms (heartbeat every 2 s). */
const DEFAULT_TEST_SESSION_TIMEOUT_MS = 6_000;

let server: RedisTestServer;
let authServer: RedisTestServer;
let admin: Redis;
let authAdmin: Redis;

beforeAll(async () => {
  [server, authServer] = await Promise.all([startRedisServer(), startAuthRedisServer()]);
  admin = adminClient(server);
  authAdmin = adminClient(authServer);
}, 60_000);

afterAll(async () => {
  admin?.disconnect();
  authAdmin?.disconnect();
  await Promise.all([server?.stop(), authServer?.stop()]);
});

function proxied(client: CoordinatorRegistryCenter): ProxiedRedisRegistryCenter {
  if (!(client instanceof ProxiedRedisRegistryCenter)) throw new Error('not a client of this test file');
  return client;
}

registryConformanceSuite({
  name: 'redis',
  capabilities: { authentication: true, registryCenterTimeResolutionMs: 1, maxTransactionOperations: 1000 },
  create: ({ namespace, digest, sessionTimeoutMs, authentication }) =>
    proxiedClient(authentication === true ? authServer : server, {
      namespace,
      digest,
      sessionTimeoutMs: sessionTimeoutMs ?? DEFAULT_TEST_SESSION_TIMEOUT_MS,
    }),
  controls: {
    expireSession: async (client) => {
      const target = proxied(client);
      await expireSession(target.server === authServer ? authAdmin : admin, target);
    },
    disconnect: async (client) => proxied(client).proxy.cut(),
    blackhole: async (client) => proxied(client).proxy.cut('blackhole'),
    reconnect: async (client) => proxied(client).proxy.restore(),
    restartServer: () => server.restart(),
  },
});
