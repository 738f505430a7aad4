import { createRegistryCenter } from '@elasticjob-ts/core';
import { startZookeeperServer } from '@elasticjob-ts/test-support';
import { cliBehaviourSuite } from './cli.behaviour.js';

cliBehaviourSuite({
  name: 'zookeeper',
  async startServer() {
    const server = await startZookeeperServer();
    return {
      url: (namespace) => `zookeeper://${server.connectString}/${namespace}`,
      unreachableUrl: (namespace, port) => `zookeeper://127.0.0.1:${port}/${namespace}`,
      registryYaml: (namespace) =>
        `registry:\n  type: zookeeper\n  serverLists: ${server.connectString}\n  namespace: ${namespace}\n  sessionTimeoutMs: 4000\n`,
      createClient: (namespace) =>
        createRegistryCenter({
          type: 'zookeeper',
          serverLists: server.connectString,
          namespace,
          sessionTimeoutMs: 4000,
        }),
      stop: () => server.stop(),
    };
  },
});
