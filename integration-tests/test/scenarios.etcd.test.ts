import { startRunRegistry } from '../src/harness/registry-backends.js';
import { clusterScenarioSuite } from './support/cluster-scenarios.js';

clusterScenarioSuite({
  name: 'etcd',
  startServer: () => startRunRegistry('etcd', 'single'),
});
