/**
 * Time zones for cron evaluation: validation of zone names and the mapping between instants and
 * local wall-clock times, with Quartz's rules for daylight-saving gaps and overlaps.
 *
 * A "wall time" here is a local date-time encoded as the epoch milliseconds of that same date-time
 * in UTC (so `new Date(wall).getUTCHours()` is the local hour). Internal to the cron layer.
 *
 * @module
 */
import { CronExpressionError } from './cron-expression-error.js';

const SECOND_MS = 1000;
const MINUTE_MS = 60 * SECOND_MS;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

/** `GMT`, `GMT+8`, `GMT-05`, `GMT+0530`, `GMT+08:00` (the custom ids `java.util.TimeZone` accepts). */
const GMT_OFFSET_PATTERN = /^GMT(?:([+-])(\d{1,2})(?::?(\d{2}))?)?$/i;

const ACCEPTED_TIME_ZONES =
  "an IANA time zone name (e.g. 'Asia/Shanghai', 'America/New_York', 'UTC') or a GMT offset " +
  "('GMT', 'GMT+08:00', 'GMT-5', 'GMT+0530'; hours 0-23, minutes 0-59)";

/**
 * Validates and normalises a time zone for cron evaluation.
 *
 * Accepts IANA names (case-insensitive, returned in their canonical spelling, e.g.
 * `'asia/shanghai'` → `'Asia/Shanghai'`) and the fixed-offset forms ElasticJob users write because
 * `java.util.TimeZone` accepts them: `GMT`, `GMT+08:00`, `GMT+8`, `GMT-05`, `GMT+0530`, returned as
 * `GMT` or `GMT±hh:mm`. Unlike `java.util.TimeZone.getTimeZone`, which silently falls back to GMT
 * for a name it does not know, an unknown name is an error.
 *
 * @param timeZone - The zone as written in the job configuration.
 * @returns The normalised zone: a canonical IANA name, `'GMT'` or `'GMT±hh:mm'`.
 * @throws {CronExpressionError} with `field: 'timeZone'` for an unknown name or a malformed offset;
 *   the message lists the accepted forms.
 * @example
 * ```ts
 * parseTimeZone('GMT+8'); // 'GMT+08:00'
 * parseTimeZone('europe/berlin'); // 'Europe/Berlin'
 * ```
 */
export function parseTimeZone(timeZone: string): string {
  const invalid = (why: string): CronExpressionError =>
    new CronExpressionError(
      'timeZone',
      timeZone,
      `Invalid time zone '${timeZone}'${why}: expected ${ACCEPTED_TIME_ZONES}.`,
    );
  if (typeof timeZone !== 'string' || timeZone.trim() === '') throw invalid(' (empty)');
  const text = timeZone.trim();
  const gmt = GMT_OFFSET_PATTERN.exec(text);
  if (gmt !== null) {
    const [, sign, hoursText, minutesText] = gmt;
    if (sign === undefined || hoursText === undefined) return 'GMT';
    const hours = Number(hoursText);
    const minutes = minutesText === undefined ? 0 : Number(minutesText);
    if (hours > 23 || minutes > 59) throw invalid(' (offset out of range)');
    return `GMT${sign}${String(hours).padStart(2, '0')}:${String(minutes).padStart(2, '0')}`;
  }
  if (/^[+-]/.test(text)) throw invalid('');
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: text }).resolvedOptions().timeZone;
  } catch {
    throw invalid('');
  }
}

/** Where a wall time lands in a zone: one instant, or nowhere (a daylight-saving gap). */
export type WallTimeResolution =
  | { readonly kind: 'instant'; readonly instantMs: number }
  | { readonly kind: 'gap'; readonly gapEndWallMs: number };

/**
 * Converts between instants and wall times in one zone. Internal to the cron layer.
 */
export interface ZoneClock {
  /** The local wall time of an instant (whole seconds; milliseconds are dropped). */
  wallOf(instantMs: number): number;
  /**
   * The instant of a wall time, the way Quartz 2.3 (through `java.util.GregorianCalendar`) reads it:
   * a wall time that occurs twice (the repeated hour when clocks go back) is the later instant, the
   * one after the transition; a wall time that does not exist (clocks go forward) resolves to
   * `gap`, with the first wall time after the gap.
   */
  resolve(wallMs: number): WallTimeResolution;
}

/**
 * A {@link ZoneClock} for a zone returned by {@link parseTimeZone}.
 *
 * @param timeZone - A normalised zone from {@link parseTimeZone}, or `undefined` for UTC.
 */
export function zoneClock(timeZone: string | undefined): ZoneClock {
  if (timeZone === undefined) return fixedOffsetClock(0);
  const gmt = GMT_OFFSET_PATTERN.exec(timeZone);
  if (gmt !== null) {
    const [, sign, hoursText, minutesText] = gmt;
    if (sign === undefined || hoursText === undefined) return fixedOffsetClock(0);
    const offsetMs = Number(hoursText) * HOUR_MS + Number(minutesText ?? '0') * MINUTE_MS;
    return fixedOffsetClock(sign === '-' ? -offsetMs : offsetMs);
  }
  return ianaClock(timeZone);
}

function fixedOffsetClock(offsetMs: number): ZoneClock {
  return {
    wallOf: (instantMs) => floorToSecond(instantMs) + offsetMs,
    resolve: (wallMs) => ({ kind: 'instant', instantMs: wallMs - offsetMs }),
  };
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      era: 'short',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

function ianaClock(timeZone: string): ZoneClock {
  const formatter = formatterFor(timeZone);
  /** Offset (ms, local minus UTC) in force at an instant (whole seconds). */
  const offsetAt = (instantMs: number): number => {
    const instant = floorToSecond(instantMs);
    const fields: Record<string, number> = {};
    let bc = false;
    for (const part of formatter.formatToParts(instant)) {
      if (part.type === 'era') bc = part.value.startsWith('B');
      else if (part.type !== 'literal') fields[part.type] = Number(part.value);
    }
    const year = bc ? 1 - (fields.year ?? 0) : (fields.year ?? 0);
    return (
      wallFromFields(
        year,
        (fields.month ?? 1) - 1,
        fields.day ?? 1,
        fields.hour ?? 0,
        fields.minute ?? 0,
        fields.second ?? 0,
      ) - instant
    );
  };
  return offsetClock(offsetAt);
}

/**
 * A {@link ZoneClock} for the process's own zone (ElasticJob: the JVM default zone), the one `TZ`
 * or the host selects. Read from `Date`'s local-time fields, which follow the same zone rules as
 * `Intl` and follow a later change of `process.env.TZ`. No `Intl.DateTimeFormat` is built: the
 * first one loads ICU's locale data, about 8 MB of resident memory in a process that otherwise
 * never needs it.
 */
export function processZoneClock(): ZoneClock {
  return offsetClock((instantMs) => {
    const instant = floorToSecond(instantMs);
    const local = new Date(instant);
    return (
      wallFromFields(
        local.getFullYear(),
        local.getMonth(),
        local.getDate(),
        local.getHours(),
        local.getMinutes(),
        local.getSeconds(),
      ) - instant
    );
  });
}

/**
 * The wall time (ms, the local fields read as if they were UTC) of local date-time fields.
 *
 * @param year - full year (1 BC = 0).
 * @param month - 0-11.
 */
function wallFromFields(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
): number {
  // Date.UTC maps years 0-99 to 1900-1999; set the year separately.
  const wallDate = new Date(Date.UTC(2000, month, day, hour, minute, second));
  wallDate.setUTCFullYear(year);
  return wallDate.getTime();
}

/**
 * A {@link ZoneClock} from the offset in force at each instant.
 *
 * @param offsetAt - offset (ms, local minus UTC) in force at an instant (whole seconds).
 */
function offsetClock(offsetAt: (instantMs: number) => number): ZoneClock {
  return {
    wallOf: (instantMs) => floorToSecond(instantMs) + offsetAt(instantMs),
    resolve: (wallMs) => {
      const offsets = new Set([offsetAt(wallMs - DAY_MS), offsetAt(wallMs), offsetAt(wallMs + DAY_MS)]);
      let latest: number | undefined;
      for (const offset of offsets) {
        const instant = wallMs - offset;
        if (offsetAt(instant) === offset && (latest === undefined || instant > latest)) latest = instant;
      }
      if (latest !== undefined) return { kind: 'instant', instantMs: latest };
      // In a gap: find the transition, the first instant whose wall time is past wallMs.
      let low = wallMs - Math.max(...offsets);
      let high = wallMs - Math.min(...offsets);
      while (high - low > SECOND_MS) {
        const middle = floorToSecond(low + (high - low) / 2);
        if (middle + offsetAt(middle) > wallMs) high = middle;
        else low = middle;
      }
      return { kind: 'gap', gapEndWallMs: high + offsetAt(high) };
    },
  };
}

function floorToSecond(ms: number): number {
  return Math.floor(ms / SECOND_MS) * SECOND_MS;
}
