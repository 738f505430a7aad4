import { startRunRegistry } from '../src/harness/registry-backends.js';
import { clusterScenarioSuite } from './support/cluster-scenarios.js';

clusterScenarioSuite({
  name: 'zookeeper 3-node',
  scenarios: ['kill9', 'partition-long', 'registry-restart', 'leader-kill'],
  startServer: () => startRunRegistry('zookeeper', 'cluster'),
});
