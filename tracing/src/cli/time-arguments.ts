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
 * @throws {TimeArgumentError} when `value` is none of the accepted forms.
 */
export function parseTimeArgument(option: string, value: string, nowMs: number): number {
  const relative = /^(\d+)([smhd])$/.exec(value.trim());
  if (relative !== null) return nowMs - Number(relative[1]) * (UNIT_MS[relative[2] as string] as number);
  if (/^\d{10,}$/.test(value.trim())) return Number(value.trim());
  const parsed = Date.parse(value);
  if (Number.isFinite(parsed)) return parsed;
  throw new TimeArgumentError(
    `${option} '${value}' is not a time: use an ISO-8601 time (2026-03-01T08:00:00Z), epoch ms, or a duration back from now (90s, 15m, 24h, 7d)`,
  );
}
