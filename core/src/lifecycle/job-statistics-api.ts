/**
 * {@link JobStatisticsAPI}: job counts and per-job status summaries.
 *
 * @module
 */
import type { CoordinatorRegistryCenter } from '../registry/registry-center.js';
import { type JobSnapshot, readItems, readJobSnapshot } from './job-snapshot.js';
import { assertSegmentArgument, LifecycleRegistry } from './lifecycle-registry.js';
import { summarize } from './stored-job-configuration.js';

/**
 * Status of a job in {@link JobBriefInfo} (ElasticJob `JobBriefInfo.JobStatus`, plus
 * `INVALID_CONFIG`). Rules, first match wins (see {@link JobStatisticsAPI.getJobBriefInfo}):
 *
 * - `INVALID_CONFIG`: the stored `config` does not parse or is invalid (see
 *   {@link JobBriefInfo.configurationError}); repair it with
 *   {@link JobConfigurationAPI.replaceJobConfiguration}. ElasticJob's console fails for the whole
 *   namespace instead.
 * - `CRASHED`: no live instance (`instances/` is empty).
 * - `DISABLED`: every live instance is on a server whose `servers/{ip}` is `DISABLED`.
 * - `SHARDING_FLAG`: resharding is pending or the assignment is incomplete: `leader/sharding/necessary`
 *   or `leader/sharding/processing` exists, an item `0..shardingTotalCount-1` has no
 *   `sharding/{item}/instance`, or an item's owner is not a live instance.
 * - `OK`: otherwise.
 */
export type JobStatus = 'OK' | 'CRASHED' | 'DISABLED' | 'SHARDING_FLAG' | 'INVALID_CONFIG';

/** Summary of one job (ElasticJob `JobBriefInfo`). */
export interface JobBriefInfo {
  /** The job. */
  readonly jobName: string;
  /** See {@link JobStatus}. */
  readonly status: JobStatus;
  /**
   * `description` of the stored configuration (`''` when unset). For `INVALID_CONFIG`, this and
   * `cron` and `shardingTotalCount` are the stored values when they are readable and of the right
   * type, else `''`/`0`.
   */
  readonly description: string;
  /** `cron` of the stored configuration (`''` for a one-off job). */
  readonly cron: string;
  /** Live instances (`instances/` children); per-IP views count only the instances on that IP. */
  readonly instanceCount: number;
  /** `shardingTotalCount` of the stored configuration. */
  readonly shardingTotalCount: number;
  /**
   * For `INVALID_CONFIG` only: why the stored configuration is invalid (every problem, or the first
   * YAML syntax error with its line and column), as {@link JobConfigurationError.message} says it.
   */
  readonly configurationError?: string;
}

/**
 * Job counts and status summaries for consoles and the CLI (ElasticJob's `JobStatisticsAPI`,
 * `lifecycle/api/JobStatisticsAPI.java`). A *job* is a child of the namespace root
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
   * Summaries of every job, sorted by name. A job removed while it is read is left out; a job whose
   * stored configuration is invalid is listed with status `INVALID_CONFIG` and the reason, and does
   * not hide the others.
   *
   * @returns one {@link JobBriefInfo} per job.
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
   * counts as `SHARDING_FLAG`. An invalid stored configuration is `INVALID_CONFIG` (checked first).
   *
   * @param jobName - the job.
   * @throws {TypeError} naming `jobName` when it is not a valid job name.
   * @throws {JobNotFoundError} when the job has no `config` node.
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
   * `servers/{serverIp}` is `DISABLED`, else `OK` (ElasticJob only reports `DISABLED`/`OK`);
   * `INVALID_CONFIG` before all of them.
   *
   * @param serverIp - the server.
   * @returns the summaries; `[]` when no job has that server.
   * @throws {TypeError} naming `serverIp` when it is not a non-empty string without `/`.
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
      const base = baseInfo(snapshot, instanceCount);
      if (base.configurationError !== undefined) {
        result.push({ ...base, status: 'INVALID_CONFIG' });
        continue;
      }
      const status =
        instanceCount === 0 ? 'CRASHED' : snapshot.servers.get(serverIp) === 'DISABLED' ? 'DISABLED' : 'OK';
      result.push({ ...base, status });
    }
    return result;
  }

  async #briefInfo(jobName: string): Promise<JobBriefInfo | undefined> {
    const snapshot = await readJobSnapshot(this.#reader, jobName);
    if (snapshot === undefined) return undefined;
    const base = baseInfo(snapshot, snapshot.instances.length);
    if (base.configurationError !== undefined) return { ...base, status: 'INVALID_CONFIG' };
    const { shardingTotalCount } = base;
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

/** Every {@link JobBriefInfo} field but `status`. */
function baseInfo(snapshot: JobSnapshot, instanceCount: number): Omit<JobBriefInfo, 'status'> {
  const { description, cron, shardingTotalCount } = summarize(snapshot.stored);
  const error = snapshot.stored.error;
  return {
    jobName: snapshot.jobName,
    description,
    cron,
    instanceCount,
    shardingTotalCount,
    ...(error === undefined ? {} : { configurationError: error.message }),
  };
}
