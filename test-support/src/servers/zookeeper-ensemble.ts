/**
 * A 3-node (or n-node) ZooKeeper ensemble on one machine for tests: one JVM per member, each with
 * its own data directory, `myid`, client port and quorum/election ports on loopback. Members can be
 * killed (`kill -9`), restarted with their data, and the current leader is read from `srvr`.
 *
 * @module
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { findFreePorts, startMembersOnFreePorts } from './free-port.js';
import {
  type ManagedProcess,
  makeTempDir,
  removeDir,
  spawnManagedProcess,
  waitUntil,
} from './process-utils.js';
import { locateZookeeperRuntime, sendFourLetterWord } from './zookeeper.js';

/** Ports each member listens on: client, quorum and election. */
const PORTS_PER_MEMBER = 3;

/** Options of {@link startZookeeperEnsemble}. */
export interface ZookeeperEnsembleOptions {
  /** Number of members. @defaultValue 3 */
  readonly size?: number;
  /** `tickTime` of every member, in ms. @defaultValue 500 */
  readonly tickTimeMs?: number;
  /** Smallest session timeout granted, in ms. @defaultValue 1000 */
  readonly minSessionTimeoutMs?: number;
  /** Bound of every wait for a member (or the quorum) to serve, in ms. @defaultValue 60000 */
  readonly startTimeoutMs?: number;
}

/** A running ensemble; members are numbered from 0. */
export interface ZookeeperEnsemble {
  /** `host:port,host:port,...` of every member, to pass as `serverLists`. */
  readonly connectString: string;
  /** Client port of each member, in member order. */
  readonly clientPorts: readonly number[];
  /** Number of members. */
  readonly size: number;
  /** The member that reports `Mode: leader`, or `undefined` when none does right now. */
  leader(): Promise<number | undefined>;
  /** `kill -9` of one member; resolves once it exited. */
  killMember(member: number): Promise<void>;
  /** Stops a member gracefully (if it runs) and starts it again with its data; resolves once it serves. */
  restartMember(member: number): Promise<void>;
  /** Restarts every member, one after the other, each once the previous one serves again. */
  restart(): Promise<void>;
  /** Waits until a quorum serves: every running member answers `srvr` with a mode. */
  waitServing(): Promise<void>;
  /** Stops every member and deletes the data. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts an ensemble and waits until every member serves (has joined a quorum).
 *
 * @param options - size, tick, session bound and start timeout.
 * @returns the running ensemble.
 * @throws {MissingServerBinaryError} when Java or ZooKeeper is missing; {@link Error} with the
 *   members' output when the quorum does not form in time.
 */
export async function startZookeeperEnsemble(
  options: ZookeeperEnsembleOptions = {},
): Promise<ZookeeperEnsemble> {
  const size = options.size ?? 3;
  const tickTimeMs = options.tickTimeMs ?? 500;
  const startTimeoutMs = options.startTimeoutMs ?? 60_000;
  const runtime = locateZookeeperRuntime();
  const dir = await makeTempDir('elasticjob-zk-ensemble-');
  const ports: { client: number; quorum: number; election: number }[] = [];
  const configFiles: string[] = [];
  /** Picks free ports for every member and writes the members' configurations with them. */
  const configure = async (): Promise<void> => {
    const free = await findFreePorts(size * PORTS_PER_MEMBER);
    const next = (): number => free.pop() as number;
    ports.length = 0;
    configFiles.length = 0;
    for (let i = 0; i < size; i++) {
      ports.push({ client: next(), quorum: next(), election: next() });
    }
    const serverLines = ports.map((port, i) => `server.${i + 1}=127.0.0.1:${port.quorum}:${port.election}`);
    for (let i = 0; i < size; i++) {
      const memberDir = join(dir, `m${i + 1}`);
      const dataDir = join(memberDir, 'data');
      await rm(memberDir, { recursive: true, force: true }); // what a failed attempt left
      await mkdir(dataDir, { recursive: true });
      await writeFile(join(dataDir, 'myid'), `${i + 1}\n`);
      const configFile = join(memberDir, 'zoo.cfg');
      await writeFile(
        configFile,
        [
          `tickTime=${tickTimeMs}`,
          'initLimit=20',
          'syncLimit=4',
          `dataDir=${dataDir}`,
          `clientPort=${ports[i]?.client}`,
          'clientPortAddress=127.0.0.1',
          `minSessionTimeout=${options.minSessionTimeoutMs ?? 1000}`,
          'maxSessionTimeout=60000',
          'admin.enableServer=false',
          '4lw.commands.whitelist=*',
          'maxClientCnxns=0',
          ...serverLines,
          '',
        ].join('\n'),
      );
      configFiles.push(configFile);
    }
  };

  const members: (ManagedProcess | undefined)[] = new Array(size).fill(undefined);
  let stopped = false;
  const launch = (member: number): void => {
    members[member] = spawnManagedProcess(
      runtime.java,
      [
        '-Xms32m',
        '-Xmx192m',
        '-XX:+UseSerialGC',
        '-XX:TieredStopAtLevel=1',
        '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
        '-Dzookeeper.jmx.log4j.disable=true',
        '-cp',
        runtime.classpath,
        'org.apache.zookeeper.server.quorum.QuorumPeerMain',
        configFiles[member] as string,
      ],
      { cwd: dir },
    );
  };
  const mode = async (member: number): Promise<string | undefined> => {
    const answer = await sendFourLetterWord('127.0.0.1', ports[member]?.client ?? 0, 'srvr', 1000).catch(
      () => '',
    );
    return /Mode: (\w+)/.exec(answer)?.[1];
  };
  const waitMember = (member: number) =>
    waitUntil(async () => (await mode(member)) !== undefined, {
      timeoutMs: startTimeoutMs,
      intervalMs: 100,
      description: `ZooKeeper ensemble member ${member} on port ${ports[member]?.client} to serve`,
      abortIf: () => (members[member]?.isRunning() ? undefined : 'the member process exited'),
    });
  try {
    await startMembersOnFreePorts(
      'ZooKeeper ensemble',
      members,
      { configure, launch, waitServing: waitMember },
      /Address already in use|BindException/i,
    );
  } catch (error) {
    await removeDir(dir);
    throw error;
  }

  const ensureUsable = () => {
    if (stopped) throw new Error('the ZooKeeper ensemble was stopped; start a new one');
  };
  const restartMember = async (member: number) => {
    ensureUsable();
    await members[member]?.stop();
    launch(member);
    await waitMember(member);
  };
  return {
    connectString: ports.map((port) => `127.0.0.1:${port.client}`).join(','),
    clientPorts: ports.map((port) => port.client),
    size,
    async leader() {
      for (let i = 0; i < size; i++) {
        if (members[i]?.isRunning() && (await mode(i)) === 'leader') return i;
      }
      return undefined;
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
