import { startEtcdCluster } from '@elasticjob-ts/test-support';
import { clusterScenarioSuite } from './support/cluster-scenarios.js';

clusterScenarioSuite({
  name: 'etcd 3-member',
  scenarios: ['kill9', 'sigstop', 'partition-long', 'pause-long', 'registry-restart', 'leader-kill'],
  async startServer() {
    const ensemble = await startEtcdCluster();
    return {
      connection: { type: 'etcd', endpoints: ensemble.endpoints },
      server: ensemble,
      async killLeader() {
        const leader = await ensemble.leader();
        if (leader === undefined) throw new Error('the etcd cluster reports no leader');
        await ensemble.killMember(leader);
        return leader;
      },
      restartMember: (member) => ensemble.restartMember(member),
      stop: () => ensemble.stop(),
    };
  },
});
