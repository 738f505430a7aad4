/**
 * Redis test server: a real `redis-server` from the Debian package `redis-server`, started on a
 * free loopback port in a temporary directory, with every write appended to an fsynced AOF so
 * that `restart()` keeps the data (like the ZooKeeper and etcd harnesses). Used by the Redis
 * adapter tests, integration tests and benchmarks. With `tls: true` it serves TLS only, with a
 * throwaway CA and server certificate made by `openssl` in its directory.
 *
 * @module
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { findFreePort } from './free-port.js';
import {
  findExecutable,
  type ManagedProcess,
  makeTempDir,
  removeDir,
  spawnManagedProcess,
  waitUntil,
} from './process-utils.js';
import { sendRedisCommand } from './redis-protocol.js';
import {
  createTestCertificateAuthority,
  createTestServerCertificate,
  type TestServerCertificate,
} from './tls-material.js';

/** Options of {@link startRedisServer}. */
export interface RedisServerOptions {
  /**
   * How long to wait for the server to answer `PING`, in ms.
   * @defaultValue 30000
   */
  readonly startTimeoutMs?: number;
  /**
   * The redis-server executable.
   * @defaultValue `redis-server` on `PATH`, else `/usr/bin/redis-server`
   */
  readonly executable?: string;
  /**
   * Extra configuration as command-line directives, one word per argument (redis-server joins the
   * words after `--name` into one directive), e.g. `['--user', 'alice', 'on', '>secret', '~*', '+@all']`.
   * They are appended after the harness's own (`--port`, `--bind`, `--dir`, AOF settings).
   */
  readonly extraArgs?: readonly string[];
  /**
   * `user:password` of an account that `PING` (the readiness probe) and {@link RedisTestServer.url}
   * use, for servers whose `default` user is disabled by `extraArgs`.
   */
  readonly probeCredentials?: string;
  /**
   * Serve TLS only (`--port 0 --tls-port <port>`, clients are not asked for certificates, a
   * replica replicates over TLS), with a CA and server certificate for `127.0.0.1`/`localhost`
   * made by `openssl` in the server's directory (`true`) or the given certificate (servers that
   * must trust each other, e.g. a primary and its replica, share one);
   * {@link RedisTestServer.url} is then `rediss://` and {@link RedisTestServer.tlsCa} the CA.
   * Needs `openssl` and a `redis-server` built with TLS (Debian's is); otherwise the start fails
   * with one line saying which.
   * @defaultValue false
   */
  readonly tls?: boolean | TestServerCertificate;
  /**
   * Start a server even when `REDIS_URL` is set, for setups an external server cannot stand in
   * for (a replica, TLS, cluster mode).
   * @defaultValue false: `REDIS_URL`, when set, is used instead
   */
  readonly ignoreRedisUrl?: boolean;
}

/** A running Redis test server. */
export interface RedisTestServer {
  /**
   * `redis://127.0.0.1:<port>` (`rediss://` with `tls: true`), with the probe credentials when
   * given.
   */
  readonly url: string;
  /** The CA certificate (PEM) that signed the server's certificate; `undefined` without TLS. */
  readonly tlsCa: string | undefined;
  /** Loopback host, `127.0.0.1`. */
  readonly host: string;
  /** The port the server listens on. */
  readonly port: number;
  /** Server version, e.g. `7.0.15`. */
  readonly version: string;
  /** The server process id (changes on {@link restart}); `undefined` for an external `REDIS_URL`. */
  readonly pid: number | undefined;
  /** Whether this server was started by the harness (`false` when `REDIS_URL` is used). */
  readonly managed: boolean;
  /** Stops the server (SIGTERM, then SIGKILL) and deletes its directory. Idempotent. */
  stop(): Promise<void>;
  /**
   * Stops the server gracefully (if it runs) and starts it again on the same port with the same
   * directory, so the data (AOF, fsynced on every write) survives. Resolves once it answers `PING`.
   *
   * @throws {Error} for an external `REDIS_URL` server, after `stop()`, or when it does not come back in time.
   */
  restart(): Promise<void>;
  /**
   * Kills the server with SIGKILL and resolves once it exited; {@link restart} brings it back.
   *
   * @throws {Error} for an external `REDIS_URL` server, or after `stop()`.
   */
  kill(): Promise<void>;
}

const INSTALL_HINT =
  'Install Redis (Debian/Ubuntu: `apt-get install -y redis-server`), or set REDIS_URL=redis://host:port ' +
  'to use a running server.';

/**
 * The `redis-server` cannot serve TLS (it was built without it: it rejects `--tls-port`). Its
 * message is one line saying so and what to install; its stack is that line too, because the
 * cause is the machine, not code.
 */
export class RedisTlsUnsupportedError extends Error {
  /**
   * @param executable - the redis-server that was tried.
   * @param reason - what it answered to `--tls-port`.
   */
  constructor(executable: string, reason: string) {
    super(
      `Cannot start a TLS Redis test server: ${executable} rejects --tls-port (${reason}); it was built ` +
        'without TLS. Install a build with TLS (Debian/Ubuntu: `apt-get install -y redis-server`).',
    );
    this.name = 'RedisTlsUnsupportedError';
    this.stack = `${this.name}: ${this.message}`;
  }
}

/**
 * Checks that a redis-server accepts the TLS directives: it is run with `--port 0 --tls-port 0`
 * (listening nowhere, so it exits at once); a build without TLS stops at the directive instead.
 *
 * @param executable - the redis-server.
 * @param cwd - a scratch directory to run it in.
 * @throws {RedisTlsUnsupportedError} when it rejects `--tls-port`.
 */
export function requireRedisTls(executable: string, cwd: string): void {
  const result = spawnSync(
    executable,
    ['--port', '0', '--tls-port', '0', '--save', '', '--appendonly', 'no', '--daemonize', 'no'],
    { cwd, encoding: 'utf8', timeout: 10_000 },
  );
  if (result.error !== undefined) throw result.error;
  const output = `${result.stdout}${result.stderr}`;
  if (/Bad directive|FATAL CONFIG|not supported|unknown option/i.test(output)) {
    const reason = output
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => /directive|tls|not supported|unknown/i.test(line))
      .join(' / ');
    throw new RedisTlsUnsupportedError(executable, reason === '' ? output.trim() : reason);
  }
}

/**
 * The directives that make a redis-server (or Sentinel) serve TLS with `certificate`: its
 * certificate and key, the CA it trusts, no client certificates asked, and TLS for its own
 * outgoing connections (a replica to its primary, a Sentinel to the servers and other Sentinels).
 * The TLS port itself (`--tls-port`) is the caller's.
 *
 * @param certificate - from {@link createTestServerCertificate}.
 * @returns the directives as `--name value` command-line words.
 */
export function redisTlsArguments(certificate: TestServerCertificate): string[] {
  return [
    '--tls-cert-file',
    certificate.certFile,
    '--tls-key-file',
    certificate.keyFile,
    '--tls-ca-cert-file',
    certificate.ca.certFile,
    '--tls-auth-clients',
    'no',
    '--tls-replication',
    'yes',
  ];
}

function splitCredentials(
  credentials: string | undefined,
): { username: string; password: string } | undefined {
  if (credentials === undefined) return undefined;
  const index = credentials.indexOf(':');
  return { username: credentials.slice(0, index), password: credentials.slice(index + 1) };
}

/**
 * Sends `PING` (after `AUTH` when credentials are given) over a raw socket.
 *
 * @param host - server host.
 * @param port - server port.
 * @param credentials - `user:password`, or `undefined` for the `default` user.
 * @param timeoutMs - bound of the probe, in ms (default 1000).
 * @returns `true` when the server answered `+PONG`.
 */
export function pingRedis(
  host: string,
  port: number,
  credentials?: string,
  timeoutMs = 1000,
): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (result: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    let received = '';
    socket.setEncoding('utf8');
    socket.on('connect', () => {
      const auth = splitCredentials(credentials);
      const command = (args: string[]) =>
        `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
      socket.write(
        `${auth === undefined ? '' : command(['AUTH', auth.username, auth.password])}${command(['PING'])}`,
      );
    });
    socket.on('data', (chunk: string) => {
      received += chunk;
      if (received.includes('+PONG')) done(true);
      else if (received.includes('-')) done(false);
    });
    socket.on('error', () => done(false));
  });
}

function externalServer(value: string): RedisTestServer {
  const url = new URL(value);
  const unsupported = (what: string) => () =>
    Promise.reject(
      new Error(
        `${what}() needs a Redis server started by the harness; unset REDIS_URL (now '${value}') to use one`,
      ),
    );
  return {
    url: value,
    tlsCa: undefined,
    host: url.hostname,
    port: Number(url.port || 6379),
    version: '?',
    pid: undefined,
    managed: false,
    stop: () => Promise.resolve(),
    restart: unsupported('restart'),
    kill: unsupported('kill'),
  };
}

function locateRedis(executable: string | undefined): string {
  const found =
    executable !== undefined
      ? findExecutable(executable)
      : (findExecutable('redis-server') ?? findExecutable('/usr/bin/redis-server'));
  if (found === undefined) {
    throw new Error(
      `Cannot start a Redis test server: no '${executable ?? 'redis-server'}' executable found. ${INSTALL_HINT}`,
    );
  }
  return found;
}

/**
 * Starts a `redis-server` for tests, or wraps `REDIS_URL` when that environment variable is set
 * (then `restart()`/`kill()` throw and `stop()` does nothing).
 *
 * The server binds `127.0.0.1` on a free port, keeps its AOF in a fresh temp directory
 * (`appendfsync always`, no RDB snapshots), and is killed on `stop()` and when this process exits
 * or dies. A port taken between the free-port probe and the bind is retried with a new port.
 *
 * @param options - start timeout, executable, extra directives and probe credentials.
 * @returns the running server, answering `PING`.
 * @throws {Error} explaining how to install Redis when it is missing, or with the server's output
 *   when it does not start in time.
 * @example
 * ```ts
 * const server = await startRedisServer();
 * const registry = new RedisRegistryCenter({ type: 'redis', url: server.url, namespace: 'test' });
 * // ...
 * await server.stop();
 * ```
 */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisTestServer> {
  const external = process.env.REDIS_URL;
  if (options.ignoreRedisUrl !== true && external !== undefined && external.trim() !== '') {
    return externalServer(external.trim());
  }

  const startTimeoutMs = options.startTimeoutMs ?? 30_000;
  const redis = locateRedis(options.executable);
  const version = /v=([\d.]+)/.exec(execFileSync(redis, ['--version'], { encoding: 'utf8' }))?.[1] ?? '?';
  const dir = await makeTempDir('elasticjob-redis-');
  let tlsArgs: string[] = [];
  let tlsCa: string | undefined;
  if (options.tls !== undefined && options.tls !== false) {
    try {
      requireRedisTls(redis, dir);
      const certificate =
        options.tls === true
          ? await createTestServerCertificate(dir, await createTestCertificateAuthority(dir))
          : options.tls;
      tlsCa = certificate.ca.certPem;
      tlsArgs = redisTlsArguments(certificate);
    } catch (error) {
      await removeDir(dir);
      throw error;
    }
  }
  const probe = (port: number): Promise<boolean> => {
    if (tlsCa === undefined) return pingRedis('127.0.0.1', port, options.probeCredentials);
    const credentials = splitCredentials(options.probeCredentials);
    const command =
      credentials === undefined ? ['PING'] : ['AUTH', credentials.username, credentials.password];
    return sendRedisCommand({ host: '127.0.0.1', port, tlsCa }, command, 1_000).then(
      (reply) => reply === 'PONG' || reply === 'OK',
    );
  };
  let port = 0;
  let current: ManagedProcess | undefined;
  let stopped = false;

  /** Launches redis-server on `port` and waits for PING; `false` when the port was taken. */
  const launch = async (): Promise<boolean> => {
    const server = spawnManagedProcess(
      redis,
      [
        ...(tlsCa === undefined ? ['--port', String(port)] : ['--port', '0', '--tls-port', String(port)]),
        ...tlsArgs,
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--save',
        '',
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--daemonize',
        'no',
        '--loglevel',
        'warning',
        ...(options.extraArgs ?? []),
      ],
      { cwd: dir },
    );
    current = server;
    try {
      await waitUntil(() => probe(port), {
        timeoutMs: startTimeoutMs,
        intervalMs: 50,
        description: `redis-server on 127.0.0.1:${port} to answer PING`,
        abortIf: () => (server.isRunning() ? undefined : 'the server process exited'),
      });
      return true;
    } catch (error) {
      await server.kill();
      const output = server.output();
      if (/address already in use/i.test(output)) return false;
      throw new Error(
        `Redis test server did not start: ${(error as Error).message}\n--- output ---\n${output}`,
        {
          cause: error,
        },
      );
    }
  };

  try {
    for (let attempt = 1; ; attempt++) {
      port = await findFreePort();
      if (await launch()) break;
      if (attempt >= 5) throw new Error('Redis test server: could not bind a free port after 5 attempts');
    }
  } catch (error) {
    await removeDir(dir);
    throw error;
  }

  const credentials = splitCredentials(options.probeCredentials);
  const userInfo =
    credentials === undefined
      ? ''
      : `${encodeURIComponent(credentials.username)}:${encodeURIComponent(credentials.password)}@`;
  const url = `${tlsCa === undefined ? 'redis' : 'rediss'}://${userInfo}127.0.0.1:${port}`;
  const ensureUsable = () => {
    if (stopped) throw new Error(`Redis test server ${url} was stopped; start a new one`);
  };
  return {
    url,
    tlsCa,
    host: '127.0.0.1',
    port,
    version,
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
      ensureUsable();
      await current?.stop();
      const deadline = Date.now() + startTimeoutMs;
      while (!(await launch())) {
        if (Date.now() > deadline) {
          throw new Error(`Redis test server could not re-bind port ${port} within ${startTimeoutMs} ms`);
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    },
    async kill() {
      ensureUsable();
      await current?.kill();
    },
  };
}
