import { startZookeeperServer } from '@elasticjob-ts/test-support';
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
