/**
 * Internal: typed readers for the string props of jobs and error handlers, throwing
 * {@link JobConfigurationError} with field `props.{key}`, naming the prop and who needs it.
 *
 * @module
 */
import { JobConfigurationError } from '../config/job-configuration-error.js';

/** A job's or handler's props: ElasticJob's `Properties`, string to string. */
export type Props = Readonly<Record<string, string>>;

/** Who reads the props, for error messages. */
export interface PropsOwner {
  /** E.g. `the HTTP job type`, `jobErrorHandlerType 'WEBHOOK'`. */
  readonly what: string;
  /** The job, when known. */
  readonly jobName?: string;
}

/**
 * A {@link JobConfigurationError} about one prop.
 *
 * @param owner - who reads the prop.
 * @param key - the prop, e.g. `http.uri`; the error's field is `props.{key}`.
 * @param problem - what is wrong, e.g. `is required`.
 */
export function propError(owner: PropsOwner, key: string, problem: string): JobConfigurationError {
  return new JobConfigurationError(`props.${key}`, `prop '${key}' ${problem} (${owner.what})`, {
    ...(owner.jobName === undefined ? {} : { jobName: owner.jobName }),
  });
}

/**
 * The value of a required prop.
 *
 * @param props - the props.
 * @param key - the prop, e.g. `http.uri`.
 * @param owner - who needs it.
 * @throws {JobConfigurationError} when the prop is absent or blank.
 */
export function requiredProp(props: Props, key: string, owner: PropsOwner): string {
  const value = propValue(props, key);
  if (value === undefined || value.trim() === '') throw propError(owner, key, 'is required');
  return value;
}

/**
 * An optional prop as text; `undefined` when absent or empty.
 *
 * @param props - the props.
 * @param key - the prop.
 */
export function optionalProp(props: Props, key: string): string | undefined {
  const value = propValue(props, key);
  return value === undefined || value === '' ? undefined : value;
}

/**
 * A positive-integer prop (a timeout in ms).
 *
 * @param props - the props.
 * @param key - the prop, e.g. `http.read.timeout.milliseconds`.
 * @param defaultValue - used when the prop is absent or empty.
 * @param owner - who needs it.
 * @throws {JobConfigurationError} when the value is not a positive integer.
 */
export function positiveIntegerProp(
  props: Props,
  key: string,
  defaultValue: number,
  owner: PropsOwner,
): number {
  const text = optionalProp(props, key);
  if (text === undefined) return defaultValue;
  const value = /^\s*\d+\s*$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw propError(owner, key, `must be a positive integer, got '${text}'`);
  }
  return value;
}

/**
 * A boolean prop: `true` or `false`, case-insensitive.
 *
 * @param props - the props.
 * @param key - the prop, e.g. `streaming.process`.
 * @param defaultValue - used when the prop is absent or empty.
 * @param owner - who needs it.
 * @throws {JobConfigurationError} for any other value (ElasticJob's `Boolean.parseBoolean` silently
 * reads it as `false`).
 */
export function booleanProp(props: Props, key: string, defaultValue: boolean, owner: PropsOwner): boolean {
  const text = optionalProp(props, key)?.trim().toLowerCase();
  if (text === undefined) return defaultValue;
  if (text === 'true') return true;
  if (text === 'false') return false;
  throw propError(owner, key, `must be 'true' or 'false', got '${props[key]}'`);
}

function propValue(props: Props, key: string): string | undefined {
  return Object.hasOwn(props, key) ? props[key] : undefined;
}
