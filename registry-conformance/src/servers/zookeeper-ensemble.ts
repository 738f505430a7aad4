/**
 * A multi-server ZooKeeper test ensemble: N real ZooKeeper servers (Debian `zookeeper`) on free
 * loopback ports, for fault scenarios such as killing the quorum leader.
 *
 * @module
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { findFreePort } from './free-port.js';
import { type ManagedProcess, makeTempDir, spawnManagedProcess, waitUntil } from './process-utils.js';
import { type ServerGroupMember, startServerGroup } from './server-group.js';
import { locateRuntime, sendFourLetterWord, zookeeperJvmArgs } from './zookeeper.js';

/** Options of {@link startZookeeperEnsemble}. */
export interface ZookeeperEnsembleOptions {
  /**
   * Number of servers.
   * @defaultValue 3
   */
  readonly servers?: number;
  /**
   * `tickTime` in ms (sessions are allowed from 2 × tick).
   * @defaultValue 500
   */
  readonly tickTimeMs?: number;
  /**
   * How long to wait for every server to serve (a leader elected), in ms.
   * @defaultValue 90000
   */
  readonly startTimeoutMs?: number;
}

/** One server of a {@link ZookeeperTestEnsemble}. */
export interface ZookeeperEnsembleServer {
  /** `myid`, 1…N. */
  readonly id: number;
  /** `127.0.0.1:port` of its client port. */
  readonly connectString: string;
  /** Whether its process runs. */
  isRunning(): boolean;
  /** Its role from `srvr` (`leader`, `follower`), `undefined` when it does not serve. */
  mode(): Promise<string | undefined>;
  /** SIGKILLs the server and resolves once it exited. */
  kill(): Promise<void>;
  /** Starts a killed server again with its data; resolves once it serves (rejoined a quorum). */
  restart(): Promise<void>;
}

/** A running ZooKeeper test ensemble. */
export interface ZookeeperTestEnsemble {
  /** Every server's `host:port`, comma-separated, to pass as `serverLists`. */
  readonly connectString: string;
  /** The servers, by id. */
  readonly servers: readonly ZookeeperEnsembleServer[];
  /**
   * The current leader.
   *
   * @param timeoutMs - how long to wait for a running server to report `Mode: leader` (default 30000).
   * @throws {Error} when none does in time.
   */
  leader(timeoutMs?: number): Promise<ZookeeperEnsembleServer>;
  /** Kills every server and deletes their data. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts a ZooKeeper ensemble of `servers` (default 3) JVMs on free loopback ports (client, quorum
 * and election port each), waits until every server serves, and kills them on `stop()` and when
 * this process exits or dies.
 *
 * @param options - server count, tick, start timeout.
 * @returns the running ensemble.
 * @throws {Error} when Java or ZooKeeper is missing, or with the servers' output when the
 *   ensemble does not form in time.
 * @example
 * ```ts
 * const ensemble = await startZookeeperEnsemble();
 * const registry = new ZookeeperRegistryCenter({ serverLists: ensemble.connectString, namespace: 'test' });
 * await (await ensemble.leader()).kill();
 * ```
 */
export async function startZookeeperEnsemble(
  options: ZookeeperEnsembleOptions = {},
): Promise<ZookeeperTestEnsemble> {
  const size = options.servers ?? 3;
  const tickTimeMs = options.tickTimeMs ?? 500;
  const startTimeoutMs = options.startTimeoutMs ?? 90_000;
  const runtime = locateRuntime();
  const dir = await makeTempDir('elasticjob-zk-ensemble-');
  const ports: number[] = [];
  while (ports.length < size * 3) {
    const port = await findFreePort();
    if (!ports.includes(port)) ports.push(port);
  }
  const specs = Array.from({ length: size }, (_, index) => ({
    id: index + 1,
    clientPort: ports[index * 3] as number,
    dataDir: join(dir, `zk${index + 1}`),
    configFile: join(dir, `zk${index + 1}.cfg`),
  }));
  const serverLines = specs.map(
    (spec, index) => `server.${spec.id}=127.0.0.1:${ports[index * 3 + 1]}:${ports[index * 3 + 2]}`,
  );
  for (const spec of specs) {
    await mkdir(spec.dataDir, { recursive: true });
    await writeFile(join(spec.dataDir, 'myid'), `${spec.id}\n`);
    const lines = [
      `tickTime=${tickTimeMs}`,
      'initLimit=20',
      'syncLimit=5',
      `dataDir=${spec.dataDir}`,
      `clientPort=${spec.clientPort}`,
      'clientPortAddress=127.0.0.1',
      `minSessionTimeout=${tickTimeMs * 2}`,
      'maxSessionTimeout=60000',
      'admin.enableServer=false',
      '4lw.commands.whitelist=*',
      'maxClientCnxns=0',
      ...serverLines,
      '',
    ];
    await writeFile(spec.configFile, lines.join('\n'));
  }
  const mode = async (spec: (typeof specs)[number]): Promise<string | undefined> => {
    try {
      const answer = await sendFourLetterWord('127.0.0.1', spec.clientPort, 'srvr', 1000);
      return /Mode: (\w+)/.exec(answer)?.[1];
    } catch {
      return undefined;
    }
  };
  const group = await startServerGroup(
    dir,
    specs.map((spec) => ({
      name: `zk${spec.id}`,
      launch: () =>
        spawnManagedProcess(runtime.java, zookeeperJvmArgs(runtime.classpath, spec.configFile), { cwd: dir }),
      waitReady: (child: ManagedProcess) =>
        waitUntil(async () => (await mode(spec)) !== undefined, {
          timeoutMs: startTimeoutMs,
          intervalMs: 100,
          description: `ZooKeeper server ${spec.id} on 127.0.0.1:${spec.clientPort} to serve`,
          abortIf: () => (child.isRunning() ? undefined : `server ${spec.id} exited:\n${child.output()}`),
        }),
    })),
  );
  const servers: ZookeeperEnsembleServer[] = specs.map((spec, index) => ({
    ...(group.members[index] as ServerGroupMember),
    id: spec.id,
    connectString: `127.0.0.1:${spec.clientPort}`,
    mode: () => mode(spec),
  }));

  return {
    connectString: servers.map((server) => server.connectString).join(','),
    servers,
    async leader(timeoutMs = 30_000) {
      let found: ZookeeperEnsembleServer | undefined;
      await waitUntil(
        async () => {
          for (const server of servers) {
            if (server.isRunning() && (await server.mode()) === 'leader') {
              found = server;
              return true;
            }
          }
          return false;
        },
        { timeoutMs, intervalMs: 100, description: 'a ZooKeeper server to report Mode: leader' },
      );
      return found as ZookeeperEnsembleServer;
    },
    stop: group.stop,
  };
}
