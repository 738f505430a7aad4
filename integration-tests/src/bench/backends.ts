/**
 * The registry servers of a benchmark run (real ZooKeeper, etcd and Redis on loopback, started like
 * the test servers), their server-side counters (requests received, nodes, watches), and a
 * throwaway `redis-server` for the BullMQ peer.
 *
 * Server-side counters complement the adapter-side counts of `counting-registry.ts`: ZooKeeper's
 * `mntr` (`zk_packets_received`, `zk_znode_count`, `zk_watch_count`), etcd's Prometheus
 * `/metrics` (`grpc_server_handled_total` for unary calls, `grpc_server_msg_received_total` for
 * stream messages, `etcd_debugging_mvcc_keys_total`, `etcd_debugging_mvcc_watcher_total`), and
 * Redis' `INFO` (`cmdstat_evalsha`/`eval`/`xread` calls, `blocked_clients`).
 *
 * @module
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import type { RegistryCenterConfiguration } from '@elasticjob-ts/core';
import {
  type EtcdTestServer,
  type RedisTestServer,
  sendFourLetterWord,
  startEtcdServer,
  startRedisServer as startRedisTestServer,
  startZookeeperServer,
  type ZookeeperTestServer,
} from '@elasticjob-ts/test-support';
import type { WorkerRegistryConnection } from '../worker/worker-config.js';

/** Name of a real registry backend. */
export type BackendName = 'zookeeper' | 'etcd' | 'redis';

/** Every backend, in the order the benchmarks run them. */
export const BACKEND_NAMES: readonly BackendName[] = ['zookeeper', 'etcd', 'redis'];

/** Server-side counters at one instant. */
export interface ServerCounters {
  /**
   * Requests received by the server: ZooKeeper packets (every request and ping of every client),
   * or etcd unary gRPC calls (Range, Txn, Put, DeleteRange, LeaseGrant, ...).
   */
  readonly requests: number;
  /** etcd only: messages received on streams (watch creates/cancels, lease keep-alives); 0 on ZooKeeper. */
  readonly streamMessages: number;
  /** Nodes (ZooKeeper znodes, etcd keys) on the whole server. */
  readonly nodes: number;
  /** Watches on the server: ZooKeeper's watch count (one per watched path per session), etcd watchers. */
  readonly watches: number;
  /** CPU time the server process used so far (user + system), in ms; NaN when unknown. */
  readonly cpuMs: number;
}

const CLOCK_TICKS_PER_SECOND = 100;

/**
 * CPU time (user + system) of a process from `/proc/{pid}/stat`, in ms.
 *
 * @param pid - the process id.
 * @returns ms, or NaN when unavailable (no procfs, process gone).
 */
export function processCpuMs(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}

/** Busy and total jiffies of the whole machine (`/proc/stat`). */
export interface MachineCpu {
  readonly busy: number;
  readonly total: number;
}

/**
 * Reads the machine's CPU counters.
 *
 * @returns busy and total jiffies (all CPUs); zeros when `/proc/stat` is unavailable.
 */
export function machineCpu(): MachineCpu {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const values = line.trim().split(/\s+/).slice(1).map(Number);
    const total = values.reduce((sum, value) => sum + value, 0);
    const idle = (values[3] ?? 0) + (values[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return { busy: 0, total: 0 };
  }
}

/**
 * Share of all CPUs that was busy between two readings, in % of the whole machine.
 *
 * @param before - earlier reading.
 * @param after - later reading.
 */
export function machineBusyPercent(before: MachineCpu, after: MachineCpu): number {
  const total = after.total - before.total;
  return total > 0 ? ((after.busy - before.busy) / total) * 100 : Number.NaN;
}

/** A started backend with what the benchmarks need. */
export interface Backend {
  readonly name: BackendName;
  /** Server version, e.g. `3.8.0`. */
  readonly version: string;
  /** For the worker programs. */
  readonly connection: WorkerRegistryConnection;
  /**
   * A registry configuration for `namespace`.
   *
   * @param namespace - the namespace.
   * @param sessionTimeoutMs - session timeout / lease TTL in ms.
   */
  configuration(namespace: string, sessionTimeoutMs: number): RegistryCenterConfiguration;
  /** Reads the server-side counters. */
  counters(): Promise<ServerCounters>;
  /** Stops the server. */
  stop(): Promise<void>;
}

function fourLetterWord(address: string, command: string, timeoutMs = 5000): Promise<string> {
  const [host, port] = address.split(':') as [string, string];
  return sendFourLetterWord(host, Number(port), command, timeoutMs);
}

function parseMntr(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of text.split('\n')) {
    const [key, value] = line.split('\t');
    if (key !== undefined && value !== undefined) values.set(key.trim(), value.trim());
  }
  return values;
}

function httpText(url: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = httpGet(url, { timeout: timeoutMs, agent: false }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        body += chunk;
      });
      response.on('end', () => resolve(body));
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error(`GET ${url} timed out`)));
    request.on('error', reject);
  });
}

/**
 * Sums the samples of a Prometheus metric whose labels match `filter`.
 *
 * @param text - the `/metrics` exposition text.
 * @param metric - metric name.
 * @param filter - predicate over the raw label text (`{a="b",...}`).
 */
export function sumMetric(
  text: string,
  metric: string,
  filter: (labels: string) => boolean = () => true,
): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(metric)) continue;
    const rest = line.slice(metric.length);
    if (rest[0] !== '{' && rest[0] !== ' ') continue;
    const close = rest.indexOf('}');
    const labels = rest[0] === '{' ? rest.slice(0, close + 1) : '';
    if (!filter(labels)) continue;
    const value = Number(rest.slice(labels.length).trim().split(' ')[0]);
    if (Number.isFinite(value)) sum += value;
  }
  return sum;
}

/**
 * Starts a ZooKeeper test server (tick 500 ms, sessions 1–60 s).
 *
 * @returns the backend.
 */
export async function startZookeeperBackend(): Promise<Backend> {
  const server: ZookeeperTestServer = await startZookeeperServer();
  const address = server.connectString;
  const version =
    (parseMntr(await fourLetterWord(address, 'mntr')).get('zk_version') ?? '?').split('-')[0] ?? '?';
  return {
    name: 'zookeeper',
    version,
    connection: { type: 'zookeeper', serverLists: address },
    configuration: (namespace, sessionTimeoutMs) => ({
      type: 'zookeeper',
      serverLists: address,
      namespace,
      sessionTimeoutMs,
    }),
    async counters() {
      const values = parseMntr(await fourLetterWord(address, 'mntr'));
      const read = (key: string) => Number(values.get(key) ?? Number.NaN);
      return {
        requests: read('zk_packets_received'),
        streamMessages: 0,
        nodes: read('zk_znode_count'),
        watches: read('zk_watch_count'),
        cpuMs: processCpuMs(server.pid),
      };
    },
    stop: () => server.stop(),
  };
}

/**
 * Starts an etcd test server; with `maxTxnOps` (`BENCH_ETCD_MAX_TXN_OPS`) the server runs with
 * `--max-txn-ops <n>` and the clients are configured with `maxTxnOps: n`.
 *
 * @param maxTxnOps - the server's `--max-txn-ops`; `undefined` for etcd's default (128).
 * @returns the backend.
 */
export async function startEtcdBackend(maxTxnOps?: number): Promise<Backend> {
  const server: EtcdTestServer = await startEtcdServer(
    maxTxnOps === undefined ? {} : { extraArgs: ['--max-txn-ops', String(maxTxnOps)] },
  );
  const endpoint = server.endpoints[0] as string;
  let version = '?';
  try {
    version =
      (JSON.parse(await httpText(`${endpoint}/version`)) as { etcdserver?: string }).etcdserver ?? '?';
  } catch {
    // leave '?'
  }
  return {
    name: 'etcd',
    version: maxTxnOps === undefined ? version : `${version}, --max-txn-ops ${maxTxnOps}`,
    connection: {
      type: 'etcd',
      endpoints: [endpoint],
      ...(maxTxnOps === undefined ? {} : { maxTxnOps }),
    },
    configuration: (namespace, sessionTimeoutMs) => ({
      type: 'etcd',
      endpoints: [endpoint],
      namespace,
      sessionTimeoutMs,
      ...(maxTxnOps === undefined ? {} : { maxTxnOps }),
    }),
    async counters() {
      const text = await httpText(`${endpoint}/metrics`);
      return {
        requests: sumMetric(text, 'grpc_server_handled_total', (labels) =>
          labels.includes('grpc_type="unary"'),
        ),
        streamMessages: sumMetric(text, 'grpc_server_msg_received_total', (labels) =>
          labels.includes('stream"'),
        ),
        nodes: sumMetric(text, 'etcd_debugging_mvcc_keys_total'),
        watches: sumMetric(text, 'etcd_debugging_mvcc_watcher_total'),
        cpuMs: processCpuMs(server.pid),
      };
    },
    stop: () => server.stop(),
  };
}

/** Reads `INFO` sections into a map. */
function parseInfo(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of text.split('\r\n')) {
    const index = line.indexOf(':');
    if (index > 0) values.set(line.slice(0, index), line.slice(index + 1));
  }
  return values;
}

/** The commands the Redis registry sends as requests (every other one runs inside its scripts). */
const CLIENT_REQUEST_COMMANDS = ['evalsha', 'eval', 'xread', 'xrange', 'ssubscribe', 'subscribe'];

/** How many clients are subscribed to at least one shard channel (`ssub=` of `CLIENT LIST`). */
async function shardSubscribers(admin: { client(subcommand: 'LIST'): Promise<unknown> }): Promise<number> {
  const list = String(await admin.client('LIST'));
  return list.split('\n').filter((line) => /\bssub=[1-9]/.test(line)).length;
}

/**
 * Starts a Redis test server (AOF with `appendfsync always`, like ZooKeeper's and etcd's fsynced
 * logs). Counters: client requests (from `INFO commandstats`: `EVALSHA`/`EVAL` script calls and
 * the change feed's `XREAD`s, catch-up `XRANGE`s and (re-)subscriptions; commands a script runs
 * inside the server are not requests), the registry nodes of every namespace (`HLEN` of each
 * `elasticjob:{ns}:d` hash), and the change-feed readers as watches (`blocked_clients`, readers
 * blocked in `XREAD`, plus the clients subscribed to a shard channel, `ssub=` of `CLIENT LIST`).
 *
 * @returns the backend.
 */
export async function startRedisBackend(): Promise<Backend> {
  const server: RedisTestServer = await startRedisTestServer();
  const { Redis } = await import('ioredis');
  const admin = new Redis(server.url, { maxRetriesPerRequest: 1 });
  admin.on('error', () => undefined);
  return {
    name: 'redis',
    version: server.version,
    connection: { type: 'redis', url: server.url },
    configuration: (namespace, sessionTimeoutMs) => ({
      type: 'redis',
      url: server.url,
      namespace,
      sessionTimeoutMs,
    }),
    async counters() {
      const info = parseInfo(await admin.info('all'));
      // Client requests: script calls and the change feed's reads and subscriptions.
      // `total_commands_processed` would also count every command a script runs inside the server.
      const calls = (command: string) =>
        Number(/calls=(\d+)/.exec(info.get(`cmdstat_${command}`) ?? '')?.[1] ?? 0);
      let nodes = 0;
      let cursor = '0';
      do {
        const [next, keys] = await admin.scan(cursor, 'MATCH', 'elasticjob:*:d', 'COUNT', 1000);
        cursor = next;
        for (const key of keys) nodes += await admin.hlen(key);
      } while (cursor !== '0');
      return {
        requests: CLIENT_REQUEST_COMMANDS.reduce((sum, command) => sum + calls(command), 0),
        streamMessages: 0,
        nodes,
        watches: Number(info.get('blocked_clients') ?? Number.NaN) + (await shardSubscribers(admin)),
        cpuMs: processCpuMs(server.pid),
      };
    },
    async stop() {
      admin.disconnect();
      await server.stop();
    },
  };
}

/**
 * Starts the backend named `name`.
 *
 * @param name - `zookeeper`, `etcd` or `redis`.
 * @param options - `etcdMaxTxnOps`: see {@link startEtcdBackend}.
 */
export function startBackend(
  name: BackendName,
  options: { readonly etcdMaxTxnOps?: number | undefined } = {},
): Promise<Backend> {
  switch (name) {
    case 'zookeeper':
      return startZookeeperBackend();
    case 'etcd':
      return startEtcdBackend(options.etcdMaxTxnOps);
    case 'redis':
      return startRedisBackend();
  }
}

/** A `redis-server` started for the BullMQ peer. */
export interface RedisServer {
  readonly host: string;
  readonly port: number;
  readonly version: string;
  stop(): Promise<void>;
}

/**
 * Finds `redis-server` on `PATH`.
 *
 * @returns its path, or `undefined` when it is not installed.
 */
export function findRedisServer(): string | undefined {
  for (const candidate of ['redis-server', '/usr/bin/redis-server', '/usr/local/bin/redis-server']) {
    try {
      execFileSync(candidate, ['--version'], { stdio: 'ignore' });
      return candidate;
    } catch {
      // try the next one
    }
  }
  return undefined;
}

/**
 * Starts `redis-server` for the BullMQ peer through the test harness, without persistence
 * (`--appendonly no`: BullMQ's figures were measured that way).
 *
 * @param executable - from {@link findRedisServer}.
 * @returns the running server (it answers `PING`).
 */
export async function startRedisServer(executable: string): Promise<RedisServer> {
  const server = await startRedisTestServer({ executable, extraArgs: ['--appendonly', 'no'] });
  return { host: server.host, port: server.port, version: server.version, stop: () => server.stop() };
}
