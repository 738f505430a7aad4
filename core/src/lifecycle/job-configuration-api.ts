/**
 * {@link JobConfigurationAPI}: read, update and remove a job's registry configuration.
 *
 * @module
 */
import {
  type JobConfiguration,
  JobConfigurationError,
  parseJobConfigurationYaml,
  type ResolvedJobConfiguration,
  resolveJobConfiguration,
  toJobConfigurationYaml,
} from '../config/index.js';
import { CronExpressionError, parseCron } from '../cron/index.js';
import type { CoordinatorRegistryCenter } from '../registry/registry-center.js';
import { RegistryError } from '../registry/registry-error.js';
import { LifecycleRegistry } from './lifecycle-registry.js';

/**
 * The job configuration stored in the registry (`/{jobName}/config`), as operators change it while
 * the job runs. Follows ElasticJob's `JobConfigurationAPI` (`lifecycle/api/JobConfigurationAPI.java`),
 * stricter: an unknown job is a {@link JobNotFoundError} (not `null` or a silent no-op), and an
 * update is validated completely before anything is written.
 *
 * Running instances react to a changed `config`: a new `cron`/`timeZone` reschedules them at once,
 * a new `shardingTotalCount` or sharding strategy reshards, every other field applies from the next
 * run (reference §5.15).
 *
 * @example
 * ```ts
 * const api = new JobConfigurationAPI(registry);
 * const current = await api.getJobConfiguration('orders');
 * await api.updateJobConfiguration({ ...current, cron: '0 0/10 * * * ?' });
 * ```
 */
export class JobConfigurationAPI {
  readonly #reader: LifecycleRegistry;

  /** @param registry - a started registry client of the jobs' namespace (not closed by this API). */
  constructor(registry: CoordinatorRegistryCenter) {
    this.#reader = new LifecycleRegistry(registry);
  }

  /**
   * The configuration of a job, read directly from `/{jobName}/config`, with every default applied.
   *
   * @param jobName - the job.
   * @returns the configuration (frozen).
   * @throws {TypeError} naming `jobName` when it is not a valid job name.
   * @throws {JobNotFoundError} when the job has no `config` node.
   * @throws {JobConfigurationError} when the stored YAML is invalid (the error names the field).
   * @throws {RegistryError} when the registry fails.
   */
  async getJobConfiguration(jobName: string): Promise<ResolvedJobConfiguration> {
    const paths = await this.#reader.requireJob(jobName);
    const yaml = await this.#reader.registry.getDirectly(paths.config);
    if (yaml === undefined) throw await this.#reader.notFound(jobName);
    return parseJobConfigurationYaml(yaml);
  }

  /**
   * Replaces the configuration of an **existing** job (ElasticJob: update only, never create — jobs
   * are created by starting them). The configuration is validated first with
   * {@link resolveJobConfiguration}, its `cron` and `timeZone` with the Quartz parser; then every key
   * is written as ElasticJob's YAML. The job root's class name and all other nodes are untouched.
   *
   * A scheduled job (non-empty `cron`) cannot be turned into a one-off job (empty `cron`) or back:
   * its running instances would reject the change, so it is refused here.
   *
   * @param config - the full new configuration; `jobName` selects the job.
   * @returns the configuration written (defaults applied).
   * @throws {JobConfigurationError} naming the first offending field (`issues` lists every one):
   *   invalid values or combinations, an invalid `cron` (`field: 'cron'`) or `timeZone`
   *   (`field: 'timeZone'`), or a scheduled/one-off switch (`field: 'cron'`).
   * @throws {JobNotFoundError} when the job has no `config` node (also when it is removed concurrently).
   * @throws {RegistryError} when the registry fails.
   */
  async updateJobConfiguration(config: JobConfiguration): Promise<ResolvedJobConfiguration> {
    const resolved = resolveJobConfiguration(config);
    if (resolved.cron !== '') {
      try {
        parseCron(resolved.cron, { timeZone: resolved.timeZone });
      } catch (error) {
        if (!(error instanceof CronExpressionError)) throw error;
        const field = error.field === 'timeZone' ? 'timeZone' : 'cron';
        throw new JobConfigurationError(field, error.message, { jobName: resolved.jobName, cause: error });
      }
    }
    const paths = await this.#reader.requireJob(resolved.jobName);
    const registry = this.#reader.registry;
    const currentYaml = await registry.getDirectly(paths.config);
    if (currentYaml === undefined) throw await this.#reader.notFound(resolved.jobName);
    const currentCron = readStoredCron(currentYaml);
    if (currentCron !== undefined && (currentCron === '') !== (resolved.cron === '')) {
      throw new JobConfigurationError(
        'cron',
        currentCron === ''
          ? `cron: job '${resolved.jobName}' is a one-off job (empty cron); it cannot be given a cron by an update, got ${JSON.stringify(resolved.cron)}`
          : `cron: job '${resolved.jobName}' is a scheduled job; its cron cannot be emptied by an update (accepted: a Quartz cron expression)`,
        { jobName: resolved.jobName },
      );
    }
    try {
      await registry.update(paths.config, toJobConfigurationYaml(resolved));
    } catch (error) {
      if (RegistryError.is(error, 'NO_NODE')) throw await this.#reader.notFound(resolved.jobName, error);
      throw error;
    }
    return resolved;
  }

  /**
   * Removes a job from the registry: deletes `/{jobName}` and its whole subtree (configuration,
   * servers, instances, sharding, leader, triggers, commands), like ElasticJob. Running instances
   * of the job are expected to shut it down when its configuration disappears (see
   * {@link JobOperateAPI.shutdown} for the kernel contract); stop them first
   * (`JobOperateAPI.shutdown(jobName)`) when they must drain cleanly.
   *
   * @param jobName - the job.
   * @throws {TypeError} naming `jobName` when it is not a valid job name.
   * @throws {JobNotFoundError} when `/{jobName}` does not exist.
   * @throws {RegistryError} when the registry fails.
   */
  async removeJobConfiguration(jobName: string): Promise<void> {
    const paths = await this.#reader.requireJobRoot(jobName);
    await this.#reader.registry.remove(paths.root);
  }
}

/** The stored `cron` (`''` when absent), or `undefined` when the stored YAML cannot be read. */
function readStoredCron(yaml: string): string | undefined {
  try {
    return parseJobConfigurationYaml(yaml).cron;
  } catch {
    return undefined; // an unreadable stored configuration may be replaced by a valid one
  }
}
