/**
 * The benchmarks' environment variables, read and checked before any server starts: a bad value
 * ends the run with a {@link BenchEnvError} naming the variable, what it accepts and what it got,
 * instead of a silent default or a `TypeError` minutes later.
 *
 * @module
 */

/** A benchmark environment variable with a value it does not accept. */
export class BenchEnvError extends Error {
  /**
   * @param variable - the variable's name, e.g. `BENCH_BACKENDS`.
   * @param accepted - what it accepts, in words.
   * @param value - the value it had.
   */
  constructor(
    readonly variable: string,
    readonly accepted: string,
    readonly value: string,
  ) {
    super(`${variable} must be ${accepted}; got '${value}'`);
    this.name = 'BenchEnvError';
  }
}

/** The environment to read: `process.env` or a test's own object. */
export type BenchEnv = Readonly<Record<string, string | undefined>>;

function unset(value: string | undefined): value is undefined {
  return value === undefined || value.trim() === '';
}

/**
 * A comma-separated list of names, each one of `accepted`.
 *
 * @param env - the environment.
 * @param variable - the variable's name.
 * @param accepted - the names it accepts.
 * @param fallback - the list when it is unset or empty.
 * @throws {BenchEnvError} for a name outside `accepted` or an empty entry.
 */
export function listEnv<T extends string>(
  env: BenchEnv,
  variable: string,
  accepted: readonly T[],
  fallback: readonly T[],
): T[] {
  const value = env[variable];
  if (unset(value)) return [...fallback];
  const entries = value.split(',').map((entry) => entry.trim());
  for (const entry of entries) {
    if (!(accepted as readonly string[]).includes(entry))
      throw new BenchEnvError(variable, `a comma-separated list of ${accepted.join(', ')}`, value);
  }
  return entries as T[];
}

/**
 * A positive number.
 *
 * @param env - the environment.
 * @param variable - the variable's name.
 * @param fallback - the number when it is unset or empty.
 * @param options - `integer`: only whole numbers (default true).
 * @throws {BenchEnvError} for anything else than a positive (whole) number.
 */
export function positiveNumberEnv(
  env: BenchEnv,
  variable: string,
  fallback: number,
  options: { readonly integer?: boolean } = {},
): number {
  const value = env[variable];
  if (unset(value)) return fallback;
  const integer = options.integer ?? true;
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0 || (integer && !Number.isInteger(number)))
    throw new BenchEnvError(variable, integer ? 'a positive integer' : 'a positive number', value);
  return number;
}

/** One scale configuration: `processes` × `jobs`, idle-scheduled or firing every second. */
export interface ScaleEntry {
  readonly processes: number;
  readonly jobs: number;
  readonly idle: boolean;
}

/**
 * `BENCH_SCALE`: comma-separated `{processes}x{jobs}`, with a trailing `i` for idle-scheduled
 * jobs (e.g. `1x100,1x1000i,3x100`).
 *
 * @param env - the environment.
 * @param fallback - the list when it is unset or empty, in the same syntax.
 * @throws {BenchEnvError} for an entry of another shape or with a count of 0.
 */
export function scaleEnv(env: BenchEnv, fallback: string): ScaleEntry[] {
  const value = unset(env.BENCH_SCALE) ? fallback : (env.BENCH_SCALE as string);
  return value.split(',').map((entry) => {
    const match = /^(\d+)x(\d+)(i?)$/.exec(entry.trim());
    const processes = Number(match?.[1]);
    const jobs = Number(match?.[2]);
    if (match === null || processes < 1 || jobs < 1)
      throw new BenchEnvError(
        'BENCH_SCALE',
        "a comma-separated list of {processes}x{jobs}, each at least 1, with 'i' after the jobs for idle-scheduled ones (e.g. 1x100,1x1000i,3x100)",
        value,
      );
    return { processes, jobs, idle: match[3] === 'i' };
  });
}

/**
 * `BENCH_ETCD_MAX_TXN_OPS`: the `--max-txn-ops` of the benchmarks' etcd servers, and the
 * `maxTxnOps` of their clients.
 *
 * @param env - the environment.
 * @returns the number; `undefined` when unset (etcd's default, 128).
 * @throws {BenchEnvError} for anything else than a positive integer.
 */
export function etcdMaxTxnOps(env: BenchEnv): number | undefined {
  const value = env.BENCH_ETCD_MAX_TXN_OPS;
  return unset(value) ? undefined : positiveNumberEnv(env, 'BENCH_ETCD_MAX_TXN_OPS', 128);
}
