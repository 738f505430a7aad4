/**
 * The `shardingItemParameters` grammar: `item=parameter` pairs joined by `,`.
 *
 * @module
 */

import { describeValue, JobConfigurationError } from './job-configuration-error.js';

const FIELD = 'shardingItemParameters';
const INTEGER = /^[+-]?\d+$/;
const JAVA_INT_MAX = 2_147_483_647;

/** Result of {@link analyzeShardingItemParameters}: the parsed map and every problem found. */
interface ShardingItemParametersAnalysis {
  readonly parameters: Map<number, string>;
  readonly problems: string[];
}

/**
 * Parses `text` and collects every problem instead of stopping at the first.
 *
 * @param shardingTotalCount - the range check `0 <= item < shardingTotalCount` is skipped when this
 *   is not a positive integer (the count itself is then reported elsewhere).
 * @internal
 */
export function analyzeShardingItemParameters(
  text: string,
  shardingTotalCount: number,
): ShardingItemParametersAnalysis {
  const parameters = new Map<number, string>();
  const problems: string[] = [];
  if (text === '') return { parameters, problems };
  const checkRange = Number.isInteger(shardingTotalCount) && shardingTotalCount > 0;
  const segments = text.split(',');
  // Like Java's String#split, trailing empty segments (a trailing ',') are dropped.
  while (segments.length > 1 && segments[segments.length - 1] === '') segments.pop();
  for (const segment of segments) {
    const pair = segment.trim();
    const parts = pair.split('=');
    if (parts.length !== 2) {
      problems.push(
        `pair ${describeValue(pair)} must be exactly one 'item=parameter' (parameters may not contain ',' or '=')`,
      );
      continue;
    }
    const key = parts[0]!.trim();
    const value = parts[1]!.trim();
    if (!INTEGER.test(key)) {
      problems.push(`item ${describeValue(key)} in pair ${describeValue(pair)} is not an integer`);
      continue;
    }
    if (value === '') {
      problems.push(`pair ${describeValue(pair)} has no parameter after '='`);
      continue;
    }
    const item = Number.parseInt(key, 10);
    if (checkRange && (item < 0 || item >= shardingTotalCount)) {
      problems.push(`item ${item} is outside the sharding items 0..${shardingTotalCount - 1}`);
      continue;
    }
    if (!checkRange && (item < 0 || item > JAVA_INT_MAX)) {
      problems.push(`item ${item} is not a sharding item (an integer >= 0)`);
      continue;
    }
    if (parameters.has(item)) {
      problems.push(`item ${item} is given more than once`);
      continue;
    }
    parameters.set(item, value);
  }
  return { parameters, problems };
}

/**
 * Formats one grammar problem as a complete issue message.
 * @internal
 */
export function shardingItemParametersMessage(
  text: string,
  problem: string,
  shardingTotalCount: number,
): string {
  const items =
    Number.isInteger(shardingTotalCount) && shardingTotalCount > 0
      ? `items 0..${shardingTotalCount - 1}`
      : 'integer items';
  return (
    `${FIELD} = ${describeValue(text)} is invalid: ${problem}; ` +
    `expected 'item=parameter' pairs joined by ',' with ${items}, each at most once (e.g. '0=Beijing,1=Shanghai')`
  );
}

/**
 * Parses ElasticJob's `shardingItemParameters` (`ShardingItemParameters` in ElasticJob's kernel):
 * `item=parameter` pairs joined by `,`; each pair is trimmed and must split into exactly two parts
 * on `=`; the item is an integer (optional sign and leading zeros allowed, like
 * `Integer.parseInt`), the parameter is trimmed, non-empty, and cannot contain `,` or `=`.
 * A trailing `,` is tolerated, as in ElasticJob. Items without a pair have no parameter (ElasticJob
 * passes `null`).
 *
 * Stricter than ElasticJob, which accepts any `int` key and lets a duplicate item's last pair win:
 * every item must lie in `0 <= item < shardingTotalCount` and appear at most once, and a pair with a
 * trailing `=` (`0=A=`, which Java's `split` reads as `0=A`) is rejected.
 *
 * @param text - the parameter string; `''` yields an empty map.
 * @param shardingTotalCount - the job's item count, an integer > 0.
 * @returns item → parameter, for the items that have a pair, in text order.
 * @throws {JobConfigurationError} with field `shardingItemParameters` and one issue per problem.
 * @throws {TypeError} when `shardingTotalCount` is not an integer > 0.
 *
 * @example
 * ```ts
 * parseShardingItemParameters('0=Beijing, 1=Shanghai', 3); // Map { 0 => 'Beijing', 1 => 'Shanghai' }
 * ```
 */
export function parseShardingItemParameters(text: string, shardingTotalCount: number): Map<number, string> {
  if (typeof text !== 'string') throw new TypeError(`${FIELD} must be a string, got ${describeValue(text)}`);
  if (!Number.isInteger(shardingTotalCount) || shardingTotalCount <= 0) {
    throw new TypeError(
      `shardingTotalCount must be an integer > 0, got ${describeValue(shardingTotalCount)}`,
    );
  }
  const { parameters, problems } = analyzeShardingItemParameters(text, shardingTotalCount);
  if (problems.length > 0) {
    throw JobConfigurationError.fromIssues(
      problems.map((problem) => ({
        field: FIELD,
        message: shardingItemParametersMessage(text, problem, shardingTotalCount),
      })),
    );
  }
  return parameters;
}
