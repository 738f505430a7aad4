/**
 * Parser for the Quartz 2.3 cron dialect: turns an expression into explicit value sets plus the
 * day-of-month/day-of-week rules. Own code, written from Quartz's documented behaviour and checked
 * against Quartz 2.3.2's own results (the shared corpus). Internal to the cron layer.
 *
 * @module
 */
import { CronExpressionError, type CronField } from './cron-expression-error.js';

/** First and last year a Quartz year field accepts (Quartz's documented range). */
export const MIN_YEAR = 1970;
/** @see MIN_YEAR */
export const MAX_YEAR = 2199;

/** The day-of-month field, parsed. */
export type DayOfMonthRule =
  /** `?`: no constraint (the day-of-week field decides). */
  | { readonly kind: 'unspecified' }
  /** Explicit days 1-31 (`*`, lists, ranges, steps). */
  | { readonly kind: 'days'; readonly days: readonly number[] }
  /** `L`, `L-n`, `LW`, `L-nW`: `offset` days before the last day, optionally the nearest weekday to it. */
  | { readonly kind: 'last'; readonly offset: number; readonly nearestWeekday: boolean }
  /** `nW`: the weekday (Mon-Fri) nearest to day `day`, within the month. */
  | { readonly kind: 'nearestWeekday'; readonly day: number };

/** The day-of-week field, parsed; days are Quartz numbers 1-7 = SUN-SAT. */
export type DayOfWeekRule =
  /** `?`: no constraint (the day-of-month field decides). */
  | { readonly kind: 'unspecified' }
  /** Explicit days (`*`, lists, ranges, steps, names; `L` alone is 7 = SAT as in Quartz). */
  | { readonly kind: 'days'; readonly days: readonly number[] }
  /** `nL`: the last day `day` of the month. */
  | { readonly kind: 'last'; readonly day: number }
  /** `n#k`: the `nth` day `day` of the month. */
  | { readonly kind: 'nth'; readonly day: number; readonly nth: number };

/** A Quartz expression, parsed. Value lists are sorted and unique. */
export interface QuartzFields {
  readonly seconds: readonly number[];
  readonly minutes: readonly number[];
  readonly hours: readonly number[];
  readonly dayOfMonth: DayOfMonthRule;
  readonly months: readonly number[];
  readonly dayOfWeek: DayOfWeekRule;
  /** `undefined` when the year field is absent or `*`. */
  readonly years: readonly number[] | undefined;
}

interface FieldSpec {
  readonly field: CronField;
  readonly label: string;
  readonly min: number;
  readonly max: number;
  /** Largest step Quartz accepts after `/`. */
  readonly maxStep: number;
  readonly names?: readonly string[];
  /** Human list of what the field accepts, for error messages. */
  readonly accepts: string;
}

const COMMON = "'*', lists (a,b), ranges (a-b, wrapping allowed) and steps (*/n, a/n, a-b/n)";
const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

const SECONDS: FieldSpec = {
  field: 'seconds',
  label: 'seconds',
  min: 0,
  max: 59,
  maxStep: 59,
  accepts: `0-59, ${COMMON}`,
};
const MINUTES: FieldSpec = { ...SECONDS, field: 'minutes', label: 'minutes' };
const HOURS: FieldSpec = {
  field: 'hours',
  label: 'hours',
  min: 0,
  max: 23,
  maxStep: 23,
  accepts: `0-23, ${COMMON}`,
};
const DAY_OF_MONTH: FieldSpec = {
  field: 'dayOfMonth',
  label: 'day-of-month',
  min: 1,
  max: 31,
  maxStep: 31,
  accepts: `1-31, ${COMMON}, '?', or alone: 'L', 'L-n' (n 0-30), 'LW', 'L-nW', 'nW' (n 1-31)`,
};
const MONTH: FieldSpec = {
  field: 'month',
  label: 'month',
  min: 1,
  max: 12,
  maxStep: 12,
  names: MONTH_NAMES,
  accepts: `1-12 or JAN-DEC, ${COMMON}`,
};
const DAY_OF_WEEK: FieldSpec = {
  field: 'dayOfWeek',
  label: 'day-of-week',
  min: 1,
  max: 7,
  maxStep: 7,
  names: DAY_NAMES,
  accepts: `1-7 (1 = SUN) or SUN-SAT, ${COMMON}, '?', or alone: 'L' (= SAT), 'nL' (last n-day of the month), 'n#k' (k-th n-day, k 1-5)`,
};
const YEAR: FieldSpec = {
  field: 'year',
  label: 'year',
  min: MIN_YEAR,
  max: MAX_YEAR,
  maxStep: MAX_YEAR - MIN_YEAR,
  accepts: `${MIN_YEAR}-${MAX_YEAR}, ${COMMON}`,
};

/**
 * Parses a Quartz 2.3 cron expression.
 *
 * @param expression - 6 or 7 whitespace-separated fields: seconds, minutes, hours, day-of-month,
 *   month, day-of-week, optional year. Case-insensitive.
 * @throws {CronExpressionError} naming the field, the token and the accepted values.
 */
export function parseQuartzFields(expression: string): QuartzFields {
  const text = typeof expression === 'string' ? expression.trim().toUpperCase() : '';
  const parts = text === '' ? [] : text.split(/\s+/);
  if (parts.length < 6 || parts.length > 7) {
    throw new CronExpressionError(
      'expression',
      String(expression),
      `Invalid cron expression '${expression}': expected 6 or 7 fields separated by spaces ` +
        `(seconds minutes hours day-of-month month day-of-week [year], e.g. '0 0/5 * * * ?'), got ${parts.length}.`,
    );
  }
  const [seconds, minutes, hours, dayOfMonth, month, dayOfWeek, year] = parts as [
    string,
    string,
    string,
    string,
    string,
    string,
    string | undefined,
  ];
  const fields: QuartzFields = {
    seconds: parseValues(expression, SECONDS, seconds),
    minutes: parseValues(expression, MINUTES, minutes),
    hours: parseValues(expression, HOURS, hours),
    dayOfMonth: parseDayOfMonth(expression, dayOfMonth),
    months: parseValues(expression, MONTH, month),
    dayOfWeek: parseDayOfWeek(expression, dayOfWeek),
    years: year === undefined || year === '*' ? undefined : parseValues(expression, YEAR, year),
  };
  const domUnspecified = fields.dayOfMonth.kind === 'unspecified';
  const dowUnspecified = fields.dayOfWeek.kind === 'unspecified';
  if (domUnspecified && dowUnspecified) {
    throw new CronExpressionError(
      'dayOfWeek',
      expression,
      `Invalid cron expression '${expression}': '?' can be used in day-of-month or in day-of-week, ` +
        `not in both; give the other one a value (e.g. '*').`,
    );
  }
  if (!domUnspecified && !dowUnspecified) {
    throw new CronExpressionError(
      'dayOfMonth',
      expression,
      `Invalid cron expression '${expression}': Quartz needs '?' in exactly one of day-of-month ` +
        `('${dayOfMonth}') and day-of-week ('${dayOfWeek}'); e.g. '0 0 12 ? * MON' or '0 0 12 1 * ?'.`,
    );
  }
  return fields;
}

function fail(expression: string, spec: FieldSpec, token: string, why = ''): CronExpressionError {
  return new CronExpressionError(
    spec.field,
    expression,
    `Invalid ${spec.label} field '${token}' in cron expression '${expression}'${why ? `: ${why}` : ''}. ` +
      `The ${spec.label} field accepts ${spec.accepts}.`,
  );
}

function parseDayOfMonth(expression: string, text: string): DayOfMonthRule {
  if (text === '?') return { kind: 'unspecified' };
  const last = /^L(?:-(\d+))?(W?)$/.exec(text);
  if (last !== null) {
    const offset = last[1] === undefined ? 0 : Number(last[1]);
    if (offset > 30) throw fail(expression, DAY_OF_MONTH, text, `the offset from the last day must be 0-30`);
    return { kind: 'last', offset, nearestWeekday: last[2] === 'W' };
  }
  const weekday = /^(\d+)W$/.exec(text);
  if (weekday !== null) {
    const day = Number(weekday[1]);
    if (day < 1 || day > 31) throw fail(expression, DAY_OF_MONTH, text, `'W' needs a day 1-31`);
    return { kind: 'nearestWeekday', day };
  }
  if (/[LW]/.test(text)) {
    throw fail(expression, DAY_OF_MONTH, text, `'L' and 'W' must stand alone, not in lists or ranges`);
  }
  return { kind: 'days', days: parseValues(expression, DAY_OF_MONTH, text) };
}

function parseDayOfWeek(expression: string, text: string): DayOfWeekRule {
  if (text === '?') return { kind: 'unspecified' };
  if (text === 'L') return { kind: 'days', days: [7] };
  const last = /^([A-Z]+|\d+)L$/.exec(text);
  if (last !== null) return { kind: 'last', day: parseValue(expression, DAY_OF_WEEK, last[1]!, text) };
  const nth = /^([A-Z]+|\d+)#(\d+)$/.exec(text);
  if (nth !== null) {
    const day = parseValue(expression, DAY_OF_WEEK, nth[1]!, text);
    const n = Number(nth[2]);
    if (n < 1 || n > 5) throw fail(expression, DAY_OF_WEEK, text, `'#' must be followed by 1-5`);
    return { kind: 'nth', day, nth: n };
  }
  // No day name contains an 'L', so any 'L' left here is misplaced.
  if (text.includes('#') || text.includes('L')) {
    throw fail(expression, DAY_OF_WEEK, text, `'L' and '#' must stand alone, not in lists or ranges`);
  }
  return { kind: 'days', days: parseValues(expression, DAY_OF_WEEK, text) };
}

/** Parses `*`, lists, ranges (wrapping past the maximum), steps and names into sorted values. */
function parseValues(expression: string, spec: FieldSpec, text: string): number[] {
  const values = new Set<number>();
  for (const item of text.split(',')) {
    if (item === '') throw fail(expression, spec, text, 'empty list item');
    if (item.includes('?')) {
      throw fail(expression, spec, text, `'?' is only allowed alone, in day-of-month or day-of-week`);
    }
    const match = /^(?:(\*)|([A-Z0-9]+)(?:-([A-Z0-9]+))?)?(?:\/(\d+))?$/.exec(item);
    if (match === null || (match[1] === undefined && match[2] === undefined && match[4] === undefined)) {
      throw fail(expression, spec, item, `unexpected '${item}'`);
    }
    const [, star, startText, endText, stepText] = match;
    const isName = (value: string | undefined): boolean => value !== undefined && /^[A-Z]/.test(value);
    if (endText !== undefined && isName(startText) !== isName(endText)) {
      throw fail(expression, spec, item, 'a range needs two numbers or two names');
    }
    if (stepText !== undefined && (isName(startText) || isName(endText))) {
      // Quartz ignores a step after a name ('MON/2' is MON, 'JAN-DEC/3' is JAN-DEC): reject instead.
      throw fail(expression, spec, item, 'a step cannot follow a name; write the start as a number');
    }
    const step = stepText === undefined ? 1 : Number(stepText);
    if (stepText !== undefined && (step < 1 || step > spec.maxStep)) {
      throw fail(expression, spec, item, `the step after '/' must be 1-${spec.maxStep}`);
    }
    // '*', '*/n' and Quartz's '/n' (the same as '*/n') start at the minimum.
    const start =
      star !== undefined || startText === undefined
        ? spec.min
        : parseValue(expression, spec, startText, item);
    let end: number;
    if (endText !== undefined) end = parseValue(expression, spec, endText, item);
    else if (star !== undefined || startText === undefined || stepText !== undefined) end = spec.max;
    else end = start;
    if (end < start) {
      if (spec.field === 'year') throw fail(expression, spec, item, 'a year range cannot wrap around');
      // Quartz wraps a range past the maximum: hours 22-2 = 22,23,0,1,2; FRI-MON = 6,7,1,2.
      end += spec.max - spec.min + 1;
    }
    const size = spec.max - spec.min + 1;
    for (let value = start; value <= end; value += step) {
      values.add(value > spec.max ? value - size : value);
    }
  }
  return [...values].sort((a, b) => a - b);
}

function parseValue(expression: string, spec: FieldSpec, text: string, item: string): number {
  let value: number;
  if (/^\d+$/.test(text)) {
    value = Number(text);
  } else {
    const index = spec.names?.indexOf(text) ?? -1;
    if (index < 0) {
      const why = spec.names
        ? `'${text}' is not a ${spec.label} value (names: ${spec.names.join(', ')})`
        : `'${text}' is not a number (names are only accepted in month and day-of-week)`;
      throw fail(expression, spec, item, why);
    }
    value = index + spec.min;
  }
  if (value < spec.min || value > spec.max) {
    throw fail(expression, spec, item, `${value} is out of range ${spec.min}-${spec.max}`);
  }
  return value;
}
