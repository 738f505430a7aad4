/**
 * {@link JobConfigurationAPI}: read, update, replace and remove a job's registry configuration.
 *
 * @module
 */
import {
  type JobConfiguration,
  JobConfigurationError,
  type ResolvedJobConfiguration,
  toJobConfigurationYaml,
  validateJobConfiguration,
  validateJobConfigurationYaml,
} from '../config/index.js';
import type { CoordinatorRegistryCenter, RegistryTransactionOperation } from '../registry/registry-center.js';
import { RegistryError } from '../registry/registry-error.js';
import { JobConfigurationConflictError } from './lifecycle-errors.js';
import { LifecycleRegistry } from './lifecycle-registry.js';
import {
  configurationDiff,
  configurationVersion,
  type StoredJobConfiguration,
  toStoredConfiguration,
} from './stored-job-configuration.js';

/** Options of a configuration write. */
export interface JobConfigurationWriteOptions {
  /**
   * Write only if the stored value still has this version (a
   * {@link StoredJobConfiguration.version} read earlier): the compare-and-set of a console's
   * `If-Match`. Omitted: the write is still conditional on the value this call reads first, so a
   * change that lands between that read and the write is never overwritten.
   */
  readonly expectedVersion?: string;
}

/** What {@link JobConfigurationAPI.replaceJobConfiguration} did. */
export interface JobConfigurationReplacement {
  /** The job. */
  readonly jobName: string;
  /** The configuration written (defaults applied). */
  readonly configuration: ResolvedJobConfiguration;
  /** The value replaced and its version. */
  readonly previous: { readonly yaml: string; readonly version: string };
  /** The value written (ElasticJob's YAML form of `configuration`) and its version. */
  readonly current: { readonly yaml: string; readonly version: string };
  /** Unified diff from `previous.yaml` to `current.yaml`; `''` when nothing changed (nothing is written then). */
  readonly diff: string;
}

/**
 * The job configuration stored in the registry (`/{jobName}/config`), as operators change it while
 * the job runs. Follows ElasticJob's `JobConfigurationAPI` (`lifecycle/api/JobConfigurationAPI.java`),
 * stricter: an unknown job is a {@link JobNotFoundError} (not `null` or a silent no-op), a write is
 * validated completely before anything is written, and every write is a compare-and-set on the value
 * it was based on (ElasticJob's last write wins silently).
 *
 * Running instances react to a changed `config`: a new `cron`/`timeZone` reschedules them at once,
 * a new `shardingTotalCount` or sharding strategy reshards, every other field applies from the next
 * run (ElasticJob's `RescheduleListenerManager` and sharding listeners).
 *
 * A stored configuration that does not parse (written by hand or by a broken tool) is reported, not
 * fatal: {@link getStoredConfiguration} returns it raw with the error, and
 * {@link replaceJobConfiguration} repairs it.
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
   * @throws {JobConfigurationError} when the stored YAML is invalid (every problem; the raw value is
   *   its `source`). Use {@link getStoredConfiguration} to read it anyway.
   * @throws {RegistryError} when the registry fails.
   */
  async getJobConfiguration(jobName: string): Promise<ResolvedJobConfiguration> {
    const stored = await this.getStoredConfiguration(jobName);
    if (stored.error !== undefined) throw stored.error;
    return stored.configuration!;
  }

  /**
   * The raw stored configuration of a job, its version and its parse result — also when it is
   * invalid (then `error` says why and `configuration` is `undefined`).
   *
   * @param jobName - the job.
   * @returns see {@link StoredJobConfiguration}.
   * @throws {TypeError} naming `jobName` when it is not a valid job name.
   * @throws {JobNotFoundError} when the job has no `config` node.
   * @throws {RegistryError} when the registry fails.
   */
  async getStoredConfiguration(jobName: string): Promise<StoredJobConfiguration> {
    const paths = await this.#reader.requireJob(jobName);
    const yaml = await this.#reader.registry.getDirectly(paths.config);
    if (yaml === undefined) throw await this.#reader.notFound(jobName);
    return toStoredConfiguration(jobName, yaml);
  }

  /**
   * Replaces the configuration of an **existing** job (ElasticJob: update only, never create — jobs
   * are created by starting them). The configuration is validated first with
   * {@link validateJobConfiguration} (every field, the cron and the time zone); then it is written
   * as ElasticJob's YAML, conditionally (see {@link JobConfigurationWriteOptions.expectedVersion}).
   * The job root's class name and all other nodes are untouched.
   *
   * A scheduled job (non-empty `cron`) cannot be turned into a one-off job (empty `cron`) or back:
   * its running instances would reject the change, so it is refused here.
   *
   * @param config - the full new configuration; `jobName` selects the job.
   * @param options - the version the change is based on.
   * @returns the configuration written (defaults applied).
   * @throws {JobConfigurationError} listing every problem (`field` is the first): invalid values or
   *   combinations, an invalid `cron` or `timeZone`, or a scheduled/one-off switch (`field: 'cron'`).
   * @throws {JobNotFoundError} when the job has no `config` node (also when it is removed concurrently).
   * @throws {JobConfigurationConflictError} when the stored value is not the one expected, or changed
   *   before the write committed. Nothing is written.
   * @throws {RegistryError} when the registry fails.
   */
  async updateJobConfiguration(
    config: JobConfiguration,
    options: JobConfigurationWriteOptions = {},
  ): Promise<ResolvedJobConfiguration> {
    const resolved = validateJobConfiguration(config);
    await this.#write(resolved.jobName, resolved, options);
    return resolved;
  }

  /**
   * Replaces a job's whole configuration with the given YAML — the repair path for a configuration
   * that no longer parses (which {@link updateJobConfiguration} callers cannot read to change).
   * The YAML is validated like any configuration ({@link validateJobConfigurationYaml}: every field,
   * the cron, the time zone; the first YAML syntax error with its line and column), its `jobName`
   * must be the job's, and it is written in ElasticJob's YAML form, conditionally on the stored
   * version (see {@link JobConfigurationWriteOptions.expectedVersion}). A valid stored configuration
   * can be replaced too; the scheduled/one-off rule of {@link updateJobConfiguration} applies then.
   *
   * @param jobName - the job.
   * @param yaml - the complete new configuration, as `config get` prints it.
   * @param options - the version the replacement is based on.
   * @returns the values before and after, their versions and the diff.
   * @throws {TypeError} naming `jobName` when it is not a valid job name, or `yaml` when not a string.
   * @throws {JobConfigurationError} listing every problem of `yaml` (a `jobName` other than the job's
   *   is one, `field: 'jobName'`).
   * @throws {JobNotFoundError} when the job has no `config` node.
   * @throws {JobConfigurationConflictError} when the stored value is not the one expected, or changed
   *   before the write committed. Nothing is written.
   * @throws {RegistryError} when the registry fails.
   */
  async replaceJobConfiguration(
    jobName: string,
    yaml: string,
    options: JobConfigurationWriteOptions = {},
  ): Promise<JobConfigurationReplacement> {
    await this.#reader.requireJob(jobName);
    if (typeof yaml !== 'string') throw new TypeError(`yaml must be a string, got ${typeof yaml}`);
    const configuration = validateJobConfigurationYaml(yaml);
    if (configuration.jobName !== jobName) {
      throw new JobConfigurationError(
        'jobName',
        `jobName = ${JSON.stringify(configuration.jobName)} does not match the job being replaced ('${jobName}'); a job cannot be renamed`,
        { jobName, source: yaml },
      );
    }
    const { previous, current } = await this.#write(jobName, configuration, options);
    return Object.freeze({
      jobName,
      configuration,
      previous: { yaml: previous, version: configurationVersion(previous) },
      current: { yaml: current, version: configurationVersion(current) },
      diff: configurationDiff(jobName, previous, current),
    });
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

  /** Writes `resolved` over the stored value, as a compare-and-set on the value read here. */
  async #write(
    jobName: string,
    resolved: ResolvedJobConfiguration,
    options: JobConfigurationWriteOptions,
  ): Promise<{ previous: string; current: string }> {
    const stored = await this.getStoredConfiguration(jobName);
    if (options.expectedVersion !== undefined && options.expectedVersion !== stored.version) {
      throw new JobConfigurationConflictError(jobName, options.expectedVersion, stored.version);
    }
    const currentCron = stored.configuration?.cron;
    if (currentCron !== undefined && (currentCron === '') !== (resolved.cron === '')) {
      throw new JobConfigurationError(
        'cron',
        currentCron === ''
          ? `cron: job '${jobName}' is a one-off job (empty cron); it cannot be given a cron by an update, got ${JSON.stringify(resolved.cron)}`
          : `cron: job '${jobName}' is a scheduled job; its cron cannot be emptied by an update (accepted: a Quartz cron expression)`,
        { jobName },
      );
    }
    const next = toJobConfigurationYaml(resolved);
    if (next === stored.yaml) return { previous: stored.yaml, current: next };
    const path = this.#reader.paths(jobName).config;
    // The check's `value` makes the update a compare-and-set: a change committed since the read
    // above fails the transaction instead of being overwritten.
    const operations: RegistryTransactionOperation[] = [
      { type: 'check', key: path, value: stored.yaml },
      { type: 'update', key: path, value: next },
    ];
    try {
      await this.#reader.registry.executeInTransaction(operations);
    } catch (error) {
      if (!RegistryError.is(error, 'TRANSACTION_FAILED')) throw error;
      const now = await this.#reader.registry.getDirectly(path);
      if (now === undefined) throw await this.#reader.notFound(jobName, error);
      if (now !== stored.yaml) {
        throw new JobConfigurationConflictError(
          jobName,
          options.expectedVersion ?? stored.version,
          configurationVersion(now),
          { cause: error },
        );
      }
      throw error;
    }
    return { previous: stored.yaml, current: next };
  }
}
