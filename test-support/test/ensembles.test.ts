/**
 * The 3-member harnesses themselves: a quorum forms, exactly one leader is reported, and after a
 * `kill -9` of the leader the two others elect a new one; the killed member rejoins on restart.
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import {
  type EtcdCluster,
  startEtcdCluster,
  startZookeeperEnsemble,
  type ZookeeperEnsemble,
} from '../src/index.js';

type Ensemble = ZookeeperEnsemble | EtcdCluster;

const cases: { name: string; start: () => Promise<Ensemble> }[] = [
  { name: 'ZooKeeper ensemble', start: () => startZookeeperEnsemble() },
  { name: 'etcd cluster', start: () => startEtcdCluster() },
];

describe.each(cases)('$name of 3', ({ start }) => {
  let ensemble: Ensemble | undefined;
  afterAll(async () => {
    await ensemble?.stop();
  });

  it('elects a leader, elects another after kill -9 of the leader, and takes the member back', async () => {
    ensemble = await start();
    const first = await vi.waitFor(
      async () => {
        const leader = await ensemble?.leader();
        expect(leader).toBeDefined();
        return leader as number;
      },
      { timeout: 20_000, interval: 100 },
    );
    await ensemble.killMember(first);
    const second = await vi.waitFor(
      async () => {
        const leader = await ensemble?.leader();
        expect(leader).toBeDefined();
        expect(leader).not.toBe(first);
        return leader as number;
      },
      { timeout: 20_000, interval: 100 },
    );
    expect(second).not.toBe(first);
    await ensemble.restartMember(first);
    await ensemble.waitServing();
  }, 90_000);
});
