/**
 * The registry conformance suite against a real ZooKeeper server started by the harness. Every
 * client connects through its own TCP proxy, so that `disconnect`/`reconnect` cut exactly that
 * client off (connections reset, new ones refused) without touching the others. `expireSession`
 * ends the session from a second connection that re-attaches to it (id + password) and closes it.
 * The suite runs once per subtree watch mode: `auto` (persistent recursive watches on this server)
 * and `one-shot`.
 */
import type { CoordinatorRegistryCenter } from '@elasticjob-ts/core';
import { registryConformanceSuite } from '@elasticjob-ts/registry-conformance';
import { startZookeeperServer, TcpProxy, type ZookeeperTestServer } from '@elasticjob-ts/test-support';
import { afterAll, beforeAll } from 'vitest';
import { ZOOKEEPER_CAPABILITIES, ZookeeperRegistryCenter, type ZookeeperWatchMode } from '../src/index.js';
import { closeZookeeperSession } from '../src/zookeeper-connection.js';
import { currentSessionOf } from '../src/zookeeper-registry-center.js';

let server: ZookeeperTestServer;
const proxies = new Map<CoordinatorRegistryCenter, TcpProxy>();

beforeAll(async () => {
  server = await startZookeeperServer();
});

afterAll(async () => {
  await Promise.all([...proxies.values()].map((proxy) => proxy.stop()));
  await server?.stop();
});

function proxyOf(client: CoordinatorRegistryCenter): TcpProxy {
  const proxy = proxies.get(client);
  if (proxy === undefined) throw new Error('client was not created by this suite');
  return proxy;
}

const WATCH_MODES: readonly ZookeeperWatchMode[] = ['auto', 'one-shot'];

for (const watchMode of WATCH_MODES) {
  registryConformanceSuite({
    name: `zookeeper (${watchMode} watches)`,
    capabilities: ZOOKEEPER_CAPABILITIES,
    async create({ namespace, digest, sessionTimeoutMs }) {
      const proxy = await TcpProxy.start(server.connectString);
      const client = new ZookeeperRegistryCenter({
        serverLists: proxy.address,
        namespace,
        digest,
        sessionTimeoutMs: sessionTimeoutMs ?? 4_000,
        connectionTimeoutMs: 5_000,
        baseSleepTimeMs: 100,
        maxSleepTimeMs: 500,
        maxRetries: 5,
        watchMode,
      });
      proxies.set(client, proxy);
      return client;
    },
    controls: {
      async expireSession(client) {
        const session = currentSessionOf(client as ZookeeperRegistryCenter);
        if (session === undefined) throw new Error('expireSession: the client has no session');
        // Cut the client off while its session is ended, so that it cannot re-attach to the session
        // between the second client's attach and close (it would, within milliseconds).
        const proxy = proxyOf(client);
        proxy.cut('reset');
        try {
          await closeZookeeperSession(server.connectString, session, 5_000);
        } finally {
          proxy.restore();
        }
      },
      async disconnect(client) {
        proxyOf(client).cut('reset');
      },
      async reconnect(client) {
        proxyOf(client).restore();
      },
      async blackhole(client) {
        proxyOf(client).cut('blackhole');
      },
      async restartServer() {
        await server.restart();
      },
    },
  });
}
