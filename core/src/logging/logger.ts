/**
 * Logging: a pino-compatible {@link Logger} interface, so applications pass their own pino (or any
 * compatible) logger, and a pino default that stays quiet in an application that embeds the library.
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

/** The levels of {@link createLogger} and `ELASTICJOB_LOG_LEVEL`, most verbose first (pino's). */
export const LOG_LEVELS = Object.freeze([
  'trace',
  'debug',
  'info',
  'warn',
  'error',
  'fatal',
  'silent',
] as const);

/** One of {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The environment variable that sets the level of the default logger (and of the CLI's). */
export const LOG_LEVEL_ENVIRONMENT_VARIABLE = 'ELASTICJOB_LOG_LEVEL';

/**
 * The level of the default logger when the environment does not set one: `warn`. A library speaks
 * only about problems; starts, stops and reshardings are `info` and appear with
 * `ELASTICJOB_LOG_LEVEL=info` (the `elasticjob` CLI's default).
 */
export const DEFAULT_LOG_LEVEL: LogLevel = 'warn';

/**
 * The log level an environment asks for.
 *
 * @param env - the environment, e.g. `process.env`.
 * @param fallback - the level when `ELASTICJOB_LOG_LEVEL` is unset or empty.
 * @returns the level.
 * @throws {TypeError} naming `ELASTICJOB_LOG_LEVEL` and the accepted levels when its value is not one.
 */
export function logLevelFromEnvironment(
  env: Readonly<Record<string, string | undefined>>,
  fallback: LogLevel,
): LogLevel {
  const value = env[LOG_LEVEL_ENVIRONMENT_VARIABLE];
  if (value === undefined || value === '') return fallback;
  if (!(LOG_LEVELS as readonly string[]).includes(value)) {
    throw new TypeError(
      `${LOG_LEVEL_ENVIRONMENT_VARIABLE} must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(value)}`,
    );
  }
  return value as LogLevel;
}

/**
 * A pino logger writing JSON lines to stderr, named `elasticjob`.
 *
 * @param level - the minimum level written.
 * @returns the logger.
 */
export function createLogger(level: LogLevel): Logger {
  return pino({ name: 'elasticjob', level }, pino.destination(2));
}

let defaultLogger: Logger | undefined;

/**
 * The default logger of every job, registry client and dump server that is not given a `logger`:
 * pino on stderr, named `elasticjob`, at the level of `ELASTICJOB_LOG_LEVEL` (see
 * {@link LOG_LEVELS}), else {@link DEFAULT_LOG_LEVEL} (`warn`) — quiet inside an application. Pass
 * your own pino (or compatible) logger as the `logger` option to route and level the entries
 * yourself. One instance per process.
 *
 * Never throws (it is created lazily, also inside registry callbacks): an `ELASTICJOB_LOG_LEVEL`
 * that is not a level is reported as the logger's first `warn` entry, naming the variable and the
 * accepted levels, and the default level applies.
 */
export function createDefaultLogger(): Logger {
  if (defaultLogger !== undefined) return defaultLogger;
  let level = DEFAULT_LOG_LEVEL;
  let problem: string | undefined;
  try {
    level = logLevelFromEnvironment(process.env, DEFAULT_LOG_LEVEL);
  } catch (error) {
    problem = (error as Error).message;
  }
  defaultLogger = createLogger(level);
  if (problem !== undefined) defaultLogger.warn(`${problem}; using '${level}'`);
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
