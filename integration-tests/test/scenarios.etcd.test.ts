import { startEtcdServer } from '@elasticjob-ts/test-support';
import { clusterScenarioSuite } from './support/cluster-scenarios.js';

clusterScenarioSuite({
  name: 'etcd',
  async startServer() {
    const server = await startEtcdServer();
    return {
      connection: { type: 'etcd', endpoints: server.endpoints },
      server,
      stop: () => server.stop(),
    };
  },
});
