/**
 * ZooKeeper test server: a real standalone ZooKeeper from the Debian package `zookeeper`, started
 * on a free loopback port in a temporary directory, with a small tick so that 2–4 s sessions are
 * allowed. Used by the ZooKeeper adapter tests, integration tests and benchmarks.
 *
 * @module
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { requireServerBinaries, ZOOKEEPER_REQUIREMENTS } from './binaries.js';
import { findFreePort } from './free-port.js';
import {
  type ManagedProcess,
  makeTempDir,
  removeDir,
  spawnManagedProcess,
  waitUntil,
} from './process-utils.js';

/** Options of {@link startZookeeperServer}. */
export interface ZookeeperServerOptions {
  /**
   * The server's `tickTime`, in ms; heartbeats and session-expiry checks run at this granularity.
   * @defaultValue 500
   */
  readonly tickTimeMs?: number;
  /**
   * Smallest session timeout the server grants, in ms (ZooKeeper's default is 2 × tickTime).
   * @defaultValue 1000
   */
  readonly minSessionTimeoutMs?: number;
  /**
   * Largest session timeout the server grants, in ms (ZooKeeper's default is 20 × tickTime).
   * @defaultValue 60000
   */
  readonly maxSessionTimeoutMs?: number;
  /**
   * How long to wait for the server to answer `ruok` with `imok`, in ms.
   * @defaultValue 30000
   */
  readonly startTimeoutMs?: number;
}

/** A running ZooKeeper test server. */
export interface ZookeeperTestServer {
  /** `host:port` to pass as `serverLists`, e.g. `127.0.0.1:40123`. */
  readonly connectString: string;
  /** The server JVM's process id (changes on {@link restart}); `undefined` for an external `ZK_CONNECT` server. */
  readonly pid: number | undefined;
  /** Whether this server was started by the harness (`false` when `ZK_CONNECT` is used). */
  readonly managed: boolean;
  /**
   * Stops the server (SIGTERM, then SIGKILL) and deletes its data directory. Idempotent.
   * For an external `ZK_CONNECT` server this does nothing.
   */
  stop(): Promise<void>;
  /**
   * Stops the server gracefully and starts it again on the same port with the same data
   * directory, so sessions that reconnect within their timeout survive. Resolves once it answers
   * `imok` again and serves. If the server was killed, it is just started again.
   *
   * @throws {Error} for an external `ZK_CONNECT` server, or when it does not come back in time.
   */
  restart(): Promise<void>;
  /**
   * Kills the server with SIGKILL (no graceful shutdown) and resolves once it exited; call
   * {@link restart} to bring it back.
   *
   * @throws {Error} for an external `ZK_CONNECT` server.
   */
  kill(): Promise<void>;
  /**
   * Sends a four-letter-word command (`ruok`, `stat`, `cons`, `mntr`, `wchs`, ...) and returns the
   * answer.
   *
   * @param command - the four-letter word.
   */
  fourLetterWord(command: string): Promise<string>;
}

const LOGGER_JARS = ['/usr/share/java/slf4j-simple.jar', '/usr/share/java/slf4j-nop.jar'];

/**
 * Sends a ZooKeeper four-letter-word command over a plain TCP connection.
 *
 * @param host - server host.
 * @param port - client port.
 * @param command - e.g. `ruok`.
 * @param timeoutMs - bound for the whole exchange, in ms (default 2000).
 * @returns the server's answer (empty when it closed without answering).
 * @throws {Error} on connection failure or timeout.
 */
export function sendFourLetterWord(
  host: string,
  port: number,
  command: string,
  timeoutMs = 2000,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let answer = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`'${command}' to ${host}:${port} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.end(command));
    socket.on('data', (chunk: string) => {
      answer += chunk;
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(answer);
    });
  });
}

function parseConnectString(connectString: string): { host: string; port: number } {
  const first = connectString.split(',')[0]?.trim() ?? '';
  const index = first.lastIndexOf(':');
  const host = index > 0 ? first.slice(0, index) : first;
  const port = index > 0 ? Number(first.slice(index + 1).split('/')[0]) : 2181;
  return { host, port };
}

function externalServer(connectString: string): ZookeeperTestServer {
  const { host, port } = parseConnectString(connectString);
  const unsupported = (what: string) => () =>
    Promise.reject(
      new Error(
        `${what}() needs a server started by the harness; unset ZK_CONNECT (now '${connectString}') to use one`,
      ),
    );
  return {
    connectString,
    pid: undefined,
    managed: false,
    stop: () => Promise.resolve(),
    restart: unsupported('restart'),
    kill: unsupported('kill'),
    fourLetterWord: (command) => sendFourLetterWord(host, port, command),
  };
}

/**
 * JVM arguments that run one ZooKeeper server with a small heap.
 *
 * @param classpath - from {@link locateZookeeperRuntime}.
 * @param configFile - the server's `zoo.cfg`.
 */
export function zookeeperJvmArgs(classpath: string, configFile: string): string[] {
  return [
    '-Xms32m',
    '-Xmx256m',
    '-XX:+UseSerialGC',
    '-XX:TieredStopAtLevel=1',
    '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
    '-Dzookeeper.jmx.log4j.disable=true',
    '-cp',
    classpath,
    'org.apache.zookeeper.server.quorum.QuorumPeerMain',
    configFile,
  ];
}

/**
 * Locates the Java runtime and the ZooKeeper jars.
 *
 * @throws {MissingServerBinaryError} naming the Debian packages when either is missing.
 */
export function locateZookeeperRuntime(): { java: string; classpath: string } {
  const [java = '', jar = ''] = requireServerBinaries('ZooKeeper', ZOOKEEPER_REQUIREMENTS);
  // The Debian jar's manifest lists its dependencies; add a logger binding so that startup
  // failures (e.g. a port already bound) show up in the captured output.
  const logger = LOGGER_JARS.find((path) => existsSync(path));
  return { java, classpath: logger === undefined ? jar : `${jar}:${logger}` };
}

/**
 * Starts a standalone ZooKeeper server for tests, or wraps `ZK_CONNECT` when that environment
 * variable is set (then `restart()`/`kill()` throw and `stop()` does nothing).
 *
 * The server listens on `127.0.0.1` on a free port, keeps its data in a fresh temp directory,
 * disables the admin HTTP server and allows every four-letter word. Its JVM is killed on
 * `stop()`, and when this process exits or dies.
 *
 * @param options - tick and session bounds (defaults: tick 500 ms, sessions 1 s – 60 s).
 * @returns the running server, answering `ruok` with `imok`.
 * @throws {MissingServerBinaryError} (one line naming the Debian packages) when Java or ZooKeeper is
 *   missing; {@link Error} with the server's output when it does not start in time.
 * @example
 * ```ts
 * const server = await startZookeeperServer();
 * const registry = new ZookeeperRegistryCenter({ type: 'zookeeper', serverLists: server.connectString, namespace: 'test' });
 * // ...
 * await server.stop();
 * ```
 */
export async function startZookeeperServer(
  options: ZookeeperServerOptions = {},
): Promise<ZookeeperTestServer> {
  const external = process.env.ZK_CONNECT;
  if (external !== undefined && external.trim() !== '') return externalServer(external.trim());

  const tickTimeMs = options.tickTimeMs ?? 500;
  const minSessionTimeoutMs = options.minSessionTimeoutMs ?? 1000;
  const maxSessionTimeoutMs = options.maxSessionTimeoutMs ?? 60_000;
  const startTimeoutMs = options.startTimeoutMs ?? 30_000;
  const runtime = locateZookeeperRuntime();
  const dir = await makeTempDir('elasticjob-zk-');
  const dataDir = join(dir, 'data');
  const configFile = join(dir, 'zoo.cfg');

  let port = 0;
  let current: ManagedProcess | undefined;
  let stopped = false;

  const writeConfig = async () => {
    const lines = [
      `tickTime=${tickTimeMs}`,
      `dataDir=${dataDir}`,
      `clientPort=${port}`,
      'clientPortAddress=127.0.0.1',
      `minSessionTimeout=${minSessionTimeoutMs}`,
      `maxSessionTimeout=${maxSessionTimeoutMs}`,
      'admin.enableServer=false',
      '4lw.commands.whitelist=*',
      'maxClientCnxns=0',
      '',
    ];
    await writeFile(configFile, lines.join('\n'));
  };

  /** Launches the JVM on `port` and waits for `imok`; `false` when the port was taken. */
  const launch = async (): Promise<boolean> => {
    const server = spawnManagedProcess(runtime.java, zookeeperJvmArgs(runtime.classpath, configFile), {
      cwd: dir,
    });
    current = server;
    try {
      // `ruok` answers `imok` as soon as the process listens; `srvr` reports a `Mode:` only once
      // the server has loaded its data and accepts sessions.
      await waitUntil(
        async () =>
          (await sendFourLetterWord('127.0.0.1', port, 'ruok', 1000)) === 'imok' &&
          (await sendFourLetterWord('127.0.0.1', port, 'srvr', 1000)).includes('Mode: '),
        {
          timeoutMs: startTimeoutMs,
          intervalMs: 50,
          description: `ZooKeeper on 127.0.0.1:${port} to answer 'imok' and serve`,
          abortIf: () => (server.isRunning() ? undefined : 'the server process exited'),
        },
      );
      return true;
    } catch (error) {
      await server.kill();
      const output = server.output();
      if (/Address already in use|BindException/i.test(output)) return false;
      throw new Error(
        `ZooKeeper test server did not start: ${(error as Error).message}\n--- output ---\n${output}`,
        {
          cause: error,
        },
      );
    }
  };

  try {
    for (let attempt = 1; ; attempt++) {
      port = await findFreePort();
      await writeConfig();
      if (await launch()) break;
      if (attempt >= 5) throw new Error('ZooKeeper test server: could not bind a free port after 5 attempts');
    }
  } catch (error) {
    await removeDir(dir);
    throw error;
  }

  const connectString = `127.0.0.1:${port}`;
  return {
    connectString,
    get pid() {
      return current?.pid;
    },
    managed: true,
    async stop() {
      if (stopped) return;
      stopped = true;
      await current?.stop();
      await removeDir(dir);
    },
    async restart() {
      if (stopped) throw new Error(`ZooKeeper test server ${connectString} was stopped; start a new one`);
      await current?.stop();
      // The same port may linger briefly in the kernel; retry the bind for a while.
      const deadline = Date.now() + startTimeoutMs;
      while (!(await launch())) {
        if (Date.now() > deadline) {
          throw new Error(
            `ZooKeeper test server could not re-bind ${connectString} within ${startTimeoutMs} ms`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    },
    async kill() {
      if (stopped) throw new Error(`ZooKeeper test server ${connectString} was stopped; start a new one`);
      await current?.kill();
    },
    fourLetterWord: (command) => sendFourLetterWord('127.0.0.1', port, command),
  };
}

/** The subtree watch modes of the ZooKeeper adapter (its option `watchMode`). */
const ZOOKEEPER_WATCH_MODES = ['auto', 'persistent', 'one-shot'] as const;

/**
 * The ZooKeeper adapter's `watchMode` the tests should use, from the environment variable
 * `ZK_WATCH_MODE` (`auto`, `persistent` or `one-shot`), so that a whole test run can exercise
 * either mode. Spread into a ZooKeeper client configuration.
 *
 * @returns `{ watchMode }` when `ZK_WATCH_MODE` is set, else `{}` (the adapter's default, `auto`).
 * @throws {Error} when `ZK_WATCH_MODE` holds another value.
 */
export function zookeeperWatchModeFromEnv(): { watchMode?: (typeof ZOOKEEPER_WATCH_MODES)[number] } {
  const value = process.env.ZK_WATCH_MODE;
  if (value === undefined || value === '') return {};
  const mode = ZOOKEEPER_WATCH_MODES.find((candidate) => candidate === value);
  if (mode === undefined) {
    throw new Error(`ZK_WATCH_MODE must be one of ${ZOOKEEPER_WATCH_MODES.join(', ')}, got '${value}'`);
  }
  return { watchMode: mode };
}
