import { afterEach, describe, expect, it } from 'vitest';
import {
  allocateAverage,
  averageAllocationStrategy,
  createSingleShardingBalanceStrategy,
  getJobShardingStrategy,
  JobConfigurationError,
  type JobInstance,
  type JobShardingStrategy,
  javaLongToInt,
  javaStringHashCode,
  listJobShardingStrategyTypes,
  odevitySortByNameStrategy,
  registerJobShardingStrategy,
  roundRobinByNameStrategy,
  singleShardingBalanceStrategy,
  unregisterJobShardingStrategy,
} from '../src/index.js';

const instance = (jobInstanceId: string): JobInstance => ({
  jobInstanceId,
  serverIp: jobInstanceId.split('@-@')[0]!,
});

/** The reference's three instances, in registry (descending id) order. */
const C = '10.0.0.3@-@300';
const B = '10.0.0.2@-@200';
const A = '10.0.0.1@-@100';
const three = [instance(C), instance(B), instance(A)];

/** Reference implementation of Java's String.hashCode with BigInt, to check the fast one. */
function referenceHash(s: string): number {
  let h = 0n;
  for (let i = 0; i < s.length; i++) h = BigInt.asIntN(32, 31n * h + BigInt(s.charCodeAt(i)));
  return Number(h);
}

const entries = (result: Map<string, number[]>) => [...result.entries()];

describe('javaStringHashCode', () => {
  it.each([
    ['test_job', -1146456432],
    ['myJob', 104343153],
    ['orderJob', 1234284943],
    ['javaSimpleJob', -694093655],
    ['', 0],
    ['a', 97],
    ['polygenelubricants', -2147483648],
  ])('hashes %j to %d as Java does', (s, hash) => {
    expect(javaStringHashCode(s)).toBe(hash);
  });

  it('uses UTF-16 code units and 32-bit overflow', () => {
    for (const s of ['注文ジョブ', '😀 emoji', 'x'.repeat(1000), 'ÿ\u0000\uffff', 'orders.v2_job-1']) {
      expect(javaStringHashCode(s)).toBe(referenceHash(s));
    }
  });

  it('takes the low 32 bits of a long like Java (int) casts', () => {
    expect(javaLongToInt(0)).toBe(0);
    expect(javaLongToInt(2 ** 31)).toBe(-(2 ** 31));
    expect(javaLongToInt(2 ** 32 + 5)).toBe(5);
    expect(javaLongToInt(1_767_225_600_000)).toBe(Number(BigInt.asIntN(32, 1_767_225_600_000n)));
  });
});

describe('AVG_ALLOCATION', () => {
  it.each([
    [
      9,
      [
        [0, 1, 2],
        [3, 4, 5],
        [6, 7, 8],
      ],
    ],
    [
      8,
      [
        [0, 1, 6],
        [2, 3, 7],
        [4, 5],
      ],
    ],
    [
      10,
      [
        [0, 1, 2, 9],
        [3, 4, 5],
        [6, 7, 8],
      ],
    ],
    [2, [[0], [1], []]],
  ])('splits %d items over three instances as the reference shows', (total, expected) => {
    expect(entries(averageAllocationStrategy.sharding(three, 'anyJob', total))).toEqual([
      [C, expected[0]],
      [B, expected[1]],
      [A, expected[2]],
    ]);
  });

  it('returns an empty map for no instances and empty lists for no items', () => {
    expect(averageAllocationStrategy.sharding([], 'j', 5)).toEqual(new Map());
    expect(entries(averageAllocationStrategy.sharding(three, 'j', 0))).toEqual([
      [C, []],
      [B, []],
      [A, []],
    ]);
  });

  it('gives one item each to the first instances when there are more instances than items', () => {
    const five = ['e', 'd', 'c', 'b', 'a'].map(instance);
    expect(entries(allocateAverage(five, 3))).toEqual([
      ['e', [0]],
      ['d', [1]],
      ['c', [2]],
      ['b', []],
      ['a', []],
    ]);
  });

  it('assigns every item exactly once', () => {
    for (let n = 1; n <= 7; n++) {
      const instances = Array.from({ length: n }, (_, i) => instance(`i${n - i}`));
      for (let total = 0; total <= 20; total++) {
        const items = [...allocateAverage(instances, total).values()].flat().sort((x, y) => x - y);
        expect(items).toEqual(Array.from({ length: total }, (_, i) => i));
      }
    }
  });

  it('does not re-sort or mutate its input', () => {
    const unsorted = [instance('a'), instance('c'), instance('b')];
    const copy = [...unsorted];
    expect([...averageAllocationStrategy.sharding(unsorted, 'j', 3).keys()]).toEqual(['a', 'c', 'b']);
    expect(unsorted).toEqual(copy);
  });

  it('rejects duplicate ids and bad totals', () => {
    expect(() => allocateAverage([instance('a'), instance('a')], 1)).toThrow(TypeError);
    expect(() => allocateAverage(three, -1)).toThrow(TypeError);
    expect(() => allocateAverage(three, 1.5)).toThrow(TypeError);
  });
});

describe('ODEVITY', () => {
  it('allocates in ascending id order for an even hash (test_job)', () => {
    expect(javaStringHashCode('test_job') % 2 === 0).toBe(true);
    expect(entries(odevitySortByNameStrategy.sharding(three, 'test_job', 2))).toEqual([
      [A, [0]],
      [B, [1]],
      [C, []],
    ]);
  });

  it('keeps the descending registry order for an odd hash (myJob)', () => {
    expect(entries(odevitySortByNameStrategy.sharding(three, 'myJob', 2))).toEqual([
      [C, [0]],
      [B, [1]],
      [A, []],
    ]);
  });

  it('treats a negative odd hash as odd, like Java % (javaSimpleJob)', () => {
    expect(javaStringHashCode('javaSimpleJob') % 2).toBe(-1);
    expect([...odevitySortByNameStrategy.sharding(three, 'javaSimpleJob', 3).keys()]).toEqual([C, B, A]);
  });

  it('does not reverse the caller array in place (unlike ElasticJob)', () => {
    const input = [...three];
    odevitySortByNameStrategy.sharding(input, 'test_job', 3);
    expect(input).toEqual(three);
  });

  it('handles no instances', () => {
    expect(odevitySortByNameStrategy.sharding([], 'test_job', 3)).toEqual(new Map());
  });
});

describe('ROUND_ROBIN', () => {
  it.each([
    ['myJob', 0, [C, B, A]],
    ['orderJob', 1, [B, A, C]],
    ['javaSimpleJob', 2, [A, C, B]],
  ])('rotates the instances of %s by offset %d', (jobName, offset, order) => {
    expect(Math.abs(javaStringHashCode(jobName)) % 3).toBe(offset);
    expect(entries(roundRobinByNameStrategy.sharding(three, jobName, 3))).toEqual([
      [order[0], [0]],
      [order[1], [1]],
      [order[2], [2]],
    ]);
  });

  it('puts a single-item job on the rotated first instance', () => {
    expect(entries(roundRobinByNameStrategy.sharding(three, 'orderJob', 1))).toEqual([
      [B, [0]],
      [A, []],
      [C, []],
    ]);
  });

  it('uses |2^31| % n for a name hashing to Integer.MIN_VALUE, where ElasticJob throws', () => {
    // 2147483648 % 3 = 2, so the list is rotated by 2.
    expect([...roundRobinByNameStrategy.sharding(three, 'polygenelubricants', 3).keys()]).toEqual([A, C, B]);
    // 2147483648 % 2 = 0: no rotation.
    expect([...roundRobinByNameStrategy.sharding(three.slice(0, 2), 'polygenelubricants', 2).keys()]).toEqual(
      [C, B],
    );
  });

  it('handles no instances and more instances than items', () => {
    expect(roundRobinByNameStrategy.sharding([], 'orderJob', 3)).toEqual(new Map());
    const five = ['e', 'd', 'c', 'b', 'a'].map(instance);
    const result = roundRobinByNameStrategy.sharding(five, 'orderJob', 2);
    expect(result.size).toBe(5);
    expect([...result.values()].flat().sort()).toEqual([0, 1]);
  });
});

describe('SINGLE_SHARDING_BALANCE', () => {
  /** Java: Math.abs(jobName.hashCode() + (int) now) % n, with int overflow. */
  function javaOffset(jobName: string, nowMs: number, n: number): number {
    const sum = BigInt.asIntN(32, BigInt(referenceHash(jobName)) + BigInt.asIntN(32, BigInt(nowMs)));
    const abs = sum < 0n ? -sum : sum;
    return Number(abs % BigInt(n));
  }

  it.each([0, 1, 2, 1_767_225_600_000, 1_767_225_600_001, 1_767_225_600_002, 2 ** 31 - 1, 2 ** 32 + 7])(
    'rotates by |hash + (int) now| %% n at now = %d',
    (nowMs) => {
      const strategy = createSingleShardingBalanceStrategy({ now: () => nowMs });
      const offset = javaOffset('orderJob', nowMs, 3);
      const expected = [0, 1, 2].map((i) => three[(i + offset) % 3]!.jobInstanceId);
      expect([...strategy.sharding(three, 'orderJob', 1).keys()]).toEqual(expected);
      expect(strategy.sharding(three, 'orderJob', 1).get(expected[0]!)).toEqual([0]);
    },
  );

  it('moves a one-item job between instances as time passes', () => {
    let now = 1_000;
    const strategy = createSingleShardingBalanceStrategy({ now: () => now });
    const owners = new Set<string>();
    for (let i = 0; i < 3; i++, now++) {
      const result = strategy.sharding(three, 'orderJob', 1);
      owners.add([...result].find(([, items]) => items.length > 0)![0]);
    }
    expect(owners.size).toBe(3);
  });

  it('handles no instances, and its default reads the system clock', () => {
    expect(singleShardingBalanceStrategy.type).toBe('SINGLE_SHARDING_BALANCE');
    expect(singleShardingBalanceStrategy.sharding([], 'j', 1)).toEqual(new Map());
    expect(singleShardingBalanceStrategy.sharding(three, 'j', 1).size).toBe(3);
  });
});

describe('strategy registry', () => {
  const custom: JobShardingStrategy = {
    type: 'ALL_ON_FIRST',
    sharding: (instances, _jobName, total) =>
      new Map(
        instances.map((each, i) => [
          each.jobInstanceId,
          i === 0 ? Array.from({ length: total }, (_, k) => k) : [],
        ]),
      ),
  };

  afterEach(() => {
    unregisterJobShardingStrategy('ALL_ON_FIRST');
  });

  it('has the built-ins, with AVG_ALLOCATION as the default for an empty type', () => {
    expect(listJobShardingStrategyTypes()).toEqual([
      'AVG_ALLOCATION',
      'ODEVITY',
      'ROUND_ROBIN',
      'SINGLE_SHARDING_BALANCE',
    ]);
    expect(getJobShardingStrategy('ODEVITY')).toBe(odevitySortByNameStrategy);
    expect(getJobShardingStrategy('')).toBe(averageAllocationStrategy);
  });

  it('registers, lists and removes custom strategies', () => {
    registerJobShardingStrategy(custom);
    expect(listJobShardingStrategyTypes()).toContain('ALL_ON_FIRST');
    expect(entries(getJobShardingStrategy('ALL_ON_FIRST').sharding(three, 'j', 2))).toEqual([
      [C, [0, 1]],
      [B, []],
      [A, []],
    ]);
    expect(() => registerJobShardingStrategy(custom)).toThrow(/already registered/);
    expect(unregisterJobShardingStrategy('ALL_ON_FIRST')).toBe(true);
    expect(unregisterJobShardingStrategy('ALL_ON_FIRST')).toBe(false);
  });

  it('refuses to replace or remove built-ins and bad strategies', () => {
    expect(() => registerJobShardingStrategy({ ...custom, type: 'ODEVITY' })).toThrow(TypeError);
    expect(() => registerJobShardingStrategy({ ...custom, type: '' })).toThrow(TypeError);
    expect(() => registerJobShardingStrategy({ type: 'X' } as unknown as JobShardingStrategy)).toThrow(
      TypeError,
    );
    expect(() => unregisterJobShardingStrategy('AVG_ALLOCATION')).toThrow(TypeError);
  });

  it('names jobShardingStrategyType and the registered types for an unknown type', () => {
    let error: unknown;
    try {
      getJobShardingStrategy('ROUND_ROBBIN', 'orders');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(JobConfigurationError);
    const configError = error as JobConfigurationError;
    expect(configError.field).toBe('jobShardingStrategyType');
    expect(configError.jobName).toBe('orders');
    expect(configError.message).toContain('"ROUND_ROBBIN"');
    expect(configError.message).toContain('AVG_ALLOCATION, ODEVITY, ROUND_ROBIN, SINGLE_SHARDING_BALANCE');
  });
});
