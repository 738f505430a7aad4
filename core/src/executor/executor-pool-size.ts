/**
 * Item concurrency per job (ElasticJob `JobExecutorThreadPoolSizeProvider`): how many items of one
 * run may be in flight at once, chosen by `jobExecutorThreadPoolSizeProviderType`.
 *
 * @module
 */
import { availableParallelism } from 'node:os';
import { JobConfigurationError } from '../config/job-configuration-error.js';

/** Returns the maximum number of items in flight; a positive integer. */
export type ExecutorPoolSizeProvider = () => number;

/**
 * `os.availableParallelism()`, read once per process: it is a system call, and the pool size is
 * asked on every run (ElasticJob reads `availableProcessors()` once, when it builds the pool).
 */
let parallelism: number | undefined;

function cpuParallelism(): number {
  parallelism ??= availableParallelism();
  return parallelism;
}

const providers = new Map<string, ExecutorPoolSizeProvider>([
  // ElasticJob `CPUUsageJobExecutorThreadPoolSizeProvider`: availableProcessors() × 2.
  ['CPU', () => cpuParallelism() * 2],
  // ElasticJob `SingleThreadJobExecutorThreadPoolSizeProvider`.
  ['SINGLE_THREAD', () => 1],
]);

/**
 * Registers a pool size provider type.
 *
 * @param type - the type name, e.g. `FOUR`; non-empty.
 * @param provider - returns the limit; called each time a job (re)builds its executor.
 * @returns a function that removes the registration.
 * @throws {TypeError} when `type` is empty or already registered (`CPU`/`SINGLE_THREAD` cannot be
 * replaced).
 */
export function registerExecutorPoolSizeProvider(
  type: string,
  provider: ExecutorPoolSizeProvider,
): () => void {
  if (typeof type !== 'string' || type === '')
    throw new TypeError('pool size provider type must be a non-empty string');
  if (providers.has(type)) throw new TypeError(`pool size provider type '${type}' is already registered`);
  providers.set(type, provider);
  return () => {
    if (providers.get(type) === provider) providers.delete(type);
  };
}

/** The registered pool size provider types, built-ins (`CPU`, `SINGLE_THREAD`) first. */
export function executorPoolSizeProviderTypes(): string[] {
  return [...providers.keys()];
}

/**
 * How many items of a run may be in flight, for a `jobExecutorThreadPoolSizeProviderType`:
 * `CPU` = `os.availableParallelism() × 2`, `SINGLE_THREAD` = 1, or a registered provider's value.
 *
 * @param type - the provider type.
 * @returns a positive integer.
 * @throws {JobConfigurationError} (field `jobExecutorThreadPoolSizeProviderType`)
 * for an unknown type, naming the accepted types, or when the provider returns anything but a
 * positive integer.
 */
export function getExecutorPoolSize(type: string): number {
  const provider = providers.get(type);
  if (provider === undefined) {
    throw new JobConfigurationError(
      'jobExecutorThreadPoolSizeProviderType',
      `jobExecutorThreadPoolSizeProviderType '${type}' is not registered; accepted: ` +
        executorPoolSizeProviderTypes().join(', '),
    );
  }
  const size = provider();
  if (!Number.isSafeInteger(size) || size <= 0) {
    throw new JobConfigurationError(
      'jobExecutorThreadPoolSizeProviderType',
      `jobExecutorThreadPoolSizeProviderType '${type}' returned ${String(size)}; a positive integer is required`,
    );
  }
  return size;
}
