/**
 * Test fixture: a real registry server, live job instances in this process, a console with three
 * users (admin, operator, viewer) and an operator API token, and an HTTP client that keeps cookies.
 */
import {
  type CoordinatorRegistryCenter,
  createRegistryCenter,
  type JobEvent,
  type Logger,
  ScheduleJobBootstrap,
  type ShardingContext,
  silentLogger,
} from '@elasticjob-ts/core';
import {
  type EtcdTestServer,
  startEtcdServer,
  startZookeeperServer,
  type ZookeeperTestServer,
} from '@elasticjob-ts/test-support';
import { openHistoryStore } from '@elasticjob-ts/tracing';
import type { HistorySource } from '../../src/history/history-source.js';
import { tracingHistorySource } from '../../src/history/tracing-history-source.js';
import {
  type ConsoleOptions,
  type ConsoleUsers,
  generateApiToken,
  hashApiToken,
  hashPassword,
  type RunningConsole,
  startConsole,
} from '../../src/index.js';

/** A cron that never fires during a test (year 2099): every run comes from a trigger. */
export const NEVER = '0 0 0 1 1 ? 2099';
/** Low scrypt cost for test users (the hash records its cost; production hashes use the default). */
const TEST_COST = { N: 1024, r: 8, p: 1 };
export const PASSWORDS = {
  admin: 'admin-pass-1',
  operator: 'operator-pass-1',
  viewer: 'viewer-pass-1',
} as const;

/** A running registry server of one backend. */
export interface RegistryBackend {
  readonly name: 'zookeeper' | 'etcd';
  createClient(namespace: string): Promise<CoordinatorRegistryCenter>;
  stop(): Promise<void>;
}

/** Starts a real ZooKeeper or etcd server. */
export async function startBackend(name: 'zookeeper' | 'etcd'): Promise<RegistryBackend> {
  if (name === 'zookeeper') {
    const server: ZookeeperTestServer = await startZookeeperServer();
    return {
      name,
      createClient: (namespace) =>
        createRegistryCenter({
          type: 'zookeeper',
          serverLists: server.connectString,
          namespace,
          sessionTimeoutMs: 4000,
        }),
      stop: () => server.stop(),
    };
  }
  const server: EtcdTestServer = await startEtcdServer();
  return {
    name,
    createClient: (namespace) =>
      createRegistryCenter({ type: 'etcd', endpoints: server.endpoints, namespace, sessionTimeoutMs: 4000 }),
    stop: () => server.stop(),
  };
}

/** Users of the fixture, and the operator's API token in clear. */
export async function testUsers(
  readOnly = false,
): Promise<{ users: ConsoleUsers; operatorToken: string; viewerToken: string }> {
  const operatorToken = generateApiToken();
  const viewerToken = generateApiToken();
  return {
    operatorToken,
    viewerToken,
    users: {
      readOnly,
      users: await Promise.all(
        (['admin', 'operator', 'viewer'] as const).map(async (role) => ({
          username: role,
          role,
          passwordHash: await hashPassword(PASSWORDS[role], TEST_COST),
        })),
      ),
      tokens: [
        { name: 'deploy-script', role: 'operator', tokenHash: hashApiToken(operatorToken) },
        { name: 'dashboard', role: 'viewer', tokenHash: hashApiToken(viewerToken) },
      ],
    },
  };
}

/** A logger that keeps every entry (for audit-log assertions). */
export class RecordingLogger implements Logger {
  readonly entries: { level: string; context: Record<string, unknown>; message: string | undefined }[];
  readonly #bindings: Record<string, unknown>;

  constructor(entries: RecordingLogger['entries'] = [], bindings: Record<string, unknown> = {}) {
    this.entries = entries;
    this.#bindings = bindings;
  }

  #log(level: string) {
    return (context: object | string, message?: string) => {
      const fields = typeof context === 'string' ? {} : (context as Record<string, unknown>);
      this.entries.push({
        level,
        context: { ...this.#bindings, ...fields },
        message: typeof context === 'string' ? context : message,
      });
    };
  }

  debug = this.#log('debug');
  info = this.#log('info');
  warn = this.#log('warn');
  error = this.#log('error');

  child(bindings: Record<string, unknown>): Logger {
    return new RecordingLogger(this.entries, { ...this.#bindings, ...bindings });
  }
}

/** A job instance started in this process. */
export interface LiveInstance {
  readonly bootstrap: ScheduleJobBootstrap;
  readonly client: CoordinatorRegistryCenter;
  readonly runs: number[];
  stop(): Promise<void>;
}

/** Starts one job instance of `jobName` on its own registry client. */
export async function startInstance(
  backend: RegistryBackend,
  namespace: string,
  jobName: string,
  instanceId: string,
  serverIp: string,
  shardingTotalCount = 4,
): Promise<LiveInstance> {
  const client = await backend.createClient(namespace);
  const runs: number[] = [];
  const bootstrap = new ScheduleJobBootstrap(
    client,
    { execute: (context: ShardingContext) => void runs.push(context.shardingItem) },
    { jobName, cron: NEVER, shardingTotalCount, description: `${jobName} job`, overwrite: true },
    { instanceId, serverIp, logger: silentLogger },
  );
  await bootstrap.schedule();
  return {
    bootstrap,
    client,
    runs,
    async stop() {
      await bootstrap.shutdown();
      await client.close();
    },
  };
}

/** Starts a console on a free loopback port. */
export function startTestConsole(options: Omit<ConsoleOptions, 'port'>): Promise<RunningConsole> {
  return startConsole({ port: 0, ...options });
}

/** A JSON HTTP client that keeps the session cookie and sends the CSRF token. */
export class ApiClient {
  #cookie: string | undefined;
  #csrf: string | undefined;

  constructor(
    readonly baseUrl: string,
    readonly bearer?: string,
  ) {}

  /** Signs in; returns the response. */
  async login(username: string, password: string): Promise<Response> {
    const response = await this.request('POST', '/api/v1/session', { username, password });
    const cookie = response.headers.get('set-cookie');
    if (response.ok && cookie !== null) {
      this.#cookie = cookie.split(';')[0];
      this.#csrf = ((await response.clone().json()) as { csrfToken: string }).csrfToken;
    }
    return response;
  }

  /** Sends a request; JSON body when given. */
  request(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
    options: { csrf?: boolean } = {},
  ): Promise<Response> {
    const all: Record<string, string> = { ...headers };
    if (body !== undefined) all['Content-Type'] ??= 'application/json';
    if (this.#cookie !== undefined) all.Cookie = this.#cookie;
    if (this.#csrf !== undefined && options.csrf !== false && method !== 'GET')
      all['X-CSRF-Token'] = this.#csrf;
    if (this.bearer !== undefined) all.Authorization = `Bearer ${this.bearer}`;
    return fetch(new URL(path, this.baseUrl), {
      method,
      headers: all,
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
  }

  /** GET and parse JSON; throws with the body when the status is not 2xx. */
  async get<T>(path: string): Promise<T> {
    const response = await this.request('GET', path);
    if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  }
}

/** A task id in ElasticJob's form. */
export const SEEDED_TASK_ID = 'orders@-@0,1@-@READY@-@10.0.0.1@-@4242';

/**
 * A real SQLite history store (the tracing package) in `dir`, holding the events a day of `orders`
 * runs leave: 12 executions on items 0/1 (two failed, one from a failover) and the status trace of
 * one task. Returns the console's history source over it.
 */
export async function seedHistory(dir: string, nowMs = Date.now()): Promise<HistorySource> {
  const store = await openHistoryStore(`sqlite:${dir}/history.db`);
  const events: JobEvent[] = [];
  for (let run = 0; run < 12; run++) {
    const start = nowMs - (run + 1) * 30 * 60_000;
    const item = run % 2;
    events.push({
      kind: 'execution',
      id: `exec-${run}`,
      hostname: item === 0 ? 'host-a' : 'host-b',
      ip: item === 0 ? '10.0.0.1' : '10.0.0.2',
      taskId: run === 0 ? SEEDED_TASK_ID : `orders@-@${item}@-@READY@-@10.0.0.${item + 1}@-@${4000 + run}`,
      jobName: 'orders',
      source: run === 5 ? 'FAILOVER' : 'NORMAL_TRIGGER',
      shardingItem: item,
      startTimeMs: start,
      completeTimeMs: start + 200 + run * 50,
      success: run !== 3 && run !== 7,
      ...(run === 3 || run === 7
        ? { failureCause: 'Error: payment gateway timed out\n    at charge (billing.ts:42)' }
        : {}),
    });
  }
  for (const [offset, state] of (['TASK_STAGING', 'TASK_RUNNING', 'TASK_FINISHED'] as const).entries()) {
    events.push({
      kind: 'status',
      id: `status-${offset}`,
      jobName: 'orders',
      taskId: SEEDED_TASK_ID,
      originalTaskId: SEEDED_TASK_ID,
      slaveId: '10.0.0.1',
      source: 'NORMAL_TRIGGER',
      executionType: 'READY',
      shardingItems: [0, 1],
      state,
      message: state === 'TASK_FINISHED' ? 'done' : '',
      creationTimeMs: nowMs - 30 * 60_000 + offset * 100,
    } as JobEvent);
  }
  await store.writeEvents(events);
  return tracingHistorySource(store.queries, () => store.close());
}
