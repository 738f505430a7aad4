import { startZookeeperServer } from '@elasticjob-ts/registry-conformance/servers';
import { clusterScenarioSuite } from './support/cluster-scenarios.js';

clusterScenarioSuite({
  name: 'zookeeper',
  async startServer() {
    const server = await startZookeeperServer();
    return {
      connection: { type: 'zookeeper', serverLists: server.connectString },
      server,
      stop: () => server.stop(),
    };
  },
});
