/**
 * Picks the item executor for a job (ElasticJob `JobItemExecutorFactory`): objects by the
 * interface they implement, type strings (`SCRIPT`, `HTTP`, registered types) by name.
 *
 * @module
 */
import type { ResolvedJobConfiguration } from '../config/job-configuration.js';
import { JobConfigurationError } from '../config/job-configuration-error.js';
import type { DataflowJob, ElasticJob, JobItemExecutor, SimpleJob } from '../job/elastic-job.js';
import { DataflowJobItemExecutor, isStreamingProcess } from './item/dataflow-job-item-executor.js';
import { HttpJobItemExecutor } from './item/http-job-item-executor.js';
import { ScriptJobItemExecutor } from './item/script-job-item-executor.js';
import { SimpleJobItemExecutor } from './item/simple-job-item-executor.js';

/**
 * Builds the item executor of a typed job (ElasticJob `TypedJobItemExecutor`) for one job. It
 * validates the props it needs and throws a {@link JobConfigurationError} naming a missing or bad
 * one (field `props.{prop}`). The executor should read props again from `runtime.configuration` at
 * `process` time, since the configuration can change between runs.
 *
 * @param configuration - the job's configuration at resolve time.
 */
export type TypedJobItemExecutorFactory = (configuration: ResolvedJobConfiguration) => JobItemExecutor;

/** The executor picked for a job, and the class name recorded in the registry. */
export interface ResolvedJobItemExecutor {
  readonly executor: JobItemExecutor;
  /**
   * The job's class name as ElasticJob stores it in `jobClassName`/instance data: the constructor
   * name of a class instance, `'SimpleJob'`/`'DataflowJob'` for plain objects (and anonymous
   * classes), the type string for typed jobs.
   */
  readonly jobClassName: string;
}

const typedFactories = new Map<string, TypedJobItemExecutorFactory>([
  ['SCRIPT', (configuration) => new ScriptJobItemExecutor(configuration)],
  ['HTTP', (configuration) => new HttpJobItemExecutor(configuration)],
]);

/**
 * Registers a typed job, to be named by a type string instead of a job object.
 *
 * @param type - the type name, e.g. `SQL`; non-empty.
 * @param factory - builds the executor per job.
 * @returns a function that removes the registration.
 * @throws {TypeError} when `type` is empty or already registered (`SCRIPT`/`HTTP` cannot be replaced).
 */
export function registerTypedJobItemExecutor(type: string, factory: TypedJobItemExecutorFactory): () => void {
  if (typeof type !== 'string' || type === '')
    throw new TypeError('typed job type must be a non-empty string');
  if (typedFactories.has(type)) throw new TypeError(`typed job type '${type}' is already registered`);
  typedFactories.set(type, factory);
  return () => {
    if (typedFactories.get(type) === factory) typedFactories.delete(type);
  };
}

/** The registered typed job types, built-ins (`SCRIPT`, `HTTP`) first. */
export function typedJobTypes(): string[] {
  return [...typedFactories.keys()];
}

/**
 * Picks and builds the item executor for `job`:
 *
 * - an object with an `execute` method → {@link SimpleJobItemExecutor};
 * - an object with `fetchData` and `processData` methods → {@link DataflowJobItemExecutor};
 * - a string → the typed job of that name (`SCRIPT`, `HTTP`, or one registered with
 *   {@link registerTypedJobItemExecutor}).
 *
 * Props are validated now, so a bad job fails at bootstrap rather than at its first fire.
 *
 * @param job - what the user handed to the bootstrap.
 * @param configuration - the job's configuration.
 * @returns the executor and the job class name.
 * @throws {TypeError} when `job` is neither kind of object nor a string, or implements both
 * `execute` and `fetchData`/`processData`; the message says what was expected.
 * @throws {JobConfigurationError} for an unknown type string (field `elasticJobType`, naming the
 * accepted types) or a missing/bad prop (field `props.{prop}`); the message names the job.
 */
export function resolveJobItemExecutor(
  job: ElasticJob,
  configuration: ResolvedJobConfiguration,
): ResolvedJobItemExecutor {
  const { jobName } = configuration;
  if (typeof job === 'string') {
    const factory = typedFactories.get(job);
    if (factory === undefined) {
      throw new JobConfigurationError(
        'elasticJobType',
        `typed job type '${job}' is not registered; accepted: ${typedJobTypes().join(', ')}`,
        { jobName },
      );
    }
    return { executor: factory(configuration), jobClassName: job };
  }
  const simple = isSimpleJob(job);
  const dataflow = isDataflowJob(job);
  if (simple && dataflow) {
    throw new TypeError(
      `Job '${jobName}': the job object implements both SimpleJob (execute) and DataflowJob ` +
        '(fetchData, processData); implement exactly one',
    );
  }
  if (simple) {
    return { executor: new SimpleJobItemExecutor(job), jobClassName: classNameOf(job, 'SimpleJob') };
  }
  if (dataflow) {
    isStreamingProcess(configuration.props, jobName);
    return { executor: new DataflowJobItemExecutor(job), jobClassName: classNameOf(job, 'DataflowJob') };
  }
  throw new TypeError(
    `Job '${jobName}': expected a SimpleJob (object with execute()), a DataflowJob (object with ` +
      `fetchData() and processData()) or a typed job type (${typedJobTypes().join(', ')}), got ${describe(job)}`,
  );
}

function isSimpleJob(job: unknown): job is SimpleJob {
  return typeof job === 'object' && job !== null && typeof (job as SimpleJob).execute === 'function';
}

function isDataflowJob(job: unknown): job is DataflowJob {
  return (
    typeof job === 'object' &&
    job !== null &&
    typeof (job as DataflowJob).fetchData === 'function' &&
    typeof (job as DataflowJob).processData === 'function'
  );
}

function classNameOf(job: object, fallback: string): string {
  const prototype: unknown = Object.getPrototypeOf(job);
  if (prototype === null || prototype === Object.prototype) return fallback;
  const constructorName: unknown = (prototype as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof constructorName === 'string' && constructorName !== '' && constructorName !== 'Object'
    ? constructorName
    : fallback;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return `an object with keys [${Object.keys(value).join(', ')}]`;
  if (typeof value === 'function') return 'a function';
  return `${typeof value} ${String(value)}`;
}
