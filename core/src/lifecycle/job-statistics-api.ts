/**
 * {@link JobStatisticsAPI}: job counts and per-job status summaries.
 *
 * @module
 */
import type { CoordinatorRegistryCenter } from '../registry/registry-center.js';
import { readItems, readJobSnapshot } from './job-snapshot.js';
import { assertSegmentArgument, LifecycleRegistry } from './lifecycle-registry.js';

/**
 * Status of a job in {@link JobBriefInfo} (ElasticJob `JobBriefInfo.JobStatus`). Rules, first match
 * wins (see {@link JobStatisticsAPI.getJobBriefInfo}):
 *
 * - `CRASHED`: no live instance (`instances/` is empty).
 * - `DISABLED`: every live instance is on a server whose `servers/{ip}` is `DISABLED`.
 * - `SHARDING_FLAG`: resharding is pending or the assignment is incomplete: `leader/sharding/necessary`
 *   or `leader/sharding/processing` exists, an item `0..shardingTotalCount-1` has no
 *   `sharding/{item}/instance`, or an item's owner is not a live instance.
 * - `OK`: otherwise.
 */
export type JobStatus = 'OK' | 'CRASHED' | 'DISABLED' | 'SHARDING_FLAG';

/** Summary of one job (ElasticJob `JobBriefInfo`). */
export interface JobBriefInfo {
  /** The job. */
  readonly jobName: string;
  /** See {@link JobStatus}. */
  readonly status: JobStatus;
  /** `description` of the stored configuration (`''` when unset). */
  readonly description: string;
  /** `cron` of the stored configuration (`''` for a one-off job). */
  readonly cron: string;
  /** Live instances (`instances/` children); per-IP views count only the instances on that IP. */
  readonly instanceCount: number;
  /** `shardingTotalCount` of the stored configuration. */
  readonly shardingTotalCount: number;
}

/**
 * Job counts and status summaries for consoles and the CLI (ElasticJob's `JobStatisticsAPI`,
 * `lifecycle/api/JobStatisticsAPI.java`; reference §5.22). A *job* is a child of the namespace root
 * that has a `config` node; other root children are ignored. Reads are direct.
 *
 * @example
 * ```ts
 * const api = new JobStatisticsAPI(registry);
 * for (const job of await api.getAllJobsBriefInfo()) console.log(job.jobName, job.status);
 * ```
 */
export class JobStatisticsAPI {
  readonly #reader: LifecycleRegistry;

  /** @param registry - a started registry client of the jobs' namespace (not closed by this API). */
  constructor(registry: CoordinatorRegistryCenter) {
    this.#reader = new LifecycleRegistry(registry);
  }

  /**
   * Number of jobs in the namespace (root children with a `config` node; ElasticJob counts every
   * root child).
   *
   * @throws {RegistryError} when the registry fails.
   */
  async getJobsTotalCount(): Promise<number> {
    return (await this.#reader.listJobNames()).length;
  }

  /**
   * Summaries of every job, sorted by name. A job removed while it is read is left out.
   *
   * @returns one {@link JobBriefInfo} per job.
   * @throws {JobConfigurationError} when a stored configuration is invalid.
   * @throws {RegistryError} when the registry fails.
   */
  async getAllJobsBriefInfo(): Promise<JobBriefInfo[]> {
    const result: JobBriefInfo[] = [];
    for (const jobName of await this.#reader.listJobNames()) {
      const info = await this.#briefInfo(jobName);
      if (info !== undefined) result.push(info);
    }
    return result;
  }

  /**
   * Summary of one job. `status` follows ElasticJob's `JobStatisticsAPIImpl` precedence
   * `CRASHED` → `DISABLED` → `SHARDING_FLAG` → `OK` (see {@link JobStatus}); two deliberate
   * differences: `DISABLED` looks at the servers of the live instances (ElasticJob: at every server
   * node, so a disabled host plus a stopped enabled one showed `OK`), and a pending resharding flag
   * counts as `SHARDING_FLAG`.
   *
   * @param jobName - the job.
   * @throws {TypeError} naming `jobName` when it is not a valid job name.
   * @throws {JobNotFoundError} when the job has no `config` node.
   * @throws {JobConfigurationError} when the stored configuration is invalid.
   * @throws {RegistryError} when the registry fails.
   */
  async getJobBriefInfo(jobName: string): Promise<JobBriefInfo> {
    await this.#reader.requireJob(jobName);
    const info = await this.#briefInfo(jobName);
    if (info === undefined) throw await this.#reader.notFound(jobName);
    return info;
  }

  /**
   * Summaries of the jobs that have the server `serverIp` (a `servers/{serverIp}` node), sorted by
   * name (ElasticJob `getJobsBriefInfo(ip)`), as seen from that server: `instanceCount` counts the
   * live instances on that IP, and `status` is `CRASHED` when there is none, else `DISABLED` when
   * `servers/{serverIp}` is `DISABLED`, else `OK` (ElasticJob only reports `DISABLED`/`OK`).
   *
   * @param serverIp - the server.
   * @returns the summaries; `[]` when no job has that server.
   * @throws {TypeError} naming `serverIp` when it is not a non-empty string without `/`.
   * @throws {JobConfigurationError} when a stored configuration is invalid.
   * @throws {RegistryError} when the registry fails.
   */
  async getJobsBriefInfoByIp(serverIp: string): Promise<JobBriefInfo[]> {
    assertSegmentArgument(serverIp, 'serverIp');
    const result: JobBriefInfo[] = [];
    for (const jobName of await this.#reader.listJobNames()) {
      if (!(await this.#reader.registry.isExisted(this.#reader.paths(jobName).server(serverIp)))) continue;
      const snapshot = await readJobSnapshot(this.#reader, jobName);
      if (snapshot === undefined) continue;
      const instanceCount = snapshot.instances.filter((instance) => instance.serverIp === serverIp).length;
      const { description, cron, shardingTotalCount } = snapshot.configuration;
      const status =
        instanceCount === 0 ? 'CRASHED' : snapshot.servers.get(serverIp) === 'DISABLED' ? 'DISABLED' : 'OK';
      result.push({ jobName, status, description, cron, instanceCount, shardingTotalCount });
    }
    return result;
  }

  async #briefInfo(jobName: string): Promise<JobBriefInfo | undefined> {
    const snapshot = await readJobSnapshot(this.#reader, jobName);
    if (snapshot === undefined) return undefined;
    const { description, cron, shardingTotalCount } = snapshot.configuration;
    const base = { jobName, description, cron, instanceCount: snapshot.instances.length, shardingTotalCount };
    if (snapshot.instances.length === 0) return { ...base, status: 'CRASHED' };
    if (snapshot.instances.every((instance) => snapshot.servers.get(instance.serverIp) === 'DISABLED')) {
      return { ...base, status: 'DISABLED' };
    }
    if (snapshot.reshardingPending) return { ...base, status: 'SHARDING_FLAG' };
    const live = new Set(snapshot.instances.map((instance) => instance.instanceId));
    const items = await readItems(this.#reader, jobName, shardingTotalCount);
    const incomplete = items.some(
      (item) =>
        (item.item < shardingTotalCount && item.owner === undefined) ||
        (item.owner !== undefined && !live.has(item.owner)),
    );
    return { ...base, status: incomplete ? 'SHARDING_FLAG' : 'OK' };
  }
}
