import { startZookeeperEnsemble } from '@elasticjob-ts/test-support';
import { clusterScenarioSuite } from './support/cluster-scenarios.js';

clusterScenarioSuite({
  name: 'zookeeper 3-node',
  scenarios: ['kill9', 'sigstop', 'partition-long', 'pause-long', 'registry-restart', 'leader-kill'],
  async startServer() {
    const ensemble = await startZookeeperEnsemble();
    return {
      connection: { type: 'zookeeper', serverLists: ensemble.connectString },
      server: ensemble,
      async killLeader() {
        const leader = await ensemble.leader();
        if (leader === undefined) throw new Error('the ZooKeeper ensemble reports no leader');
        await ensemble.killMember(leader);
        return leader;
      },
      restartMember: (member) => ensemble.restartMember(member),
      stop: () => ensemble.stop(),
    };
  },
});
