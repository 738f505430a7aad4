/**
 * `parseCron`: Quartz 2.3 cron expressions evaluated with croner, in a time zone, with Quartz's
 * daylight-saving behaviour.
 *
 * How it works: {@link parseQuartzFields} (own code) validates the Quartz dialect and expands every
 * field into explicit values; those are written out as a croner pattern that croner evaluates on
 * the *local wall clock* (croner runs in UTC, where wall time = UTC time). This layer then maps the
 * wall time croner found to an instant in the job's zone, the way Quartz does (see
 * {@link CronExpression.next}). croner never sees the zone because its own daylight-saving policy
 * (Vixie cron's: fixed-time jobs fire at the end of a gap, interval jobs fire on both passes through
 * a repeated hour) is not Quartz's. Two more things croner cannot say are handled here:
 * - `L-n`, `L-nW` and `nW`: croner's `L` takes no offset, and Quartz's `nW` differs from croner's
 *   in months shorter than `n` days; croner searches every day and this layer keeps the one target
 *   day of each month, jumping straight to it (at most two croner calls per month).
 * - Quartz quirks croner reads differently are rewritten by the expansion: numeric-start steps
 *   (`0/5`, `5/56` = only 5), wrapping ranges (`22-2`, `FRI-MON`), `L` alone in day-of-week (= SAT),
 *   `/n` (= `*\/n`); croner only ever sees plain value lists, `L`, `LW`, `n#L` and `n#k`.
 *
 * @module
 */
import { Cron } from 'croner';
import { CronExpressionError } from './cron-expression-error.js';
import {
  type DayOfMonthRule,
  type DayOfWeekRule,
  MAX_YEAR,
  parseQuartzFields,
  type QuartzFields,
} from './quartz-fields.js';
import { parseTimeZone, processZoneClock, type ZoneClock, zoneClock } from './time-zone.js';

const SECOND_MS = 1000;

/** Options of {@link parseCron}. */
export interface ParseCronOptions {
  /**
   * Zone the expression's fields are read in: an IANA name (`'Asia/Shanghai'`) or ElasticJob's
   * `GMT+08:00` form; see {@link parseTimeZone}.
   * @defaultValue `undefined`: UTC (never the process's local zone, so schedules do not depend on the
   *   machine they run on).
   */
  readonly timeZone?: string;
}

/**
 * A parsed Quartz cron expression bound to a time zone. Immutable; shared by {@link parseCron}.
 */
export interface CronExpression {
  /** The expression as given to {@link parseCron}. */
  readonly expression: string;
  /**
   * The normalised zone ({@link parseTimeZone}), or `undefined` when none was given: UTC, or the
   * process's own zone for an expression of `parseCronInProcessZone` (the kernel's, internal).
   */
  readonly timeZone: string | undefined;
  /**
   * The first fire time strictly after `after`, as Quartz 2.3's `CronExpression.getTimeAfter`
   * computes it. Fire times are whole seconds; milliseconds of `after` are ignored
   * (`after` = 10:00:00.500 gives 10:00:01 at the earliest).
   *
   * Daylight saving, as Quartz does it (fields are matched against the local wall clock):
   * - Clocks go forward (e.g. America/New_York 02:00 → 03:00): wall times in the gap do not exist
   *   and never fire; the search goes on from the end of the gap. `0 30 2 * * ?` does not fire that
   *   day; `0 0/20 * * * ?` fires at 01:40 EST, then 03:00 EDT.
   * - Clocks go back (01:00-01:59 happens twice): a repeated wall time fires once, at its second
   *   occurrence (standard time). The first pass through the repeated hour fires nothing, so
   *   `0 30 1 * * ?` fires at 01:30 EST only and `0 0/20 * * * ?` fires 00:40 EDT, then 01:00 EST.
   *
   * Runs in a few croner evaluations, never a loop over seconds; an expression that can never fire
   * again (e.g. `0 0 0 30 2 ?`) returns `undefined` after a bounded search.
   *
   * @param after - The instant to search after.
   * @returns The next fire time, or `undefined` when the expression never fires after `after`
   *   (its years are past, or the date cannot exist). No fire time is later than year 2199.
   * @throws {TypeError} if `after` is not a valid `Date`.
   */
  next(after: Date): Date | undefined;
}

/**
 * Parses a Quartz 2.3 cron expression, the dialect ElasticJob jobs are configured with.
 *
 * The dialect: 6 or 7 space-separated fields `seconds minutes hours day-of-month month day-of-week
 * [year]`; exactly one of day-of-month and day-of-week must be `?`; `*`, lists, ranges (wrapping,
 * e.g. `22-2`), steps (`*\/5`, `0/5`, `10-40/10`); month names `JAN`-`DEC` and day names `SUN`-`SAT`
 * (any case); day-of-week `1`-`7` = `SUN`-`SAT` (not Unix cron's `0`-`6`!); day-of-month `L`,
 * `L-n`, `LW`, `L-nW`, `nW`; day-of-week `L` (= SAT), `nL` (last n-day), `n#k` (k-th n-day); years
 * 1970-2199.
 *
 * Stricter than Quartz where Quartz silently ignores or misreads text (e.g. `5X`, `MONDAY`, `1-5W`,
 * `1W,15W`, `MON-FRI/2` (Quartz drops the step), `1,`, more than 7 fields, step 0, `0W`, years
 * outside 1970-2199): those are errors here instead of schedules nobody meant.
 *
 * @param expression - The cron expression, e.g. `'0 0/5 * * * ?'`.
 * @param options - See {@link ParseCronOptions}.
 * @returns The parsed expression; see {@link CronExpression.next}. Parsed expressions are shared:
 *   the same expression and `timeZone` (as given) return the same immutable object while it is
 *   among the 1,024 most recently parsed, so jobs on one expression hold one parse and compute
 *   each fire time once.
 * @throws {CronExpressionError} for an invalid expression (field `'expression'`, `'seconds'`, …,
 *   `'year'`) or time zone (field `'timeZone'`); the message names the field, the bad token and the
 *   accepted values.
 * @example
 * ```ts
 * const cron = parseCron('0 30 9 ? * MON-FRI', { timeZone: 'Asia/Shanghai' });
 * cron.next(new Date('2026-01-01T00:00:00Z')); // 2026-01-01T01:30:00.000Z (Thu 09:30 +08:00)
 * ```
 */
export function parseCron(expression: string, options: ParseCronOptions = {}): CronExpression {
  return shared(`${options.timeZone ?? ''}\u0000${expression}`, () => {
    const timeZone = options.timeZone === undefined ? undefined : parseTimeZone(options.timeZone);
    return new QuartzCronExpression(expression, timeZone, zoneClock(timeZone), parseQuartzFields(expression));
  });
}

/**
 * Like {@link parseCron}, in the process's own zone (ElasticJob: the JVM default zone), the one
 * `TZ` or the host selects, followed when `process.env.TZ` changes later. What the kernel uses for
 * a job without `timeZone`. Unlike naming that zone (`Intl.DateTimeFormat().resolvedOptions()`),
 * it loads no ICU locale data (about 8 MB of resident memory). Internal to the kernel.
 *
 * @param expression - A Quartz cron expression.
 * @returns The parsed expression; its `timeZone` is `undefined`.
 * @throws {CronExpressionError} as {@link parseCron}.
 */
export function parseCronInProcessZone(expression: string): CronExpression {
  return shared(
    `\u0001process\u0000${expression}`,
    () => new QuartzCronExpression(expression, undefined, processZoneClock(), parseQuartzFields(expression)),
  );
}

/**
 * The parsed expression kept under `key`, else the one `parse` builds, kept (least recently parsed
 * evicted first beyond {@link MAX_SHARED_EXPRESSIONS}).
 */
function shared(key: string, parse: () => QuartzCronExpression): QuartzCronExpression {
  const kept = PARSED.get(key);
  if (kept !== undefined) {
    // Re-inserted so that the least recently parsed expression is evicted first.
    PARSED.delete(key);
    PARSED.set(key, kept);
    return kept;
  }
  const parsed = parse();
  if (PARSED.size >= MAX_SHARED_EXPRESSIONS) {
    const oldest = PARSED.keys().next();
    if (oldest.done !== true) PARSED.delete(oldest.value);
  }
  PARSED.set(key, parsed);
  return parsed;
}

/**
 * How many parsed expressions {@link parseCron} keeps to hand out again. A parsed expression holds
 * croner's expanded fields (about 84 KB, most of it a 10,000-entry year table), and the jobs of one
 * process mostly share a few expressions: 1,000 jobs on `0/5 * * * * ?` hold one parse, not 1,000.
 * Invalid expressions are never kept (they throw each time).
 */
const MAX_SHARED_EXPRESSIONS = 1024;

/** Parsed expressions by time zone (as given, or the process's) and expression, least recently parsed first. */
const PARSED = new Map<string, QuartzCronExpression>();

class QuartzCronExpression implements CronExpression {
  readonly expression: string;
  readonly timeZone: string | undefined;
  readonly #fields: QuartzFields;
  readonly #cron: Cron;
  readonly #clock: ZoneClock;
  /**
   * The last `next()` answer, by the whole second it was asked after: every job on this expression
   * asks for the same second at the same fire, and the answer depends only on that second.
   */
  #memoAfterSecond: number | undefined;
  #memoNextMs: number | undefined;

  constructor(expression: string, timeZone: string | undefined, clock: ZoneClock, fields: QuartzFields) {
    this.expression = expression;
    this.timeZone = timeZone;
    this.#fields = fields;
    this.#clock = clock;
    try {
      this.#cron = new Cron(toCronerPattern(fields), {
        paused: true,
        // A numeric offset, not the zone 'Etc/UTC': croner then reads UTC fields with Date's UTC
        // methods instead of an Intl.DateTimeFormat (whose first use loads ICU's locale data).
        utcOffset: 0,
        alternativeWeekdays: true,
        domAndDow: true,
        mode: '7-part',
      });
    } catch (error) {
      // Not expected: the pattern is built from validated values only.
      throw new CronExpressionError(
        'expression',
        expression,
        `Cron expression '${expression}' could not be evaluated: ${(error as Error).message}`,
      );
    }
  }

  next(after: Date): Date | undefined {
    if (!(after instanceof Date) || Number.isNaN(after.getTime())) {
      throw new TypeError(`next(after) needs a valid Date, got ${String(after)}`);
    }
    const afterSecond = Math.floor(after.getTime() / SECOND_MS);
    if (afterSecond !== this.#memoAfterSecond) {
      this.#memoNextMs = this.#search(after);
      this.#memoAfterSecond = afterSecond;
    }
    // A new Date each time: callers may mutate what they get.
    return this.#memoNextMs === undefined ? undefined : new Date(this.#memoNextMs);
  }

  /** The search behind {@link next}: the next fire time after `after`, epoch ms. */
  #search(after: Date): number | undefined {
    const afterMs = after.getTime();
    const dayTarget = dayOfMonthTarget(this.#fields.dayOfMonth);
    let wall = this.#clock.wallOf(afterMs);
    // Every round moves `wall` forward (to the next candidate, a later day, or past a gap), and
    // croner stops at year 9999, so this ends; the bound only guards against a bug.
    for (let round = 0; round < 100_000; round++) {
      const match = this.#cron.nextRun(new Date(wall));
      if (match === null) return undefined;
      const candidate = match.getTime();
      const date = new Date(candidate);
      const year = date.getUTCFullYear();
      if (year > MAX_YEAR) return undefined;
      if (dayTarget !== undefined) {
        const month = date.getUTCMonth();
        const target = dayTarget(year, month);
        const day = date.getUTCDate();
        if (target === undefined || day > target) {
          wall = Date.UTC(year, month + 1, 1) - SECOND_MS;
          continue;
        }
        if (day < target) {
          wall = Date.UTC(year, month, target) - SECOND_MS;
          continue;
        }
      }
      const resolved = this.#clock.resolve(candidate);
      if (resolved.kind === 'gap') {
        wall = Math.max(candidate, resolved.gapEndWallMs - SECOND_MS);
        continue;
      }
      if (resolved.instantMs <= afterMs) {
        wall = candidate;
        continue;
      }
      return resolved.instantMs;
    }
    throw new Error(`Cron expression '${this.expression}': no fire time found after ${after.toISOString()}`);
  }
}

/** The one day of a month (1-31) a rule allows, or `undefined` for none; months are 0-11. */
type DayTarget = (year: number, month: number) => number | undefined;

/**
 * Day-of-month rules croner cannot express exactly, computed here (croner then searches every day
 * and {@link CronExpression.next} keeps the target day):
 * - `L-n`, `L-nW`: croner's `L` takes no offset. A month shorter than `n + 1` days has no target
 *   (Quartz skips it too).
 * - `nW`: Quartz reads day `n` of a month too short for it as the first days of the next month
 *   (`java.util.Calendar` is lenient) and so fires on the last day (a Friday) when `n` is one past
 *   the end of the month and the next month starts on a Saturday (e.g. `31W` on Friday 30 Nov
 *   2029); otherwise such a month is skipped. croner would always skip it.
 */
function dayOfMonthTarget(rule: DayOfMonthRule): DayTarget | undefined {
  if (rule.kind === 'last' && rule.offset > 0) {
    return (year, month) => {
      const day = lastDayOfMonth(year, month) - rule.offset;
      if (day < 1) return undefined;
      return rule.nearestWeekday ? nearestWeekday(year, month, day) : day;
    };
  }
  if (rule.kind === 'nearestWeekday') {
    return (year, month) => {
      const lastDay = lastDayOfMonth(year, month);
      if (rule.day <= lastDay) return nearestWeekday(year, month, rule.day);
      const overflowsOntoSaturday = rule.day === lastDay + 1 && weekdayOf(year, month, rule.day) === 6;
      return overflowsOntoSaturday ? lastDay : undefined;
    };
  }
  return undefined;
}

/** The weekday (Mon-Fri) nearest to `day`, without leaving the month (Quartz's `W`). */
function nearestWeekday(year: number, month: number, day: number): number {
  const weekday = weekdayOf(year, month, day);
  if (weekday === 6) return day === 1 ? 3 : day - 1;
  if (weekday === 0) return day === lastDayOfMonth(year, month) ? day - 2 : day + 1;
  return day;
}

function lastDayOfMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
}

/** 0 = Sunday … 6 = Saturday; `day` may run past the end of the month. */
function weekdayOf(year: number, month: number, day: number): number {
  return new Date(Date.UTC(year, month, day)).getUTCDay();
}

/** Writes parsed Quartz fields as a 7-part croner pattern (croner's Quartz weekday numbering). */
function toCronerPattern(fields: QuartzFields): string {
  return [
    fields.seconds.join(','),
    fields.minutes.join(','),
    fields.hours.join(','),
    dayOfMonthPattern(fields.dayOfMonth),
    fields.months.join(','),
    dayOfWeekPattern(fields.dayOfWeek),
    fields.years === undefined ? '*' : fields.years.join(','),
  ].join(' ');
}

function dayOfMonthPattern(rule: DayOfMonthRule): string {
  switch (rule.kind) {
    case 'unspecified':
      return '*';
    case 'days':
      return rule.days.join(',');
    case 'nearestWeekday':
      // Filtered in next() (see dayOfMonthTarget); croner sees every day.
      return '*';
    case 'last':
      // L-n and L-nW are filtered in next(); croner sees every day.
      if (rule.offset > 0) return '*';
      return rule.nearestWeekday ? 'LW' : 'L';
  }
}

function dayOfWeekPattern(rule: DayOfWeekRule): string {
  switch (rule.kind) {
    case 'unspecified':
      return '*';
    case 'days':
      return rule.days.join(',');
    case 'last':
      return `${rule.day}#L`;
    case 'nth':
      return `${rule.day}#${rule.nth}`;
  }
}
