/**
 * The benchmarks' environment variables (`src/bench/bench-env.ts`): defaults when unset, the
 * values they accept, and an error naming the variable and what it accepts for anything else.
 */
import { describe, expect, it } from 'vitest';
import {
  BenchEnvError,
  etcdMaxTxnOps,
  listEnv,
  positiveNumberEnv,
  scaleEnv,
} from '../src/bench/bench-env.js';

const BACKENDS = ['zookeeper', 'etcd', 'redis'] as const;

function errorOf(read: () => unknown): BenchEnvError {
  try {
    read();
  } catch (error) {
    if (error instanceof BenchEnvError) return error;
    throw error;
  }
  throw new Error('no BenchEnvError was thrown');
}

describe('listEnv', () => {
  it('gives the fallback when unset or blank, and the named entries otherwise', () => {
    expect(listEnv({}, 'BENCH_BACKENDS', BACKENDS, BACKENDS)).toEqual(['zookeeper', 'etcd', 'redis']);
    expect(listEnv({ BENCH_BACKENDS: ' ' }, 'BENCH_BACKENDS', BACKENDS, ['etcd'])).toEqual(['etcd']);
    expect(listEnv({ BENCH_BACKENDS: 'redis, zookeeper' }, 'BENCH_BACKENDS', BACKENDS, [])).toEqual([
      'redis',
      'zookeeper',
    ]);
  });

  it('refuses an unknown or empty entry, naming the variable, the accepted names and the value', () => {
    const unknown = errorOf(() => listEnv({ BENCH_BACKENDS: 'etcd,mysql' }, 'BENCH_BACKENDS', BACKENDS, []));
    expect(unknown.variable).toBe('BENCH_BACKENDS');
    expect(unknown.message).toBe(
      "BENCH_BACKENDS must be a comma-separated list of zookeeper, etcd, redis; got 'etcd,mysql'",
    );
    expect(errorOf(() => listEnv({ BENCH_BACKENDS: 'etcd,' }, 'BENCH_BACKENDS', BACKENDS, [])).value).toBe(
      'etcd,',
    );
  });
});

describe('positiveNumberEnv', () => {
  it('gives the fallback when unset, the number otherwise', () => {
    expect(positiveNumberEnv({}, 'BENCH_FIRES', 30)).toBe(30);
    expect(positiveNumberEnv({ BENCH_FIRES: '12' }, 'BENCH_FIRES', 30)).toBe(12);
    expect(positiveNumberEnv({ X: '0.5' }, 'X', 1, { integer: false })).toBe(0.5);
  });

  it.each(['abc', '0', '-3', '2.5', 'Infinity'])('refuses %s as a positive integer', (value) => {
    expect(errorOf(() => positiveNumberEnv({ BENCH_FIRES: value }, 'BENCH_FIRES', 30)).message).toBe(
      `BENCH_FIRES must be a positive integer; got '${value}'`,
    );
  });
});

describe('scaleEnv', () => {
  it('reads processes × jobs with an idle marker, and the fallback when unset', () => {
    expect(scaleEnv({ BENCH_SCALE: '1x100, 3x10,1x1000i' }, '1x1')).toEqual([
      { processes: 1, jobs: 100, idle: false },
      { processes: 3, jobs: 10, idle: false },
      { processes: 1, jobs: 1000, idle: true },
    ]);
    expect(scaleEnv({}, '1x1,1x100')).toEqual([
      { processes: 1, jobs: 1, idle: false },
      { processes: 1, jobs: 100, idle: false },
    ]);
  });

  it.each(['abc', '1x', 'x100', '0x100', '1x0', '1x100j', '1*100'])('refuses %s', (value) => {
    const error = errorOf(() => scaleEnv({ BENCH_SCALE: value }, '1x1'));
    expect(error.variable).toBe('BENCH_SCALE');
    expect(error.message).toContain('{processes}x{jobs}');
    expect(error.message).toContain(`got '${value}'`);
  });
});

describe('etcdMaxTxnOps', () => {
  it("is undefined when unset (etcd's default), the number otherwise, and refuses a non-integer", () => {
    expect(etcdMaxTxnOps({})).toBeUndefined();
    expect(etcdMaxTxnOps({ BENCH_ETCD_MAX_TXN_OPS: '1024' })).toBe(1024);
    expect(errorOf(() => etcdMaxTxnOps({ BENCH_ETCD_MAX_TXN_OPS: 'many' })).variable).toBe(
      'BENCH_ETCD_MAX_TXN_OPS',
    );
  });
});
