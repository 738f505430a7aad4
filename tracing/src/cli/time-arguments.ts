/**
 * Time arguments of `elasticjob history`: an ISO-8601 time (`2026-03-01T08:00:00Z`), epoch
 * milliseconds, or a duration back from now (`90s`, `15m`, `24h`, `7d`).
 *
 * @module
 */

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A time argument that cannot be read; the message names the option and the accepted forms. */
export class TimeArgumentError extends Error {
  override readonly name = 'TimeArgumentError';
}

/**
 * Reads a time argument.
 *
 * @param option - the option name, for the error message (e.g. `--since`).
 * @param value - the argument.
 * @param nowMs - the current time, epoch ms.
 * @returns epoch ms.
 * @throws {TimeArgumentError} when `value` is none of the accepted forms, or a time outside
 *   1970-01-01 .. 9999-12-31 (UTC).
 */
export function parseTimeArgument(option: string, value: string, nowMs: number): number {
  const timeMs = readTime(value, nowMs);
  if (timeMs === undefined) {
    throw new TimeArgumentError(
      `${option} '${value}' is not a time: use an ISO-8601 time (2026-03-01T08:00:00Z), epoch ms, or a duration back from now (90s, 15m, 24h, 7d)`,
    );
  }
  if (timeMs < EARLIEST_MS || timeMs > LATEST_MS) {
    throw new TimeArgumentError(
      `${option} '${value}' is out of range: give a time from ${new Date(EARLIEST_MS).toISOString()} to ${new Date(LATEST_MS).toISOString()}`,
    );
  }
  return timeMs;
}

/**
 * The range of times the history databases store (SQLite and PostgreSQL timestamps, four-digit
 * years), epoch ms. A time outside it is the operator's typo, not a database failure.
 */
const EARLIEST_MS = Date.UTC(1970, 0, 1);
const LATEST_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

function readTime(value: string, nowMs: number): number | undefined {
  const text = value.trim();
  const relative = /^(\d+)([smhd])$/.exec(text);
  if (relative !== null) return nowMs - Number(relative[1]) * (UNIT_MS[relative[2] as string] as number);
  if (/^\d{10,}$/.test(text)) return Number(text);
  const parsed = Date.parse(value);
  return Number.isFinite(parsed) ? parsed : undefined;
}
