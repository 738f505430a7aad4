/**
 * Test fixtures: etcd servers from the harness, an auth-enabled server, admin clients, proxied
 * registry clients.
 */
import { CONFORMANCE_DIGEST } from '@elasticjob-ts/registry-conformance';
import { type EtcdTestServer, startEtcdServer, TcpProxy } from '@elasticjob-ts/test-support';
import { Etcd3, Range } from 'etcd3';
import { EtcdRegistryCenter } from '../../src/index.js';
import type { RaftTermTracker } from '../../src/raft-term.js';
import type { LeaseSession } from '../../src/session.js';

/** Password of the `root` user on auth-enabled test servers. */
export const ROOT_PASSWORD = 'root-secret';

/** Splits `user:password`. */
export function splitDigest(digest: string): { username: string; password: string } {
  const index = digest.indexOf(':');
  return { username: digest.slice(0, index), password: digest.slice(index + 1) };
}

/** An admin `etcd3` client of a server (root credentials for auth-enabled ones). */
export function adminClient(server: EtcdTestServer, auth = false): Etcd3 {
  return new Etcd3({
    hosts: server.endpoints,
    ...(auth ? { auth: { username: 'root', password: ROOT_PASSWORD } } : {}),
  });
}

/**
 * Starts a dedicated server with authentication enabled: user `root` (role root) and the
 * conformance user (read-write on every key starting with `/`).
 */
export async function startAuthEtcdServer(): Promise<EtcdTestServer> {
  const server = await startEtcdServer();
  const client = adminClient(server);
  try {
    const { username, password } = splitDigest(CONFORMANCE_DIGEST);
    await client.user('root').create(ROOT_PASSWORD);
    await client.user('root').addRole('root');
    await client.role('elasticjob').create();
    await client.role('elasticjob').grant({ permission: 'Readwrite', range: Range.prefix('/') });
    await client.user(username).create(password);
    await client.user(username).addRole('elasticjob');
    await client.auth.authEnable({});
  } finally {
    client.close();
  }
  return server;
}

/** A registry client that reaches its server through its own {@link TcpProxy}, closed with it. */
export class ProxiedEtcdRegistryCenter extends EtcdRegistryCenter {
  constructor(
    configuration: ConstructorParameters<typeof EtcdRegistryCenter>[0],
    readonly proxy: TcpProxy,
    readonly server: EtcdTestServer,
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
  server: EtcdTestServer,
  options: ProxiedClientOptions,
): Promise<ProxiedEtcdRegistryCenter> {
  const target = new URL(server.endpoints[0] ?? '');
  const proxy = await TcpProxy.start(`127.0.0.1:${target.port}`);
  return new ProxiedEtcdRegistryCenter(
    {
      type: 'etcd',
      endpoints: [`http://${proxy.address}`],
      namespace: options.namespace,
      sessionTimeoutMs: options.sessionTimeoutMs,
      connectionTimeoutMs: options.connectionTimeoutMs ?? 10_000,
      ...(options.digest === undefined ? {} : splitDigest(options.digest)),
    },
    proxy,
    server,
  );
}

/** Revokes a client's session lease from another connection (forced session expiry). */
export async function revokeSession(admin: Etcd3, client: EtcdRegistryCenter): Promise<void> {
  const leaseId = client.sessionId;
  if (leaseId === undefined) throw new Error('the client has no session to expire');
  await admin.leaseClient.leaseRevoke({ ID: leaseId });
}

/**
 * How many keep-alives of the client's current session the server answered with TTL > 0 (read
 * from the adapter's private session, for tests that wait for a renewal after a fault).
 */
export function acknowledgedKeepAlives(client: EtcdRegistryCenter): number {
  const session = (client as unknown as { session?: LeaseSession }).session;
  if (session === undefined) throw new Error('the client has no session');
  return session.acknowledgedKeepAlives;
}

/** The client's raft term tracker (the adapter's private one, for tests of term changes). */
export function raftTermTracker(client: EtcdRegistryCenter): RaftTermTracker {
  return (client as unknown as { terms: RaftTermTracker }).terms;
}
