/**
 * The built-in sharding strategies of ElasticJob (`kernel/internal/sharding/strategy/type/*`).
 *
 * @module
 */

import type { JobInstance } from '../instance/index.js';
import type { Clock } from '../time/clock.js';
import { javaLongToInt, javaStringHashCode } from './java-hash.js';
import type { JobShardingStrategy } from './job-sharding-strategy.js';

function checkArguments(instances: readonly JobInstance[], shardingTotalCount: number): void {
  if (!Array.isArray(instances)) throw new TypeError('instances must be an array');
  if (!Number.isSafeInteger(shardingTotalCount) || shardingTotalCount < 0) {
    throw new TypeError(`shardingTotalCount must be an integer >= 0, got ${String(shardingTotalCount)}`);
  }
  const seen = new Set<string>();
  for (const instance of instances) {
    if (seen.has(instance.jobInstanceId)) {
      throw new TypeError(
        `instances must have distinct ids, got ${JSON.stringify(instance.jobInstanceId)} twice`,
      );
    }
    seen.add(instance.jobInstanceId);
  }
}

/**
 * Average allocation in the given order: with `n` instances, instance `k` gets the items
 * `[k * per, (k + 1) * per)` where `per = floor(total / n)`, then the `total % n` leftover items
 * `per * n + k` go one each to the first instances. Exported for custom strategies that reorder
 * instances and then allocate like ElasticJob's do.
 *
 * @param instances - instances in allocation order.
 * @param shardingTotalCount - the number of items, an integer >= 0.
 * @returns every instance id → its ascending items; empty map for no instances.
 * @throws {TypeError} for duplicate instance ids or a bad total.
 */
export function allocateAverage(
  instances: readonly JobInstance[],
  shardingTotalCount: number,
): Map<string, number[]> {
  checkArguments(instances, shardingTotalCount);
  const result = new Map<string, number[]>();
  const n = instances.length;
  if (n === 0) return result;
  const per = Math.floor(shardingTotalCount / n);
  const leftover = shardingTotalCount % n;
  instances.forEach((instance, k) => {
    const items: number[] = [];
    for (let item = k * per; item < (k + 1) * per; item++) items.push(item);
    if (k < leftover) items.push(per * n + k);
    result.set(instance.jobInstanceId, items);
  });
  return result;
}

/**
 * `|value| % n` for a Java `int` value, avoiding Java's `Math.abs(Integer.MIN_VALUE)` trap: Java
 * keeps `-2147483648` negative there, which makes ElasticJob's ROUND_ROBIN index a list with a
 * negative number and throw `IndexOutOfBoundsException`. We use the true absolute value `2^31`
 * instead, so the offset is `2147483648 % n` (always in `0..n-1`). For every other value this is
 * exactly Java's `Math.abs(value) % n`.
 */
function absRemainder(value: number, n: number): number {
  return Math.abs(value) % n;
}

function rotate(instances: readonly JobInstance[], offset: number): JobInstance[] {
  const n = instances.length;
  return instances.map((_, i) => instances[(i + offset) % n]!);
}

/**
 * `AVG_ALLOCATION`, the default (ElasticJob `AverageAllocationJobShardingStrategy`): see
 * {@link allocateAverage}. With instances `c, b, a` (registry order): 9 items → `c=[0,1,2]
 * b=[3,4,5] a=[6,7,8]`; 8 → `[0,1,6] [2,3,7] [4,5]`; 10 → `[0,1,2,9] [3,4,5] [6,7,8]`;
 * 2 → `[0] [1] []`. The highest instance id gets item 0.
 */
export const averageAllocationStrategy: JobShardingStrategy = Object.freeze({
  type: 'AVG_ALLOCATION',
  sharding: (instances: readonly JobInstance[], _jobName: string, shardingTotalCount: number) =>
    allocateAverage(instances, shardingTotalCount),
});

/**
 * `ODEVITY` (ElasticJob `OdevitySortByNameJobShardingStrategy`): when the job name's Java hash code
 * is even (Java remainder: `hash % 2 == 0`, so negative odd hashes count as odd), the instance order
 * is reversed; then {@link allocateAverage}. Because instances arrive descending, an even hash
 * allocates in ascending id order (ElasticJob's docs say the opposite; its code does this). E.g.
 * `test_job` (hash −1146456432, even) → ascending; `myJob` (104343153, odd) → descending.
 * Unlike ElasticJob, the caller's array is not reversed in place.
 */
export const odevitySortByNameStrategy: JobShardingStrategy = Object.freeze({
  type: 'ODEVITY',
  sharding: (instances: readonly JobInstance[], jobName: string, shardingTotalCount: number) => {
    checkArguments(instances, shardingTotalCount);
    const ordered = javaStringHashCode(jobName) % 2 === 0 ? [...instances].reverse() : instances;
    return allocateAverage(ordered, shardingTotalCount);
  },
});

/**
 * `ROUND_ROBIN` (ElasticJob `RoundRobinByNameJobShardingStrategy`): rotates the instance list left
 * by `offset = |hash(jobName)| % n` (`L'[i] = L[(i + offset) % n]`), then {@link allocateAverage}.
 * Spreads many single-item jobs over different instances. E.g. with 3 instances: `myJob` offset 0,
 * `orderJob` (hash 1234284943) offset 1, `javaSimpleJob` (−694093655) offset 2.
 *
 * Deviation: for a job name whose hash is `Integer.MIN_VALUE` (e.g. `polygenelubricants`) ElasticJob
 * throws `IndexOutOfBoundsException` (`Math.abs` overflows); we use the offset `2^31 % n`.
 */
export const roundRobinByNameStrategy: JobShardingStrategy = Object.freeze({
  type: 'ROUND_ROBIN',
  sharding: (instances: readonly JobInstance[], jobName: string, shardingTotalCount: number) => {
    checkArguments(instances, shardingTotalCount);
    if (instances.length === 0) return new Map<string, number[]>();
    const offset = absRemainder(javaStringHashCode(jobName), instances.length);
    return allocateAverage(rotate(instances, offset), shardingTotalCount);
  },
});

/**
 * Creates `SINGLE_SHARDING_BALANCE` (ElasticJob `SingleShardingBalanceJobShardingStrategy`, added
 * Dec 2024): like `ROUND_ROBIN`, but the offset is `|hash(jobName) + (int) nowMs| % n` — Java `int`
 * addition with overflow, `(int) nowMs` being the low 32 bits of the epoch milliseconds — so a
 * one-item job moves between instances from one resharding to the next. The same
 * `Integer.MIN_VALUE` deviation as {@link roundRobinByNameStrategy} applies.
 *
 * @param clock - source of the current time in epoch ms. @defaultValue `{ now: Date.now }`
 * @returns a strategy of type `SINGLE_SHARDING_BALANCE`.
 */
export function createSingleShardingBalanceStrategy(
  clock: Pick<Clock, 'now'> = { now: Date.now },
): JobShardingStrategy {
  return Object.freeze({
    type: 'SINGLE_SHARDING_BALANCE',
    sharding: (instances: readonly JobInstance[], jobName: string, shardingTotalCount: number) => {
      checkArguments(instances, shardingTotalCount);
      if (instances.length === 0) return new Map<string, number[]>();
      const sum = (javaStringHashCode(jobName) + javaLongToInt(clock.now())) | 0;
      const offset = absRemainder(sum, instances.length);
      return allocateAverage(rotate(instances, offset), shardingTotalCount);
    },
  });
}

/** `SINGLE_SHARDING_BALANCE` reading the system clock (see {@link createSingleShardingBalanceStrategy}). */
export const singleShardingBalanceStrategy: JobShardingStrategy = createSingleShardingBalanceStrategy();
