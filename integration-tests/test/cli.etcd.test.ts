import { createRegistryCenter } from '@elasticjob-ts/core';
import { startEtcdServer } from '@elasticjob-ts/test-support';
import { cliBehaviourSuite } from './cli.behaviour.js';

cliBehaviourSuite({
  name: 'etcd',
  async startServer() {
    const server = await startEtcdServer();
    const hosts = server.endpoints.map((endpoint) => new URL(endpoint).host).join(',');
    return {
      url: (namespace) => `etcd://${hosts}/${namespace}`,
      unreachableUrl: (namespace, port) => `etcd://127.0.0.1:${port}/${namespace}`,
      registryYaml: (namespace) =>
        `registry:\n  type: etcd\n  endpoints: ${server.endpoints.join(',')}\n  namespace: ${namespace}\n  sessionTimeoutMs: 4000\n`,
      createClient: (namespace) =>
        createRegistryCenter({
          type: 'etcd',
          endpoints: server.endpoints,
          namespace,
          sessionTimeoutMs: 4000,
        }),
      stop: () => server.stop(),
    };
  },
});
