/**
 * Test fixtures: Redis servers from the harness (a plain one and one with ACL users for the
 * authentication tests), registry clients behind their own TCP proxy, forced session expiry.
 */
import { CONFORMANCE_DIGEST } from '@elasticjob-ts/registry-conformance';
import { type RedisTestServer, startRedisServer, TcpProxy } from '@elasticjob-ts/test-support';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { RedisRegistryCenter } from '../../src/index.js';

/** Password of the `admin` user on the auth-enabled test server. */
export const ADMIN_CREDENTIALS = 'admin:admin-secret';

/** Splits `user:password`. */
export function splitDigest(digest: string): { username: string; password: string } {
  const index = digest.indexOf(':');
  return { username: digest.slice(0, index), password: digest.slice(index + 1) };
}

/**
 * Starts a server whose `default` user is disabled: only `admin` and the conformance user
 * (all keys, all commands) can log in, so a client without credentials gets `NOAUTH`.
 */
export function startAuthRedisServer(): Promise<RedisTestServer> {
  const user = splitDigest(CONFORMANCE_DIGEST);
  const admin = splitDigest(ADMIN_CREDENTIALS);
  return startRedisServer({
    // One directive per `--user`, each word a separate argument (redis-server joins them).
    extraArgs: [
      ...['--user', 'default', 'off'],
      ...['--user', admin.username, 'on', `>${admin.password}`, '~*', '&*', '+@all'],
      ...['--user', user.username, 'on', `>${user.password}`, '~*', '&*', '+@all'],
    ],
    probeCredentials: ADMIN_CREDENTIALS,
  });
}

/** An ioredis client for test-side inspection and fault injection. */
export function adminClient(server: RedisTestServer): Redis {
  const client = new Redis(server.url, { maxRetriesPerRequest: 1 });
  client.on('error', () => undefined); // refused while the server restarts; commands report failures
  return client;
}

/** A registry client that reaches its server through its own {@link TcpProxy}, closed with it. */
export class ProxiedRedisRegistryCenter extends RedisRegistryCenter {
  constructor(
    configuration: ConstructorParameters<typeof RedisRegistryCenter>[0],
    readonly proxy: TcpProxy,
    readonly server: RedisTestServer,
  ) {
    super(configuration);
  }

  override async close(): Promise<void> {
    try {
      await super.close();
    } finally {
      await this.proxy.stop();
    }
  }
}

/** Options of {@link proxiedClient}. */
export interface ProxiedClientOptions {
  readonly namespace: string;
  readonly sessionTimeoutMs?: number;
  readonly connectionTimeoutMs?: number;
  readonly digest?: string;
}

/** Builds an unstarted client of `server` behind a fresh proxy. */
export async function proxiedClient(
  server: RedisTestServer,
  options: ProxiedClientOptions,
): Promise<ProxiedRedisRegistryCenter> {
  const proxy = await TcpProxy.start(`${server.host}:${server.port}`);
  return new ProxiedRedisRegistryCenter(
    {
      type: 'redis',
      url: `redis://${proxy.address}`,
      namespace: options.namespace,
      sessionTimeoutMs: options.sessionTimeoutMs,
      connectionTimeoutMs: options.connectionTimeoutMs ?? 10_000,
      ...(options.digest === undefined ? {} : splitDigest(options.digest)),
    },
    proxy,
    server,
  );
}

/**
 * Expires a client's session from another connection: its deadline becomes 0, so from now on every
 * script treats it as expired; the next script any client of the namespace runs (a heartbeat at the
 * latest) removes it with its ephemeral nodes.
 */
export async function expireSession(admin: Redis, client: RedisRegistryCenter): Promise<void> {
  const sessionId = client.sessionId;
  if (sessionId === undefined) throw new Error('the client has no session to expire');
  const updated = await admin.zadd(`${client.keyPrefix}s`, 'XX', 'CH', 0, sessionId);
  if (updated !== 1) throw new Error(`session ${sessionId} was not found in ${client.keyPrefix}s`);
}

/**
 * Starts two clients built by `make`, runs `body` with them, and closes both afterwards (also
 * when `body` throws; closing a closed client is a no-op).
 */
export async function withTwoClients(
  make: () => RedisRegistryCenter,
  body: (a: RedisRegistryCenter, b: RedisRegistryCenter) => Promise<void>,
): Promise<void> {
  const a = make();
  const b = make();
  try {
    await a.start();
    await b.start();
    await body(a, b);
  } finally {
    await a.close();
    await b.close();
  }
}

/**
 * The writes the transport tests make through `writer`: the job's config node, an instance
 * node (ephemeral) and a transaction that checks the config and creates the leader node.
 */
export async function writeJobBasics(writer: RedisRegistryCenter): Promise<void> {
  await writer.persist('/jobs/orders/config', 'cron: 0/5 * * * * ?');
  await writer.persistEphemeral('/jobs/orders/instances/i1', 'alive');
  await writer.executeInTransaction([
    { type: 'check', key: '/jobs/orders/config', value: 'cron: 0/5 * * * * ?' },
    { type: 'create', key: '/jobs/orders/leader', value: 'i1' },
  ]);
}

/** A test file's Redis server, admin client and registry clients (see {@link useRedisServer}). */
export interface RedisTestContext {
  /** The server, started before the file's tests. */
  readonly server: RedisTestServer;
  /** An admin client of it. */
  readonly admin: Redis;
  /** A fresh namespace per call. */
  namespace(): string;
  /** Registers a client to close after the current test; returns it. */
  track<T extends RedisRegistryCenter>(client: T): T;
  /** Closes every registered client now. */
  closeClients(): Promise<void>;
}

/**
 * Starts a server for the calling test file (`beforeAll`), closes the clients each test registered
 * (`afterEach`), and stops the server (`afterAll`).
 *
 * @param prefix - prefix of the namespaces the context hands out.
 */
export function useRedisServer(prefix: string): RedisTestContext {
  let server: RedisTestServer | undefined;
  let admin: Redis | undefined;
  const clients: RedisRegistryCenter[] = [];
  let sequence = 0;
  const context: RedisTestContext = {
    get server() {
      if (server === undefined) throw new Error('the Redis test server is not started yet');
      return server;
    },
    get admin() {
      if (admin === undefined) throw new Error('the Redis test server is not started yet');
      return admin;
    },
    namespace: () => `${prefix}-${process.pid}-${sequence++}`,
    track: (client) => {
      clients.push(client);
      return client;
    },
    closeClients: async () => {
      await Promise.all(clients.splice(0).map((client) => client.close()));
    },
  };
  beforeAll(async () => {
    server = await startRedisServer();
    admin = adminClient(server);
  }, 60_000);
  afterEach(() => context.closeClients());
  afterAll(async () => {
    admin?.disconnect();
    await server?.stop();
  });
  return context;
}
