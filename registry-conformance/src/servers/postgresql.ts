/**
 * PostgreSQL test server: a real PostgreSQL from the Debian package `postgresql` (15), initialised
 * with `initdb` in a temporary directory and started on a free loopback port (trust
 * authentication, user `postgres`). Used by the event tracing tests and benchmarks.
 *
 * PostgreSQL refuses to run as root; when this process is root, `initdb` and `postgres` run as the
 * `postgres` system user (through `setpriv`, which keeps the server's pid).
 *
 * @module
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chown } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findFreePort } from './free-port.js';
import {
  findExecutable,
  type ManagedProcess,
  makeTempDir,
  removeDir,
  spawnManagedProcess,
  waitUntil,
} from './process-utils.js';

const execFileAsync = promisify(execFile);

/** Options of {@link startPostgresqlServer}. */
export interface PostgresqlServerOptions {
  /** How long to wait for `pg_isready`, in ms. @defaultValue 30000 */
  readonly startTimeoutMs?: number;
  /**
   * Directory of `initdb`, `postgres` and `pg_isready`.
   * @defaultValue `POSTGRES_BIN_DIR`, else the newest `/usr/lib/postgresql/<version>/bin`, else `PATH`
   */
  readonly binDir?: string;
  /**
   * Keep PostgreSQL's durability settings (`fsync`, `synchronous_commit`); `false` turns them off
   * for faster tests. @defaultValue false
   */
  readonly durable?: boolean;
}

/** A running PostgreSQL test server. */
export interface PostgresqlTestServer {
  /** Connection URL, e.g. `postgres://postgres@127.0.0.1:40123/postgres`. */
  readonly url: string;
  /** The postmaster's process id (changes on {@link restart}); `undefined` for `POSTGRES_URL`. */
  readonly pid: number | undefined;
  /** Whether this server was started by the harness (`false` when `POSTGRES_URL` is used). */
  readonly managed: boolean;
  /** Stops the server (fast shutdown) and deletes its data directory. Idempotent. */
  stop(): Promise<void>;
  /**
   * Stops the server (fast shutdown: clients are disconnected) if it runs, keeping its data; call
   * {@link restart} to bring it back.
   *
   * @throws {Error} for `POSTGRES_URL` servers, or after `stop()`.
   */
  halt(): Promise<void>;
  /**
   * Stops the server if it runs and starts it again on the same port with the same data.
   * Resolves once it accepts connections.
   *
   * @throws {Error} for `POSTGRES_URL` servers, after `stop()`, or when it does not come back in time.
   */
  restart(): Promise<void>;
}

const INSTALL_HINT =
  'Install PostgreSQL (Debian/Ubuntu: `apt-get install -y postgresql`), set POSTGRES_BIN_DIR to its bin ' +
  'directory, or set POSTGRES_URL=postgres://user@host:port/db to use a running server.';

function locateBinDir(binDir: string | undefined): string {
  const candidates: string[] = [];
  if (binDir !== undefined) candidates.push(binDir);
  else {
    if (process.env.POSTGRES_BIN_DIR) candidates.push(process.env.POSTGRES_BIN_DIR);
    const root = '/usr/lib/postgresql';
    if (existsSync(root)) {
      const versions = readdirSync(root)
        .filter((v) => /^\d+$/.test(v))
        .sort((a, b) => Number(b) - Number(a));
      candidates.push(...versions.map((v) => join(root, v, 'bin')));
    }
    const onPath = findExecutable('postgres');
    if (onPath !== undefined) candidates.push(join(onPath, '..'));
  }
  const found = candidates.find(
    (dir) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'postgres')),
  );
  if (found === undefined) {
    throw new Error(`Cannot start a PostgreSQL test server: no initdb/postgres found. ${INSTALL_HINT}`);
  }
  return found;
}

/** Runs `command` as the `postgres` user when this process is root (PostgreSQL refuses root). */
async function asServerUser(command: string, args: readonly string[]): Promise<[string, string[]]> {
  if (process.getuid?.() !== 0) return [command, [...args]];
  const { stdout } = await execFileAsync('id', ['-u', 'postgres']);
  const uid = stdout.trim();
  const gid = (await execFileAsync('id', ['-g', 'postgres'])).stdout.trim();
  return ['setpriv', [`--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', command, ...args]];
}

async function ownByServerUser(dir: string): Promise<void> {
  if (process.getuid?.() !== 0) return;
  const uid = Number((await execFileAsync('id', ['-u', 'postgres'])).stdout.trim());
  const gid = Number((await execFileAsync('id', ['-g', 'postgres'])).stdout.trim());
  await chown(dir, uid, gid);
}

function externalServer(url: string): PostgresqlTestServer {
  const unsupported = (what: string) => () =>
    Promise.reject(
      new Error(`${what}() needs a PostgreSQL server started by the harness; unset POSTGRES_URL to use one`),
    );
  return {
    url,
    pid: undefined,
    managed: false,
    stop: () => Promise.resolve(),
    halt: unsupported('halt'),
    restart: unsupported('restart'),
  };
}

/**
 * Starts a PostgreSQL server for tests, or wraps `POSTGRES_URL` when that variable is set.
 *
 * The server listens on `127.0.0.1` on a free port (its Unix socket in the temp directory), is
 * stopped on `stop()` and killed when this process exits or dies. A port taken between the probe
 * and the bind is retried with a new port.
 *
 * @param options - start timeout, binaries, durability.
 * @returns the running server, accepting connections at `url`.
 * @throws {Error} explaining how to install PostgreSQL when it is missing, or with the server's
 *   output when it does not start in time.
 * @example
 * ```ts
 * const server = await startPostgresqlServer();
 * const store = await openHistoryStore({ url: server.url });
 * // ...
 * await store.close();
 * await server.stop();
 * ```
 */
export async function startPostgresqlServer(
  options: PostgresqlServerOptions = {},
): Promise<PostgresqlTestServer> {
  const external = process.env.POSTGRES_URL;
  if (external !== undefined && external.trim() !== '') return externalServer(external.trim());

  const startTimeoutMs = options.startTimeoutMs ?? 30_000;
  const bin = locateBinDir(options.binDir);
  const dir = await makeTempDir('elasticjob-pg-');
  const dataDir = join(dir, 'data');
  let port = 0;
  let current: ManagedProcess | undefined;
  let stopped = false;

  try {
    await ownByServerUser(dir);
    const [initdb, initArgs] = await asServerUser(join(bin, 'initdb'), [
      '-D',
      dataDir,
      '-U',
      'postgres',
      '-A',
      'trust',
      '-E',
      'UTF8',
      '--no-locale',
      '--no-sync',
    ]);
    await execFileAsync(initdb, initArgs, { cwd: dir });
  } catch (error) {
    await removeDir(dir);
    throw new Error(`PostgreSQL test server: initdb failed: ${(error as Error).message}. ${INSTALL_HINT}`, {
      cause: error,
    });
  }

  const isReady = async (): Promise<boolean> => {
    try {
      await execFileAsync(join(bin, 'pg_isready'), [
        '-h',
        '127.0.0.1',
        '-p',
        String(port),
        '-U',
        'postgres',
        '-t',
        '1',
      ]);
      return true;
    } catch {
      return false;
    }
  };

  /** Starts postgres on `port` and waits until it accepts connections; `false` when the port was taken. */
  const launch = async (): Promise<boolean> => {
    const durability = options.durable === true ? [] : ['-c', 'fsync=off', '-c', 'synchronous_commit=off'];
    const [command, args] = await asServerUser(join(bin, 'postgres'), [
      '-D',
      dataDir,
      '-p',
      String(port),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      `unix_socket_directories=${dir}`,
      '-c',
      'max_connections=50',
      ...durability,
    ]);
    const server = spawnManagedProcess(command, args, { cwd: dir });
    current = server;
    try {
      await waitUntil(isReady, {
        timeoutMs: startTimeoutMs,
        intervalMs: 50,
        description: `PostgreSQL on 127.0.0.1:${port} to accept connections`,
        abortIf: () => (server.isRunning() ? undefined : 'the server process exited'),
      });
      return true;
    } catch (error) {
      await server.kill();
      const output = server.output();
      if (/could not bind|address already in use/i.test(output)) return false;
      throw new Error(
        `PostgreSQL test server did not start: ${(error as Error).message}\n--- output ---\n${output}`,
        {
          cause: error,
        },
      );
    }
  };

  /** Fast shutdown (SIGINT): disconnects clients and exits with every backend. */
  const halt = async (): Promise<void> => {
    const server = current;
    if (server === undefined || !server.isRunning()) return;
    try {
      process.kill(server.pid, 'SIGINT');
    } catch {
      // exited meanwhile
    }
    const timer = setTimeout(() => void server.kill(), startTimeoutMs);
    await server.exited;
    clearTimeout(timer);
  };

  try {
    for (let attempt = 1; ; attempt++) {
      port = await findFreePort();
      if (await launch()) break;
      if (attempt >= 5)
        throw new Error('PostgreSQL test server: could not bind a free port after 5 attempts');
    }
  } catch (error) {
    await removeDir(dir);
    throw error;
  }

  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const ensureUsable = () => {
    if (stopped) throw new Error(`PostgreSQL test server ${url} was stopped; start a new one`);
  };
  return {
    url,
    get pid() {
      return current?.pid;
    },
    managed: true,
    async stop() {
      if (stopped) return;
      stopped = true;
      await halt();
      await removeDir(dir);
    },
    async halt() {
      ensureUsable();
      await halt();
    },
    async restart() {
      ensureUsable();
      await halt();
      const deadline = Date.now() + startTimeoutMs;
      while (!(await launch())) {
        if (Date.now() > deadline) {
          throw new Error(`PostgreSQL test server could not re-bind ${url} within ${startTimeoutMs} ms`);
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    },
  };
}
