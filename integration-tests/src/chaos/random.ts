/**
 * A small seeded pseudo-random generator (mulberry32), so that a chaos run is reproducible from
 * its seed: the same seed gives the same sequence of fault kinds, targets and durations.
 *
 * @module
 */

/** Seeded random numbers; every method advances the sequence. */
export class SeededRandom {
  #state: number;

  /**
   * @param seed - any integer; the same seed gives the same sequence.
   */
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** A float in `[0, 1)`. */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /**
   * An integer in `[min, max]`.
   *
   * @param min - lower bound (inclusive).
   * @param max - upper bound (inclusive).
   */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /**
   * One element of a non-empty list.
   *
   * @param items - the choices.
   * @throws {RangeError} for an empty list.
   */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick() from an empty list');
    return items[this.int(0, items.length - 1)] as T;
  }
}
