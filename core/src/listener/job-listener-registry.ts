/**
 * The registry of job listener types (ElasticJob's `ElasticJobListener` SPI), named by a job's
 * `jobListenerTypes`.
 *
 * @module
 */
import { JobConfigurationError } from '../config/job-configuration-error.js';
import type { ElasticJobListener } from './elastic-job-listener.js';

/** Builds a fresh listener for one job. */
export type ElasticJobListenerFactory = () => ElasticJobListener;

/** The `order` of a listener that sets none (ElasticJob: `Integer.MAX_VALUE`). */
export const DEFAULT_JOB_LISTENER_ORDER = Number.MAX_SAFE_INTEGER;

const factories = new Map<string, ElasticJobListenerFactory>();

/**
 * Registers a listener type, to be named in `jobListenerTypes`.
 *
 * @param type - the type name; non-empty.
 * @param factory - builds one listener per job that names the type.
 * @returns a function that removes the registration.
 * @throws {TypeError} when `type` is empty or already registered.
 */
export function registerJobListener(type: string, factory: ElasticJobListenerFactory): () => void {
  if (typeof type !== 'string' || type === '')
    throw new TypeError('job listener type must be a non-empty string');
  if (factories.has(type)) throw new TypeError(`job listener type '${type}' is already registered`);
  factories.set(type, factory);
  return () => {
    if (factories.get(type) === factory) factories.delete(type);
  };
}

/** The registered listener types, in registration order. */
export function jobListenerTypes(): string[] {
  return [...factories.keys()];
}

/**
 * Builds the listeners a job's `jobListenerTypes` names, sorted by `order` ascending (unset =
 * {@link DEFAULT_JOB_LISTENER_ORDER}); equal orders keep the configured order.
 *
 * @param types - the job's `jobListenerTypes`.
 * @returns one new listener per type.
 * @throws {JobConfigurationError} (field `jobListenerTypes`) naming unknown types
 * and the registered ones, or a type listed twice.
 */
export function createJobListeners(types: readonly string[]): ElasticJobListener[] {
  const unknown = types.filter((type) => !factories.has(type));
  if (unknown.length > 0) {
    const accepted = jobListenerTypes();
    throw new JobConfigurationError(
      'jobListenerTypes',
      `jobListenerTypes: ${unknown.map((type) => `'${type}'`).join(', ')} not registered; accepted: ` +
        (accepted.length === 0 ? '(none registered)' : accepted.join(', ')),
    );
  }
  const duplicates = types.filter((type, index) => types.indexOf(type) !== index);
  if (duplicates.length > 0) {
    throw new JobConfigurationError(
      'jobListenerTypes',
      `jobListenerTypes lists ${[...new Set(duplicates)].map((type) => `'${type}'`).join(', ')} more than once`,
    );
  }
  return types
    .map((type, index) => ({ listener: (factories.get(type) as ElasticJobListenerFactory)(), index }))
    .sort((a, b) => {
      const orderA = a.listener.order ?? DEFAULT_JOB_LISTENER_ORDER;
      const orderB = b.listener.order ?? DEFAULT_JOB_LISTENER_ORDER;
      return orderA < orderB ? -1 : orderA > orderB ? 1 : a.index - b.index;
    })
    .map(({ listener }) => listener);
}
