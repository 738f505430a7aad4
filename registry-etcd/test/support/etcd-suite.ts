/**
 * The shared setup of test files that run proxied registry clients against one etcd server: the
 * server and an admin client for the whole file, clients and recorders closed after each test.
 */
import { ConnectionStateRecorder, EventRecorder } from '@elasticjob-ts/registry-conformance';
import { type EtcdTestServer, startEtcdServer } from '@elasticjob-ts/test-support';
import type { Etcd3 } from 'etcd3';
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { EtcdRegistryCenter } from '../../src/index.js';
import { adminClient, type ProxiedEtcdRegistryCenter, proxiedClient } from './etcd-fixture.js';

/** Default wait of the recorders, in ms. */
export const SUITE_WAIT_MS = 15_000;

/** What {@link useEtcdSuite} gives a test file. */
export interface EtcdSuite {
  /** The file's server (set once `beforeAll` ran). */
  readonly server: EtcdTestServer;
  /** An admin client of {@link server}. */
  readonly admin: Etcd3;
  /** A namespace not used before in this process. */
  namespace(): string;
  /** Starts a proxied client with a state recorder; both are closed after the test. */
  startClient(
    namespace: string,
    sessionTimeoutMs?: number,
  ): Promise<{ client: ProxiedEtcdRegistryCenter; states: ConnectionStateRecorder }>;
  /** An event recorder whose waits are cancelled after the test. */
  recorder(): EventRecorder;
  /** Closes `client` after the test; returns it. */
  track<T extends EtcdRegistryCenter>(client: T): T;
  /** The server's current revision. */
  currentRevision(): Promise<string>;
}

/**
 * Registers the file's hooks (server start, per-test cleanup, server stop).
 *
 * @param prefix - first part of the namespaces, e.g. the file's topic.
 */
export function useEtcdSuite(prefix: string): EtcdSuite {
  let server: EtcdTestServer | undefined;
  let admin: Etcd3 | undefined;
  let counter = 0;
  const clients: EtcdRegistryCenter[] = [];
  const recorders: Array<EventRecorder | ConnectionStateRecorder> = [];
  const required = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the etcd suite has not started (beforeAll)');
    return value;
  };

  beforeAll(async () => {
    server = await startEtcdServer();
    admin = adminClient(server);
  }, 60_000);
  afterEach(async () => {
    for (const recorder of recorders.splice(0)) recorder.cancelWaits('test ended');
    await Promise.all(clients.splice(0).map((client) => client.close()));
  });
  afterAll(async () => {
    admin?.close();
    await server?.stop();
  });

  const suite: EtcdSuite = {
    get server() {
      return required(server);
    },
    get admin() {
      return required(admin);
    },
    namespace() {
      counter += 1;
      return `${prefix}-${process.pid}-${counter}`;
    },
    async startClient(namespace, sessionTimeoutMs) {
      const client = suite.track(await proxiedClient(suite.server, { namespace, sessionTimeoutMs }));
      const states = new ConnectionStateRecorder({ defaultTimeoutMs: SUITE_WAIT_MS }).attach(client);
      recorders.push(states);
      await client.start();
      return { client, states };
    },
    recorder() {
      const result = new EventRecorder({ defaultTimeoutMs: SUITE_WAIT_MS });
      recorders.push(result);
      return result;
    },
    track(client) {
      clients.push(client);
      return client;
    },
    async currentRevision() {
      return (await suite.admin.kv.range({ key: Buffer.from('/') })).header.revision;
    },
  };
  return suite;
}
