import { startRunRegistry } from '../src/harness/registry-backends.js';
import { clusterScenarioSuite } from './support/cluster-scenarios.js';

// 'leader-kill' is not registered here: it fails today and is an open defect, not a flaky test.
// After a kill -9 of the etcd leader member, workers that reach each member through its own fault
// proxy (which accepts connections and then resets them, unlike a dead member that refuses them)
// stay SUSPENDED: the etcd adapter's keep-alive probes keep choosing the dead member's endpoint.
// The same kill with direct connections keeps the session (registry-etcd session-faults test).
// Tracked in integration-tests/README.md "Open defects"; run it with `npm run chaos -- --backend
// etcd --topology cluster`, which injects leader kills.
clusterScenarioSuite({
  name: 'etcd 3-member',
  scenarios: ['kill9', 'partition-long', 'registry-restart'],
  startServer: () => startRunRegistry('etcd', 'cluster'),
});
