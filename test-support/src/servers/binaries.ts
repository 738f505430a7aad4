/**
 * Where the test servers' programs come from, and what to say when one is missing: every server the
 * suite starts names the Debian package that provides it, so a missing binary costs the reader one
 * line ("install X"), never a stack trace. In CI (`CI=true`, running as root) the package is
 * installed instead.
 *
 * @module
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { findExecutable } from './process-utils.js';

/** One program a test server needs, and the Debian package that installs it. */
export interface ServerRequirement {
  /** What is needed, for the message, e.g. `a Java runtime`. */
  readonly what: string;
  /** The Debian/Ubuntu package that provides it, e.g. `default-jre-headless`. */
  readonly debianPackage: string;
  /** The environment variable that points the suite at an already running server instead. */
  readonly externalServerVariable?: string;
  /** Finds the program; `undefined` when it is not installed. */
  locate(): string | undefined;
}

/** The ZooKeeper server jars of the Debian package, in order of preference. */
export const ZOOKEEPER_JAR_LOCATIONS: readonly string[] = [
  '/usr/share/java/zookeeper.jar',
  '/usr/share/zookeeper/zookeeper.jar',
];

/** What a standalone ZooKeeper server needs: a Java runtime and the ZooKeeper jars. */
export const ZOOKEEPER_REQUIREMENTS: readonly ServerRequirement[] = [
  {
    what: 'a Java runtime (java)',
    debianPackage: 'default-jre-headless',
    externalServerVariable: 'ZK_CONNECT',
    locate: () => {
      const javaHome = process.env.JAVA_HOME;
      const fromHome =
        javaHome !== undefined && javaHome !== '' ? findExecutable(join(javaHome, 'bin', 'java')) : undefined;
      return fromHome ?? findExecutable('java');
    },
  },
  {
    what: 'the ZooKeeper server jar',
    debianPackage: 'zookeeper',
    externalServerVariable: 'ZK_CONNECT',
    locate: () => ZOOKEEPER_JAR_LOCATIONS.find((path) => existsSync(path)),
  },
];

/** What an etcd server needs: the `etcd` executable. */
export const ETCD_REQUIREMENTS: readonly ServerRequirement[] = [
  {
    what: 'the etcd server (etcd)',
    debianPackage: 'etcd-server',
    externalServerVariable: 'ETCD_ENDPOINTS',
    locate: () => findExecutable('etcd') ?? findExecutable('/usr/bin/etcd'),
  },
];

/** What a Redis server (plain, replica or Sentinel: `redis-server --sentinel`) needs. */
export const REDIS_REQUIREMENTS: readonly ServerRequirement[] = [
  {
    what: 'the Redis server (redis-server)',
    debianPackage: 'redis-server',
    externalServerVariable: 'REDIS_URL',
    locate: () => findExecutable('redis-server') ?? findExecutable('/usr/bin/redis-server'),
  },
];

/** What a TLS test server needs besides its server: `openssl`, to make a throwaway CA and certificate. */
export const OPENSSL_REQUIREMENTS: readonly ServerRequirement[] = [
  {
    what: 'the OpenSSL command-line tool (openssl)',
    debianPackage: 'openssl',
    locate: () => findExecutable('openssl') ?? findExecutable('/usr/bin/openssl'),
  },
];

/**
 * A server program the suite needs is not installed. Its message is one line naming the Debian
 * package(s) to install; its stack is that same line, because the cause is the machine, not code.
 */
export class MissingServerBinaryError extends Error {
  /** The Debian packages that would provide what is missing. */
  readonly debianPackages: readonly string[];

  /**
   * @param server - the server that cannot start, e.g. `ZooKeeper`.
   * @param missing - the unmet requirements (at least one).
   */
  constructor(server: string, missing: readonly ServerRequirement[]) {
    const packages = [...new Set(missing.map((requirement) => requirement.debianPackage))];
    const variables = [
      ...new Set(missing.flatMap((requirement) => requirement.externalServerVariable ?? [])),
    ];
    super(
      `Cannot start the ${server} test server: missing ${missing.map((requirement) => requirement.what).join(' and ')}. ` +
        `Install with: apt-get install -y ${packages.join(' ')}` +
        (variables.length > 0 ? ` (or set ${variables.join('/')} to use a running server)` : ''),
    );
    this.name = 'MissingServerBinaryError';
    this.debianPackages = packages;
    this.stack = `${this.name}: ${this.message}`;
  }
}

/** Whether missing Debian packages may be installed here: in CI (`CI=true`) as root. */
function mayInstallPackages(): boolean {
  return process.env.CI === 'true' && typeof process.getuid === 'function' && process.getuid() === 0;
}

const installedThisProcess = new Set<string>();

/**
 * Checks that a server's programs are installed. When some are missing and the process runs as
 * root with `CI=true`, installs their Debian packages (`apt-get update`, then `apt-get install`)
 * and checks again.
 *
 * @param server - the server's name for the message, e.g. `ZooKeeper`.
 * @param requirements - what it needs ({@link ZOOKEEPER_REQUIREMENTS}, {@link ETCD_REQUIREMENTS}).
 * @returns the located path of every requirement, in order.
 * @throws {MissingServerBinaryError} when something is still missing.
 */
export function requireServerBinaries(server: string, requirements: readonly ServerRequirement[]): string[] {
  let missing = requirements.filter((requirement) => requirement.locate() === undefined);
  if (missing.length > 0 && mayInstallPackages()) {
    const packages = [...new Set(missing.map((requirement) => requirement.debianPackage))].filter(
      (name) => !installedThisProcess.has(name),
    );
    if (packages.length > 0) {
      const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
      execFileSync('apt-get', ['update'], { stdio: 'inherit', env });
      execFileSync('apt-get', ['install', '-y', '--no-install-recommends', ...packages], {
        stdio: 'inherit',
        env,
      });
      for (const name of packages) installedThisProcess.add(name);
    }
    missing = requirements.filter((requirement) => requirement.locate() === undefined);
  }
  if (missing.length > 0) throw new MissingServerBinaryError(server, missing);
  return requirements.map((requirement) => requirement.locate() as string);
}
