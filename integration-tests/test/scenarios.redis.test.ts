import { startRunRegistry } from '../src/harness/registry-backends.js';
import { clusterScenarioSuite } from './support/cluster-scenarios.js';

clusterScenarioSuite({
  name: 'redis',
  startServer: () => startRunRegistry('redis', 'single'),
});
