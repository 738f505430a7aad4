/**
 * The simulator's only source of randomness: a seeded PRNG (pure-rand's xoroshiro128+, chosen
 * because it is small, fast, dependency-free and supports `jump()` for independent streams), so
 * that everything a seed drives replays exactly.
 *
 * @module
 */
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus, xoroshiro128plusFromState } from 'pure-rand/generator/xoroshiro128plus';

type Generator = ReturnType<typeof xoroshiro128plus>;

/** A seeded random stream. Not cryptographic. */
export class Random {
  readonly #rng: Generator;

  /** @param seed - a 32-bit integer seed (other numbers are truncated to 32 bits). */
  constructor(seed: number | Generator) {
    this.#rng = typeof seed === 'number' ? xoroshiro128plus(seed | 0) : seed;
  }

  /**
   * An independent stream: a copy of this one at its current position, after which this one
   * jumps 2^64 draws ahead (pure-rand `jump`), so the two never overlap in practice.
   */
  fork(): Random {
    const copy = xoroshiro128plusFromState(this.#rng.getState());
    this.#rng.jump();
    return new Random(copy);
  }

  /** A float in [0, 1). */
  next(): number {
    return uniformFloat64(this.#rng);
  }

  /**
   * An integer in [min, max], both inclusive.
   *
   * @throws {RangeError} when `max < min`.
   */
  int(min: number, max: number): number {
    if (max < min) throw new RangeError(`Random.int: max ${max} < min ${min}`);
    return uniformInt(this.#rng, min, max);
  }

  /** A float in [min, max). */
  between(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  /** `true` with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /**
   * One element of `values`, uniformly.
   *
   * @throws {RangeError} when `values` is empty.
   */
  pick<T>(values: readonly T[]): T {
    if (values.length === 0) throw new RangeError('Random.pick: no values');
    return values[this.int(0, values.length - 1)] as T;
  }
}
