/**
 * Configuration of one worker process (`dist/worker/job-instance.js`): which registry to join, the
 * job to schedule, how long each item runs and where to write the execution log. Passed as JSON in
 * the first command-line argument, or in the environment variable {@link WORKER_CONFIG_ENV}.
 *
 * @module
 */
import type { RegistryCenterConfiguration } from '@elasticjob-ts/core';
import { zookeeperWatchModeFromEnv } from '@elasticjob-ts/test-support';

/** Environment variable holding the worker configuration JSON when no argument is given. */
export const WORKER_CONFIG_ENV = 'ELASTICJOB_WORKER_CONFIG';

/** How a worker reaches the registry server (the namespace and session are separate fields). */
export type WorkerRegistryConnection =
  | {
      readonly type: 'zookeeper';
      /** `host:port[,host:port...]`. */
      readonly serverLists: string;
    }
  | {
      readonly type: 'etcd';
      /** Client URLs, e.g. `['http://127.0.0.1:2379']`. */
      readonly endpoints: readonly string[];
      /** The servers' `--max-txn-ops`, when not etcd's default 128. */
      readonly maxTxnOps?: number;
    }
  | {
      readonly type: 'redis';
      /** Server URL, e.g. `redis://127.0.0.1:6379`. */
      readonly url: string;
    };

/**
 * The registry configuration of a connection, for workers and the harness alike.
 *
 * @param connection - the server.
 * @param namespace - the cluster's namespace.
 * @param sessionTimeoutMs - session timeout, in ms.
 * @param connectionTimeoutMs - bound of `start()`, in ms (the adapter's default when absent).
 */
export function registryConfigurationOf(
  connection: WorkerRegistryConnection,
  namespace: string,
  sessionTimeoutMs: number,
  connectionTimeoutMs?: number,
): RegistryCenterConfiguration {
  const common = {
    namespace,
    sessionTimeoutMs,
    ...(connectionTimeoutMs === undefined ? {} : { connectionTimeoutMs }),
  };
  switch (connection.type) {
    case 'zookeeper':
      return {
        type: 'zookeeper',
        serverLists: connection.serverLists,
        ...zookeeperWatchModeFromEnv(),
        ...common,
      };
    case 'etcd':
      return {
        type: 'etcd',
        endpoints: [...connection.endpoints],
        ...(connection.maxTxnOps === undefined ? {} : { maxTxnOps: connection.maxTxnOps }),
        ...common,
      };
    case 'redis':
      return { type: 'redis', url: connection.url, ...common };
  }
}

/** The job a worker schedules; every instance of a cluster gets the same one. */
export interface WorkerJobConfig {
  /** The job's name (one job per cluster). */
  readonly jobName: string;
  /** Quartz cron, e.g. `* * * * * ?` (every second). */
  readonly cron: string;
  /** Number of sharding items. */
  readonly shardingTotalCount: number;
  /** ElasticJob's `failover` (needs `monitorExecution`). */
  readonly failover: boolean;
  /** ElasticJob's `monitorExecution` (`running` nodes). */
  readonly monitorExecution: boolean;
  /** ElasticJob's `misfire` (re-run fires missed while a run overran). */
  readonly misfire: boolean;
  /** How long each item runs unless aborted, in ms. */
  readonly itemDurationMs: number;
}

/** Everything one worker process needs. */
export interface JobInstanceWorkerConfig {
  /** The registry server. */
  readonly registry: WorkerRegistryConnection;
  /** Registry namespace isolating this cluster. */
  readonly namespace: string;
  /** Registry session timeout (ZooKeeper session / etcd lease TTL / Redis session deadline), in ms. */
  readonly sessionTimeoutMs: number;
  /** The job to schedule. */
  readonly job: WorkerJobConfig;
  /** This job instance's id (no whitespace, no `/`). */
  readonly instanceId: string;
  /** IP recorded under `servers/`. @defaultValue `127.0.0.1` */
  readonly serverIp?: string;
  /** Absolute path of this worker's execution log (appended to). */
  readonly logFile: string;
  /**
   * Bound of the kernel's waits for resharding and of `shutdown()`'s drain, in ms.
   * @defaultValue 10000
   */
  readonly kernelWaitTimeoutMs?: number;
}

/**
 * Parses and checks a worker configuration.
 *
 * @param json - the JSON text.
 * @returns the configuration.
 * @throws {TypeError} naming the first missing or invalid field.
 */
export function parseWorkerConfig(json: string): JobInstanceWorkerConfig {
  const value = JSON.parse(json) as Partial<JobInstanceWorkerConfig> | null;
  if (value === null || typeof value !== 'object') throw new TypeError('worker config must be a JSON object');
  const fail = (field: string): never => {
    throw new TypeError(`worker config: '${field}' is missing or invalid in ${json}`);
  };
  const registry = value.registry;
  if (registry?.type === 'zookeeper') {
    if (typeof registry.serverLists !== 'string' || registry.serverLists === '') fail('registry.serverLists');
  } else if (registry?.type === 'etcd') {
    if (!Array.isArray(registry.endpoints) || registry.endpoints.length === 0) fail('registry.endpoints');
  } else if (registry?.type === 'redis') {
    if (typeof registry.url !== 'string' || registry.url === '') fail('registry.url');
  } else {
    fail('registry.type');
  }
  if (typeof value.namespace !== 'string' || value.namespace === '') fail('namespace');
  if (!isPositive(value.sessionTimeoutMs)) fail('sessionTimeoutMs');
  if (typeof value.instanceId !== 'string' || !/^[^\s/]+$/.test(value.instanceId)) fail('instanceId');
  if (typeof value.logFile !== 'string' || value.logFile === '') fail('logFile');
  const job = value.job;
  if (job === undefined || typeof job !== 'object') return fail('job');
  if (typeof job.jobName !== 'string' || job.jobName === '') fail('job.jobName');
  if (typeof job.cron !== 'string' || job.cron === '') fail('job.cron');
  if (!isPositive(job.shardingTotalCount)) fail('job.shardingTotalCount');
  for (const flag of ['failover', 'monitorExecution', 'misfire'] as const) {
    if (typeof job[flag] !== 'boolean') fail(`job.${flag}`);
  }
  if (typeof job.itemDurationMs !== 'number' || job.itemDurationMs < 0) fail('job.itemDurationMs');
  return value as JobInstanceWorkerConfig;
}

function isPositive(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0;
}
