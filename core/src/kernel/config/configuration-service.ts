/**
 * The job's configuration on this instance (ElasticJob `ConfigurationService` and the startup
 * rule of `SetUpFacade`): the registry copy wins unless it is absent or `overwrite` is set; a
 * configuration written to the registry later is validated and applied (cron, error handler,
 * listeners, item executor rebuilt when their settings change). Invalid registry copies are
 * logged and ignored.
 *
 * @module
 */
import type { JobConfiguration, ResolvedJobConfiguration } from '../../config/index.js';
import { JobConfigurationError, toJobConfigurationYaml } from '../../config/index.js';
import { sortIssues } from '../../config/resolve-job-configuration.js';
import {
  validateJobConfiguration,
  validateJobConfigurationYaml,
} from '../../config/validate-job-configuration.js';
import { parseCronInProcessZone } from '../../cron/cron-expression.js';
import { type CronExpression, parseCron } from '../../cron/index.js';
import type { JobErrorHandler } from '../../error-handler/index.js';
import { createJobErrorHandler } from '../../error-handler/index.js';
import { getExecutorPoolSize, resolveJobItemExecutor } from '../../executor/index.js';
import type { ElasticJob, JobItemExecutor } from '../../job/elastic-job.js';
import type { ElasticJobListener } from '../../listener/index.js';
import { createJobListeners, DistributeOnceJobListener } from '../../listener/index.js';
import type { Logger } from '../../logging/logger.js';
import type { CoordinatorRegistryCenter } from '../../registry/registry-center.js';
import type { GuaranteeService } from '../guarantee/guarantee-service.js';
import type { JobNodePath } from '../job-node-path.js';
import { JobSetupError } from '../job-setup-error.js';
import { registeredTypeIssues } from './registered-type-issues.js';

/** The configuration in force and the run components built from it. */
export class ConfigurationService {
  readonly local: ResolvedJobConfiguration;
  readonly jobClassName: string;
  #current: ResolvedJobConfiguration;
  /** The registry's configuration YAML last adopted or written (`undefined` before {@link setUp}). */
  #appliedYaml: string | undefined;
  #cron: CronExpression | undefined;
  #itemExecutor: JobItemExecutor;
  #errorHandler: JobErrorHandler | undefined;
  #errorHandlerKey = '';
  #listeners: ElasticJobListener[] = [];
  #listenerKey = '';

  /**
   * Validates the configuration completely before anything touches the registry: every field,
   * the cron and time zone, and the registered types it names (see `registered-type-issues.ts`).
   *
   * @throws {JobConfigurationError} for invalid configuration, every problem listed in one error.
   * @throws {JobSetupError} for a cron on a one-off job or a missing cron on a scheduled one.
   */
  constructor(
    private readonly job: ElasticJob,
    configuration: JobConfiguration,
    private readonly scheduled: boolean,
    private readonly extraListeners: readonly ElasticJobListener[],
  ) {
    this.local = validatedLocally(configuration);
    const name = this.local.jobName;
    if (scheduled && this.local.cron === '') {
      throw new JobSetupError(
        name,
        `Job '${name}': 'cron' is required by ScheduleJobBootstrap; use OneOffJobBootstrap for a job without cron`,
      );
    }
    if (!scheduled && this.local.cron !== '') {
      throw new JobSetupError(
        name,
        `Job '${name}': 'cron' must be empty for OneOffJobBootstrap; use ScheduleJobBootstrap for cron jobs`,
      );
    }
    this.#current = this.local;
    const resolved = resolveJobItemExecutor(job, this.local);
    this.#itemExecutor = resolved.executor;
    this.jobClassName = resolved.jobClassName;
  }

  /** The configuration in force. */
  get current(): ResolvedJobConfiguration {
    return this.#current;
  }
  /** The registry's configuration YAML last adopted, written or applied (even if found invalid). */
  get appliedYaml(): string | undefined {
    return this.#appliedYaml;
  }
  get cron(): CronExpression | undefined {
    return this.#cron;
  }
  get itemExecutor(): JobItemExecutor {
    return this.#itemExecutor;
  }
  get listeners(): readonly ElasticJobListener[] {
    return this.#listeners;
  }
  get errorHandler(): JobErrorHandler | undefined {
    return this.#errorHandler;
  }

  /** The executor pool size of the configuration in force. */
  poolSize(): number {
    return getExecutorPoolSize(this.#current.jobExecutorThreadPoolSizeProviderType);
  }

  /**
   * Writes or adopts the configuration per ElasticJob's startup rule (`ConfigurationService.persist`
   * of elasticjob-lite-core): the local one is written when the registry holds none or
   * `overwrite` is set, else the registry's is adopted; the job root holds the job class name.
   * A node that already holds what would be written is not written again, so that restarting
   * instances with `overwrite` and an unchanged configuration sends the other instances no
   * configuration event (and the registry no write).
   *
   * @throws {JobSetupError} on a job class conflict, or when the registry's copy, which would be
   *   adopted, is invalid here (its {@link JobConfigurationError} is the `cause`).
   */
  async setUp(registry: CoordinatorRegistryCenter, paths: JobNodePath): Promise<void> {
    const rootValue = await registry.getDirectly(paths.root);
    if (rootValue !== undefined && rootValue.trim() !== '' && rootValue !== this.jobClassName) {
      throw new JobSetupError(
        paths.jobName,
        `Job conflict: job '${paths.jobName}' is registered with class '${rootValue}', not '${this.jobClassName}'`,
      );
    }
    const existing = await registry.getDirectly(paths.config);
    if (existing === undefined || this.local.overwrite) {
      if (rootValue !== this.jobClassName) await registry.persist(paths.root, this.jobClassName);
      const yaml = toJobConfigurationYaml(this.local);
      if (existing !== yaml) await registry.persist(paths.config, yaml);
      this.#current = this.local;
      this.#appliedYaml = yaml;
      return;
    }
    const fromRegistry = this.#adoptable(existing, paths);
    if (rootValue === undefined || rootValue.trim() === '')
      await registry.persist(paths.root, this.jobClassName);
    this.#current = fromRegistry;
    this.#appliedYaml = existing;
  }

  /**
   * The registry's configuration, which the start adopts, validated here as a local one is: the
   * registry copy wins over the application's unless `overwrite` is set, so an invalid copy (left
   * by an older version, a peer with other registered types, or a hand edit) must stop the start
   * with what to do, not fail later with an error that names the application's configuration.
   *
   * @throws {JobSetupError} naming the node and the remedies, the validation error as `cause`.
   */
  #adoptable(existing: string, paths: JobNodePath): ResolvedJobConfiguration {
    try {
      return validatedFromRegistry(existing);
    } catch (error) {
      if (!(error instanceof JobConfigurationError)) throw error;
      const problems = error.issues.map((issue) => issue.message).join('; ');
      throw new JobSetupError(
        paths.jobName,
        `Job '${paths.jobName}': the configuration stored in the registry at '${paths.config}' is not valid ` +
          `here, and a start adopts it unless 'overwrite' is set: ${problems}. Correct it with ` +
          `'elasticjob config set ${paths.jobName} <field> <value>', or start with overwrite: true to replace it ` +
          'with this configuration',
        { cause: error },
      );
    }
  }

  /**
   * Applies a configuration written to the registry.
   *
   * @returns the previous configuration, or `undefined` when `yaml` is invalid (logged, ignored).
   */
  apply(yaml: string, logger: Logger): ResolvedJobConfiguration | undefined {
    this.#appliedYaml = yaml;
    let next: ResolvedJobConfiguration;
    try {
      next = validatedFromRegistry(yaml);
    } catch (error) {
      logger.error({ err: error }, 'ignoring an invalid configuration written to the registry');
      return undefined;
    }
    const previous = this.#current;
    this.#current = next;
    return previous;
  }

  /** Rebuilds the cron, error handler and listeners when their configuration changed. */
  refreshRunComponents(
    logger: Logger,
    guarantee: GuaranteeService,
    track: (work: Promise<unknown>) => void,
  ): void {
    const config = this.#current;
    if (this.scheduled) this.#cron = cronOf(config.cron, config.timeZone);
    const handlerKey = `${config.jobErrorHandlerType}:${JSON.stringify(config.props)}`;
    if (handlerKey !== this.#errorHandlerKey) {
      const previous = this.#errorHandler;
      this.#errorHandler = createJobErrorHandler(config.jobErrorHandlerType, config.props, logger);
      this.#errorHandlerKey = handlerKey;
      if (previous?.close) track(Promise.resolve(previous.close()));
    }
    const listenerKey = config.jobListenerTypes.join(',');
    if (listenerKey !== this.#listenerKey || this.#listeners.length === 0) {
      this.#listeners = [...createJobListeners(config.jobListenerTypes), ...this.extraListeners].sort(
        (a, b) => (a.order ?? Number.MAX_SAFE_INTEGER) - (b.order ?? Number.MAX_SAFE_INTEGER),
      );
      this.#listenerKey = listenerKey;
      for (const listener of this.#listeners) {
        if (listener instanceof DistributeOnceJobListener) listener.attachCoordinator(guarantee);
      }
    }
    this.#itemExecutor = resolveJobItemExecutor(this.job, config).executor;
  }
}

/** Checks the type names a configuration refers to against the registries (names the field). */
/**
 * {@link validateJobConfiguration} and {@link registeredTypeIssues} of a configuration given by
 * the application, as one error.
 */
function validatedLocally(configuration: JobConfiguration): ResolvedJobConfiguration {
  let resolved: ResolvedJobConfiguration | undefined;
  let invalid: JobConfigurationError | undefined;
  try {
    resolved = validateJobConfiguration(configuration);
  } catch (error) {
    if (!(error instanceof JobConfigurationError)) throw error;
    invalid = error;
  }
  const typeIssues = registeredTypeIssues(configuration, resolved);
  if (invalid === undefined && typeIssues.length === 0) return resolved as ResolvedJobConfiguration;
  const raw = configuration as unknown as Record<string, unknown>;
  throw JobConfigurationError.fromIssues(sortIssues([...(invalid?.issues ?? []), ...typeIssues]), {
    ...(typeof raw.jobName === 'string' ? { jobName: raw.jobName } : {}),
    ...(invalid === undefined ? {} : { cause: invalid }),
  });
}

/**
 * A `config` node's YAML validated as a local configuration is (fields, schedule, registered
 * types), as one error with the YAML as its `source`.
 */
function validatedFromRegistry(yaml: string): ResolvedJobConfiguration {
  const resolved = validateJobConfigurationYaml(yaml);
  const typeIssues = registeredTypeIssues(resolved, resolved);
  if (typeIssues.length === 0) return resolved;
  throw JobConfigurationError.fromIssues(typeIssues, { jobName: resolved.jobName, source: yaml });
}

/**
 * A job's parsed cron: in its `timeZone`, else in the process's zone (ElasticJob: the JVM default
 * zone), followed when `TZ` changes.
 *
 * @throws {CronExpressionError} for an invalid expression or zone.
 */
function cronOf(cron: string, timeZone: string | undefined): CronExpression {
  return timeZone === undefined ? parseCronInProcessZone(cron) : parseCron(cron, { timeZone });
}
