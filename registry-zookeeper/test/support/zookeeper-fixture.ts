/**
 * Shared helpers of the ZooKeeper adapter tests: one harness-started server per test file, clients
 * that are closed when the test ends, and state/event recorders.
 */
import { randomBytes } from 'node:crypto';
import type { RegistryConnectionState, RegistryEvent } from '@elasticjob-ts/core';
import {
  startZookeeperServer,
  type ZookeeperTestServer,
  zookeeperWatchModeFromEnv,
} from '@elasticjob-ts/test-support';
import * as zookeeper from 'node-zookeeper-client';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import type { ZookeeperRegistryCenterOptions } from '../../src/options.js';
import { closeZookeeperSession } from '../../src/zookeeper-connection.js';
import { currentSessionOf, ZookeeperRegistryCenter } from '../../src/zookeeper-registry-center.js';

/** Session timeout of the fault tests, in ms (the harness server allows ≥ 1 s). */
export const SHORT_SESSION_MS = 2_000;

/** Registers a server for the current test file; read `.server` inside tests. */
export function useZookeeperServer(): { readonly server: ZookeeperTestServer } {
  const holder: { server?: ZookeeperTestServer } = {};
  beforeAll(async () => {
    holder.server = await startZookeeperServer();
  });
  afterAll(async () => {
    await holder.server?.stop();
  });
  return {
    get server() {
      if (holder.server === undefined) throw new Error('ZooKeeper test server not started');
      return holder.server;
    },
  };
}

/** Creates clients that are closed after each test. */
export function useClients(fixture: { readonly server: ZookeeperTestServer }) {
  const clients: ZookeeperRegistryCenter[] = [];
  afterEach(async () => {
    const all = clients.splice(0);
    await Promise.all(all.map((client) => client.close()));
  });
  return {
    /** A fresh, unique namespace. */
    namespace(): string {
      return `zk-test-${randomBytes(4).toString('hex')}`;
    },
    /** Builds (unstarted) a client of the file's server. */
    build(options: Partial<ZookeeperRegistryCenterOptions> & { namespace: string }): ZookeeperRegistryCenter {
      const client = new ZookeeperRegistryCenter({
        serverLists: fixture.server.connectString,
        sessionTimeoutMs: 4_000,
        connectionTimeoutMs: 5_000,
        baseSleepTimeMs: 100,
        maxSleepTimeMs: 400,
        maxRetries: 5,
        ...zookeeperWatchModeFromEnv(),
        ...options,
      });
      clients.push(client);
      return client;
    },
    /** Builds and starts a client. */
    async start(
      options: Partial<ZookeeperRegistryCenterOptions> & { namespace: string },
      states?: StateRecorder,
    ): Promise<ZookeeperRegistryCenter> {
      const client = this.build(options);
      if (states !== undefined) client.addConnectionStateListener(states.listener);
      await client.start();
      return client;
    },
  };
}

/** Forces the server to expire a client's current session. */
export async function expireSession(connectString: string, client: ZookeeperRegistryCenter): Promise<void> {
  const session = currentSessionOf(client);
  if (session === undefined) throw new Error('the client has no session');
  await closeZookeeperSession(connectString, session, 5_000);
}

/** Resolves when `predicate` holds over the collected items. */
class Collected<T> {
  readonly items: T[] = [];
  readonly #waiters = new Set<() => void>();

  push(item: T): void {
    this.items.push(item);
    for (const waiter of [...this.#waiters]) waiter();
  }

  async waitFor(predicate: (items: readonly T[]) => boolean, timeoutMs: number, what: string): Promise<void> {
    if (predicate(this.items)) return;
    await new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (predicate(this.items)) {
          clearTimeout(timer);
          this.#waiters.delete(check);
          resolve();
        }
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(
          new Error(`timed out after ${timeoutMs} ms waiting for ${what}; got ${JSON.stringify(this.items)}`),
        );
      }, timeoutMs);
      this.#waiters.add(check);
    });
  }
}

/** Records connection states with their arrival time. */
export class StateRecorder extends Collected<{ state: RegistryConnectionState; at: number }> {
  readonly listener = (state: RegistryConnectionState): void => this.push({ state, at: Date.now() });

  get states(): RegistryConnectionState[] {
    return this.items.map((item) => item.state);
  }

  /** Waits until `state` occurs at or after index `from`; returns its entry. */
  async waitForState(state: RegistryConnectionState, from = 0, timeoutMs = 15_000) {
    await this.waitFor(
      (items) => items.slice(from).some((item) => item.state === state),
      timeoutMs,
      `state ${state}`,
    );
    return this.items.slice(from).find((item) => item.state === state)!;
  }
}

/** Records watch events. */
export class EventLog extends Collected<RegistryEvent> {
  readonly listener = (event: RegistryEvent): void => this.push({ ...event });

  async waitForEvent(match: Partial<RegistryEvent>, from = 0, timeoutMs = 15_000): Promise<void> {
    await this.waitFor(
      (events) =>
        events
          .slice(from)
          .some(
            (event) =>
              (match.type === undefined || event.type === match.type) &&
              (match.key === undefined || event.key === match.key) &&
              (match.value === undefined || event.value === match.value),
          ),
      timeoutMs,
      `event ${JSON.stringify(match)}`,
    );
  }

  /** The subtree implied by applying every event in order. */
  mirror(): Map<string, string> {
    const state = new Map<string, string>();
    for (const event of this.items) {
      if (event.type === 'DELETED') state.delete(event.key);
      else state.set(event.key, event.value);
    }
    return state;
  }

  /**
   * Waits until replaying the events gives exactly `tree` (events of different keys are not
   * ordered with each other, so a later change of one key may arrive before an earlier one of
   * another).
   */
  async waitForMirror(tree: ReadonlyMap<string, string>, timeoutMs = 15_000): Promise<void> {
    await this.waitFor(
      () => {
        const mirror = this.mirror();
        return mirror.size === tree.size && [...tree].every(([key, value]) => mirror.get(key) === value);
      },
      timeoutMs,
      `the events to replay to ${JSON.stringify([...tree])}`,
    );
  }

  /** The events from index `from` on, grouped by key (each key's events in arrival order). */
  byKey(from = 0): Record<string, RegistryEvent[]> {
    const grouped: Record<string, RegistryEvent[]> = {};
    for (const event of this.items.slice(from)) {
      const ofKey = grouped[event.key] ?? [];
      ofKey.push(event);
      grouped[event.key] = ofKey;
    }
    return grouped;
  }

  /** Events that contradict earlier ones (duplicates, updates of absent keys, ...). */
  anomalies(): string[] {
    const state = new Map<string, string>();
    const found: string[] = [];
    this.items.forEach((event, index) => {
      const present = state.has(event.key);
      if (event.type === 'ADDED' && present) found.push(`#${index} ADDED ${event.key} already present`);
      if (event.type !== 'ADDED' && !present) found.push(`#${index} ${event.type} ${event.key} not present`);
      if (event.type === 'UPDATED' && state.get(event.key) === event.value) {
        found.push(`#${index} UPDATED ${event.key} to its current value`);
      }
      if (event.type === 'DELETED') state.delete(event.key);
      else state.set(event.key, event.value);
    });
    return found;
  }
}

/** Reads a subtree (including its root) from the server. */
export async function readTree(client: ZookeeperRegistryCenter, key: string): Promise<Map<string, string>> {
  const result = new Map<string, string>();
  const visit = async (path: string): Promise<void> => {
    const value = await client.getDirectly(path);
    if (value === undefined) return;
    result.set(path, value);
    for (const child of await client.getChildrenKeys(path))
      await visit(path === '/' ? `/${child}` : `${path}/${child}`);
  };
  await visit(key);
  return result;
}

/** Asserts a promise rejects with a RegistryError of `code`; returns the error. */
export async function expectCode(promise: Promise<unknown>, code: string): Promise<Error & { code: string }> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught as Error & { code: string },
  );
  expect(error, `expected a RegistryError ${code}`).toBeDefined();
  expect(error?.name).toBe('RegistryError');
  expect(error?.code, error?.message).toBe(code);
  return error as Error & { code: string };
}

/** A plain `node-zookeeper-client` client (no adapter), for checking the raw server state. */
export async function rawClient(connectString: string, digest?: string): Promise<RawClient> {
  const client = zookeeper.createClient(connectString, {
    sessionTimeout: 10_000,
    spinDelay: 100,
    retries: 0,
  });
  if (digest !== undefined) client.addAuthInfo('digest', Buffer.from(digest));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`raw client could not connect to ${connectString}`)),
      5_000,
    );
    client.once('connected', () => {
      clearTimeout(timer);
      resolve();
    });
    client.connect();
  });
  const call = <T>(invoke: (done: (error: unknown, result?: T) => void) => void): Promise<T> =>
    new Promise<T>((resolve, reject) =>
      invoke((error, result) => (error ? reject(error) : resolve(result as T))),
    );
  return {
    client,
    getChildren: (path) => call((done) => client.getChildren(path, (e, children) => done(e, children))),
    getData: (path) =>
      call((done) => client.getData(path, (e, data) => done(e, data?.toString('utf8') ?? ''))),
    getACL: (path) => call((done) => client.getACL(path, (e, acls) => done(e, acls))),
    exists: (path) =>
      call((done) => client.exists(path, (e, stat) => done(e, stat !== null && stat !== undefined))),
    create: (path, mode) =>
      call((done) =>
        client.create(path, Buffer.alloc(0), mode ?? zookeeper.CreateMode.PERSISTENT, (e, p) => done(e, p)),
      ),
    remove: (path) => call((done) => client.remove(path, -1, (e) => done(e))),
    close: () =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 2_000);
        client.once('disconnected', () => {
          clearTimeout(timer);
          resolve();
        });
        client.close();
      }),
  };
}

/** Promise wrappers of the raw client calls the tests use. */
export interface RawClient {
  readonly client: zookeeper.Client;
  getChildren(path: string): Promise<string[]>;
  getData(path: string): Promise<string>;
  getACL(path: string): Promise<zookeeper.ACL[]>;
  exists(path: string): Promise<boolean>;
  create(path: string, mode?: number): Promise<string>;
  remove(path: string): Promise<void>;
  close(): Promise<void>;
}
