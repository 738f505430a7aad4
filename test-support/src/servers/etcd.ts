/**
 * etcd test server: a real single-member etcd from the Debian package `etcd-server`, started on
 * free loopback ports in a temporary data directory. Used by the etcd adapter tests, integration
 * tests and benchmarks.
 *
 * @module
 */
import { request } from 'node:http';
import { join } from 'node:path';
import {
  ETCD_REQUIREMENTS,
  MissingServerBinaryError,
  requireServerBinaries,
  type ServerRequirement,
} from './binaries.js';
import { findFreePort } from './free-port.js';
import {
  findExecutable,
  type ManagedProcess,
  makeTempDir,
  removeDir,
  spawnManagedProcess,
  waitUntil,
} from './process-utils.js';

/** Options of {@link startEtcdServer}. */
export interface EtcdServerOptions {
  /**
   * How long to wait for `GET /health` to answer `{"health":"true"}`, in ms.
   * @defaultValue 30000
   */
  readonly startTimeoutMs?: number;
  /**
   * The etcd executable.
   * @defaultValue `etcd` on `PATH`, else `/usr/bin/etcd`
   */
  readonly executable?: string;
  /** Extra command-line flags, e.g. `['--auto-compaction-retention=1']`. */
  readonly extraArgs?: readonly string[];
}

/** A running etcd test server. */
export interface EtcdTestServer {
  /** Client URLs to pass as `endpoints`, e.g. `['http://127.0.0.1:40123']`. */
  readonly endpoints: string[];
  /** The etcd process id (changes on {@link restart}); `undefined` for external `ETCD_ENDPOINTS`. */
  readonly pid: number | undefined;
  /** Whether this server was started by the harness (`false` when `ETCD_ENDPOINTS` is used). */
  readonly managed: boolean;
  /**
   * Stops the server (SIGTERM, then SIGKILL) and deletes its data directory. Idempotent.
   * For external `ETCD_ENDPOINTS` servers this does nothing.
   */
  stop(): Promise<void>;
  /**
   * Stops the server gracefully (if it runs) and starts it again on the same ports with the same
   * data directory, so keys and unexpired leases survive. Resolves once it is healthy again.
   *
   * @throws {Error} for external `ETCD_ENDPOINTS` servers, after `stop()`, or when the server does
   *   not come back in time.
   */
  restart(): Promise<void>;
  /**
   * Kills the server with SIGKILL and resolves once it exited; call {@link restart} to bring it
   * back.
   *
   * @throws {Error} for external `ETCD_ENDPOINTS` servers, or after `stop()`.
   */
  kill(): Promise<void>;
}

/**
 * Asks an etcd client URL for `GET /health`.
 *
 * @param endpoint - client URL, e.g. `http://127.0.0.1:2379`.
 * @param timeoutMs - bound for the request, in ms (default 1000).
 * @returns `true` when the answer is `{"health":"true"}`.
 */
export function isEtcdHealthy(endpoint: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(`${endpoint}/health`, { method: 'GET', timeout: timeoutMs, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => {
        try {
          resolve((JSON.parse(body) as { health?: unknown }).health === 'true');
        } catch {
          resolve(false);
        }
      });
      res.on('error', () => resolve(false));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(false));
    req.end();
  });
}

function externalServer(value: string): EtcdTestServer {
  const endpoints = value
    .split(',')
    .map((endpoint) => endpoint.trim())
    .filter((endpoint) => endpoint !== '');
  const unsupported = (what: string) => () =>
    Promise.reject(
      new Error(
        `${what}() needs an etcd server started by the harness; unset ETCD_ENDPOINTS (now '${value}') to use one`,
      ),
    );
  return {
    endpoints,
    pid: undefined,
    managed: false,
    stop: () => Promise.resolve(),
    restart: unsupported('restart'),
    kill: unsupported('kill'),
  };
}

/**
 * Locates the etcd executable: `executable` when given (it must exist), else the Debian package's.
 *
 * @param executable - an explicit executable name or path.
 * @throws {MissingServerBinaryError} naming the Debian package when etcd is missing.
 */
export function locateEtcd(executable?: string): string {
  if (executable === undefined) return requireServerBinaries('etcd', ETCD_REQUIREMENTS)[0] as string;
  const found = findExecutable(executable);
  if (found === undefined) {
    throw new MissingServerBinaryError('etcd', [
      { ...(ETCD_REQUIREMENTS[0] as ServerRequirement), what: `the etcd server (${executable})` },
    ]);
  }
  return found;
}

/**
 * Starts a single-member etcd server for tests, or wraps `ETCD_ENDPOINTS` (comma-separated client
 * URLs) when that environment variable is set (then `restart()`/`kill()` throw and `stop()` does
 * nothing).
 *
 * The server listens on `127.0.0.1` on a free client port and a free peer port, keeps its data in a
 * fresh temp directory, and is killed on `stop()` and when this process exits or dies. A port taken
 * between the free-port probe and the bind is retried with new ports.
 *
 * @param options - start timeout, executable and extra flags.
 * @returns the running server, answering `GET /health` with `{"health":"true"}`.
 * @throws {MissingServerBinaryError} (one line naming the Debian package) when etcd is missing;
 *   {@link Error} with the server's output when it does not start in time.
 * @example
 * ```ts
 * const server = await startEtcdServer();
 * const registry = new EtcdRegistryCenter({ type: 'etcd', endpoints: server.endpoints, namespace: 'test' });
 * // ...
 * await server.stop();
 * ```
 */
export async function startEtcdServer(options: EtcdServerOptions = {}): Promise<EtcdTestServer> {
  const external = process.env.ETCD_ENDPOINTS;
  if (external !== undefined && external.trim() !== '') return externalServer(external.trim());

  const startTimeoutMs = options.startTimeoutMs ?? 30_000;
  const etcd = locateEtcd(options.executable);
  const dir = await makeTempDir('elasticjob-etcd-');
  const dataDir = join(dir, 'data');

  let clientPort = 0;
  let peerPort = 0;
  let current: ManagedProcess | undefined;
  let stopped = false;

  const clientUrl = () => `http://127.0.0.1:${clientPort}`;

  /** Launches etcd on the chosen ports and waits for health; `false` when a port was taken. */
  const launch = async (): Promise<boolean> => {
    const peerUrl = `http://127.0.0.1:${peerPort}`;
    const server = spawnManagedProcess(
      etcd,
      [
        '--name',
        'n1',
        '--data-dir',
        dataDir,
        '--listen-client-urls',
        clientUrl(),
        '--advertise-client-urls',
        clientUrl(),
        '--listen-peer-urls',
        peerUrl,
        '--initial-advertise-peer-urls',
        peerUrl,
        '--initial-cluster',
        `n1=${peerUrl}`,
        '--initial-cluster-state',
        'new',
        '--log-level',
        'warn',
        ...(options.extraArgs ?? []),
      ],
      { cwd: dir },
    );
    current = server;
    try {
      await waitUntil(() => isEtcdHealthy(clientUrl()), {
        timeoutMs: startTimeoutMs,
        intervalMs: 50,
        description: `etcd on ${clientUrl()} to answer GET /health with {"health":"true"}`,
        abortIf: () => (server.isRunning() ? undefined : 'the server process exited'),
      });
      return true;
    } catch (error) {
      await server.kill();
      const output = server.output();
      if (/address already in use/i.test(output)) return false;
      throw new Error(
        `etcd test server did not start: ${(error as Error).message}\n--- output ---\n${output}`,
        {
          cause: error,
        },
      );
    }
  };

  try {
    for (let attempt = 1; ; attempt++) {
      clientPort = await findFreePort();
      do {
        peerPort = await findFreePort();
      } while (peerPort === clientPort);
      if (await launch()) break;
      await removeDir(dataDir);
      if (attempt >= 5) throw new Error('etcd test server: could not bind free ports after 5 attempts');
    }
  } catch (error) {
    await removeDir(dir);
    throw error;
  }

  const endpoint = clientUrl();
  const ensureUsable = () => {
    if (stopped) throw new Error(`etcd test server ${endpoint} was stopped; start a new one`);
  };
  return {
    endpoints: [endpoint],
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
      // The same ports may linger briefly in the kernel; retry the bind for a while.
      const deadline = Date.now() + startTimeoutMs;
      while (!(await launch())) {
        if (Date.now() > deadline) {
          throw new Error(`etcd test server could not re-bind ${endpoint} within ${startTimeoutMs} ms`);
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
