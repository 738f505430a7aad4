import { startRunRegistry } from '../src/harness/registry-backends.js';
import { clusterScenarioSuite } from './support/cluster-scenarios.js';

clusterScenarioSuite({
  name: 'etcd 3-member',
  scenarios: ['kill9', 'partition-long', 'registry-restart', 'leader-kill'],
  startServer: () => startRunRegistry('etcd', 'cluster'),
});
