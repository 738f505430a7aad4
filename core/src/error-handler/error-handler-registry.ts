/**
 * The registry of error-handler types (ElasticJob's `JobErrorHandler` SPI): `LOG`, `THROW`,
 * `IGNORE` and `WEBHOOK` built in, more by {@link registerJobErrorHandler}.
 *
 * @module
 */
import { JobConfigurationError } from '../config/job-configuration-error.js';
import type { Props } from '../executor/props.js';
import type { Logger } from '../logging/logger.js';
import {
  IgnoreJobErrorHandler,
  LogJobErrorHandler,
  ThrowJobErrorHandler,
} from './built-in-error-handlers.js';
import type { JobErrorHandler } from './job-error-handler.js';
import { WebhookJobErrorHandler } from './webhook-error-handler.js';

/**
 * Builds an error handler from the job's props (ElasticJob `init(props)`); validates the props it
 * needs and throws a {@link JobConfigurationError} naming a missing or bad one (field `props.{prop}`).
 *
 * @param props - the job's `props`.
 * @param logger - the job's logger.
 */
export type JobErrorHandlerFactory = (
  props: Readonly<Record<string, string>>,
  logger: Logger,
) => JobErrorHandler;

const factories = new Map<string, JobErrorHandlerFactory>([
  ['LOG', (_props, logger) => new LogJobErrorHandler(logger)],
  ['THROW', () => new ThrowJobErrorHandler()],
  ['IGNORE', () => new IgnoreJobErrorHandler()],
  ['WEBHOOK', (props, logger) => new WebhookJobErrorHandler(props, logger)],
]);

/**
 * Registers an error handler type, to be named by `jobErrorHandlerType`.
 *
 * @param type - the type name, e.g. `SLACK`; non-empty.
 * @param factory - builds the handler per job.
 * @returns a function that removes the registration.
 * @throws {TypeError} when `type` is empty or already registered (built-ins cannot be replaced).
 */
export function registerJobErrorHandler(type: string, factory: JobErrorHandlerFactory): () => void {
  if (typeof type !== 'string' || type === '')
    throw new TypeError('error handler type must be a non-empty string');
  if (factories.has(type)) throw new TypeError(`error handler type '${type}' is already registered`);
  factories.set(type, factory);
  return () => {
    if (factories.get(type) === factory) factories.delete(type);
  };
}

/** The registered error handler types, built-ins first. */
export function jobErrorHandlerTypes(): string[] {
  return [...factories.keys()];
}

/**
 * Builds the error handler a job's `jobErrorHandlerType` names.
 *
 * @param type - the type, e.g. `LOG`.
 * @param props - the job's props, for handlers that need some (e.g. `webhook.url`).
 * @param logger - the job's logger.
 * @throws {JobConfigurationError} for an unknown type (field `jobErrorHandlerType`, naming the
 * accepted types) or a missing/invalid prop (field `props.{prop}`).
 */
export function createJobErrorHandler(type: string, props: Props, logger: Logger): JobErrorHandler {
  const factory = factories.get(type);
  if (factory === undefined) {
    throw new JobConfigurationError(
      'jobErrorHandlerType',
      `jobErrorHandlerType '${type}' is not registered; accepted: ${jobErrorHandlerTypes().join(', ')}`,
    );
  }
  return factory(props, logger);
}
