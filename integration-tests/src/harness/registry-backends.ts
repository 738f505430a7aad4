/**
 * Registry servers for multi-process runs, by backend and topology: a single ZooKeeper or etcd
 * server, or a 3-member ensemble, started by `@elasticjob-ts/test-support` on free loopback ports,
 * behind one interface with the faults a run can inject into the registry itself.
 *
 * @module
 */
import {
  startEtcdCluster,
  startEtcdServer,
  startRedisServer,
  startZookeeperEnsemble,
  startZookeeperServer,
} from '@elasticjob-ts/test-support';
import type { WorkerRegistryConnection } from '../worker/worker-config.js';

/** `zookeeper`, `etcd` or `redis` (Redis: single server only). */
export type RegistryBackendName = 'zookeeper' | 'etcd' | 'redis';

/** `single` server or a 3-member `cluster`. */
export type RegistryTopology = 'single' | 'cluster';

/** A running registry for a run. */
export interface RunRegistry {
  /** How workers reach it. */
  readonly connection: WorkerRegistryConnection;
  /** `single` or `cluster`. */
  readonly topology: RegistryTopology;
  /** Restarts it: the single server, or every member one after the other (rolling restart). */
  restart(): Promise<void>;
  /** Cluster only: `kill -9` of the leader member; resolves with the member once it exited. */
  killLeader?(): Promise<number>;
  /** Cluster only: starts a killed member again with its data; resolves once it serves. */
  restartMember?(member: number): Promise<void>;
  /** Stops it and deletes its data. */
  stop(): Promise<void>;
}

/**
 * Starts a registry.
 *
 * @param backend - `zookeeper`, `etcd` or `redis`.
 * @param topology - `single` or `cluster` (3 members).
 * @returns the running registry.
 * @throws {MissingServerBinaryError} when the server program is not installed.
 * @throws {Error} for a Redis `cluster` (3-member Redis topologies are not part of the harness).
 */
export async function startRunRegistry(
  backend: RegistryBackendName,
  topology: RegistryTopology,
): Promise<RunRegistry> {
  if (topology === 'single') {
    if (backend === 'zookeeper') {
      const server = await startZookeeperServer();
      return {
        connection: { type: 'zookeeper', serverLists: server.connectString },
        topology,
        restart: () => server.restart(),
        stop: () => server.stop(),
      };
    }
    if (backend === 'redis') {
      const server = await startRedisServer();
      return {
        connection: { type: 'redis', url: server.url },
        topology,
        restart: () => server.restart(),
        stop: () => server.stop(),
      };
    }
    const server = await startEtcdServer();
    return {
      connection: { type: 'etcd', endpoints: server.endpoints },
      topology,
      restart: () => server.restart(),
      stop: () => server.stop(),
    };
  }
  if (backend === 'redis') throw new Error("the 'cluster' topology is not available for redis");
  const ensemble = backend === 'zookeeper' ? await startZookeeperEnsemble() : await startEtcdCluster();
  return {
    connection:
      'connectString' in ensemble
        ? { type: 'zookeeper', serverLists: ensemble.connectString }
        : { type: 'etcd', endpoints: ensemble.endpoints },
    topology,
    restart: () => ensemble.restart(),
    async killLeader() {
      const leader = await ensemble.leader();
      if (leader === undefined) throw new Error(`the ${backend} ensemble reports no leader`);
      await ensemble.killMember(leader);
      return leader;
    },
    restartMember: (member) => ensemble.restartMember(member),
    stop: () => ensemble.stop(),
  };
}
