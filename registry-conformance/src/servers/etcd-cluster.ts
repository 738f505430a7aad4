/**
 * A multi-member etcd test cluster: N real etcd processes (Debian `etcd-server`) on free loopback
 * ports, for fault scenarios such as killing the raft leader.
 *
 * @module
 */
import { request } from 'node:http';
import { join } from 'node:path';
import { isEtcdHealthy } from './etcd.js';
import { findFreePort } from './free-port.js';
import {
  findExecutable,
  type ManagedProcess,
  makeTempDir,
  spawnManagedProcess,
  waitUntil,
} from './process-utils.js';
import { type ServerGroupMember, startServerGroup } from './server-group.js';

/** Options of {@link startEtcdCluster}. */
export interface EtcdClusterOptions {
  /**
   * Number of members.
   * @defaultValue 3
   */
  readonly members?: number;
  /**
   * How long to wait for every member to report healthy (a leader elected), in ms.
   * @defaultValue 60000
   */
  readonly startTimeoutMs?: number;
  /** Extra command-line flags for every member, e.g. `['--election-timeout=1000']`. */
  readonly extraArgs?: readonly string[];
}

/** One member of an {@link EtcdTestCluster}. */
export interface EtcdClusterMember {
  /** Member name, `m1`…`mN`. */
  readonly name: string;
  /** The member's client URL, e.g. `http://127.0.0.1:40123`. */
  readonly endpoint: string;
  /** Whether its process runs. */
  isRunning(): boolean;
  /** SIGKILLs the member (no graceful shutdown) and resolves once it exited. */
  kill(): Promise<void>;
  /**
   * Starts a stopped or killed member again with its data directory; resolves once it is healthy
   * (it rejoined a cluster with a leader).
   */
  restart(): Promise<void>;
}

/** A running etcd test cluster. */
export interface EtcdTestCluster {
  /** Every member's client URL, to pass as `endpoints`. */
  readonly endpoints: string[];
  /** The members, in start order. */
  readonly members: readonly EtcdClusterMember[];
  /**
   * The current raft leader, as the running members report it (`/v3/maintenance/status`).
   *
   * @param timeoutMs - how long to wait for the running members to agree on a leader (default 30000).
   * @throws {Error} when they do not agree in time.
   */
  leader(timeoutMs?: number): Promise<EtcdClusterMember>;
  /** Kills every member and deletes their data. Idempotent. */
  stop(): Promise<void>;
}

interface MemberStatus {
  readonly memberId: string;
  readonly leaderId: string;
}

/** Asks a member for its id and its view of the leader; `undefined` when it does not answer. */
function memberStatus(endpoint: string, timeoutMs = 1000): Promise<MemberStatus | undefined> {
  return new Promise((resolve) => {
    const req = request(
      `${endpoint}/v3/maintenance/status`,
      { method: 'POST', timeout: timeoutMs, agent: false, headers: { 'content-type': 'application/json' } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => {
          try {
            const parsed = JSON.parse(body) as { header?: { member_id?: string }; leader?: string };
            const memberId = parsed.header?.member_id;
            const leaderId = parsed.leader;
            resolve(
              memberId === undefined || leaderId === undefined || leaderId === '0'
                ? undefined
                : { memberId, leaderId },
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
 * Starts an etcd cluster of `members` (default 3) processes on free loopback client and peer
 * ports, each with its own data directory, and waits until every member is healthy. Every process
 * is killed on `stop()` and when this process exits or dies.
 *
 * @param options - member count, start timeout, extra flags.
 * @returns the running cluster.
 * @throws {Error} when etcd is not installed, or with the members' output when the cluster does
 *   not become healthy in time.
 * @example
 * ```ts
 * const cluster = await startEtcdCluster();
 * const registry = new EtcdRegistryCenter({ type: 'etcd', endpoints: cluster.endpoints, namespace: 'test' });
 * await (await cluster.leader()).kill();
 * ```
 */
export async function startEtcdCluster(options: EtcdClusterOptions = {}): Promise<EtcdTestCluster> {
  const size = options.members ?? 3;
  const startTimeoutMs = options.startTimeoutMs ?? 60_000;
  const etcd = findExecutable('etcd') ?? findExecutable('/usr/bin/etcd');
  if (etcd === undefined) {
    throw new Error(
      "Cannot start an etcd test cluster: no 'etcd' executable (apt-get install -y etcd-server)",
    );
  }
  const dir = await makeTempDir('elasticjob-etcd-cluster-');
  const ports: number[] = [];
  while (ports.length < size * 2) {
    const port = await findFreePort();
    if (!ports.includes(port)) ports.push(port);
  }
  const specs = Array.from({ length: size }, (_, index) => ({
    name: `m${index + 1}`,
    clientUrl: `http://127.0.0.1:${ports[index * 2]}`,
    peerUrl: `http://127.0.0.1:${ports[index * 2 + 1]}`,
    dataDir: join(dir, `m${index + 1}`),
  }));
  const initialCluster = specs.map((spec) => `${spec.name}=${spec.peerUrl}`).join(',');
  const args = (spec: (typeof specs)[number]): string[] => [
    '--name',
    spec.name,
    '--data-dir',
    spec.dataDir,
    '--listen-client-urls',
    spec.clientUrl,
    '--advertise-client-urls',
    spec.clientUrl,
    '--listen-peer-urls',
    spec.peerUrl,
    '--initial-advertise-peer-urls',
    spec.peerUrl,
    '--initial-cluster',
    initialCluster,
    '--initial-cluster-state',
    'new',
    '--initial-cluster-token',
    `elasticjob-${process.pid}-${ports[0]}`,
    '--log-level',
    'warn',
    ...(options.extraArgs ?? []),
  ];
  const group = await startServerGroup(
    dir,
    specs.map((spec) => ({
      name: spec.name,
      launch: () => spawnManagedProcess(etcd, args(spec), { cwd: dir }),
      waitReady: (child: ManagedProcess) =>
        waitUntil(() => isEtcdHealthy(spec.clientUrl), {
          timeoutMs: startTimeoutMs,
          intervalMs: 100,
          description: `etcd member ${spec.name} on ${spec.clientUrl} to be healthy`,
          abortIf: () => (child.isRunning() ? undefined : `member ${spec.name} exited:\n${child.output()}`),
        }),
    })),
  );
  const members: EtcdClusterMember[] = specs.map((spec, index) => ({
    ...(group.members[index] as ServerGroupMember),
    name: spec.name,
    endpoint: spec.clientUrl,
  }));

  return {
    endpoints: specs.map((spec) => spec.clientUrl),
    members,
    async leader(timeoutMs = 30_000) {
      let found: EtcdClusterMember | undefined;
      await waitUntil(
        async () => {
          const running = members.filter((member) => member.isRunning());
          const statuses = await Promise.all(running.map((member) => memberStatus(member.endpoint)));
          const leaderIds = new Set(statuses.map((status) => status?.leaderId));
          if (statuses.includes(undefined) || leaderIds.size !== 1) return false;
          const leaderIndex = statuses.findIndex((status) => status?.memberId === status?.leaderId);
          found = leaderIndex < 0 ? undefined : running[leaderIndex];
          return found !== undefined;
        },
        { timeoutMs, intervalMs: 100, description: 'the etcd members to agree on a leader' },
      );
      return found as EtcdClusterMember;
    },
    stop: group.stop,
  };
}
