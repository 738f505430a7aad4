/**
 * A 3-member (or n-member) etcd cluster on one machine for tests: one `etcd` process per member,
 * each with its own data directory and client/peer ports on loopback. Members can be killed
 * (`kill -9`) and restarted with their data; the leader is read from the v3 maintenance status.
 *
 * @module
 */

import { rm } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { isEtcdHealthy, locateEtcd } from './etcd.js';
import { findFreePorts, startMembersOnFreePorts } from './free-port.js';
import {
  type ManagedProcess,
  makeTempDir,
  removeDir,
  spawnManagedProcess,
  waitUntil,
} from './process-utils.js';

/** Ports each member listens on: client and peer. */
const PORTS_PER_MEMBER = 2;

/** Options of {@link startEtcdCluster}. */
export interface EtcdClusterOptions {
  /** Number of members. @defaultValue 3 */
  readonly size?: number;
  /** Bound of every wait for a member to be healthy, in ms. @defaultValue 60000 */
  readonly startTimeoutMs?: number;
  /**
   * Raft election timeout of every member (`--election-timeout`), in ms; the heartbeat interval
   * is a tenth of it. @defaultValue 1000
   */
  readonly electionTimeoutMs?: number;
}

/** A running etcd cluster; members are numbered from 0. */
export interface EtcdCluster {
  /** Client URL of every member, in member order, to pass as `endpoints`. */
  readonly endpoints: string[];
  /** Number of members. */
  readonly size: number;
  /**
   * Raft election timeout of every member, in ms. A follower starts an election when it heard
   * nothing from the leader for a random time between one and two election timeouts.
   */
  readonly electionTimeoutMs: number;
  /** The member that leads the Raft group now, or `undefined` when none is known. */
  leader(): Promise<number | undefined>;
  /** `kill -9` of one member; resolves once it exited. */
  killMember(member: number): Promise<void>;
  /** Stops a member gracefully (if it runs) and starts it again with its data; resolves once healthy. */
  restartMember(member: number): Promise<void>;
  /** Restarts every member, one after the other, each once the previous one is healthy again. */
  restart(): Promise<void>;
  /** Waits until every running member is healthy (has a leader). */
  waitServing(): Promise<void>;
  /** Stops every member and deletes the data. Idempotent. */
  stop(): Promise<void>;
}

/** `POST /v3/maintenance/status` of one member: its own id and the leader's. */
function memberStatus(endpoint: string): Promise<{ memberId: string; leaderId: string } | undefined> {
  return new Promise((resolve) => {
    const req = request(
      `${endpoint}/v3/maintenance/status`,
      { method: 'POST', timeout: 1000, agent: false, headers: { 'content-type': 'application/json' } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => {
          try {
            const status = JSON.parse(body) as { header?: { member_id?: string }; leader?: string };
            const memberId = status.header?.member_id;
            resolve(
              memberId === undefined || status.leader === undefined
                ? undefined
                : { memberId, leaderId: status.leader },
            );
          } catch {
            resolve(undefined);
          }
        });
        res.on('error', () => resolve(undefined));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(undefined));
    req.end('{}');
  });
}

/**
 * Starts an etcd cluster and waits until every member is healthy.
 *
 * @param options - size and start timeout.
 * @returns the running cluster.
 * @throws {MissingServerBinaryError} when etcd is missing; {@link Error} with the members' output
 *   when the cluster does not become healthy in time.
 */
export async function startEtcdCluster(options: EtcdClusterOptions = {}): Promise<EtcdCluster> {
  const size = options.size ?? 3;
  const startTimeoutMs = options.startTimeoutMs ?? 60_000;
  const electionTimeoutMs = options.electionTimeoutMs ?? 1000;
  const etcd = locateEtcd();
  const dir = await makeTempDir('elasticjob-etcd-cluster-');
  const ports: { client: number; peer: number }[] = [];
  /** Picks free ports for every member and clears what a failed attempt left in the data dirs. */
  const configure = async (): Promise<void> => {
    const free = await findFreePorts(size * PORTS_PER_MEMBER);
    const next = (): number => free.pop() as number;
    ports.length = 0;
    for (let i = 0; i < size; i++) {
      ports.push({ client: next(), peer: next() });
      await rm(join(dir, `n${i + 1}`), { recursive: true, force: true });
    }
  };
  const clientUrl = (i: number) => `http://127.0.0.1:${ports[i]?.client}`;
  const peerUrl = (i: number) => `http://127.0.0.1:${ports[i]?.peer}`;
  const initialCluster = () => ports.map((_, i) => `n${i + 1}=${peerUrl(i)}`).join(',');
  const members: (ManagedProcess | undefined)[] = new Array(size).fill(undefined);
  let stopped = false;

  const launch = (member: number): void => {
    members[member] = spawnManagedProcess(
      etcd,
      [
        '--name',
        `n${member + 1}`,
        '--data-dir',
        join(dir, `n${member + 1}`),
        '--listen-client-urls',
        clientUrl(member),
        '--advertise-client-urls',
        clientUrl(member),
        '--listen-peer-urls',
        peerUrl(member),
        '--initial-advertise-peer-urls',
        peerUrl(member),
        '--initial-cluster',
        initialCluster(),
        '--initial-cluster-state',
        'new',
        '--initial-cluster-token',
        'elasticjob-test',
        '--heartbeat-interval',
        String(Math.max(1, Math.round(electionTimeoutMs / 10))),
        '--election-timeout',
        String(electionTimeoutMs),
        '--log-level',
        'warn',
      ],
      { cwd: dir },
    );
  };
  const waitMember = (member: number) =>
    waitUntil(() => isEtcdHealthy(clientUrl(member)), {
      timeoutMs: startTimeoutMs,
      intervalMs: 100,
      description: `etcd member ${member} on ${clientUrl(member)} to be healthy`,
      abortIf: () => (members[member]?.isRunning() ? undefined : 'the member process exited'),
    });

  try {
    await startMembersOnFreePorts(
      'etcd cluster',
      members,
      { configure, launch, waitServing: waitMember },
      /address already in use/i,
    );
  } catch (error) {
    await removeDir(dir);
    throw error;
  }

  const ensureUsable = () => {
    if (stopped) throw new Error('the etcd cluster was stopped; start a new one');
  };
  const restartMember = async (member: number) => {
    ensureUsable();
    await members[member]?.stop();
    launch(member);
    await waitMember(member);
  };
  return {
    endpoints: ports.map((_, i) => clientUrl(i)),
    size,
    electionTimeoutMs,
    async leader() {
      const statuses = await Promise.all(
        ports.map((_, i) => (members[i]?.isRunning() ? memberStatus(clientUrl(i)) : undefined)),
      );
      const index = statuses.findIndex(
        (status) => status !== undefined && status.memberId === status.leaderId,
      );
      return index < 0 ? undefined : index;
    },
    async killMember(member) {
      ensureUsable();
      await members[member]?.kill();
    },
    restartMember,
    async restart() {
      for (let i = 0; i < size; i++) await restartMember(i);
    },
    async waitServing() {
      for (let i = 0; i < size; i++) if (members[i]?.isRunning()) await waitMember(i);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await Promise.all(members.map((member) => member?.stop()));
      await removeDir(dir);
    },
  };
}
