/**
 * Logging: a pino-compatible {@link Logger} interface, so applications pass their own pino (or any
 * compatible) logger, and a pino default.
 *
 * @module
 */
import { pino } from 'pino';

/** One log method: `(message)` or `(context object, message)`, as pino accepts. */
export interface LogMethod {
  (message: string): void;
  (context: object, message?: string): void;
}

/** The logger the kernel writes to; a pino logger satisfies it. */
export interface Logger {
  debug: LogMethod;
  info: LogMethod;
  warn: LogMethod;
  error: LogMethod;
  /** Returns a logger that adds `bindings` to every entry. */
  child(bindings: Record<string, unknown>): Logger;
}

let defaultLogger: Logger | undefined;

/**
 * The default logger: pino on stderr, named `elasticjob`, level from the `ELASTICJOB_LOG_LEVEL`
 * environment variable (`trace`, `debug`, `info`, `warn`, `error`, `fatal`, `silent`; default `info`).
 * One instance per process, shared by every job that is not given a logger.
 */
export function createDefaultLogger(): Logger {
  defaultLogger ??= pino(
    { name: 'elasticjob', level: process.env.ELASTICJOB_LOG_LEVEL ?? 'info' },
    pino.destination(2),
  );
  return defaultLogger;
}

/** A logger that drops everything (for tests and for users who opt out). */
export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => silentLogger,
};
