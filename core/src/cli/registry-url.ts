/**
 * Registry URLs of the `elasticjob` CLI: `zookeeper://host:2181,host2:2181/namespace`,
 * `etcd://host:2379/namespace`, `etcds://host:2379/namespace`, `redis://host:6379/namespace`,
 * `rediss://host:6379/namespace`, turned into the configuration `createRegistryCenter` takes.
 *
 * @module
 */
import type {
  EtcdRegistryConfiguration,
  RedisRegistryConfiguration,
  ZookeeperRegistryConfiguration,
} from '../registry/registry-configuration.js';
import { CliError, ExitCode } from './errors.js';

/** The URL forms the CLI accepts, for error messages. */
export const ACCEPTED_REGISTRY_URL_FORMS =
  'zookeeper://host:2181[,host2:2181...]/namespace, etcd://host:2379[,host2:2379...]/namespace, ' +
  'etcds://host:2379/namespace (TLS), redis://host:6379/namespace, rediss://host:6379/namespace (TLS), ' +
  'optionally with user:password@ before the hosts, ' +
  'or the path of a YAML/JSON file with a registry: section (Redis Sentinel and Cluster: a file)';

/** Default ports when a host has none. */
const DEFAULT_PORTS: Readonly<Record<string, number>> = {
  zookeeper: 2181,
  etcd: 2379,
  etcds: 2379,
  redis: 6379,
  rediss: 6379,
};

/** Credentials given outside the URL (`--digest`, `--username`/`--password`). */
export interface RegistryCredentials {
  /** ZooKeeper digest `user:password`. */
  readonly digest?: string;
  /** etcd user name, or Redis ACL user name. */
  readonly username?: string;
  /** etcd or Redis password. */
  readonly password?: string;
}

/** What {@link parseRegistryUrl} returns: a ZooKeeper, etcd or Redis registry configuration. */
export type RegistryUrlConfiguration =
  | ZookeeperRegistryConfiguration
  | EtcdRegistryConfiguration
  | RedisRegistryConfiguration;

/**
 * Whether a `--registry` value is meant as a URL (it starts with a scheme of two or more
 * characters and a colon, e.g. `zookeeper:`, even when the `//` is mistyped) rather than a file
 * path.
 *
 * @param value - the `--registry` value.
 */
export function looksLikeRegistryUrl(value: string): boolean {
  return /^[A-Za-z][A-Za-z0-9+.-]+:/.test(value);
}

/**
 * Parses a registry URL.
 *
 * - `zookeeper://[user:password@]host[:port][,host[:port]...]/namespace` →
 *   `{ type: 'zookeeper', serverLists: 'host:port,...', namespace, digest? }` (port 2181 by default);
 * - `etcd://[user:password@]host[:port][,...]/namespace` → `{ type: 'etcd', endpoints:
 *   ['http://host:port', ...], namespace, username?, password? }` (port 2379 by default);
 * - `etcds://...` → the same with `https://` endpoints;
 * - `redis://[user:password@]host[:port]/namespace` → `{ type: 'redis', url: 'redis://host:port',
 *   namespace, username?, password? }` (port 6379 by default, database 0; one host: Sentinel and
 *   Cluster take a registry file); `rediss://...` → the same over TLS.
 *
 * Userinfo is percent-decoded. For ZooKeeper it is the digest; for etcd and Redis the user name and
 * password.
 * Credentials in `credentials` win over the URL's. The namespace may have `/`-separated segments.
 * `memory://` is rejected: an in-memory registry lives inside one process, so a CLI process cannot
 * see the jobs of another.
 *
 * @param url - the URL as given on the command line.
 * @param credentials - `--digest`, `--username`, `--password`.
 * @returns the registry configuration (unvalidated adapter options such as the namespace grammar
 *   are checked by the adapter when the client is built).
 * @throws {CliError} with exit code 2 naming the URL, what is wrong and the accepted forms.
 */
export function parseRegistryUrl(
  url: string,
  credentials: RegistryCredentials = {},
): RegistryUrlConfiguration {
  const fail = (reason: string): never => {
    throw new CliError(
      ExitCode.USAGE,
      `Invalid registry URL '${redact(url)}': ${reason}; accepted: ${ACCEPTED_REGISTRY_URL_FORMS}`,
    );
  };
  const match = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(?:([^@/]*)@)?([^/]*)(?:\/(.*))?$/.exec(url);
  if (match === null) return fail('expected scheme://hosts/namespace');
  const scheme = match[1]!.toLowerCase();
  const userinfo = match[2];
  const hostList = match[3]!;
  const namespace = (match[4] ?? '').replace(/\/+$/, '');
  if (scheme === 'memory') {
    return fail(
      'an in-memory registry lives inside one process, so the CLI cannot reach the jobs of another process; ' +
        'use the ZooKeeper, etcd or Redis registry the jobs use',
    );
  }
  if (!(scheme in DEFAULT_PORTS)) return fail(`unknown scheme '${scheme}://'`);
  if (hostList === '') return fail('no host given');
  const hosts = hostList.split(',').map((entry) => parseHost(entry, DEFAULT_PORTS[scheme]!, fail));
  if (namespace === '') return fail('no namespace given (the path after the hosts, e.g. /elasticjob)');
  if (/[?#]/.test(namespace)) return fail('query strings and fragments are not supported');

  let user: string | undefined;
  let password: string | undefined;
  if (userinfo !== undefined) {
    const colon = userinfo.indexOf(':');
    if (colon <= 0 || colon === userinfo.length - 1) return fail('credentials must be user:password@');
    try {
      user = decodeURIComponent(userinfo.slice(0, colon));
      password = decodeURIComponent(userinfo.slice(colon + 1));
    } catch {
      return fail('credentials are not valid percent-encoding');
    }
  }

  if (scheme === 'zookeeper') {
    if (credentials.username !== undefined || credentials.password !== undefined) {
      throw new CliError(
        ExitCode.USAGE,
        '--username/--password are for etcd and Redis; ZooKeeper takes --digest user:password (or user:password@ in the URL)',
      );
    }
    const digest = credentials.digest ?? (user === undefined ? undefined : `${user}:${password}`);
    return {
      type: 'zookeeper',
      serverLists: hosts.join(','),
      namespace,
      ...(digest === undefined ? {} : { digest }),
    };
  }
  if (credentials.digest !== undefined) {
    throw new CliError(
      ExitCode.USAGE,
      `--digest is for ZooKeeper; ${scheme.startsWith('redis') ? 'Redis' : 'etcd'} takes --username and --password (or user:password@ in the URL)`,
    );
  }
  const username = credentials.username ?? user;
  const secret = credentials.password ?? password;
  if (scheme === 'redis' || scheme === 'rediss') {
    if (hosts.length > 1) {
      return fail('Redis takes one host here; for Sentinel or Cluster pass a registry file');
    }
    return {
      type: 'redis',
      url: `${scheme}://${hosts[0]}`,
      namespace,
      ...(username === undefined ? {} : { username }),
      ...(secret === undefined ? {} : { password: secret }),
    };
  }
  const protocol = scheme === 'etcds' ? 'https' : 'http';
  return {
    type: 'etcd',
    endpoints: hosts.map((host) => `${protocol}://${host}`),
    namespace,
    ...(username === undefined ? {} : { username }),
    ...(secret === undefined ? {} : { password: secret }),
  };
}

function parseHost(entry: string, defaultPort: number, fail: (reason: string) => never): string {
  const match = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(\d*))?$/.exec(entry.trim());
  if (match === null || match[1] === undefined) {
    return fail(`'${entry}' is not host[:port]`);
  }
  const port = match[2] === undefined ? defaultPort : Number(match[2]);
  if (match[2] === '' || !Number.isInteger(port) || port < 1 || port > 65_535) {
    return fail(`'${entry}' has an invalid port (expected 1-65535)`);
  }
  return `${match[1]}:${port}`;
}

/** The URL with any password replaced by `***`, for messages. */
export function redact(url: string): string {
  return url.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/[^@/:]*):[^@/]*@/, '$1:***@');
}
