import { startRedisServer } from '@elasticjob-ts/registry-conformance/servers';
import { clusterScenarioSuite } from './support/cluster-scenarios.js';

clusterScenarioSuite({
  name: 'redis',
  async startServer() {
    const server = await startRedisServer();
    return {
      connection: { type: 'redis', url: server.url },
      server,
      stop: () => server.stop(),
    };
  },
});
