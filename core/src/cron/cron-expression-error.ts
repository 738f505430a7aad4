/**
 * The error thrown for a cron expression or time zone that the Quartz dialect does not accept.
 *
 * @module
 */

/**
 * The part of a Quartz cron expression an error is about: one of the seven fields, the expression
 * as a whole (`'expression'`: wrong number of fields, the day-of-month/day-of-week `?` rule) or the
 * time zone it is evaluated in (`'timeZone'`).
 */
export type CronField =
  | 'expression'
  | 'seconds'
  | 'minutes'
  | 'hours'
  | 'dayOfMonth'
  | 'month'
  | 'dayOfWeek'
  | 'year'
  | 'timeZone';

/**
 * An invalid Quartz cron expression or time zone. Quartz throws `ParseException` for the same
 * expressions (and ElasticJob wraps it in `JobConfigurationException`); this error also says which
 * field was wrong.
 *
 * Branch on {@link CronExpressionError.field}, never on `message`: the message is for humans and
 * names the field, the bad token and the accepted values.
 *
 * @example
 * ```ts
 * try {
 *   parseCron('0 0 25 * * ?');
 * } catch (error) {
 *   if (error instanceof CronExpressionError) console.log(error.field); // 'hours'
 * }
 * ```
 */
export class CronExpressionError extends Error {
  /** Which field (or the whole expression, or the time zone) is invalid. */
  readonly field: CronField;
  /** The expression (or, for `field: 'timeZone'`, the time zone text) as it was given. */
  readonly expression: string;

  /**
   * @param field - The offending field.
   * @param expression - The expression (or time zone) as given.
   * @param message - What is wrong, naming the field, the bad token and the accepted values.
   */
  constructor(field: CronField, expression: string, message: string) {
    super(message);
    this.name = 'CronExpressionError';
    this.field = field;
    this.expression = expression;
  }
}
