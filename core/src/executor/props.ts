/**
 * Internal: typed readers for the string props of jobs and error handlers, throwing
 * {@link JobSystemError} `INVALID_CONFIGURATION` naming the prop and its owner.
 *
 * @module
 */
import { JobSystemError } from '../error-handler/job-system-error.js';

/** A job's or handler's props: ElasticJob's `Properties`, string to string. */
export type Props = Readonly<Record<string, string>>;

/**
 * The value of a required prop.
 *
 * @param props - the props.
 * @param key - the prop, e.g. `http.uri`.
 * @param owner - who needs it, for the message, e.g. `HTTP job 'orders'`.
 * @throws {JobSystemError} `INVALID_CONFIGURATION` when the prop is absent or blank.
 */
export function requiredProp(props: Props, key: string, owner: string): string {
  const value = propValue(props, key);
  if (value === undefined || value.trim() === '') {
    throw new JobSystemError('INVALID_CONFIGURATION', `${owner}: prop '${key}' is required`, { field: key });
  }
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
 * A positive-integer prop (a timeout in ms, a port).
 *
 * @param props - the props.
 * @param key - the prop, e.g. `http.read.timeout.milliseconds`.
 * @param defaultValue - used when the prop is absent or empty.
 * @param owner - who needs it, for the message.
 * @throws {JobSystemError} `INVALID_CONFIGURATION` when the value is not a positive integer.
 */
export function positiveIntegerProp(props: Props, key: string, defaultValue: number, owner: string): number {
  const text = optionalProp(props, key);
  if (text === undefined) return defaultValue;
  const value = /^\s*\d+\s*$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new JobSystemError(
      'INVALID_CONFIGURATION',
      `${owner}: prop '${key}' must be a positive integer, got '${text}'`,
      { field: key },
    );
  }
  return value;
}

/**
 * A boolean prop: `true` or `false`, case-insensitive.
 *
 * @param props - the props.
 * @param key - the prop, e.g. `streaming.process`.
 * @param defaultValue - used when the prop is absent or empty.
 * @param owner - who needs it, for the message.
 * @throws {JobSystemError} `INVALID_CONFIGURATION` for any other value (ElasticJob's
 * `Boolean.parseBoolean` silently reads it as `false`).
 */
export function booleanProp(props: Props, key: string, defaultValue: boolean, owner: string): boolean {
  const text = optionalProp(props, key)?.trim().toLowerCase();
  if (text === undefined) return defaultValue;
  if (text === 'true') return true;
  if (text === 'false') return false;
  throw new JobSystemError(
    'INVALID_CONFIGURATION',
    `${owner}: prop '${key}' must be 'true' or 'false', got '${props[key]}'`,
    { field: key },
  );
}

function propValue(props: Props, key: string): string | undefined {
  return Object.hasOwn(props, key) ? props[key] : undefined;
}
