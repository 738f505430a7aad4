/**
 * {@link ConsoleGateway}: every call the console makes to core's lifecycle API, in one place. Views
 * (lists, detail) run core's statistics APIs over the {@link NamespaceMirror} (no registry round
 * trip); operations run over the live client (direct reads, as the CLI does).
 *
 * @module
 */
import {
  type CoordinatorRegistryCenter,
  configurationVersion,
  createJobOperationAPIs,
  JOB_NAME_PATTERN,
  type JobConfiguration,
  JobConfigurationError,
  type JobInstanceTarget,
  JobNodePath,
  JobNotFoundError,
  type JobOperationAPIs,
  type JobServerTarget,
  parseJobConfigurationYaml,
  parseJobInstanceYaml,
  type ResolvedJobConfiguration,
  type ServerBriefInfo,
  type ShardingItemStatus,
} from '@elasticjob-ts/core';
import { MirrorReadRegistry } from './mirror-read-registry.js';
import type { NamespaceMirror } from './namespace-mirror.js';

/** Job status: core's `JobStatus`, plus `INVALID_CONFIG` for a stored configuration that does not parse. */
export type ConsoleJobStatus = 'OK' | 'DISABLED' | 'SHARDING_FLAG' | 'CRASHED' | 'INVALID_CONFIG';

/** One row of the jobs overview. */
export interface JobSummary {
  readonly jobName: string;
  readonly status: ConsoleJobStatus;
  readonly cron: string;
  readonly description: string;
  readonly shardingTotalCount: number;
  readonly instanceCount: number;
  /** Why the stored configuration is invalid (`INVALID_CONFIG` only): every problem, or the YAML error with line and column. */
  readonly error?: string;
}

/** One live job instance. */
export interface InstanceInfo {
  readonly jobName: string;
  readonly instanceId: string;
  readonly serverIp: string;
  /** `servers/{serverIp}` of the job: `ENABLED`, `DISABLED`, or `null` when absent. */
  readonly serverStatus: string | null;
}

/** One sharding item of a job. */
export interface ItemInfo {
  readonly item: number;
  readonly status: ShardingItemStatus;
  readonly instanceId: string | null;
  readonly serverIp: string | null;
  readonly running: boolean;
  readonly disabled: boolean;
  /** The instance that took the item over after its owner crashed; `null` when not failed over. */
  readonly failover: string | null;
}

/** A job's stored configuration and its version (the compare-and-set token). */
export interface StoredConfiguration {
  readonly yaml: string;
  readonly version: string;
}

/** Everything the job detail page shows. */
export interface JobDetail {
  readonly job: JobSummary;
  /** `null` when the stored configuration does not parse (see `job.error`). */
  readonly configuration: ResolvedJobConfiguration | null;
  readonly stored: StoredConfiguration;
  /** The leader's instance id (`leader/election/instance`); `null` when none is elected. */
  readonly leader: string | null;
  readonly servers: readonly { serverIp: string; status: string | null; instances: string[] }[];
  readonly instances: readonly InstanceInfo[];
  readonly items: readonly ItemInfo[];
}

/** Lifecycle calls of the console over one namespace (see the module note). */
export class ConsoleGateway {
  readonly #views: JobOperationAPIs;
  readonly #operations: JobOperationAPIs;
  /** Summaries computed since the job's last change (parsing a configuration costs more than a read). */
  readonly #summaries = new Map<string, Promise<JobSummary | undefined>>();

  /**
   * @param live - the started registry client (operations).
   * @param mirror - the namespace mirror of that client (views).
   */
  constructor(
    readonly live: CoordinatorRegistryCenter,
    readonly mirror: NamespaceMirror,
  ) {
    this.#views = createJobOperationAPIs(new MirrorReadRegistry(mirror, live));
    this.#operations = createJobOperationAPIs(live);
    // Registered before any other listener of the mirror, so a change drops the job's summary
    // before anyone is told about it.
    mirror.onChange((event) => {
      const jobName = event.key.split('/')[1];
      if (jobName !== undefined) this.#summaries.delete(jobName);
    });
  }

  /** Names of every job (root children with a `config` node), ascending. */
  jobNames(): string[] {
    return this.mirror
      .children('/')
      .filter((name) => JOB_NAME_PATTERN.test(name) && this.mirror.exists(`/${name}/config`));
  }

  /** Every job's summary, ascending by name; a job whose configuration does not parse is `INVALID_CONFIG`. */
  async listJobs(): Promise<JobSummary[]> {
    const summaries = await Promise.all(this.jobNames().map((name) => this.jobSummary(name)));
    return summaries.filter((summary): summary is JobSummary => summary !== undefined);
  }

  /**
   * One job's summary (core's `JobStatisticsAPI.getJobBriefInfo`: a stored configuration that does
   * not parse is `INVALID_CONFIG` with the reason in `error`); `undefined` when it has no `config` node.
   */
  jobSummary(jobName: string): Promise<JobSummary | undefined> {
    let summary = this.#summaries.get(jobName);
    if (summary === undefined) {
      summary = this.#computeSummary(jobName);
      this.#summaries.set(jobName, summary);
      // A failed computation is not kept; a change during the computation already dropped it.
      summary.catch(() => {
        if (this.#summaries.get(jobName) === summary) this.#summaries.delete(jobName);
      });
    }
    return summary;
  }

  async #computeSummary(jobName: string): Promise<JobSummary | undefined> {
    if (!this.mirror.exists(new JobNodePath(jobName).config)) return undefined;
    try {
      const { configurationError, ...brief } = await this.#views.jobStatisticsAPI.getJobBriefInfo(jobName);
      return configurationError === undefined ? brief : { ...brief, error: configurationError };
    } catch (error) {
      if (error instanceof JobNotFoundError) return undefined; // removed since the mirror listed it
      throw error;
    }
  }

  /**
   * The job detail.
   * @throws {JobNotFoundError} when the job has no `config` node.
   */
  async jobDetail(jobName: string): Promise<JobDetail> {
    const paths = new JobNodePath(jobName);
    const job = await this.jobSummary(jobName);
    const yaml = this.mirror.get(paths.config);
    if (job === undefined || yaml === undefined) throw await this.#notFound(jobName);
    let configuration: ResolvedJobConfiguration | null = null;
    try {
      configuration = parseJobConfigurationYaml(yaml);
    } catch (error) {
      if (!(error instanceof JobConfigurationError)) throw error;
    }
    const instances = this.#instancesOf(jobName);
    const serverIps = new Set([
      ...this.mirror.children(paths.servers),
      ...instances.map((instance) => instance.serverIp),
    ]);
    const servers = [...serverIps].sort().map((serverIp) => ({
      serverIp,
      status: this.mirror.get(paths.server(serverIp)) ?? null,
      instances: instances.filter((each) => each.serverIp === serverIp).map((each) => each.instanceId),
    }));
    const items =
      configuration === null
        ? []
        : (await this.#views.shardingStatisticsAPI.getShardingInfo(jobName)).map(
            (info): ItemInfo => ({
              item: info.item,
              status: info.status,
              instanceId: info.instanceId ?? null,
              serverIp: info.serverIp ?? null,
              running: info.status === 'RUNNING',
              disabled: info.status === 'DISABLED',
              failover: info.failover ?? null,
            }),
          );
    return {
      job,
      configuration,
      stored: { yaml, version: configurationVersion(yaml) },
      leader: this.mirror.get(paths.leaderInstance) || null,
      servers,
      instances,
      items,
    };
  }

  /** Every server across jobs (core's `ServerStatisticsAPI`). */
  servers(): Promise<ServerBriefInfo[]> {
    return this.#views.serverStatisticsAPI.getAllServersBriefInfo();
  }

  /** Every live instance of every job, by job then instance id. */
  instances(): InstanceInfo[] {
    return this.jobNames().flatMap((jobName) => this.#instancesOf(jobName));
  }

  /** Runs the job once now on every live instance; returns their ids. */
  trigger(jobName: string): Promise<string[]> {
    return this.#operations.jobOperateAPI.trigger(jobName);
  }

  /** Disables (`enabled: false`) or enables servers: one job, one server of a job, or one server in every job. */
  setServerEnabled(enabled: boolean, jobName?: string, serverIp?: string): Promise<JobServerTarget[]> {
    const api = this.#operations.jobOperateAPI;
    return enabled ? api.enable(jobName, serverIp) : api.disable(jobName, serverIp);
  }

  /** Disables or enables one sharding item. */
  async setItemEnabled(enabled: boolean, jobName: string, item: number): Promise<void> {
    const api = this.#operations.shardingOperateAPI;
    await (enabled ? api.enable(jobName, item) : api.disable(jobName, item));
  }

  /** Shuts the job down on its instances (all, one server's, or a server's in every job). */
  shutdown(jobName?: string, serverIp?: string): Promise<JobInstanceTarget[]> {
    return this.#operations.jobOperateAPI.shutdown(jobName, serverIp);
  }

  /** Shuts a server down in every job and deletes its server nodes. */
  removeServer(serverIp: string) {
    return this.#operations.jobOperateAPI.remove(undefined, serverIp);
  }

  /** Shuts the job down everywhere and deletes it from the registry. */
  async removeJob(jobName: string): Promise<JobInstanceTarget[]> {
    const instances = await this.#operations.jobOperateAPI.shutdown(jobName);
    await this.#operations.jobConfigurationAPI.removeJobConfiguration(jobName);
    return instances;
  }

  /**
   * The stored configuration and its version, read directly from the server (core's
   * `JobConfigurationAPI.getStoredConfiguration`).
   * @throws {JobNotFoundError} when the job has no `config` node.
   */
  async storedConfiguration(jobName: string): Promise<StoredConfiguration> {
    const { yaml, version } = await this.#operations.jobConfigurationAPI.getStoredConfiguration(jobName);
    return { yaml, version };
  }

  /**
   * Replaces the configuration if the stored one is still at `expectedVersion`: core's
   * `JobConfigurationAPI.updateJobConfiguration` with `expectedVersion`, a compare-and-set in the
   * registry (the write carries a check of the stored value, so a change racing it fails it).
   * Validation is core's (every field, cron and time zone).
   *
   * @returns the configuration now stored and its version.
   * @throws {JobConfigurationConflictError} when the stored configuration changed.
   * @throws {JobConfigurationError} naming the offending field.
   * @throws {JobNotFoundError} when the job has no `config` node.
   */
  async replaceConfiguration(
    configuration: JobConfiguration,
    expectedVersion: string,
  ): Promise<StoredConfiguration> {
    await this.#operations.jobConfigurationAPI.updateJobConfiguration(configuration, { expectedVersion });
    return this.storedConfiguration(configuration.jobName);
  }

  #instancesOf(jobName: string): InstanceInfo[] {
    const paths = new JobNodePath(jobName);
    return this.mirror.children(paths.instances).map((instanceId) => {
      let serverIp = instanceId.split('@-@')[0] ?? instanceId;
      try {
        serverIp = parseJobInstanceYaml(this.mirror.get(paths.instance(instanceId)) ?? '').serverIp;
      } catch {
        // Not an instance YAML (a foreign writer): ElasticJob's id rule, as core's lifecycle API does.
      }
      return {
        jobName,
        instanceId,
        serverIp,
        serverStatus: this.mirror.get(paths.server(serverIp)) ?? null,
      };
    });
  }

  async #notFound(jobName: string): Promise<JobNotFoundError> {
    return new JobNotFoundError(jobName, this.live.namespace, this.jobNames());
  }
}
